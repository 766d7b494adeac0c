"""A local stand-in for fal.ai's queue API, over HTTPS, for offline tests through the real ``fal-client``.

fal's client builds ``https://`` URLs from ``FAL_RUN_HOST`` / ``FAL_QUEUE_RUN_HOST`` when it is
imported, so the stand-in serves TLS with a self-signed certificate made at start (``openssl``),
and a process pointed at it gets ``SSL_CERT_FILE`` (which httpx honours) — see :meth:`env`.
It follows the queue API as the client uses it: ``POST /{endpoint}`` → ``request_id`` and the
status / response / cancel URLs; ``GET …/status`` → ``IN_QUEUE`` / ``IN_PROGRESS`` /
``COMPLETED``; ``GET …`` → the result ``{"video": {"url": …}}``; ``PUT …/cancel``. Auth is
``Authorization: Key <key>``. Image inputs arrive as data URIs; the output is an MP4 made with
PyAV from the image. The live service was never called to build this.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class FalRequest:
    id: str
    endpoint: str
    input: dict[str, Any]
    status: str = "IN_QUEUE"
    polls: int = 0
    fate: str = "succeeded"  # succeeded | failed | hang
    video: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _clip_from(image_uri: str, seconds: float, short: int) -> bytes:
    """An H.264 MP4 of the data-URI image with a gentle zoom, at 24 fps."""
    import av
    import numpy as np
    from PIL import Image

    raw = base64.b64decode(image_uri.split(",", 1)[1])
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    w, h = img.size
    scale = short / min(w, h)
    W, H = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
    base = np.asarray(img.resize((W, H)))
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24, options={"crf": "30", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        n = int(round(seconds * 24))
        for i in range(n):
            k = 1.0 + 0.08 * i / max(n - 1, 1)
            cw, ch = int(W / k) // 2 * 2, int(H / k) // 2 * 2
            x0, y0 = (W - cw) // 2, (H - ch) // 2
            crop = Image.fromarray(base[y0 : y0 + ch, x0 : x0 + cw]).resize((W, H))
            frame = av.VideoFrame.from_ndarray(np.asarray(crop), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


class FalStandIn:
    """A real HTTPS server on 127.0.0.1 answering like fal's queue (see the module docstring).

    A request is ``IN_QUEUE`` on its first status poll, ``IN_PROGRESS`` on the second and
    ``COMPLETED`` from the third, unless :meth:`hang` or :meth:`fail_next` say otherwise.
    """

    def __init__(self, key: str = "fal-standin-key-0000") -> None:
        self.key = key
        self.requests: dict[str, FalRequest] = {}
        self.log: list[tuple[str, str, dict[str, str], bytes]] = []
        self._fates: list[str] = []
        self._hang = False
        self._lock = threading.RLock()
        self._dir = Path(tempfile.mkdtemp(prefix="fal-standin-"))
        self.cert = self._dir / "cert.pem"
        key_file = self._dir / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key_file),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(self.cert, key_file)
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FalStandIn:
        handler = type("_Handler", (_Handler,), {"stand_in": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.socket = self._ctx.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FalStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"https://{self.host}"

    def env(self) -> dict[str, str]:
        """Variables that point ``fal-client`` (read at its import) and stillmotion at this stand-in."""
        return {
            "FAL_KEY": self.key,
            "FAL_RUN_HOST": self.host,
            "FAL_QUEUE_RUN_HOST": self.host,
            "SSL_CERT_FILE": str(self.cert),
        }

    def hang(self, on: bool = True) -> None:
        with self._lock:
            self._hang = on

    def fail_next(self) -> None:
        with self._lock:
            self._fates.append("failed")

    def key_leaks(self) -> list[str]:
        """Paths of requests that carried the key anywhere but the Authorization header."""
        with self._lock:
            return [
                path
                for _m, path, headers, body in self.log
                if self.key in path
                or self.key.encode() in body
                or any(self.key in v for k, v in headers.items() if k.lower() != "authorization")
            ]


class _Handler(BaseHTTPRequestHandler):
    stand_in: FalStandIn

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        s = self.stand_in
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        with s._lock:
            s.log.append((method, self.path, dict(self.headers), body))
        if path.startswith("/files/"):
            req = s.requests.get(path.rsplit("/", 1)[1].removesuffix(".mp4"))
            if req is None or req.video is None:
                return self._send(404, {"detail": "not found"})
            return self._send(200, req.video, "video/mp4")
        if self.headers.get("Authorization") != f"Key {s.key}":
            return self._send(401, {"detail": "Invalid Key"})
        parts = path.strip("/").split("/")
        if method == "POST":
            rid = secrets.token_hex(8)
            endpoint = "/".join(parts)
            with s._lock:
                fate = s._fates.pop(0) if s._fates else ("hang" if s._hang else "succeeded")
                s.requests[rid] = FalRequest(rid, endpoint, json.loads(body or b"{}"), fate=fate)
            base = f"{s.base_url}/{endpoint}/requests/{rid}"
            return self._send(
                200,
                {
                    "request_id": rid,
                    "response_url": base,
                    "status_url": base + "/status",
                    "cancel_url": base + "/cancel",
                    "queue_position": 0,
                },
            )
        if "requests" not in parts:
            return self._send(404, {"detail": "not found"})
        rid = parts[parts.index("requests") + 1]
        req = s.requests.get(rid)
        if req is None:
            return self._send(404, {"detail": "request not found"})
        tail = parts[parts.index("requests") + 2 :]
        if method == "PUT" and tail == ["cancel"]:
            with s._lock:
                req.status, req.fate = "CANCELLED", "canceled"
            return self._send(202, {"status": "CANCELLATION_REQUESTED"})
        if method == "GET" and tail == ["status"]:
            with s._lock:
                req.polls += 1
                if req.fate == "canceled":
                    return self._send(
                        200,
                        {
                            "status": "COMPLETED",
                            "logs": [],
                            "error": "Request was cancelled",
                            "error_type": "RequestCancelled",
                        },
                    )
                if req.fate != "hang" and req.polls >= 3:
                    req.status = "COMPLETED"
                elif req.polls >= 2:
                    req.status = "IN_PROGRESS"
            if req.status == "IN_QUEUE":
                return self._send(202, {"status": "IN_QUEUE", "queue_position": 0})
            if req.status == "IN_PROGRESS":
                return self._send(202, {"status": "IN_PROGRESS", "logs": []})
            if req.fate == "failed":
                return self._send(
                    200,
                    {
                        "status": "COMPLETED",
                        "logs": [],
                        "error": "Content policy violation",
                        "error_type": "ContentPolicy",
                    },
                )
            return self._send(200, {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 1.5}})
        if method == "GET" and not tail:
            if req.status != "COMPLETED" or req.fate != "succeeded":
                return self._send(400, {"detail": "request not completed"})
            if req.video is None:
                if "num_frames" in req.input:
                    seconds = float(req.input["num_frames"]) / float(req.input.get("frames_per_second", 16))
                else:
                    seconds = float(req.input.get("duration", 5))
                short = int(str(req.input.get("resolution", "720p")).rstrip("p"))
                image = next(req.input[k] for k in ("image_url", "start_image_url") if k in req.input)
                req.video = _clip_from(image, seconds, min(short, 360))
            return self._send(200, {"video": {"url": f"{s.base_url}/files/{rid}.mp4", "content_type": "video/mp4"}})
        return self._send(405, {"detail": "method not allowed"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")
