"""fal.ai, through its official Python client (``fal-client``): the queue API.

What the hosted engines use it for (Pika 2.2, which is on fal only):

- **inputs**: files go as data URIs when under 1 MB (fal and Replicate both recommend
  that limit), else through the client's CDN upload;
- **create**: ``SyncClient.submit(endpoint, arguments)`` → a request handle;
- **poll**: ``handle.status()`` (``IN_QUEUE`` / ``IN_PROGRESS`` / ``COMPLETED``), read
  as the same JSON shape the Replicate adapter returns, so one waiting loop serves both;
- **result**: ``handle.get()`` → ``{"video": {"url": …}}``; **cancel**: ``handle.cancel()``.

The key comes from ``FAL_KEY``; ``FAL_RUN_HOST`` / ``FAL_QUEUE_RUN_HOST`` (read by the
client when it is imported) point it elsewhere. The key goes in the ``Authorization``
header only. fal's live input schema is not fetched: the model's row is what is sent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from ...errors import EngineUnavailable, GenerationError, InputError
from .replicate import POLL_S, poll_until_done

__all__ = ["DATA_URI_MAX", "KEY_VAR", "FalProvider"]

KEY_VAR = "FAL_KEY"
"""The environment variable holding the fal API key."""
DATA_URI_MAX = 1_000_000
"""Input files under 1 MB go inline as data URIs; larger ones through fal's upload."""


class FalProvider:
    """One fal account (see the module docstring). Build it with :meth:`from_environment`."""

    name = "fal"

    def __init__(self, key: str, sleep: Callable[[float], None] = time.sleep) -> None:
        import fal_client

        self._fal = fal_client
        self._client = fal_client.SyncClient(key=key, default_timeout=60.0)
        self._handles: dict[str, Any] = {}
        self._endpoints: dict[str, str] = {}
        self.sleep = sleep
        self.poll_s = POLL_S

    @classmethod
    def from_environment(cls) -> FalProvider:
        """The provider for ``FAL_KEY``.

        Raises:
            EngineUnavailable: no key in the environment (exit 3).
        """
        key = os.environ.get(KEY_VAR, "").strip()
        if not key:
            raise EngineUnavailable(f"hosted engines on fal need an API key: set {KEY_VAR}")
        return cls(key)

    @property
    def host(self) -> str:
        """The queue host, for notices."""
        return os.environ.get("FAL_QUEUE_RUN_HOST") or f"queue.{os.environ.get('FAL_RUN_HOST', 'fal.run')}"

    def input_schema(self, model: str) -> dict[str, Any]:
        """fal's live schema is not fetched: an empty schema means "the row decides"."""
        return {"version": None, "properties": {}, "required": [], "checked": False}

    def upload(self, path: Path, content_type: str) -> str:
        """A data URI for files under 1 MB, else fal's upload (its CDN)."""
        if path.stat().st_size < DATA_URI_MAX:
            return str(self._fal.encode_file(path))
        try:
            return str(self._client.upload_file(path))
        except Exception as err:  # network or auth: one line
            raise GenerationError(f"fal upload of {path.name} failed ({type(err).__name__}: {err})") from None

    def create(self, endpoint: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Submit a request to ``endpoint``; ``{"id": request_id, "status": "starting"}``."""
        try:
            handle = self._client.submit(endpoint, arguments=inputs)
        except httpx.HTTPStatusError as err:
            status = err.response.status_code
            detail = err.response.text[:300]
            if status in (401, 403):
                raise EngineUnavailable(f"fal refused the key in {KEY_VAR} ({status})") from None
            if status == 422:
                raise InputError(f"fal refused the inputs: {detail}") from None
            raise GenerationError(f"fal submit failed ({status}): {detail}") from None
        except httpx.HTTPError as err:
            raise GenerationError(f"cannot reach fal at {self.host} ({type(err).__name__})") from None
        except Exception as err:  # the client's own errors carry the server's words
            raise GenerationError(f"fal submit failed: {str(err).splitlines()[0][:300]}") from None
        self._handles[handle.request_id] = handle
        self._endpoints[handle.request_id] = endpoint
        return {"id": handle.request_id, "status": "starting"}

    def get(self, request_id: str) -> dict[str, Any]:
        """The request's state in the Replicate adapter's shape: ``status`` starting / processing /
        succeeded / failed, ``output`` (the result's video URL) and ``error``."""
        handle = self._handles.get(request_id)
        if handle is None:
            raise GenerationError(f"fal request {request_id} is not known to this run")
        try:
            state = handle.status()
        except Exception as err:
            raise GenerationError(f"fal status of {request_id} failed: {str(err).splitlines()[0][:300]}") from None
        kind = type(state).__name__
        if kind == "Queued":
            return {"status": "starting"}
        if kind == "InProgress":
            return {"status": "processing"}
        error = getattr(state, "error", None)
        if error:
            return {"status": "failed", "error": str(error)}
        try:
            result = handle.get()
        except Exception as err:  # a failed request answers its result with an error
            return {"status": "failed", "error": str(err).splitlines()[0][:300]}
        video = result.get("video") if isinstance(result, dict) else None
        url = video.get("url") if isinstance(video, dict) else None
        metrics = getattr(state, "metrics", None) or {}
        return {"status": "succeeded", "output": url, "metrics": dict(metrics)}

    def cancel(self, request_id: str) -> None:
        """Cancel the request on fal (best effort)."""
        handle = self._handles.get(request_id)
        if handle is not None:
            try:
                handle.cancel()
            except Exception:  # already finished: nothing to cancel
                pass

    def wait(
        self,
        request_id: str,
        *,
        should_stop: Callable[[], bool],
        on_poll: Callable[[dict], None],
        poll_s: float | None = None,
    ) -> dict[str, Any]:
        """Poll until the request ends (see :func:`~.replicate.poll_until_done`)."""
        return poll_until_done(self, request_id, "fal request", should_stop, on_poll, poll_s or self.poll_s)

    def download(self, url: str, dest: Path) -> Path:
        """Download the output (fal's file links need no key)."""
        try:
            with httpx.stream("GET", url, timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True) as r:
                if r.status_code >= 400:
                    raise GenerationError(f"the output {urlparse(url).path} could not be downloaded ({r.status_code})")
                with open(dest, "wb") as f:
                    for chunk in r.iter_bytes():
                        f.write(chunk)
        except httpx.HTTPError as err:
            raise GenerationError(f"the output could not be downloaded ({type(err).__name__})") from None
        return dest
