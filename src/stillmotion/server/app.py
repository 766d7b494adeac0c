"""The HTTP API (FastAPI, under ``/v1``), the static UI and the worker supervisor.

Job objects follow Replicate's shape: ``{id, status, progress, eta_s, error,
created_at, started_at, finished_at, attempts, request, result}``. Errors are
``{"error": "<one line>"}``. The photo is validated with
:func:`stillmotion.image.load_image` before a job is queued; clients never
pass file paths.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..recipe import public as public_recipe
from ..request import OPTIONS, PRESETS, AnimateRequest, Preset, describe_error
from .jobs import FINAL, HOST, JobStore
from .keys import (
    KEY_PREFIX,
    LOCAL,
    MIN_TOKEN_CHARS,
    TOKEN,
    Caller,
    KeyStore,
    QuotaExceeded,
    Quotas,
    StreamSlots,
    Tickets,
    check_quota,
    estimate_usd,
    usage,
)
from .limits import (
    BodyLimit,
    EventHub,
    Limits,
    RateLimiter,
    SecurityHeaders,
    allowed_methods,
    document_errors,
    event_stream,
    header_size,
    parse_host,
    release_memory,
    unknown_fields,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["API_FIELDS", "JobForm", "MAX_UPLOAD_BYTES", "Supervisor", "create_app", "options_document"]

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
"""Largest accepted request body (the photo plus form fields), bytes."""
API_FIELDS = tuple(o.name for o in OPTIONS if o.api)
"""The AnimateRequest fields a client may set (no file paths): those whose metadata says ``api``."""

# What the server says differently from the model about a field (the server's own rules, not the model's).
_FORM_NOTES = {
    "seed": " Default: chosen now and shown in the job.",
    "variations": " Only 1 per job here (submit several jobs).",
}


def _job_form() -> type[BaseModel]:
    """The job form: the :data:`API_FIELDS` of AnimateRequest with their types, ranges, defaults and help.

    Only the fields a client sent are set (``model_fields_set``), so a preset
    fills the rest exactly as on the command line.
    """
    fields: dict[str, Any] = {}
    for name in API_FIELDS:
        info = copy.copy(AnimateRequest.model_fields[name])
        info.description = (info.description or "") + _FORM_NOTES.get(name, "")
        fields[name] = (info.annotation, info)
    return create_model("JobForm", __doc__="The settings of one job (multipart form fields).", **fields)


JobForm = _job_form()
"""The typed form of ``POST /v1/jobs``, generated from :class:`AnimateRequest` (OpenAPI shows its types)."""


def options_document(engines: list[dict]) -> dict[str, Any]:
    """``GET /v1/options``: the job form's fields, the presets and the engines (what the studio builds its form from).

    Args:
        engines: the rows of ``GET /v1/engines``.
    """
    return {
        "fields": [o.to_dict() for o in OPTIONS if o.api],
        "presets": {name: {"label": Preset(name).label, **values} for name, values in PRESETS.items()},
        "engines": engines,
    }


STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
# MPO: a JPEG with more pictures after the first (phones, gain-map HDR); load_image reads the first.
_EXT = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff", "BMP": "bmp", "GIF": "gif"}


# ---------------------------------------------------------------- supervisor


class Supervisor:
    """Starts ``workers`` worker processes for local jobs and ``hosted_workers`` for hosted ones
    (which only wait on a provider), restarts dead ones and sweeps the queue. With
    ``ray_address`` every worker dispatches its jobs to that Ray cluster."""

    def __init__(self, store: JobStore, workers: int, hosted_workers: int = 0, ray_address: str | None = None) -> None:
        self.store = store
        self.ray_address = ray_address
        self.lanes = ["local"] * workers + ["hosted"] * hosted_workers
        self.n = len(self.lanes)
        self.procs: list[subprocess.Popen | None] = [None] * self.n
        self.restarts = [0] * self.n
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stillmotion-supervisor", daemon=True)

    def start(self) -> None:
        self.store.sweep()  # jobs of workers killed with a previous server
        self.store.remove_stale_parts()
        for i in range(self.n):
            self._spawn(i)
        self._thread.start()

    def _spawn(self, i: int) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.procs[i] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stillmotion.server.worker",
                "--data",
                str(self.store.data),
                "--lane",
                self.lanes[i],
                *(["--ray", self.ray_address] if self.ray_address else []),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
        )

    def _loop(self) -> None:
        last_sweep = 0.0
        while not self._stop.wait(0.5):
            dead = set()
            for i, p in enumerate(self.procs):
                if p is not None and p.poll() is not None:
                    dead.add(f"{HOST}:{p.pid}")
                    self.restarts[i] += 1
                    if not self._stop.is_set():
                        time.sleep(min(5.0, 0.2 * self.restarts[i]))  # back off a crash loop
                        self._spawn(i)
            if dead or time.monotonic() - last_sweep > 2.0:
                last_sweep = time.monotonic()
                try:
                    self.store.sweep(frozenset(dead))
                except Exception as err:  # a locked database must not end supervision
                    print(f"stillmotion: queue sweep failed: {err}", file=sys.stderr)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()  # the worker re-queues its job and exits
        deadline = time.monotonic() + timeout
        for p in self.procs:
            if p is not None:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()

    def health(self) -> list[dict]:
        return [
            {"pid": p.pid if p else None, "alive": p is not None and p.poll() is None, "restarts": r, "lane": lane}
            for p, r, lane in zip(self.procs, self.restarts, self.lanes)
        ]


# ---------------------------------------------------------------- helpers


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def _job_object(job: dict) -> dict:
    jid = job["id"]
    result = None
    if job["status"] == "succeeded":
        result = {
            "video": f"/v1/jobs/{jid}/video",
            "preview": f"/v1/jobs/{jid}/preview",
            "recipe": public_recipe(json.loads(job["recipe"]) if job["recipe"] else {}),
        }
    return {
        "id": jid,
        "status": job["status"],
        "progress": round(float(job["progress"]), 4),
        "eta_s": job["eta_s"],
        "error": job["error"],
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "attempts": job["attempts"],
        "request": json.loads(job["request"]),
        "result": result,
    }


# ---------------------------------------------------------------- the app


def create_app(
    data: str | os.PathLike,
    *,
    token: str | None = None,
    workers: int = 1,
    hosted_workers: int | None = None,
    loopback_only: bool = True,
    limits: Limits | None = None,
    quotas: Quotas | None = None,
    ray_address: str | None = None,
) -> FastAPI:
    """The FastAPI app: API under ``/v1``, UI at ``/``; starts and stops ``workers`` worker processes.

    Args:
        data: the data folder (``jobs.db``, ``inputs/``, ``outputs/``).
        token: the single server token (at least 16 characters), accepted on ``/v1`` as an admin
            caller next to the per-person keys of :class:`~stillmotion.server.keys.KeyStore`. With
            neither a token nor an active key, ``/v1`` is open (loopback only).
        workers: worker processes for local jobs (0: queue only, for tests of the API alone).
        hosted_workers: worker processes for hosted jobs, which only wait on a provider (their
            own concurrency limit); default 2, or 0 when ``workers`` is 0.
        loopback_only: also refuse requests whose ``Host`` is not a loopback name
            (against DNS rebinding) — set when bound to 127.0.0.1 without a token.
        limits: what one request or the server may hold (:class:`~stillmotion.server.limits.Limits`);
            default ``Limits()``.
        quotas: the quotas of every caller whose key sets none of its own
            (:class:`~stillmotion.server.keys.Quotas`; default: its defaults).
        ray_address: a Ray cluster (``HOST:PORT``): each worker process then dispatches its
            job to the cluster as a task (:func:`stillmotion.cluster.render_on_cluster`)
            instead of rendering it, so ``workers`` is the number of jobs in flight there.
            The SQLite queue stays the source of truth: a dispatched job keeps its lease.

    Raises:
        ValueError: a token shorter than 16 characters.
    """
    from contextlib import asynccontextmanager

    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"the token has {len(token)} characters: use at least {MIN_TOKEN_CHARS}")
    store = JobStore(data)
    keystore = KeyStore(store)
    defaults = quotas or Quotas()
    token_caller, local_caller = replace(TOKEN, limits=defaults), replace(LOCAL, limits=defaults)
    tickets, slots = Tickets(), StreamSlots()
    limits = limits or Limits()
    # Decoding and analysing photos run on their own few threads: at most max_decodes photos are in
    # memory at once (a 40 MP photo is ~120 MB as RGB, several times that while analysed).
    decode_pool = ThreadPoolExecutor(limits.max_decodes, thread_name_prefix="stillmotion-decode")
    hub = EventHub(store.get_many, limits.max_streams)
    rate = RateLimiter(limits.max_rate, 4 * limits.max_rate)
    hosted = (2 if workers > 0 else 0) if hosted_workers is None else hosted_workers
    supervisor = Supervisor(store, workers, hosted, ray_address)

    @asynccontextmanager
    async def lifespan(app):
        supervisor.start()
        yield
        await asyncio.to_thread(supervisor.stop)

    app = FastAPI(
        title="stillmotion",
        summary="Turn a still photo and a motion prompt into a short video clip: a durable job API.",
        version=__import__("stillmotion").__version__,
        lifespan=lifespan,
    )
    app.state.store, app.state.supervisor, app.state.limits, app.state.events = store, supervisor, limits, hub

    def openapi() -> dict[str, Any]:  # what the server really answers: 400 not 422, 404, 413, 429
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            app.openapi_schema = document_errors(schema, token=token is not None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def in_decode_pool(fn, *args, **kwargs):
        """Run ``fn`` on the decode threads (waiting for one), then give the heap back."""

        def call():
            try:
                return fn(*args, **kwargs)
            finally:
                release_memory()

        return await asyncio.get_running_loop().run_in_executor(decode_pool, call)

    # ------------------------------------------------ errors as {"error": one line}

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method this path answers, not only the first route's
            headers["Allow"] = ", ".join(allowed_methods(app.routes, request.scope))
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 405:
            detail = f"method {request.method} is not allowed here: use {headers['Allow']}"
        response = _error(exc.status_code, detail)
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        e = exc.errors()[0] if exc.errors() else {}
        loc = tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path", "header"))
        if e.get("loc", ("",))[0] == "body" and loc and loc[0] in API_FIELDS:  # a job setting: the CLI's words
            return _error(400, describe_error({**e, "loc": loc}))
        where = ".".join(str(p) for p in loc)
        return _error(400, f"{where or 'request'}: {e.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def _internal_error(request, exc):
        return _error(500, f"internal error: {type(exc).__name__}")

    # ------------------------------------------------ auth, origin, host checks

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        path = request.url.path
        host = ""
        if request.headers.get("host"):
            try:
                host = parse_host(request.headers["host"])[0]
            except ValueError:
                return _error(400, "malformed Host header: send a host name or address and an optional port")
        if loopback_only and host not in LOOPBACK_NAMES:
            return _error(
                403,
                f"host {host!r} refused: this server answers on 127.0.0.1 only "
                "(add keys or a token to serve other hosts: stillmotion keys add --help)",
            )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin")
            if origin is not None:  # a browser: only pages served by this server may change state
                o = urlsplit(origin)
                if origin == "null" or o.netloc != request.headers.get("host"):
                    return _error(403, f"cross-origin request from {origin!r} refused")
        if path.startswith("/v1"):
            auth = request.headers.get("authorization")
            if auth is None and path.endswith("/events") and "ticket" in request.query_params:
                request.state.caller = None  # the handler checks the ticket
            else:
                caller = _caller(auth or "")
                if isinstance(caller, str):
                    return _error(401, caller)
                request.state.caller = caller
                if request.method == "POST":
                    wait = rate.take(caller.id)
                    if wait > 0:  # before the body is read: a flood costs almost nothing
                        response = _error(
                            429,
                            f"too many requests: at most {limits.max_rate} per second per key "
                            f"(serve --max-rate); retry in {wait:.1f} s",
                        )
                        response.headers["Retry-After"] = str(max(1, round(wait + 0.5)))
                        return response
        return await call_next(request)

    def _caller(auth: str) -> Caller | str:
        """Who sends ``Authorization: auth``: a key, the token or (open server) the local user; else why not."""
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if given:
            if token is not None and secrets.compare_digest(given.encode(), token.encode()):
                return token_caller
            row = keystore.lookup(given) if given.startswith(KEY_PREFIX) else None
            if row is None:
                return "unknown key or token: send 'Authorization: Bearer <key>' with a key from `stillmotion keys add`"
            if row["revoked_at"] is not None:
                return f"this key ({row['name']}) was revoked: ask the server's admin for a new one"
            return keystore.caller(row, defaults)
        if token is None and not keystore.any_active():
            return local_caller
        return "this server needs a key: send 'Authorization: Bearer <key>' (`stillmotion keys add`, or the server's token)"

    # ------------------------------------------------ jobs

    def _get(job_id: str, caller: Caller) -> dict:
        """The job if ``caller`` may see it; another key's job is a 404 too (ids do not leak)."""
        job = store.get(job_id)
        if job is None or not (caller.admin or job["owner"] == caller.id):
            raise HTTPException(404, f"no job {job_id!r}")
        return job

    async def _save_upload(image: UploadFile, folder: Path) -> tuple[Path, str, tuple[int, int], np.ndarray]:
        """Write the upload to a temp file in ``folder`` and validate it.

        The pixel count is read from the header first (413 over ``limits.max_pixels``); the photo
        is then decoded on the decode threads. Returns (path, extension, (width, height) upright,
        a thumbnail at most 640 pixels wide, uint8 H×W×3).
        """
        from ..errors import InputError
        from ..image import load_image

        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        size = 0
        name = Path(image.filename or "upload").name
        try:
            with os.fdopen(fd, "wb") as f:
                while chunk := await image.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise HTTPException(413, f"the photo is over the {MAX_UPLOAD_BYTES // 2**20} MB upload limit")
                    f.write(chunk)
            header = header_size(tmp)
            if header is not None and header[0] not in _EXT:
                raise HTTPException(400, f"{header[0]} photos are not accepted: send JPEG, PNG, WebP, TIFF, BMP or GIF")
            if header is not None and header[1] * header[2] > limits.max_pixels:
                w, h = header[1], header[2]
                raise HTTPException(
                    413,
                    f"photo {name!r} is {w}×{h} = {w * h / 1e6:.1f} MP, over this server's "
                    f"{limits.max_pixels / 1e6:g} MP limit: send a smaller photo",
                )

            def decode() -> tuple[tuple[int, int], np.ndarray]:
                still = load_image(tmp, max_pixels=limits.max_pixels)
                thumb = still.rgb
                if thumb.shape[1] > 640:
                    import cv2

                    h = max(2, round(thumb.shape[0] * 640 / thumb.shape[1]))
                    thumb = cv2.resize(thumb, (640, h), interpolation=cv2.INTER_AREA)
                return still.size, thumb

            try:
                photo_size, thumb = await in_decode_pool(decode)
            except InputError as err:
                msg = str(err).replace(str(tmp), name).replace(tmp.name, name)
                raise HTTPException(400, msg.splitlines()[0]) from None
            if header is None:  # decoded although Pillow could not read its header: not one of ours
                raise HTTPException(400, "this photo's format is not accepted: send JPEG, PNG, WebP, TIFF, BMP or GIF")
            return tmp, _EXT[header[0]], photo_size, thumb
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @app.post(
        "/v1/jobs",
        status_code=201,
        tags=["jobs"],
        summary="Submit a photo and settings; returns the queued job (200 for a repeated Idempotency-Key).",
    )
    async def create_job(
        request: Request,
        image: Annotated[UploadFile, File(description="The photo (JPEG, PNG, WebP, TIFF, BMP, GIF), at most 30 MB.")],
        form: Annotated[JobForm, Form()],  # type: ignore[valid-type]
        idempotency_key: Annotated[
            str | None, Header(description="Same key → the same job (200 instead of 201).")
        ] = None,
    ):
        from ..engines.registry import ENGINES, find_spec
        from ..errors import InputError
        from ..image import output_size
        from ..video import write_png_atomic

        caller: Caller = request.state.caller
        unknown = unknown_fields((await request.form()).keys(), (*API_FIELDS, "image"))
        if unknown:
            raise HTTPException(400, unknown)
        if idempotency_key is not None:
            if not 1 <= len(idempotency_key) <= 200:
                raise HTTPException(400, "Idempotency-Key must be 1 to 200 characters")
            idempotency_key = f"{caller.id}:{idempotency_key}"  # each key has its own
            existing = store.by_key(idempotency_key)
            if existing is not None:
                return JSONResponse(_job_object(existing), status_code=200)
        _quota(caller, 0.0)  # before reading the photo: a flood costs no decoding
        given = cast(BaseModel, form).model_dump(exclude_unset=True)  # only what the client sent
        if given.get("variations") not in (None, 1):
            raise HTTPException(
                400, f"variations {given['variations']!r}: the server makes one clip per job; submit several jobs"
            )
        if "seed" not in given:
            given["seed"] = secrets.randbelow(2**31)  # fixed now: a retried attempt makes the same clip
        if store.queued() >= limits.max_queued:
            raise HTTPException(
                429, f"the queue is full ({limits.max_queued} jobs waiting, serve --max-queued): try again later"
            )
        tmp, ext, photo_size, thumb = await _save_upload(image, store.inputs)
        try:
            try:
                req = AnimateRequest.build(image=tmp, output=store.outputs / "check.mp4", **given)
            except InputError as err:
                raise HTTPException(400, str(err).splitlines()[0]) from None
            spec = find_spec(req.engine)
            if spec is None:
                raise HTTPException(
                    400, f"engine {req.engine!r} is unknown: use one of {', '.join(sorted(ENGINES))} (GET /v1/engines)"
                )
            width, height, _ = output_size(photo_size, size=req.size, resolution=req.resolution, aspect=req.aspect)
            work = width * height * req.frame_count
            if work > limits.max_work:
                raise HTTPException(
                    400,
                    f"this job is {width}×{height} pixels × {req.frame_count} frames = {work / 1e9:.2f} G pixel-frames, "
                    f"over this server's budget of {limits.max_work / 1e9:.2f} G (serve --max-work): "
                    "lower the size or resolution, the duration or the fps",
                )
            fields = req.model_dump(mode="json", include=set(API_FIELDS))
            job_id = store.new_id()
            dest = store.inputs / f"{job_id}.{ext}"
            os.replace(tmp, dest)
            write_png_atomic(store.thumb_path(job_id), thumb)
            lane = "hosted" if spec.runs_on == "hosted" else "local"
            cost = estimate_usd(req)
            try:
                job, created = store.create(
                    job_id,
                    fields,
                    ext,
                    idempotency_key,
                    lane=lane,
                    owner=caller.id,
                    cost_usd=cost or 0.0,
                    admit=lambda db: check_quota(db, caller, cost),
                )
            except QuotaExceeded as err:
                dest.unlink(missing_ok=True)
                store.thumb_path(job_id).unlink(missing_ok=True)
                raise HTTPException(err.status, str(err)) from None
            if not created:  # a concurrent request with the same key won
                dest.unlink(missing_ok=True)
                store.thumb_path(job_id).unlink(missing_ok=True)
            return JSONResponse(_job_object(job), status_code=201 if created else 200)
        finally:
            tmp.unlink(missing_ok=True)

    def _quota(caller: Caller, cost: float | None) -> None:
        from contextlib import closing

        with closing(store.connect()) as db:
            try:
                check_quota(db, caller, cost)
            except QuotaExceeded as err:
                raise HTTPException(err.status, str(err)) from None

    @app.get(
        "/v1/jobs", tags=["jobs"], summary="Jobs, newest first, paged with next_cursor (an admin key: everyone's)."
    )
    def list_jobs(request: Request, limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None):
        before = None
        if cursor:
            if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:  # "¹".isdigit() is True
                raise HTTPException(400, f"cursor {cursor!r} is not valid: pass the next_cursor of the previous page")
            before = int(cursor)
        caller: Caller = request.state.caller
        jobs, nxt = store.page(limit, before, owner=None if caller.admin else caller.id)
        return {"jobs": [_job_object(j) for j in jobs], "next_cursor": None if nxt is None else str(nxt)}

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], summary="One job.")
    def get_job(job_id: str, request: Request):
        return _job_object(_get(job_id, request.state.caller))

    @app.post(
        "/v1/jobs/{job_id}/cancel", tags=["jobs"], summary="Cancel: a queued job at once, a running one within a frame."
    )
    def cancel_job(job_id: str, request: Request):
        _get(job_id, request.state.caller)
        job = store.cancel(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return _job_object(job)

    @app.get(
        "/v1/jobs/{job_id}/video",
        tags=["jobs"],
        summary="The MP4 (409 until the job succeeded).",
        response_class=FileResponse,
        responses={200: {"content": {"video/mp4": {}}}},
    )
    def get_video(job_id: str, request: Request):
        job = _get(job_id, request.state.caller)
        path = store.video_path(job_id)
        if job["status"] != "succeeded":
            raise HTTPException(409, f"job {job_id} is {job['status']}: the video exists only after it succeeded")
        if not path.is_file():
            raise HTTPException(410, f"the video of job {job_id} was deleted from the data folder")
        return FileResponse(path, media_type="video/mp4", filename=f"{job_id}.mp4")

    @app.get(
        "/v1/jobs/{job_id}/preview",
        tags=["jobs"],
        summary="PNG: a frame of the clip, or the input photo before one exists.",
        response_class=FileResponse,
        responses={200: {"content": {"image/png": {}}}},
    )
    def get_preview(job_id: str, request: Request):
        _get(job_id, request.state.caller)
        for path in (store.preview_path(job_id), store.thumb_path(job_id)):
            if path.is_file():
                return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})
        raise HTTPException(404, f"job {job_id} has no preview")

    @app.get(
        "/v1/jobs/{job_id}/events",
        tags=["jobs"],
        summary="Server-Sent Events: 'data: <job JSON>' on each change, ending after a final state.",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def job_events(
        job_id: str,
        request: Request,
        ticket: Annotated[
            str | None,
            Query(description="For EventSource, which cannot send headers: POST /v1/jobs/{id}/ticket.", max_length=200),
        ] = None,
    ):
        caller: Caller | None = request.state.caller
        if caller is None:  # no Authorization header: the ticket stands for it
            who = tickets.check(ticket or "", job_id)
            caller = keystore.caller_by_id(who, defaults) if who else None
            if caller is None:
                raise HTTPException(401, f"the event ticket is invalid or expired: POST /v1/jobs/{job_id}/ticket")
        job = _get(job_id, caller)
        try:
            slots.acquire(caller)
        except QuotaExceeded as err:
            raise HTTPException(err.status, str(err)) from None
        owner_id = caller.id
        changed = hub.open(job)
        if changed is None:
            slots.release(owner_id)
            raise HTTPException(
                429,
                f"{hub.max_streams} event streams are open on this server (serve --max-streams): "
                f"poll GET /v1/jobs/{job_id} instead, or try again later",
            )
        opened = changed

        async def stream():
            last = None
            while True:
                row = hub.rows.get(job_id)
                if row is None:  # deleted
                    return
                body = json.dumps(_job_object(row))
                if body != last:
                    last = body
                    yield f"data: {body}\n\n"
                    if row["status"] in FINAL:
                        return
                try:
                    await asyncio.wait_for(opened.wait(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                opened.clear()

        def closed() -> None:
            hub.close(job_id, opened)
            slots.release(owner_id)

        return event_stream(
            stream(),
            on_close=closed,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post(
        "/v1/jobs/{job_id}/ticket",
        tags=["jobs"],
        summary="A ticket for this job's event stream (?ticket=), valid 60 s: EventSource cannot send a key.",
    )
    def events_ticket(job_id: str, request: Request):
        caller: Caller = request.state.caller
        _get(job_id, caller)
        t = tickets.issue(caller.id, job_id)
        return {"ticket": t, "expires_in_s": tickets.ttl_s, "events": f"/v1/jobs/{job_id}/events?ticket={t}"}

    @app.get("/v1/usage", tags=["usage"], summary="The calling key's use (last hour, last 24 h, now) and its limits.")
    def get_usage(request: Request):
        from contextlib import closing

        caller: Caller = request.state.caller
        with closing(store.connect()) as db:
            return usage(db, caller, slots.open(caller.id))

    # ------------------------------------------------ engines, analyze, health

    engines_cache: dict = {}

    @app.get("/v1/engines", tags=["engines"], summary="Engines, whether each can run here, and why not.")
    def list_engines():
        return _engine_rows()

    @app.get(
        "/v1/options",
        tags=["options"],
        summary="What a job takes: each setting's type, default, range, choices, unit and group; the "
        "presets; the engines.",
    )
    def list_options():
        return options_document(_engine_rows())

    def _owner(request: Request) -> None:
        """403 unless the caller may use the owner's recipe library (an admin key, the token, an open server)."""
        if not request.state.caller.admin:
            raise HTTPException(403, "the saved recipes are the server owner's: an admin key or the token sees them")

    @app.get(
        "/v1/recipes",
        tags=["options"],
        summary="The saved recipes of the machine's owner (`stillmotion recipes list`): name, engine, prompt. "
        "Admin keys and the token only: they are one person's library, not the team's.",
    )
    def list_recipes(request: Request):
        from ..recipes import names

        _owner(request)
        return [{k: r[k] for k in ("name", "engine", "prompt")} for r in names()]  # no paths of this machine

    @app.get(
        "/v1/recipes/{name}",
        tags=["options"],
        summary="A saved recipe's settings for a new photo: {name, settings, notice}. The notice (or null) names "
        "what was dropped: fields this version no longer has or accepts, files of the old clip, settings a job "
        "here does not take. Admin keys and the token only.",
        responses={403: {"description": "Not an admin caller."}, 404: {"description": "No saved recipe of that name."}},
    )
    def get_recipe(
        name: str,
        request: Request,
        same_seed: Annotated[
            bool, Query(description="Keep the recipe's seed (the same clip from the same photo).")
        ] = False,
    ):
        from ..errors import InputError
        from ..recipes import RecipeNotFound, load_saved, settings

        _owner(request)
        try:
            recipe = load_saved(name)
        except InputError as err:
            missing = isinstance(err, RecipeNotFound)
            raise HTTPException(404 if missing else 400, _recipe_error(err, name)) from None
        fields, notice = settings(recipe, same_seed=same_seed)
        # The command line's settings (steps, interpolate…) a job here cannot set: named when not the default.
        defaults = AnimateRequest(image=Path("photo.png")).model_dump(mode="json")
        cli_only = sorted(k for k, v in fields.items() if k not in API_FIELDS and v != defaults.get(k))
        if cli_only:
            dropped = f"{', '.join(cli_only)} (not a setting of the studio's jobs)"
            notice = f"{notice}; {dropped}" if notice else f"recipe: dropped {dropped}"
        return {"name": name, "settings": {k: v for k, v in fields.items() if k in API_FIELDS}, "notice": notice}

    class SaveRecipe(BaseModel):
        """``POST /v1/recipes``: keep the recipe of a succeeded job under a name."""

        name: str = Field(description="1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.")
        job_id: str = Field(description="A succeeded job (GET /v1/jobs).", max_length=200)
        replace: bool = Field(False, description="Replace a saved recipe of that name (else 409).")

    @app.post(
        "/v1/recipes",
        status_code=201,
        tags=["options"],
        summary="Save a succeeded job's recipe by name (file names only, never this machine's folders): "
        "{name, prompt, engine}. 409 for a job not succeeded or a name in use without replace. Admin only.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": SaveRecipe.model_json_schema()}},
            }
        },
        responses={
            403: {"description": "Not an admin caller."},
            404: {"description": "No such job."},
            409: {"description": "The job has not succeeded, or the name is in use (send replace)."},
        },
    )
    async def save_recipe(request: Request):
        from ..errors import InputError
        from ..recipes import RecipeExists, check_name, save_recipe

        _owner(request)
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, 'send a JSON object: {"name": "...", "job_id": "..."}') from None
        if not isinstance(body, dict):
            raise HTTPException(400, 'send a JSON object: {"name": "...", "job_id": "..."}')
        unknown = unknown_fields(body.keys(), SaveRecipe.model_fields, "send name, job_id and replace")
        if unknown:
            raise HTTPException(400, unknown)
        try:
            given = SaveRecipe.model_validate(body)
        except ValidationError as err:
            raise RequestValidationError(err.errors()) from None
        try:
            check_name(given.name)
        except InputError as err:
            raise HTTPException(400, str(err)) from None
        job = _get(given.job_id, request.state.caller)
        if job["status"] != "succeeded" or not job["recipe"]:
            raise HTTPException(409, f"job {given.job_id} is {job['status']}: only a finished clip has a recipe")
        recipe = json.loads(job["recipe"])
        try:
            save_recipe(given.name, recipe, replace=given.replace)
        except InputError as err:
            if isinstance(err, RecipeExists):
                raise HTTPException(
                    409, f'a recipe named {given.name!r} exists: choose another name, or send "replace": true'
                ) from None
            raise HTTPException(400, _recipe_error(err, given.name)) from None
        rq = recipe.get("request") if isinstance(recipe.get("request"), dict) else recipe
        return {"name": given.name, "prompt": str(rq.get("prompt") or ""), "engine": str(rq.get("engine") or "")}

    @app.delete(
        "/v1/recipes/{name}",
        status_code=204,
        tags=["options"],
        summary="Delete a saved recipe. Admin keys and the token only.",
        responses={403: {"description": "Not an admin caller."}, 404: {"description": "No saved recipe of that name."}},
    )
    def delete_recipe(name: str, request: Request):
        from ..errors import InputError
        from ..recipes import RecipeNotFound, delete

        _owner(request)
        try:
            delete(name)
        except InputError as err:
            raise HTTPException(404 if isinstance(err, RecipeNotFound) else 400, _recipe_error(err, name)) from None
        return Response(status_code=204)

    def _recipe_error(err: Exception, name: str) -> str:
        """The library's message for the HTTP API: the CLI's hint becomes the endpoint's, no folders of this machine."""
        msg = str(err).splitlines()[0].replace("see `stillmotion recipes list`", "see GET /v1/recipes")
        return msg if "/" not in msg.replace("GET /v1/recipes", "") else f"saved recipe {name!r} is not readable"

    def _engine_rows() -> list[dict]:
        """The registry's rows (one availability verdict each), re-checked at most once a minute."""
        from ..engines.registry import engine_rows

        if not engines_cache or time.monotonic() - engines_cache["at"] > 60:
            engines_cache.update(at=time.monotonic(), rows=engine_rows())
        return engines_cache["rows"]

    @app.post("/v1/analyze", tags=["analyze"], summary="Judge a photo (and a motion prompt) before animating it.")
    async def analyze(
        request: Request,
        image: Annotated[UploadFile, File(description="The photo, at most 30 MB.")],
        prompt: Annotated[str | None, Form(description="A motion prompt to coach.", max_length=2000)] = None,
        engine: Annotated[
            str | None, Form(description="Coach for this engine's controls (GET /v1/engines).", max_length=200)
        ] = None,
    ):
        from ..api import analyze as _analyze
        from ..engines.registry import find_spec

        unknown = unknown_fields((await request.form()).keys(), ("image", "prompt", "engine"))
        if unknown:
            raise HTTPException(400, unknown)
        if engine is not None and find_spec(engine) is None:
            raise HTTPException(400, f"engine {engine!r} is unknown: see GET /v1/engines")
        with tempfile.TemporaryDirectory(dir=store.data, prefix=".analyze-") as tmpdir:
            tmp, ext, _, _ = await _save_upload(image, Path(tmpdir))
            photo = tmp.with_name(f"photo.{ext}")
            os.replace(tmp, photo)
            report = await in_decode_pool(_analyze, photo, prompt, engine=engine)
            d = report.to_dict()
            if isinstance(d.get("path"), str):
                d["path"] = Path(image.filename or "upload").name  # no server paths in answers
            return d

    @app.get("/v1/health", tags=["health"], summary="Worker processes and queue counts.")
    def health():
        return {
            "ok": all(w["alive"] for w in supervisor.health()),
            "workers": supervisor.health(),
            "jobs": store.counts(),
        }

    # ------------------------------------------------ the UI

    @app.get("/", include_in_schema=False)
    def index():
        page = STATIC / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return Response(
            "<!doctype html><title>stillmotion</title><p>stillmotion server: the API is at "
            "<a href='/docs'>/docs</a>.</p>",
            media_type="text/html",
        )

    @app.get("/static/{name:path}", include_in_schema=False)
    def static(name: str):
        root = STATIC.resolve()
        missing = HTTPException(404, f"no file {name[:100]!r}")
        if len(name) > 255 or "\x00" in name:  # NUL or an over-long name: no such file (not an OSError)
            raise missing
        try:
            path = (root / name).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise missing
        except (OSError, ValueError):
            raise missing from None
        return FileResponse(path)

    app.add_middleware(BodyLimit, limit=MAX_UPLOAD_BYTES + 64 * 1024)  # before multipart parsing
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, the guard's and the 413s too
    return app
