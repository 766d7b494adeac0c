"""The hosted engine: a :class:`~.models.HostedModel` row run on its provider.

``prepare(job)`` maps the job onto the model's **live** input schema (fetched
before the first job, cached a day): the photo cropped to the output aspect
(never stretched) goes into the model's own image field; duration, resolution
and aspect snap to what the model allows (nearest, with a notice); negative
prompt, seed, end frame, sound and camera lock go to the model's fields when it
has them, else a notice says it ignores them; prompt rewriters stay off; only
declared fields are sent, and a row that names a field the live schema lacks
fails in one line (never a 422 from the provider). It prices the job and
refuses it over ``--max-cost``. ``fetch(hooks)`` uploads, creates the
prediction, polls it (progress, ETA, cancellation on the provider), downloads
the output at once and checks it decodes.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...errors import EngineUnavailable, GenerationError, InputError
from ...image import crop_to_aspect
from ...plan.prompt import parse_prompt
from ..base import NO_HOOKS, YUV420, Availability, Engine, RenderHooks, RenderJob
from .fal import KEY_VAR, FalProvider
from .models import MODELS, Duration, HostedModel, fal_route, from_schema
from .replicate import TOKEN_VAR, ReplicateProvider, output_urls

if TYPE_CHECKING:
    from ...request import AnimateRequest

__all__ = ["OFFLINE_VAR", "HostedEngine", "HostedOptions", "HostedShot", "availability"]

OFFLINE_VAR = "STILLMOTION_OFFLINE"
"""``STILLMOTION_OFFLINE=1`` refuses every hosted engine (exit 3)."""
PHOTO_MAX_SIDE = 2048
"""The photo is uploaded at most 2048 px on its long side (at the output aspect)."""
_TOLD: set[str] = set()  # providers the user was told the photo goes to, this process


@dataclass(frozen=True)
class HostedOptions:
    """The hosted engines' own options (from the request; see ``stillmotion animate --help``).

    Attributes:
        provider: ``replicate`` (default) or ``fal``.
        inputs: model-specific inputs, ``KEY`` → text value (``--input KEY=VALUE``), typed by the schema.
        generate_audio: ask the model to generate sound (True/False), or None for its default.
        references: extra reference images for reference-to-video models (``--reference``).
        motion_video: the driving video for motion-control models (``--motion-video``).
        audio: driving audio for models that take it (``--audio``).
        last_image: the end frame (``--last-image``): an error for a model that has none.
        max_cost: refuse a job whose estimate is above this many USD, or None.
        photo: the photo's local path, for the recipe (what was sent is its crop).
    """

    provider: str = "replicate"
    inputs: tuple[tuple[str, str], ...] = ()
    generate_audio: bool | None = None
    references: tuple[Path, ...] = ()
    motion_video: Path | None = None
    audio: Path | None = None
    last_image: Path | None = None
    max_cost: float | None = None
    photo: Path | None = None

    @classmethod
    def from_request(cls, request: AnimateRequest) -> HostedOptions:
        """The options of a validated request."""
        pairs = []
        for item in request.input:
            key, _, value = item.partition("=")
            pairs.append((key.strip(), value))
        return cls(
            provider=request.provider or "replicate",
            inputs=tuple(pairs),
            generate_audio=request.generate_audio,
            references=tuple(request.reference),
            motion_video=request.motion_video,
            audio=request.audio,
            last_image=request.last_image,
            max_cost=request.max_cost,
            photo=request.image,
        )


def availability(model: HostedModel) -> Availability:
    """The verdict for a hosted model: package, offline mode, token (checked now, offline)."""
    if importlib.util.find_spec("replicate") is None:
        return Availability(
            "needs-package", "the replicate client is not installed", "pip install 'stillmotion[hosted]'"
        )
    if os.environ.get(OFFLINE_VAR, "").strip() not in ("", "0"):
        return Availability(
            "offline",
            f"{OFFLINE_VAR} is set: hosted engines are refused",
            f"unset {OFFLINE_VAR} to run hosted models (the photo is uploaded)",
        )
    if model.fal_native:
        if importlib.util.find_spec("fal_client") is None:
            return Availability("needs-package", "the fal client is not installed", "pip install 'stillmotion[hosted]'")
        if not os.environ.get(KEY_VAR, "").strip():
            return Availability(
                "needs-token", f"no fal API key ({KEY_VAR} is not set)", f"export {KEY_VAR}=… (fal.ai/dashboard/keys)"
            )
        return Availability("ready", f"runs on fal ({model.fal}); the photo is sent there")
    if not os.environ.get(TOKEN_VAR, "").strip():
        fal_ready = importlib.util.find_spec("fal_client") is not None and os.environ.get(KEY_VAR, "").strip()
        if model.fal_fields and fal_ready:
            return Availability("ready", f"runs on fal with --provider fal ({model.fal}); the photo is sent there")
        return Availability(
            "needs-token",
            f"no Replicate API token ({TOKEN_VAR} is not set)",
            f"export {TOKEN_VAR}=r8_… (replicate.com/account/api-tokens)",
        )
    return Availability("ready", f"runs on Replicate ({model.replicate}); the photo is uploaded there")


class HostedEngine(Engine):
    """A hosted model as an engine (see the module docstring)."""

    def __init__(self, model: HostedModel) -> None:
        self.model = model
        self.name = model.name

    def prepare(self, job: RenderJob) -> HostedShot:
        """Map ``job`` onto the model's live schema and price it; nothing is uploaded or paid yet.

        Raises:
            InputError: an option the model cannot take (an end frame it has no field for, an
                unknown ``--input``, a missing ``--motion-video``), or an estimate over ``--max-cost``.
            EngineUnavailable: offline mode, no token, or the live schema lacks a field the table maps.
        """
        m = self.model
        opts = job.options if job.options is not None else HostedOptions()
        if not isinstance(opts, HostedOptions):
            raise TypeError(f"RenderJob.options for {m.name} must be HostedOptions, got {type(opts).__name__}")
        verdict = availability(m)
        if not verdict.runnable:
            raise EngineUnavailable(f"engine {m.name!r} cannot run here: {verdict.reason}; {verdict.fix}")
        provider: ReplicateProvider | FalProvider
        if opts.provider == "fal" and not m.fal_native:
            routed = fal_route(m)
            if routed is None:
                where = f"its fal route ({m.fal}) is not mapped yet" if m.fal else "it is not on fal"
                raise InputError(f"--provider fal: {where} for {m.name}; leave --provider out to run it on Replicate")
            m = routed
        if m.fal_native:
            provider, endpoint = FalProvider.from_environment(), str(m.fal)
        else:
            provider, endpoint = ReplicateProvider.from_environment(), m.replicate
        schema = provider.input_schema(endpoint)
        if m.generic:  # any Replicate model: its fields come from the live schema
            m = from_schema(m, schema["properties"])
            if m.image is None:
                raise InputError(
                    f"{m.name}: no image input found in its schema (one of image, start_image, "
                    "first_frame_image…): it is not an image-to-video model"
                )
        mapping = _Mapping(m, schema)
        notes: list[str] = []
        W, H = job.size
        # The photo, cropped to the output aspect around the subject (never stretched).
        scale = min(1.0, PHOTO_MAX_SIDE / max(job.scene.size))
        pw, ph = _photo_size(job.scene.size, (W, H), scale)
        photo = crop_to_aspect(job.scene.rgb, pw, ph, job.scene.subject())
        files: dict[str, Any] = {}
        # The recipe records each file input by its local path (what is uploaded is made from it).
        photo_label = f"{opts.photo} (cropped to {pw}×{ph})" if opts.photo is not None else f"the photo ({pw}×{ph})"
        if m.image is not None:
            mapping.send(m.image, photo_label, "the photo")
            files[m.image] = photo
        if m.references is not None:
            mapping.send(m.references, [photo_label, *(str(p) for p in opts.references)], "the photo as a reference")
            files[m.references] = [photo, *opts.references]
        elif opts.references:
            notes.append(f"{m.name} takes no reference images: --reference is ignored")
        mapping.send(m.prompt_field, job.prompt, "the prompt")
        seconds, frames_fps = mapping.duration(job.frame_count / job.fps, job.fps, notes)
        short = mapping.resolution(min(W, H), notes)
        mapping.aspect(W / H, notes)
        if job.negative_prompt:
            if m.negative:
                mapping.send(m.negative, job.negative_prompt, "the negative prompt")
            else:
                notes.append(f"{m.name} has no negative prompt: --negative-prompt is ignored")
        if m.seed:
            mapping.send(m.seed, int(job.seed) % 2**31, "the seed")
        else:
            notes.append(f"{m.name} takes no seed: the same request may give another clip")
        if opts.last_image is not None:
            if m.end is None:
                have = ", ".join(x.name for x in MODELS if x.end)
                raise InputError(f"--last-image: {m.name} takes no end frame; models that do: {have}")
            mapping.send(m.end, str(opts.last_image), "the end frame")
            files[m.end] = job.last_image if job.last_image is not None else opts.last_image
        if opts.generate_audio is not None:
            if m.generate_audio:
                mapping.send(m.generate_audio, bool(opts.generate_audio), "--generate-audio")
            else:
                notes.append(f"{m.name} does not generate sound on request: --generate-audio is ignored")
        if opts.audio is not None and m.audio_in:
            mapping.send(m.audio_in, str(opts.audio), "the driving audio")
            files[m.audio_in] = opts.audio
        if m.motion_video:
            if opts.motion_video is None:
                raise InputError(f"{m.name} animates the photo after a driving video: pass --motion-video FILE")
            mapping.send(m.motion_video, str(opts.motion_video), "the driving video")
            files[m.motion_video] = opts.motion_video
        elif opts.motion_video is not None:
            notes.append(f"{m.name} takes no driving video: --motion-video is ignored")
        if m.camera_fixed and parse_prompt(job.prompt, job.negative_prompt).static:
            mapping.send(m.camera_fixed, True, "a static camera")
        for key, value in m.off:
            if key in mapping.props:
                mapping.inputs[key] = value
        for key, text in opts.inputs:
            mapping.override(key, text)
        missing = [r for r in mapping.required if r not in mapping.inputs]
        if missing:
            raise InputError(f"{m.name} needs the input {missing[0]!r}: pass --input {missing[0]}=VALUE")
        cost = m.price.estimate(seconds, short)
        if opts.max_cost is not None and cost > opts.max_cost:
            raise InputError(
                f"--max-cost {opts.max_cost:g}: {m.name} is estimated at ${cost:.2f} for {seconds:g} s "
                f"({_price_words(m)}): raise --max-cost or shorten --duration"
            )
        fps = frames_fps[1] if frames_fps else m.fps
        size = _output_size(short, W / H) if short else (W, H)
        return HostedShot(
            m, provider, schema, mapping.inputs, files, notes, seconds, fps, size, cost, job.seed, endpoint
        )


def _photo_size(photo: tuple[int, int], out: tuple[int, int], scale: float) -> tuple[int, int]:
    """The largest crop of the photo at the output aspect, scaled by ``scale`` (even sides)."""
    pw, ph = photo
    ratio = out[0] / out[1]
    cw, ch = (ph * ratio, ph) if pw / ph > ratio else (pw, pw / ratio)
    return max(2, int(cw * scale) // 2 * 2), max(2, int(ch * scale) // 2 * 2)


def _output_size(short: int, ratio: float) -> tuple[int, int]:
    """(width, height) for a short side at an aspect (even sides): what the model will return, roughly."""
    if ratio >= 1:
        return int(round(short * ratio / 2)) * 2, short
    return short, int(round(short / ratio / 2)) * 2


def _price_words(m: HostedModel) -> str:
    """The price behind an estimate, in words: rate, date and source."""
    p = m.price
    parts = []
    if p.by_resolution:
        parts.append(", ".join(f"${rate:g}/s at {side}p" for side, rate in p.by_resolution))
    elif p.per_second:
        parts.append(f"${p.per_second:g}/s")
    if p.per_run:
        parts.append(f"${p.per_run:g} a run")
    if not parts:
        return "no published price found: the estimate is $0, the real cost is unknown"
    when = f", price of {p.date}" if p.date else ""
    return f"{' + '.join(parts)}{when} from {p.source}"


class _Mapping:
    """Inputs for one model, checked field by field against its live schema."""

    def __init__(self, model: HostedModel, schema: dict[str, Any]) -> None:
        self.model = model
        self.checked = bool(schema.get("checked", True))  # False: no live schema, the row decides
        self.props: dict[str, dict[str, Any]] = dict(schema["properties"])
        self.required: list[str] = list(schema.get("required", []))
        self.inputs: dict[str, Any] = {}

    def send(self, key: str, value: Any, what: str) -> None:
        if self.checked and key not in self.props:
            raise EngineUnavailable(
                f"{self.model.name}: the live schema of {self.model.replicate} has no input {key!r} "
                f"(stillmotion sends {what} there); its inputs are {', '.join(sorted(self.props))}. "
                "The model changed: update stillmotion, or pass what it needs with --input KEY=VALUE"
            )
        self.inputs[key] = value

    def override(self, key: str, text: str) -> None:
        if not key or (self.checked and key not in self.props):
            raise InputError(
                f"--input {key}=…: {self.model.name} has no input {key!r}; "
                f"its inputs are {', '.join(sorted(self.props))}"
            )
        kind = self.props[key].get("type")
        try:
            value: Any = {"integer": int, "number": float}.get(str(kind), str)(text)
        except ValueError:
            raise InputError(f"--input {key}={text!r}: {self.model.name} wants a {kind} there") from None
        if kind == "boolean":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise InputError(f"--input {key}={text!r}: use true or false")
            value = text.lower() in ("true", "1", "yes")
        self.inputs[key] = value

    def allowed(self, key: str, fallback: tuple[float, ...]) -> tuple[list[Any], float | None, float | None]:
        """(enum values, minimum, maximum) of a field, from the live schema, else the table."""
        prop = self.props.get(key, {})
        enum = list(prop.get("enum", []))
        lo, hi = prop.get("minimum"), prop.get("maximum")
        return enum, lo, hi

    def duration(self, wanted: float, fps: float, notes: list[str]) -> tuple[float, tuple[int, float] | None]:
        """Map the clip length; returns (seconds made, (frames, fps) for frame-counted models)."""
        d: Duration = self.model.duration
        name = self.model.name
        if d.kind == "fixed":
            seconds = d.values[0]
            if seconds <= 0:  # a model with no duration input (read from its schema): it decides
                notes.append(f"{name} has no duration input: the model decides the clip's length")
                return wanted, None
            if abs(seconds - wanted) > 0.5:
                notes.append(f"{name} makes {seconds:g} s clips: --duration {wanted:g} is not used")
            return seconds, None
        if d.kind == "frames":
            _, flo, fhi = self.allowed(d.frames_field, d.values)
            _, plo, phi = self.allowed(d.fps_field, tuple(float(x) for x in d.fps_range))
            flo, fhi = int(flo if flo is not None else d.values[0]), int(fhi if fhi is not None else d.values[1])
            plo, phi = int(plo if plo is not None else d.fps_range[0]), int(phi if phi is not None else d.fps_range[1])
            rate = int(np.clip(round(fps), plo, phi))
            frames = int(np.clip(round(wanted * rate), flo, fhi))
            if frames / rate < wanted - 0.25:  # too short at this rate: fewer frames per second
                rate = int(np.clip(int(fhi / wanted), plo, phi))
                frames = int(np.clip(round(wanted * rate), flo, fhi))
            self.send(d.frames_field, frames, "the frame count")
            self.send(d.fps_field, rate, "the frame rate")
            seconds = frames / rate
            if abs(seconds - wanted) > 0.25:
                notes.append(f"--duration {wanted:g} → {seconds:.2f} s ({name} makes {flo}–{fhi} frames at {rate} fps)")
            return seconds, (frames, float(rate))
        enum, lo, hi = self.allowed(d.field, d.values)
        if d.kind == "enum" or enum:
            choices = [float(v) for v in enum] if enum else list(d.values)
            seconds = min(choices, key=lambda v: (abs(v - wanted), v))
        else:
            lo_v = float(lo) if lo is not None else d.values[0]
            hi_v = float(hi) if hi is not None else d.values[1]
            seconds = float(np.clip(round(wanted), lo_v, hi_v))
        if abs(seconds - wanted) > 1e-6:
            allowed = ", ".join(f"{v:g}" for v in (choices if d.kind == "enum" or enum else (lo_v, hi_v)))
            joiner = " or " if d.kind == "enum" or enum else "–"
            notes.append(
                f"--duration {wanted:g} → {seconds:g} s ({name} makes "
                f"{allowed.replace(', ', joiner) if joiner == '–' else allowed} s)"
            )
        value: Any = str(int(seconds)) if d.as_text or (enum and isinstance(enum[0], str)) else int(seconds)
        self.send(d.field, value, "the duration")
        return seconds, None

    def resolution(self, short: int, notes: list[str]) -> int | None:
        """Map the output's short side (pixels) onto the model's resolution or mode field."""
        m = self.model
        if m.modes:
            key = "mode"
            enum, _, _ = self.allowed(key, ())
            modes = [(name, side) for name, side in m.modes if not enum or name in enum]
            name, side = min(modes, key=lambda kv: abs(kv[1] - short))
            self.send(key, name, "the resolution (mode)")
        elif m.resolution:
            key, sides = m.resolution
            enum, _, _ = self.allowed(key, ())
            options = [int(str(v).rstrip("pP")) for v in enum if str(v).rstrip("pP").isdigit()] or list(sides)
            side = min(options, key=lambda v: (abs(v - short), v))
            self.send(key, f"{side}p", "the resolution")
        else:
            return None
        if side != short:
            notes.append(
                f"resolution {short}p → {side}p ({m.name} makes {', '.join(f'{s}p' for _, s in m.modes) if m.modes else ', '.join(f'{s}p' for s in m.resolution[1])})"
            )  # type: ignore[index]
        return side

    def aspect(self, ratio: float, notes: list[str]) -> None:
        """Models that frame by aspect ratio (reference-to-video, Sora) get the nearest allowed one."""
        m = self.model
        if m.aspect is None or (m.image is not None and m.name != "sora-2" and m.references is None):
            return  # a first-frame model takes its framing from the photo
        key, values = m.aspect
        enum, _, _ = self.allowed(key, ())
        options = [str(v) for v in enum] or list(values)

        def value_of(text: str) -> float:
            named = {"landscape": 16 / 9, "portrait": 9 / 16}
            if text in named:
                return named[text]
            w, _, h = text.partition(":")
            return float(w) / float(h)

        best = min(options, key=lambda t: abs(np.log(value_of(t) / ratio)))
        self.send(key, best, "the aspect")
        if abs(np.log(value_of(best) / ratio)) > 0.02:
            notes.append(f"aspect {ratio:.2f} → {best} ({m.name}'s nearest)")


@dataclass
class HostedShot:
    """A prepared hosted job (see :class:`~stillmotion.engines.base.RemoteShot`)."""

    model: HostedModel
    provider: ReplicateProvider | FalProvider
    schema: dict[str, Any]
    inputs: dict[str, Any]
    files: dict[str, Any]
    notes: list[str]
    seconds: float
    clip_fps: float
    out_size: tuple[int, int]
    cost_usd: float
    seed: int = 0
    endpoint: str = ""
    progress: Literal["step"] = "step"
    _dir: Path | None = field(default=None, repr=False)
    _fetched: Path | None = field(default=None, repr=False)
    _info: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        m = self.model
        self._info = {
            "engine": m.name,
            "provider": self.provider.name,
            "model": self.endpoint or m.replicate,
            "version": self.schema.get("version"),
            "schema_checked": bool(self.schema.get("checked", True)),
            "inputs": dict(self.inputs),
            "adjustments": list(self.notes),
            "cost_estimate_usd": self.cost_usd,
            "price": {
                "per_second": m.price.per_second,
                "per_run": m.price.per_run,
                "date": m.price.date,
                "source": m.price.source,
            },
            "licence": m.licence,
        }

    @property
    def size(self) -> tuple[int, int]:
        return self.out_size

    @property
    def frame_count(self) -> int:
        return max(2, int(round(self.seconds * self.clip_fps)))

    @property
    def fps(self) -> float:
        return self.clip_fps

    @property
    def info(self) -> dict[str, Any]:
        return self._info

    @property
    def warnings(self) -> list[str]:
        return self.notes

    def describe(self) -> str:
        m = self.model
        adj = "; ".join(self.notes) or "none"
        return (
            f"Engine: {m.name} ({m.display}) on {self.provider.name} ({m.replicate}), about {self.seconds:g} s; "
            f"estimated cost ${self.cost_usd:.2f} ({_price_words(m)}); adjustments: {adj}; licence: {m.licence}"
        )

    def fetch(self, hooks: RenderHooks = NO_HOOKS) -> Path:
        """Upload, create the prediction, poll it, download the output and check it decodes."""
        if self._fetched is not None:
            return self._fetched
        from ...video import iter_frames, probe

        m = self.model
        if self.provider.name not in _TOLD:
            _TOLD.add(self.provider.name)
            where = "Replicate" if self.provider.name == "replicate" else "fal"
            kept = "Replicate deletes inputs and outputs after an hour" if where == "Replicate" else "fal keeps its own"
            hooks.notice(f"{m.name}: the photo is uploaded to {where} ({self.provider.host}) to run there; {kept}")
        hooks.notice(f"{m.name}: estimated cost ${self.cost_usd:.2f} ({_price_words(m)})")
        self._dir = Path(tempfile.mkdtemp(prefix="stillmotion-hosted-"))
        t0 = time.perf_counter()
        log = hooks.submissions
        submission = f"{m.name}:{self.seed}"
        earlier = log.get(submission) if log is not None else None
        pid = ""
        if earlier:  # a restarted run: resume the prediction it paid for, unless that one ended badly
            if self.provider.get(earlier).get("status") in ("starting", "processing", "succeeded"):
                pid = earlier
                self._info["resumed"] = True
        if not pid:
            inputs = dict(self.inputs)
            for field_name, value in self.files.items():
                inputs[field_name] = (
                    [self._upload(v, f"{field_name}{i}") for i, v in enumerate(value)]
                    if isinstance(value, list)
                    else self._upload(value, field_name)
                )
            pid = str(self.provider.create(self.endpoint or m.replicate, inputs)["id"])
            if log is not None:
                log.put(submission, pid)
        t_upload = time.perf_counter() - t0
        self._info["prediction_id"] = pid
        started = time.monotonic()

        def on_poll(state: dict[str, Any]) -> None:
            elapsed = time.monotonic() - started
            typical = max(m.typical_s, elapsed + 1.0)
            hooks.step(min(int(elapsed), int(typical) - 1), int(typical))

        try:
            final = self.provider.wait(pid, should_stop=hooks.stopped, on_poll=on_poll)
        except KeyboardInterrupt:  # Ctrl-C: cancel where it runs (it is billed until canceled), then stop
            self.provider.cancel(pid)
            raise
        t_run = time.monotonic() - started
        url = output_urls(final.get("output"))[0]
        t1 = time.perf_counter()
        dest = self.provider.download(url, self._dir / "output.mp4")
        t_download = time.perf_counter() - t1
        try:
            info = probe(dest)
            next(iter_frames(dest))
        except Exception as err:  # the provider's file must decode before we call it a clip
            raise GenerationError(f"{m.name}: the output of prediction {pid} does not decode as video: {err}") from None
        self.out_size = (int(info["width"]), int(info["height"]))
        self.clip_fps = float(info["fps"]) or self.clip_fps
        self.seconds = int(info["frame_count"]) / self.clip_fps if self.clip_fps else self.seconds
        metrics = final.get("metrics") or {}
        self._info.update(
            {
                "prediction_id": pid,
                "status": final.get("status"),
                "provider_timings_s": {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                "timings_s": {"upload": round(t_upload, 3), "run": round(t_run, 3), "download": round(t_download, 3)},
                "output_has_audio": bool(info.get("audio")),
            }
        )
        hooks.step(int(max(m.typical_s, t_run)), int(max(m.typical_s, t_run)))
        self._fetched = dest
        return dest

    def frames_yuv420(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[YUV420]:
        """The fetched clip decoded into BT.709 4:2:0 planes (for callers that want planes)."""
        from ...video import iter_frames_yuv420

        yield from iter_frames_yuv420(self.fetch(hooks))

    def cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir, self._fetched = None, None

    def _upload(self, value: Any, key: str) -> str:
        """Upload one file input (an RGB array is written as JPEG first)."""
        assert self._dir is not None
        if isinstance(value, np.ndarray):
            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(value).save(buf, format="JPEG", quality=95)
            path = self._dir / f"{key}.jpg"
            path.write_bytes(buf.getvalue())
            return self.provider.upload(path, "image/jpeg")
        path = Path(value)
        kind = {
            ".png": "image/png",
            ".jpg": "image/jpeg",
            ".jpeg": "image/jpeg",
            ".webp": "image/webp",
            ".mp4": "video/mp4",
            ".mov": "video/quicktime",
            ".wav": "audio/wav",
            ".mp3": "audio/mpeg",
            ".m4a": "audio/mp4",
            ".flac": "audio/flac",
        }.get(path.suffix.lower(), "application/octet-stream")
        if not path.is_file():
            raise InputError(f"{key}: {path} is not a file")
        return self.provider.upload(path, kind)
