"""A local stand-in for Replicate's HTTP API, for offline tests driven through the real ``replicate`` client.

It follows the documented API (https://replicate.com/docs/reference/http) as the ``replicate`` 1.0.7 client
uses it: model and version schemas, file uploads, predictions (model and version routes, ``Prefer: wait``),
polling, cancel, RFC 7807 errors, 401/422/429. A prediction's output is a real MP4 made with PyAV from the
uploaded photo, at the duration, size and frame rate the model would produce, with an AAC track for models
that make sound. Faults are injected through methods on the server object.

    with ReplicateStandIn() as stand_in:
        client = replicate.Client(api_token=stand_in.token, base_url=stand_in.base_url)
        ...

The live services were never called to build this; everything follows the client's source and the notes.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import math
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import models as catalogue

TERMINAL = ("succeeded", "failed", "canceled", "aborted")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def _rid() -> str:
    """A Replicate-style id: 26 lowercase base32 characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def _problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "status": status, **extra}


@dataclass
class RecordedRequest:
    """One request the stand-in received (everything it saw, so tests can look for a leaked token)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    body: bytes
    status: int = 0

    def text_outside_auth(self) -> str:
        """Everything of this request except the Authorization header, as one string."""
        heads = "\n".join(f"{k}: {v}" for k, v in self.headers.items() if k.lower() != "authorization")
        return "\n".join([self.method, self.path, json.dumps(self.query), heads, self.body.decode("latin-1")])


@dataclass
class StandInPrediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    created_at: datetime
    fate: str = "succeeded"  # succeeded | failed | aborted | hang
    error_reason: str | None = None
    status: str = "starting"
    gets: int = 0
    rendering: bool = False
    deadline: datetime | None = None  # from a Cancel-After header
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: Any = None
    error: str | None = None
    logs: str = ""
    body: dict[str, Any] = field(default_factory=dict)

    def to_json(self, base: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "input": self.input,
            "logs": self.logs,
            "output": self.output,
            "data_removed": False,
            "error": self.error,
            "status": self.status,
            "source": "api",
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
            "urls": {
                "cancel": f"{base}/v1/predictions/{self.id}/cancel",
                "get": f"{base}/v1/predictions/{self.id}",
                "web": f"{base}/p/{self.id}",
            },
            "metrics": {},
        }
        if self.body.get("stream"):
            out["urls"]["stream"] = f"{base}/stream/{self.id}"
        if self.started_at and self.completed_at:
            t = (self.completed_at - self.started_at).total_seconds()
            out["metrics"] = {"predict_time": round(t, 6), "total_time": round(t + 0.01, 6)}
        return out


class ReplicateStandIn:
    """A real HTTP server on 127.0.0.1 that answers like api.replicate.com (see the module docstring).

    Clock: with ``clock="gets"`` (default) a prediction is ``starting`` until its ``processing_after``-th GET
    and done at its ``succeeded_after``-th GET; with ``clock="seconds"`` the same two numbers are seconds
    since creation. ``enum_style="ref"`` writes enums as cog does (``allOf`` → ``$ref`` to a component
    schema with ``enum``); ``"inline"`` puts ``enum`` on the property itself.
    """

    def __init__(
        self,
        token: str = "r8_standin0000000000000000000000000000",
        *,
        clock: str = "gets",
        processing_after: float = 1,
        succeeded_after: float = 3,
        enum_style: str = "ref",
        max_wait: float = 60.0,
    ) -> None:
        self.token = token
        self.clock = clock
        self.processing_after = processing_after
        self.succeeded_after = succeeded_after
        self.enum_style = enum_style
        self.max_wait = max_wait
        self.requests: list[RecordedRequest] = []
        self.predictions: dict[str, StandInPrediction] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, tuple[bytes, str]] = {}  # key → (bytes, content type); uploads and outputs
        self.models: dict[str, catalogue.SModel] = {m.ref: copy.deepcopy(m) for m in catalogue.CATALOGUE}
        self.versions: dict[str, list[dict[str, Any]]] = {}  # ref → versions, newest last
        self._lock = threading.RLock()
        self._throttle: list[float] = []  # Retry-After of each pending 429
        self._errors: list[int] = []
        self._fates: list[tuple[str, str | None]] = []
        self._hang = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for ref in self.models:
            self._new_version(ref)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> ReplicateStandIn:
        handler = type("_Handler", (_Handler,), {"stand_in": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="replicate-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ReplicateStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The variables that point the ``replicate`` client (and stillmotion) at this stand-in."""
        return {"REPLICATE_API_TOKEN": self.token, "REPLICATE_BASE_URL": self.base_url}

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- fault injection ----------------------------------------------------------------------------------------

    def throttle(self, n: int = 1, retry_after: float = 1) -> None:
        """The next ``n`` requests (any method, any path under /v1) get 429 with ``Retry-After``."""
        with self._lock:
            self._throttle.extend([retry_after] * n)

    def server_error(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` requests under /v1 get ``status`` (500, 502, 503 or 504) with a JSON problem body."""
        with self._lock:
            self._errors.extend([status] * n)

    def fail_next(self, reason: str = "The input or output was flagged as sensitive. Please try again.") -> None:
        """The next prediction created ends ``failed`` with ``error`` = reason."""
        with self._lock:
            self._fates.append(("failed", reason))

    def abort_next(self) -> None:
        """The next prediction created ends ``aborted`` (its deadline passed before it started)."""
        with self._lock:
            self._fates.append(("aborted", None))

    def hang(self, on: bool = True) -> None:
        """Predictions created from now stay ``processing`` until canceled."""
        with self._lock:
            self._hang = on

    def set_schema(self, ref: str, schema: dict[str, Any]) -> str:
        """Replace a model's Input schema (``properties`` and ``required``); publishes a new version, returns its id."""
        with self._lock:
            m = self.models[ref]
            m.properties = copy.deepcopy(schema["properties"])
            m.required = list(schema.get("required", []))
            return self._new_version(ref)

    def drop_field(self, ref: str, name: str) -> str:
        with self._lock:
            m = self.models[ref]
            del m.properties[name]
            m.required = [r for r in m.required if r != name]
            return self._new_version(ref)

    def rename_field(self, ref: str, old: str, new: str) -> str:
        with self._lock:
            m = self.models[ref]
            m.properties = {(new if k == old else k): v for k, v in m.properties.items()}
            m.required = [new if r == old else r for r in m.required]
            m.image_fields = tuple(new if f == old else f for f in m.image_fields)
            if m.video_field == old:
                m.video_field = new
            return self._new_version(ref)

    def set_output_as_list(self, ref: str, on: bool = True) -> None:
        with self._lock:
            self.models[ref].output_as_list = on

    # -- observation --------------------------------------------------------------------------------------------

    def token_leaks(self) -> list[RecordedRequest]:
        """Requests that carried the token anywhere but the Authorization header."""
        with self._lock:
            return [r for r in self.requests if self.token in r.text_outside_auth()]

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def latest_version(self, ref: str) -> dict[str, Any]:
        with self._lock:
            return self.versions[ref][-1]

    # -- internals ----------------------------------------------------------------------------------------------

    def _new_version(self, ref: str) -> str:
        m = self.models[ref]
        n = len(self.versions.get(ref, []))
        vid = hashlib.sha256(f"{ref}:{n}:{json.dumps(m.properties, sort_keys=True)}".encode()).hexdigest()
        created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)
        version = {
            "id": vid,
            "created_at": _iso(created),
            "cog_version": "0.16.8",
            "openapi_schema": self._openapi(m),
            "_model": copy.deepcopy(m),
        }
        self.versions.setdefault(ref, []).append(version)
        return vid

    def _openapi(self, m: catalogue.SModel) -> dict[str, Any]:
        inp = m.input_schema()
        components: dict[str, Any] = {}
        if self.enum_style == "ref":
            for name, prop in list(inp["properties"].items()):
                if "enum" in prop:
                    components[name] = {
                        "enum": prop.pop("enum"),
                        "type": prop.pop("type"),
                        "title": name,
                        "description": "An enumeration.",
                    }
                    prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
        out_schema: dict[str, Any] = {"type": "string", "format": "uri", "title": "Output"}
        if m.output_as_list:
            out_schema = {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}
        status = {"enum": ["starting", "processing", "succeeded", "canceled", "failed"], "type": "string"}
        schemas = {
            "Input": inp,
            "Output": out_schema,
            "Status": {**status, "title": "Status", "description": "An enumeration."},
            **components,
        }
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": schemas},
        }

    def _model_json(self, ref: str) -> dict[str, Any]:
        owner, name = ref.split("/", 1)
        m = self.models[ref]
        return {
            "url": f"https://replicate.com/{ref}",
            "owner": owner,
            "name": name,
            "description": m.description or f"{ref} (stand-in)",
            "visibility": "public",
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "run_count": 1000,
            "cover_image_url": None,
            "default_example": None,
            "latest_version": self._version_json(self.versions[ref][-1]),
        }

    @staticmethod
    def _version_json(v: dict[str, Any]) -> dict[str, Any]:
        return {k: v[k] for k in ("id", "created_at", "cog_version", "openapi_schema")}

    def _find_version(self, vid: str) -> tuple[str, dict[str, Any]] | None:
        for ref, vs in self.versions.items():
            for v in vs:
                if v["id"] == vid:
                    return ref, v
        return None

    # -- files --------------------------------------------------------------------------------------------------

    def _store_file(self, data: bytes, name: str, ctype: str, metadata: dict[str, Any]) -> dict[str, Any]:
        fid = _rid()
        created = _now()
        obj = {
            "id": fid,
            "name": name,
            "content_type": ctype,
            "size": len(data),
            "etag": hashlib.md5(data).hexdigest(),
            "checksums": {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()},
            "metadata": metadata,
            "created_at": _iso(created),
            "expires_at": _iso(created + timedelta(days=1)),
            "urls": {"get": f"{self.base_url}/v1/files/{fid}/download"},
        }
        self.files[fid] = obj
        self.blobs[f"file:{fid}"] = (data, ctype)
        return obj

    def resolve(self, url: str) -> bytes:
        """The bytes behind an input value: a data URI, a file this server holds, or an output it served."""
        if url.startswith("data:"):
            head, _, payload = url.partition(",")
            if head.endswith(";base64"):
                return base64.b64decode(payload)
            return urllib.parse.unquote_to_bytes(payload)
        parsed = urllib.parse.urlparse(url)
        if self._server is not None and f"{parsed.scheme}://{parsed.netloc}" == self.base_url:
            parts = parsed.path.strip("/").split("/")
            if parts[:2] == ["v1", "files"] and len(parts) >= 3 and f"file:{parts[2]}" in self.blobs:
                return self.blobs[f"file:{parts[2]}"][0]
            if parts[0] == "delivery" and f"out:{parts[1]}" in self.blobs:
                return self.blobs[f"out:{parts[1]}"][0]
        import httpx

        resp = httpx.get(url, timeout=5.0, follow_redirects=True)
        resp.raise_for_status()
        return resp.content

    # -- validation ---------------------------------------------------------------------------------------------

    @staticmethod
    def validate(m: catalogue.SModel, inp: Any) -> list[dict[str, str]]:
        """Input errors as Replicate lists them in ``invalid_fields`` (empty when the input is valid)."""
        if not isinstance(inp, dict):
            return [{"type": "invalid_type", "field": "input", "description": "Invalid type. Expected: object"}]
        errs: list[dict[str, str]] = []
        for name in m.required:
            if name not in inp:
                errs.append({"type": "required", "field": "input", "description": f"{name} is required"})
        for key, val in inp.items():
            prop = m.properties.get(key)
            if prop is None:
                desc = f"Additional property {key} is not allowed"
                errs.append({"type": "additional_property_not_allowed", "field": "input", "description": desc})
                continue
            problem = _check_value(prop, val)
            if problem:
                errs.append({"type": problem[0], "field": f"input.{key}", "description": f"{key}: {problem[1]}"})
        return errs

    # -- predictions --------------------------------------------------------------------------------------------

    def _create(self, ref: str, version: dict[str, Any], body: dict[str, Any]) -> StandInPrediction:
        with self._lock:
            fate, reason = self._fates.pop(0) if self._fates else ("succeeded", None)
            if self._hang and fate == "succeeded":
                fate = "hang"
            p = StandInPrediction(
                id=_rid(),
                model=ref,
                version=version["id"],
                input=body["input"],
                created_at=_now(),
                fate=fate,
                error_reason=reason,
                body={k: v for k, v in body.items() if k != "input"},
            )
            p.body["_model"] = version["_model"]
            self.predictions[p.id] = p
            return p

    def _advance(self, p: StandInPrediction, counting_get: bool) -> None:
        """Move a prediction along its clock; renders the output when it reaches ``succeeded``."""
        with self._lock:
            if p.status in TERMINAL:
                return
            if counting_get:
                p.gets += 1
            t = p.gets if self.clock == "gets" else (_now() - p.created_at).total_seconds()
            if p.deadline is not None and _now() >= p.deadline:  # Cancel-After: aborted if never started
                p.status = "aborted" if p.status == "starting" else "canceled"
                p.completed_at = _now()
                return
            if p.status == "starting" and t >= self.processing_after:
                if p.fate == "aborted":
                    p.status, p.completed_at = "aborted", _now()
                    return
                p.status, p.started_at = "processing", _now()
                p.logs = "Starting prediction\n"
            if p.status != "processing" or t < self.succeeded_after or p.fate == "hang":
                if p.status == "processing" and p.fate != "hang":
                    p.logs += f" 50%|█████     | 10/20 [00:0{p.gets % 10}<00:05, 2.00it/s]\n"
                return
            if p.fate == "failed":
                p.status, p.error, p.completed_at = "failed", p.error_reason, _now()
                p.logs += f"Error: {p.error_reason}\n"
                return
            if p.rendering:  # another request is making the output; this one still sees "processing"
                return
            p.rendering = True
        try:
            url = self._render(p)
        except Exception as exc:  # the model's own failure: bad image, unreachable URL, model-side rule
            with self._lock:
                p.rendering = False
                if p.status not in TERMINAL:
                    p.status, p.error, p.completed_at = "failed", str(exc), _now()
                    p.logs += f"Error: {exc}\n"
            return
        with self._lock:
            p.rendering = False
            if p.status in TERMINAL:  # canceled while rendering
                return
            model: catalogue.SModel = p.body["_model"]
            p.output = [url] if self.models[p.model].output_as_list or model.output_as_list else url
            p.logs += "100%|██████████| 20/20 [00:10<00:00, 2.00it/s]\nDone\n"
            p.status, p.completed_at = "succeeded", _now()

    def _cancel(self, p: StandInPrediction) -> None:
        with self._lock:
            if p.status not in TERMINAL:
                p.status, p.completed_at = "canceled", _now()
                p.started_at = p.started_at or p.completed_at

    def _render(self, p: StandInPrediction) -> str:
        model: catalogue.SModel = p.body["_model"]
        for check in model.checks:
            problem = check(p.input)
            if problem:
                raise ValueError(problem)
        data, ctype = render(model, p.input, self.resolve)
        ext = {"video/mp4": "mp4", "audio/flac": "flac"}[ctype]
        with self._lock:
            self.blobs[f"out:{p.id}"] = (data, ctype)
        return f"{self.base_url}/delivery/{p.id}/output.{ext}"


def _duration(text: str) -> float:
    """A Cancel-After value: "30s", "1m", "1h30m", "500ms" or bare seconds."""
    import re

    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts:
        raise _HTTPError(400, "Bad request", f"Invalid Cancel-After header: {text}")
    return sum(float(v) * units[u] for v, u in parts)


def _check_value(prop: dict[str, Any], val: Any) -> tuple[str, str] | None:
    t = prop.get("type")
    if t is None and "allOf" in prop:  # never stored this way here, but tolerate it
        return None
    ok = {
        "string": isinstance(val, str),
        "integer": isinstance(val, int) and not isinstance(val, bool),
        "number": isinstance(val, (int, float)) and not isinstance(val, bool),
        "boolean": isinstance(val, bool),
        "array": isinstance(val, list),
        "object": isinstance(val, dict),
    }.get(t, True)
    if not ok:
        given = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
        return "invalid_type", f"Invalid type. Expected: {t}, given: {given.get(type(val), 'null')}"
    if "enum" in prop and val not in prop["enum"]:
        return "enum", "must be one of the following: " + ", ".join(json.dumps(e) for e in prop["enum"])
    if "minimum" in prop and val < prop["minimum"]:
        return "number_gte", f"Must be greater than or equal to {prop['minimum']}"
    if "maximum" in prop and val > prop["maximum"]:
        return "number_lte", f"Must be less than or equal to {prop['maximum']}"
    if t == "array":
        if "minItems" in prop and len(val) < prop["minItems"]:
            return "array_min_items", f"Array must have at least {prop['minItems']} items"
        if "maxItems" in prop and len(val) > prop["maxItems"]:
            return "array_max_items", f"Array must have at most {prop['maxItems']} items"
        for item in val:
            sub = _check_value(prop.get("items", {}), item)
            if sub:
                return sub
    if prop.get("format") == "uri" and isinstance(val, str):
        if not (val.startswith(("http://", "https://", "data:"))):
            return "format", "Does not match format 'uri'"
    return None


class _Handler(BaseHTTPRequestHandler):
    stand_in: ReplicateStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, ctype: str = "") -> None:
        if isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
            ctype = ctype or ("application/problem+json" if status >= 400 else "application/json")
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._rec.status = status

    def _handle(self) -> None:
        s = self.stand_in
        parsed = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw and (self.headers.get("Content-Type") or "").startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self._rec = RecordedRequest(
            self.command, parsed.path, urllib.parse.parse_qs(parsed.query), dict(self.headers.items()), body, raw
        )
        with s._lock:
            s.requests.append(self._rec)
        parts = [urllib.parse.unquote(x) for x in parsed.path.strip("/").split("/")]
        if parts[0] == "delivery":  # public, like replicate.delivery
            blob = s.blobs.get(f"out:{parts[1]}") if len(parts) > 1 else None
            if blob is None:
                return self._send(404, _problem(404, "Not found", "No such output"))
            return self._send(200, blob[0], ctype=blob[1])
        if parts[0] != "v1":
            return self._send(404, _problem(404, "Not found", "The requested resource could not be found."))
        auth = self.headers.get("Authorization")
        if not auth:
            return self._send(401, _problem(401, "Unauthenticated", "You did not pass an authentication token"))
        if auth != f"Bearer {s.token}":
            return self._send(401, _problem(401, "Unauthenticated", "You did not pass a valid authentication token"))
        with s._lock:
            retry_after = s._throttle.pop(0) if s._throttle else None
            error = s._errors.pop(0) if (retry_after is None and s._errors) else None
        if retry_after is not None:
            ra = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            detail = f"Request was throttled. Your rate limit resets in ~{math.ceil(retry_after)}s."
            return self._send(429, _problem(429, "Request was throttled.", detail), {"Retry-After": ra})
        if error is not None:
            return self._send(error, _problem(error, "Internal server error", "Something went wrong (stand-in)."))
        try:
            self._route(parts[1:], body, raw)
        except _HTTPError as e:
            self._send(e.status, _problem(e.status, e.title, e.detail, **e.extra))
        except Exception as e:  # a bug in the stand-in: answer 500 rather than drop the connection
            self._send(500, _problem(500, "Internal server error", f"stand-in error: {e!r}"))

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _handle

    # -- routes -------------------------------------------------------------------------------------------------

    def _route(self, p: list[str], body: Any, raw: bytes) -> None:
        s, m = self.stand_in, self.command
        if p[:1] == ["models"] and len(p) >= 3:
            ref = f"{p[1]}/{p[2]}"
            if ref not in s.models:
                raise _HTTPError(404, "Not found", "The requested resource could not be found.")
            rest = p[3:]
            if not rest and m == "GET":
                with s._lock:
                    return self._send(200, s._model_json(ref))
            if rest == ["versions"] and m == "GET":
                with s._lock:
                    vs = [s._version_json(v) for v in reversed(s.versions[ref])]
                return self._send(200, {"next": None, "previous": None, "results": vs})
            if len(rest) == 2 and rest[0] == "versions" and m == "GET":
                with s._lock:
                    found = [v for v in s.versions[ref] if v["id"] == rest[1]]
                if not found:
                    raise _HTTPError(404, "Not found", "The requested resource could not be found.")
                return self._send(200, s._version_json(found[0]))
            if rest == ["predictions"] and m == "POST":
                with s._lock:
                    version = s.versions[ref][-1]
                return self._create(ref, version, body)
        if p == ["predictions"] and m == "POST":
            if not isinstance(body, dict) or not body.get("version"):
                raise _HTTPError(422, "Input validation failed", "- version: version is required\n")
            vid = str(body["version"]).split(":")[-1]
            with s._lock:
                found = s._find_version(vid)
            if found is None:
                raise _HTTPError(422, "Invalid version or not permitted", f"The specified version {vid} does not exist")
            return self._create(found[0], found[1], body)
        if p == ["predictions"] and m == "GET":
            with s._lock:
                res = [x.to_json(s.base_url) for x in reversed(s.predictions.values())]
            return self._send(200, {"next": None, "previous": None, "results": res})
        if p[:1] == ["predictions"] and len(p) >= 2:
            with s._lock:
                pred = s.predictions.get(p[1])
            if pred is None:
                raise _HTTPError(404, "Not found", "The requested resource could not be found.")
            if len(p) == 2 and m == "GET":
                s._advance(pred, counting_get=True)
                with s._lock:
                    return self._send(200, pred.to_json(s.base_url))
            if p[2:] == ["cancel"] and m == "POST":
                s._cancel(pred)
                with s._lock:
                    return self._send(200, pred.to_json(s.base_url))
        if p == ["files"] and m == "POST":
            return self._upload(raw)
        if p == ["files"] and m == "GET":
            with s._lock:
                return self._send(200, {"next": None, "previous": None, "results": list(s.files.values())})
        if p[:1] == ["files"] and len(p) >= 2:
            with s._lock:
                obj = s.files.get(p[1])
            if obj is None:
                raise _HTTPError(404, "Not found", "The requested resource could not be found.")
            if len(p) == 2 and m == "GET":
                return self._send(200, obj)
            if p[2:] == ["download"] and m in ("GET", "HEAD"):
                data, ctype = s.blobs[f"file:{p[1]}"]
                return self._send(200, data, ctype=ctype)
            if len(p) == 2 and m == "DELETE":
                with s._lock:
                    s.files.pop(p[1], None)
                    s.blobs.pop(f"file:{p[1]}", None)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self._rec.status = 204
                return None
        raise _HTTPError(404, "Not found", "The requested resource could not be found.")

    def _create(self, ref: str, version: dict[str, Any], body: Any) -> None:
        s = self.stand_in
        if not isinstance(body, dict):
            raise _HTTPError(400, "Bad request", "The request body must be a JSON object")
        inp = body.get("input", {})
        model: catalogue.SModel = version["_model"]
        errs = s.validate(model, inp)
        if errs:
            detail = "".join(f"- {e['field']}: {e['description']}\n" for e in errs)
            raise _HTTPError(422, "Input validation failed", detail, invalid_fields=errs)
        pred = s._create(ref, version, body)
        cancel_after = self.headers.get("Cancel-After")
        if cancel_after:
            pred.deadline = pred.created_at + timedelta(seconds=_duration(cancel_after))
        prefer = self.headers.get("Prefer") or ""
        if prefer.startswith("wait"):
            _, _, n = prefer.partition("=")
            try:
                wait = min(float(n) if n else 60.0, s.max_wait)
            except ValueError:
                raise _HTTPError(400, "Bad request", f"Invalid Prefer header: {prefer}") from None
            deadline = time.monotonic() + wait
            while s.clock == "seconds" and time.monotonic() < deadline and pred.status not in TERMINAL:
                s._advance(pred, counting_get=False)
                if pred.status not in TERMINAL:
                    time.sleep(0.05)
        with s._lock:
            js = pred.to_json(s.base_url)
        if prefer.startswith("wait") and js["status"] not in TERMINAL:
            # Live behaviour the client relies on (replicate/run.py): a blocking create that runs out of time
            # answers "starting" even while the model is processing; run() only polls after "starting".
            js["status"] = "starting"
        self._send(201, js)

    def _upload(self, raw: bytes) -> None:
        ctype = self.headers.get("Content-Type") or ""
        if not ctype.startswith("multipart/form-data"):
            raise _HTTPError(400, "Bad request", "Expected multipart/form-data")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        content: tuple[bytes, str, str] | None = None
        metadata: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if name == "content":
                fname = part.get_filename() or "file"
                content = (payload, fname, part.get_content_type())
            elif name == "metadata":
                metadata = json.loads(payload or b"{}")
        if content is None:
            raise _HTTPError(422, "Input validation failed", "- content: content is required\n")
        s = self.stand_in
        with s._lock:
            obj = s._store_file(content[0], content[1], content[2], metadata)
        self._send(201, obj)


class _HTTPError(Exception):
    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


# -- rendering: what the "model" returns --------------------------------------------------------------------------

_SR = 48000


def render(model: catalogue.SModel, inp: dict[str, Any], resolve: Any) -> tuple[bytes, str]:
    """The output a model would return for these inputs: (bytes, content type)."""
    if model.kind == "mmaudio":
        if inp.get(model.video_field or "video"):
            return _mux_audio(resolve(inp[model.video_field or "video"])), "video/mp4"
        return _flac(float(inp.get("duration", 8))), "audio/flac"
    if model.kind == "upscale":
        src = resolve(inp[model.video_field or "video"])
        fps = model.frame_rate(inp) if "target_fps" in model.properties else None
        return _upscale(src, model.short(inp), fps), "video/mp4"
    seconds = model.seconds(inp)
    if model.video_field and inp.get(model.video_field):  # motion control: as long as the motion video, capped
        cap = 30.0 if inp.get("character_orientation") == "video" else 10.0
        seconds = min(_probe_seconds(resolve(inp[model.video_field])), cap)
    image = None
    for f in model.image_fields:
        v = inp.get(f)
        if isinstance(v, list):
            v = v[0] if v else None
        if v:
            image = resolve(v)
            break
    return _zoom_clip(image, model, inp, seconds), "video/mp4"


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _size(aspect: float, short: int) -> tuple[int, int]:
    if short < 0:  # a long side
        long = -short
        return (_even(long), _even(long / aspect)) if aspect >= 1 else (_even(long * aspect), _even(long))
    return (_even(short * aspect), _even(short)) if aspect >= 1 else (_even(short), _even(short / aspect))


def _zoom_clip(image: bytes | None, model: catalogue.SModel, inp: dict[str, Any], seconds: float) -> bytes:
    import av
    import numpy as np
    from PIL import Image, ImageOps

    if image is not None:
        pil = ImageOps.exif_transpose(Image.open(io.BytesIO(image))).convert("RGB")
        aspect = pil.width / pil.height
    else:
        aspect = model.aspect(inp) or 16 / 9
        yy, xx = np.mgrid[0:90, 0:160]
        grad = np.stack([xx * 1.5, yy * 2.5, 255 - xx * 1.5], axis=-1).clip(0, 255).astype(np.uint8)
        pil = Image.fromarray(grad)
    w, h = _size(aspect, model.short(inp))
    src = np.asarray(pil.resize((w, h), Image.BILINEAR))
    fps = model.frame_rate(inp)
    rate = Fraction(fps).limit_denominator(1001)
    n = max(1, int(round(seconds * fps)))
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=rate, options={"crf": "30", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        audio = _tone_stream(out) if model.has_sound(inp) else None
        for k in range(n):
            z = 1.0 + 0.08 * k / max(1, n - 1)
            cw, ch = _even(w / z), _even(h / z)
            x0, y0 = (w - cw) // 2, (h - ch) // 2
            crop = np.ascontiguousarray(src[y0 : y0 + ch, x0 : x0 + cw])
            frame = av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(width=w, height=h, format="yuv420p")
            frame.pts, frame.time_base = k, 1 / rate
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if audio is not None:
            _add_tone(out, audio, n / fps)
    return buf.getvalue()


def _tone_stream(out: Any) -> Any:
    return out.add_stream("aac", rate=_SR, layout="mono")


def _add_tone(out: Any, st: Any, seconds: float, hz: float = 440.0) -> None:
    """Encode a quiet sine tone of ``seconds`` into the audio stream ``st`` (added before any muxing)."""
    import av
    import numpy as np

    total, step = int(seconds * _SR), 1024
    for start in range(0, total, step):
        t = (np.arange(start, min(total, start + step)) / _SR).astype(np.float32)
        samples = (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = _SR, start, Fraction(1, _SR)
        out.mux(st.encode(frame))
    out.mux(st.encode(None))


def _probe_seconds(data: bytes) -> float:
    import av

    with av.open(io.BytesIO(data)) as c:
        if c.duration:
            return c.duration / 1_000_000
        v = c.streams.video[0]
        return float(v.duration * v.time_base) if v.duration else 5.0


def _mux_audio(video: bytes) -> bytes:
    """MMAudio with a video: the same video stream (copied, not re-encoded) plus a generated AAC track."""
    import av

    seconds = _probe_seconds(video)
    buf = io.BytesIO()
    with av.open(io.BytesIO(video)) as src, av.open(buf, "w", format="mp4") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        audio = _tone_stream(out)
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)
        _add_tone(out, audio, seconds, hz=330.0)
    return buf.getvalue()


def _flac(seconds: float) -> bytes:
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as out:
        st = out.add_stream("flac", rate=_SR, layout="mono")
        t = (np.arange(int(seconds * _SR)) / _SR).astype(np.float32)
        s16 = (3000 * np.sin(2 * np.pi * 330 * t)).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(s16, format="s16", layout="mono")
        frame.sample_rate, frame.pts = _SR, 0
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return buf.getvalue()


def _upscale(data: bytes, short: int, fps: float | None) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(buf, "w", format="mp4") as out:
        vin = src.streams.video[0]
        src_rate = Fraction(vin.average_rate or 24)
        rate = Fraction(fps).limit_denominator(1001) if fps else src_rate
        w, h = _size(vin.codec_context.width / vin.codec_context.height, short)
        vs = out.add_stream("libx264", rate=rate, options={"crf": "30", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        k = 0
        for i, frame in enumerate(src.decode(vin)):
            big = frame.reformat(width=w, height=h, format="yuv420p")
            while k / rate < (i + 1) / src_rate:  # resample by time: repeat or drop frames
                f = av.VideoFrame.from_ndarray(big.to_ndarray(), format="yuv420p")
                f.pts, f.time_base = k, 1 / rate
                out.mux(vs.encode(f))
                k += 1
        out.mux(vs.encode(None))
    return buf.getvalue()
