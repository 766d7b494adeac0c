"""Replicate, through its official Python client (``replicate``), with the four client caveats handled.

What this module does for the hosted engines:

- **schema**: the model's live input schema (``GET /v1/models/{owner}/{name}``,
  ``latest_version.openapi_schema``), cached on disk for a day per API host;
- **upload**: the prepared photo (and any other input file) through the file API
  (``POST /v1/files``);
- **create**: ``models.predictions.create`` (``wait=False``); the client does not
  retry a 429 on a POST, so :class:`_Backoff` (an httpx transport handed to the
  client, its documented extension point) retries 429 and 5xx on every call,
  honouring ``Retry-After``, bounded in attempts and seconds;
- **poll**: ``GET /v1/predictions/{id}`` every ≥ 2 s (the client's default 0.5 s
  is too aggressive for minutes-long video jobs), read as plain JSON, because the
  client's ``Prediction`` model rejects the ``aborted`` status;
- **cancel**: ``predictions.cancel`` (on Ctrl-C or ``should_stop``);
- **download**: the output, which arrives as a URL string or a list of them (or a
  ``FileOutput`` object through ``replicate.run``), straight away: Replicate
  deletes outputs after an hour.

The token comes from ``REPLICATE_API_TOKEN`` and the host from
``REPLICATE_BASE_URL`` (the client's own variables). The token is sent in the
``Authorization`` header only; no function here returns, logs or records it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx

from ...errors import Canceled, EngineUnavailable, GenerationError, InputError

__all__ = [
    "DEFAULT_BASE_URL",
    "POLL_S",
    "SCHEMA_TTL_S",
    "TOKEN_VAR",
    "ReplicateProvider",
    "output_urls",
    "poll_until_done",
]

TOKEN_VAR = "REPLICATE_API_TOKEN"
"""The environment variable holding the Replicate API token."""
DEFAULT_BASE_URL = "https://api.replicate.com"
POLL_S = 2.0
"""Seconds between status polls (at least 2 s: video jobs take minutes)."""
SCHEMA_TTL_S = 24 * 3600.0
"""A model's input schema is fetched again after a day."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRIES = 6
MAX_RETRY_S = 120.0
"""Retries of one call: at most 6 attempts more, and 120 s of waiting in all."""
TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the ``Retry-After`` header (seconds), else 1, 2, 4 … s (at most 30)."""
    header = response.headers.get("Retry-After", "")
    try:
        return max(0.0, min(float(header), MAX_RETRY_S))
    except ValueError:
        return float(min(2**attempt, 30))


class _Backoff(httpx.BaseTransport):
    """An httpx transport that retries 429 and 5xx answers on every method, honouring
    ``Retry-After``, at most :data:`MAX_RETRIES` times and :data:`MAX_RETRY_S` seconds.

    Handed to ``replicate.Client(transport=…)``; the client wraps it in its own
    retry layer, which covers GETs but never POSTs (so a throttled create would fail).
    """

    def __init__(self, inner: httpx.BaseTransport, sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner, self.sleep = inner, sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0
        for attempt in range(MAX_RETRIES + 1):
            response = self.inner.handle_request(request)
            if response.status_code not in RETRY_STATUSES or attempt == MAX_RETRIES:
                return response
            pause = _retry_after(response, attempt)
            if waited + pause > MAX_RETRY_S:
                return response
            response.close()
            self.sleep(pause)
            waited += pause
        return response  # pragma: no cover (the loop always returns)

    def close(self) -> None:
        self.inner.close()


def output_urls(output: Any) -> list[str]:
    """The output URLs of a prediction: a URL string, a list of them, or ``FileOutput`` objects
    (anything with a ``url``), in order.

    Raises:
        GenerationError: the output holds no URL.
    """
    items = output if isinstance(output, (list, tuple)) else [output]
    urls: list[str] = []
    for item in items:
        if isinstance(item, str):
            urls.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("url"), str):
            urls.append(item["url"])
        elif isinstance(getattr(item, "url", None), str):
            urls.append(item.url)
    if not urls:
        raise GenerationError(f"the prediction finished without an output file (output: {str(output)[:200]})")
    return urls


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "stillmotion" / "replicate-schemas"


class ReplicateProvider:
    """One Replicate account: the official client for schema, files, create and cancel; plain
    JSON polls. Build it with :meth:`from_environment`.

    Attributes:
        base_url: the API host (``REPLICATE_BASE_URL`` or https://api.replicate.com).
        poll_s: seconds between polls (≥ 2).
    """

    name = "replicate"

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        poll_s: float = POLL_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import replicate

        self.base_url = base_url.rstrip("/")
        self.poll_s = max(POLL_S, poll_s)
        self.sleep = sleep
        self._client = replicate.Client(
            api_token=token, base_url=self.base_url, transport=_Backoff(httpx.HTTPTransport(), sleep)
        )
        # Polls read plain JSON (the client's Prediction model rejects "aborted").
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "stillmotion"},
            timeout=httpx.Timeout(30.0, connect=10.0),
            transport=_Backoff(httpx.HTTPTransport(), sleep),
        )

    @classmethod
    def from_environment(cls) -> ReplicateProvider:
        """The provider for ``REPLICATE_API_TOKEN`` and ``REPLICATE_BASE_URL``.

        Raises:
            EngineUnavailable: no token in the environment (exit 3).
        """
        token = os.environ.get(TOKEN_VAR, "").strip()
        if not token:
            raise EngineUnavailable(f"hosted engines on Replicate need an API token: set {TOKEN_VAR}")
        return cls(token, os.environ.get("REPLICATE_BASE_URL") or DEFAULT_BASE_URL)

    @property
    def host(self) -> str:
        """The API host name, for notices (``api.replicate.com``)."""
        return urlparse(self.base_url).netloc or self.base_url

    # ------------------------------------------------------------------ schema

    def input_schema(self, model: str) -> dict[str, Any]:
        """The live input schema of ``model`` (``owner/name``): ``{"version": id, "properties": {…},
        "required": […]}``, from a day-old disk cache or the API.

        Raises:
            EngineUnavailable: the model does not exist or its schema cannot be read.
        """
        cache = _cache_dir() / (self.host.replace(":", "_")) / (model.replace("/", "__") + ".json")
        try:
            cached = json.loads(cache.read_text())
            if time.time() - float(cached["fetched_at"]) < SCHEMA_TTL_S:
                return dict(cached["schema"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        from replicate.exceptions import ReplicateError

        try:
            found = self._client.models.get(model)
        except ReplicateError as err:
            raise EngineUnavailable(
                f"Replicate model {model} cannot be read ({err.status}: {err.detail or err.title}): "
                "check the engine name, or that the model still exists"
            ) from None
        except httpx.HTTPError as err:
            raise EngineUnavailable(
                f"cannot reach Replicate at {self.host} ({type(err).__name__}): check the network"
            ) from None
        version = found.latest_version
        openapi = getattr(version, "openapi_schema", None) or {}
        inputs = openapi.get("components", {}).get("schemas", {}).get("Input", {})
        if version is None or "properties" not in inputs:
            raise EngineUnavailable(f"Replicate model {model} publishes no input schema: it cannot be mapped")
        schema = {
            "version": version.id,
            "properties": inputs["properties"],
            "required": list(inputs.get("required", [])),
        }
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".part")
            tmp.write_text(json.dumps({"fetched_at": time.time(), "schema": schema}))
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only cache only costs a fetch next time
        return schema

    # ------------------------------------------------------------------ files and predictions

    def upload(self, path: Path, content_type: str) -> str:
        """Upload ``path`` with the file API; the URL to pass as an input."""
        created = self._call(lambda: self._client.files.create(path, content_type=content_type), "upload")
        return str(created.urls["get"])

    def create(self, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Start a prediction of ``model`` (``owner/name``); its JSON (``id``, ``status``, …).

        Raises:
            GenerationError: Replicate refused it (the one-line reason), after retries.
        """
        prediction = self._call(
            lambda: self._client.models.predictions.create(model, input=inputs, wait=False), "create"
        )
        return {"id": prediction.id, "status": prediction.status, "version": getattr(prediction, "version", None)}

    def get(self, prediction_id: str) -> dict[str, Any]:
        """The prediction's JSON as Replicate sends it (any status, ``aborted`` included)."""
        try:
            response = self._http.get(f"/v1/predictions/{prediction_id}")
        except httpx.HTTPError as err:
            raise GenerationError(f"cannot reach Replicate at {self.host} ({type(err).__name__})") from None
        if response.status_code >= 400:
            raise GenerationError(
                f"Replicate answered {response.status_code} for prediction {prediction_id}: {_detail(response)}"
            )
        return dict(response.json())

    def cancel(self, prediction_id: str) -> None:
        """Cancel the prediction on Replicate (best effort: it may have finished already)."""
        try:
            self._client.predictions.cancel(prediction_id)
        except Exception:  # already finished, or an answer the client's model rejects: the POST was made
            pass

    def wait(
        self,
        prediction_id: str,
        *,
        should_stop: Callable[[], bool],
        on_poll: Callable[[dict], None],
        poll_s: float | None = None,
    ) -> dict[str, Any]:
        """Poll until the prediction ends (see :func:`poll_until_done`); cancel it on Replicate when
        ``should_stop()``."""
        return poll_until_done(
            self, prediction_id, "Replicate prediction", should_stop, on_poll, max(POLL_S, poll_s or self.poll_s)
        )

    def download(self, url: str, dest: Path) -> Path:
        """Download ``url`` to ``dest`` (streamed); Replicate's output links need no token, the API's
        own file links do, so the token is sent only to the API host."""
        headers = {}
        if urlparse(url).netloc == self.host:
            headers = dict(self._http.headers)
        try:
            with httpx.stream(
                "GET", url, headers=headers, timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    raise GenerationError(f"the output {url} could not be downloaded ({response.status_code})")
                with open(dest, "wb") as f:
                    for chunk in response.iter_bytes():
                        f.write(chunk)
        except httpx.HTTPError as err:
            raise GenerationError(f"the output {url} could not be downloaded ({type(err).__name__})") from None
        return dest

    # ------------------------------------------------------------------ helpers

    def _call(self, fn: Callable[[], Any], what: str) -> Any:
        from replicate.exceptions import ReplicateError

        try:
            return fn()
        except ReplicateError as err:
            detail = (
                str(err.detail or err.title or "").strip().splitlines()[0][:300] if (err.detail or err.title) else ""
            )
            if err.status in (401, 403):
                raise EngineUnavailable(
                    f"Replicate refused the token in {TOKEN_VAR} ({err.status}): "
                    "check it at replicate.com/account/api-tokens"
                ) from None
            if err.status == 422:
                raise InputError(f"Replicate refused the inputs ({what}): {detail}") from None
            raise GenerationError(f"Replicate {what} failed ({err.status}): {detail}") from None
        except httpx.HTTPError as err:
            raise GenerationError(f"cannot reach Replicate at {self.host} ({type(err).__name__})") from None


class _Pollable(Protocol):
    sleep: Callable[[float], None]

    def get(self, job_id: str) -> dict[str, Any]: ...

    def cancel(self, job_id: str) -> None: ...


def poll_until_done(
    provider: _Pollable,
    job_id: str,
    what: str,
    should_stop: Callable[[], bool],
    on_poll: Callable[[dict], None],
    pause: float,
) -> dict[str, Any]:
    """Poll ``provider.get(job_id)`` every ``pause`` seconds (≥ 2) until the job ends; the one waiting
    loop of every provider adapter, whose ``get`` answers in Replicate's JSON shape.

    Returns:
        The final state (status ``succeeded``).

    Raises:
        Canceled: ``should_stop()`` returned True: the job is canceled where it runs first (it is
            billed until then), and the cancel is seen within half a second.
        GenerationError: the job failed, was canceled or aborted there (the provider's reason).
    """
    while True:
        if should_stop():
            provider.cancel(job_id)
            raise Canceled(f"canceled: {what} {job_id} was canceled where it ran, no clip was written")
        state = provider.get(job_id)
        on_poll(state)
        status = state.get("status")
        if status == "succeeded":
            return state
        if status in TERMINAL:
            reason = str(state.get("error") or "no reason given").strip().splitlines()[0][:300]
            ended = {"aborted": "was aborted before it started (deadline)", "canceled": "was canceled"}
            raise GenerationError(f"{what} {job_id} {ended.get(str(status), 'failed')}: {reason}")
        until = time.monotonic() + max(POLL_S, pause)
        while time.monotonic() < until and not should_stop():
            provider.sleep(min(0.5, until - time.monotonic()))


def _inline_refs(properties: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Each property with its ``allOf: [{"$ref": "#/components/schemas/X"}]`` (how cog writes enums)
    merged in, so ``enum`` and ``type`` sit on the property itself."""
    out: dict[str, Any] = {}
    for name, prop in properties.items():
        merged = {k: v for k, v in dict(prop).items() if k not in ("allOf", "$ref")}
        refs = [prop.get("$ref")] + [part.get("$ref") for part in prop.get("allOf", []) if isinstance(part, dict)]
        for ref in refs:
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                target = components.get(ref.rsplit("/", 1)[1], {})
                merged = {**{k: v for k, v in target.items() if k not in ("title", "description")}, **merged}
        out[name] = merged
    return out


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("detail") or body.get("title") or body)[:300]
    except ValueError:
        return response.text[:300]
