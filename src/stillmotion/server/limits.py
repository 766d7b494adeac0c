"""The studio's bounds on what one request or one client may cost, and its HTTP hygiene.

:class:`Limits` holds the numbers (``stillmotion serve --max-pixels …``):
the pixel budget of one uploaded photo, how many photos are decoded or
analysed at once, the work budget of one job, how many jobs may wait in the
queue and how many ``/events`` streams may be open. :class:`EventHub` serves
every open event stream from one poll of the queue; :class:`BodyLimit` and
:class:`SecurityHeaders` are ASGI middleware; :func:`parse_host`,
:func:`unknown_fields`, :func:`allowed_methods` and :func:`document_errors`
are the small checks the app runs.
"""

from __future__ import annotations

import asyncio
import difflib
import ipaddress
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..request import MAX_SIDE, AnimateRequest

__all__ = [
    "BodyLimit",
    "DEFAULT_MAX_PIXELS",
    "EventHub",
    "Limits",
    "MAX_WORK_CEILING",
    "RateLimiter",
    "SecurityHeaders",
    "allowed_methods",
    "document_errors",
    "event_stream",
    "header_size",
    "parse_host",
    "release_memory",
    "unknown_fields",
]

DEFAULT_MAX_PIXELS = 40_000_000
"""Largest photo the server decodes, in pixels (width × height): a 40 MP photo costs about 120 MB as RGB."""


def _upper(field: str) -> float:
    return float(next(m.le for m in AnimateRequest.model_fields[field].metadata if hasattr(m, "le")))


MAX_WORK_CEILING = MAX_SIDE * MAX_SIDE * round(_upper("duration") * _upper("fps"))
"""The largest job the request's own ranges allow, in output pixels × frames (4096 × 4096 × 30 s × 60 fps)."""


@dataclass(frozen=True)
class Limits:
    """What one request or the whole server may hold at once (``stillmotion serve`` options).

    Attributes:
        max_pixels: largest uploaded photo, width × height in pixels, checked from the file's
            header before any pixel is decoded (413 above it).
        max_decodes: photos decoded or analysed at the same time; more requests wait their turn.
        max_work: largest job, output width × height × frames (400 above it at submit).
        max_queued: jobs waiting in the queue, all clients together (429 above it).
        max_streams: open ``/v1/jobs/{id}/events`` streams, all clients together (429 above it).
        max_rate: POST requests per second one caller (a key, the token, the local user) may
            make to ``/v1``, on average, with bursts of 4× that; beyond it 429 with
            ``Retry-After``, answered before the body is read, so a flood costs almost nothing.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_decodes: int = 2
    max_work: int = MAX_WORK_CEILING
    max_queued: int = 1000
    max_streams: int = 256
    max_rate: int = 2

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_decodes", "max_work", "max_queued", "max_streams", "max_rate"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        if self.max_work > MAX_WORK_CEILING:
            raise ValueError(f"max_work {self.max_work} is over the ceiling {MAX_WORK_CEILING} (4096² × 1800 frames)")


class RateLimiter:
    """A token bucket per caller: ``rate`` requests per second on average, bursts of ``burst``.

    Thread-safe; buckets idle long enough to be full again are forgotten, so memory stays
    bounded by the callers active in the last ``burst / rate`` seconds.
    """

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be positive and burst at least 1, got {rate!r}, {burst!r}")
        self.rate, self.burst = float(rate), float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str, now: float | None = None) -> float:
        """Spend one token of ``who``'s bucket; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[who] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[who] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > 1024:
                full = self.burst / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
            return wait


def header_size(path: Path) -> tuple[str, int, int] | None:
    """``(format, width, height)`` read from the image's header (no pixel is decoded), or None
    when Pillow cannot open it (the full loader then says what is wrong)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a DecompressionBombWarning: we judge the size ourselves
            with Image.open(path) as im:
                return str(im.format), int(im.size[0]), int(im.size[1])
    except Exception:  # any failure to read a header: load_image gives the one-line reason
        return None


# ---------------------------------------------------------------- Host header

# DNS labels (underscores too: container names use them), dot-separated, an optional final dot.
_REG_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?")


def parse_host(value: str) -> tuple[str, int | None]:
    """Split a ``Host`` header into (host, port), strictly.

    ``host`` is a DNS name, an IPv4 address or a bracketed IPv6 address (``"[::1]"``, brackets
    kept); ``port`` is 0..65535 or None when absent.

    Raises:
        ValueError: anything else (spaces, an unclosed bracket, an empty or out-of-range port,
            characters a host name cannot have).
    """
    if not value or len(value) > 300 or not value.isascii():
        raise ValueError("empty, too long or not ASCII")
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError("unclosed '['")
        host, rest = value[: end + 1], value[end + 1 :]
        ipaddress.IPv6Address(host[1:-1])  # raises ValueError
    else:
        host, sep, port_text = value.partition(":")
        rest = sep + port_text
        if not _REG_NAME.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name")
    if not rest:
        return host, None
    port_text = rest[1:]
    if rest[0] != ":" or not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
        raise ValueError("the port must be 0..65535")
    port = int(port_text)
    if port > 65535:
        raise ValueError("the port must be 0..65535")
    return host, port


# ---------------------------------------------------------------- form fields


def unknown_fields(
    sent: Iterable[str], allowed: Iterable[str], see: str = "see GET /v1/options for the fields a job takes"
) -> str | None:
    """One line naming the form fields in ``sent`` that are not in ``allowed`` (with the
    nearest known name) and ending with ``see``, or None when all are known."""
    known = sorted(set(allowed))
    bad = sorted(set(sent) - set(known))
    if not bad:
        return None
    parts = []
    for name in bad:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        parts.append(f"{name[:60]} (did you mean {close[0]}?)" if close else name[:60])
    word = "field" if len(bad) == 1 else "fields"
    return f"unknown {word} {', '.join(parts)}: {see}"


# ---------------------------------------------------------------- event streams


class EventHub:
    """Serves every open ``/events`` stream from one poll of the queue.

    One task reads the rows of all watched jobs in a single query every ``interval_s`` (only
    while a stream is open) and wakes the streams whose job changed: N open streams cost one
    small query per interval instead of N, and no thread of the pool waits on them.

    Args:
        fetch: job ids → their rows (``JobStore.get_many``); run in a thread.
        max_streams: open streams allowed at once (:meth:`open` returns None above it).
        interval_s: seconds between polls.
    """

    def __init__(
        self, fetch: Callable[[list[str]], dict[str, dict]], max_streams: int, interval_s: float = 0.25
    ) -> None:
        self.fetch, self.max_streams, self.interval_s = fetch, max_streams, interval_s
        self.rows: dict[str, dict] = {}
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._count = 0
        self._task: asyncio.Task | None = None

    @property
    def open_streams(self) -> int:
        return self._count

    def open(self, job: dict) -> asyncio.Event | None:
        """Watch ``job`` (its current row); returns the event set on each change, or None when
        :attr:`max_streams` are already open. Every opened event must be :meth:`close`-d."""
        if self._count >= self.max_streams:
            return None
        self._count += 1
        event = asyncio.Event()
        self.rows.setdefault(job["id"], job)
        self._waiters.setdefault(job["id"], set()).add(event)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._poll())
        return event

    def close(self, job_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(job_id)
        if waiters is None or event not in waiters:
            return
        self._count -= 1
        waiters.discard(event)
        if not waiters:
            del self._waiters[job_id]
            self.rows.pop(job_id, None)

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self.interval_s)
            ids = list(self._waiters)
            if not ids:
                break
            try:
                fresh = await asyncio.to_thread(self.fetch, ids)
            except Exception:  # a locked database: try again next interval
                continue
            for job_id in ids:
                row = fresh.get(job_id)
                if row != self.rows.get(job_id) and job_id in self._waiters:
                    if row is None:
                        self.rows.pop(job_id, None)
                    else:
                        self.rows[job_id] = row
                    for event in self._waiters[job_id]:
                        event.set()


# ---------------------------------------------------------------- ASGI middleware


def _json_error(status: int, message: str, headers: Mapping[str, str] | None = None):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


class BodyLimit:
    """413 for request bodies over ``limit`` bytes, by Content-Length or by counting the bytes of a
    chunked body as they arrive.

    A chunked body is cut off by raising from ``receive``; whatever the app then answers (FastAPI
    turns any parse failure into "400 There was an error parsing the body") is replaced by the 413.
    """

    class _TooLarge(Exception):
        pass

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = _json_error(
            413, f"the request is over the {self.limit // 2**20} MB upload limit: send a smaller photo"
        )
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await too_large(scope, receive, send)
        seen, over, answered = 0, False, False

        async def counted():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise self._TooLarge
            return message

        async def answer_413():
            nonlocal answered
            if not answered:
                answered = True

                async def nothing():
                    return {"type": "http.disconnect"}

                await too_large(scope, nothing, send)

        async def watch(message):
            if over:  # the app's own answer to a cut-off body: say 413 instead
                if message["type"] == "http.response.start":
                    await answer_413()
                return
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except self._TooLarge:
            await answer_413()


CSP_PAGE = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The studio page's policy: its own script and style files only (no inline code), photos and
clips from this server or from blob: URLs the page made."""
CSP_DOCS = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; worker-src blob:; base-uri 'none'; frame-ancestors 'none'"
)
"""FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from a CDN with an inline starter script."""


class SecurityHeaders:
    """Adds ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
    ``X-Frame-Options: DENY`` and a ``Content-Security-Policy`` (``frame-ancestors 'none'``) to
    every response, errors included."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        csp = CSP_DOCS if path in ("/docs", "/redoc", "/docs/oauth2-redirect") else CSP_PAGE

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", csp.encode()),
                ]
                message = dict(message, headers=[*message.get("headers", []), *(h for h in extra if h[0] not in names)])
            await send(message)

        await self.app(scope, receive, with_headers)


# ---------------------------------------------------------------- routes and OpenAPI


def allowed_methods(routes: Iterable[Any], scope: Mapping[str, Any]) -> list[str]:
    """The methods some route answers at ``scope``'s path (for a 405's ``Allow`` header)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in routes:
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        match, _ = route.matches(dict(scope, method=next(iter(route_methods))))
        if match == Match.FULL:
            methods |= set(route_methods)
    return sorted(methods)


_ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What went wrong and how to fix it, one line."}},
}
_WHY = {
    "400": "Invalid input: a field, the photo or a query parameter (the message names it).",
    "401": "Missing or wrong token.",
    "403": "Refused: a cross-origin request or a host this server does not answer.",
    "404": "No such job.",
    "409": "The job has not succeeded (yet).",
    "410": "The video was deleted from the data folder.",
    "413": "The upload or the photo's pixel count is over the server's limit.",
    "429": "Too many: the queue is full or too many event streams are open; try again later.",
}


def document_errors(schema: dict[str, Any], *, token: bool) -> dict[str, Any]:
    """Make an OpenAPI document say what the server answers: 400 (not FastAPI's 422) with
    ``{"error": …}``, 404 for the job routes, 413 for uploads, 429 where a limit applies,
    401 when a token is required. Changes ``schema`` in place and returns it."""
    ref = {"$ref": "#/components/schemas/Error"}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            codes = ["400"]
            if "{job_id}" in path:
                codes.append("404")
            body = op.get("requestBody", {}).get("content", {})
            if "multipart/form-data" in body:
                codes.append("413")
            if (method == "post" and path == "/v1/jobs") or path.endswith("/events"):
                codes.append("429")
            if path == "/v1/jobs" and method == "post":
                codes.append("403")
            if token and path.startswith("/v1"):
                codes.append("401")
            for code in codes:
                responses.setdefault(
                    code, {"description": _WHY[code], "content": {"application/json": {"schema": ref}}}
                )
            for code in ("403", "404", "409", "410"):  # a route's own error answers: the same {"error": …}
                if code in responses:
                    responses[code].setdefault("content", {"application/json": {"schema": ref}})
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = _ERROR_SCHEMA
    return schema


# ---------------------------------------------------------------- responses and memory


def _event_stream_class():
    from starlette.responses import StreamingResponse

    class EventStream(StreamingResponse):
        """A ``text/event-stream`` response that stops as soon as the client goes away (whatever
        the ASGI version) and then calls ``on_close`` once (to give back its stream slot)."""

        def __init__(self, content, on_close: Callable[[], None], **kwargs) -> None:
            super().__init__(content, media_type="text/event-stream", **kwargs)
            self.on_close = on_close

        async def __call__(self, scope, receive, send) -> None:
            import anyio

            try:
                async with anyio.create_task_group() as tg:

                    async def run() -> None:
                        try:
                            await self.stream_response(send)
                        except OSError:  # the client is gone
                            pass
                        tg.cancel_scope.cancel()

                    tg.start_soon(run)
                    await self.listen_for_disconnect(receive)
                    tg.cancel_scope.cancel()
            finally:
                self.on_close()

    return EventStream


def event_stream(content, on_close: Callable[[], None], headers: Mapping[str, str] | None = None):
    """See ``EventStream`` above (built on first use: Starlette is imported lazily)."""
    return _event_stream_class()(content, on_close, headers=dict(headers or {}))


def release_memory() -> None:
    """Hand freed heap memory back to the system after a large decode (glibc ``malloc_trim``;
    nothing elsewhere). Without it a server keeps the peak of its decodes resident."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
