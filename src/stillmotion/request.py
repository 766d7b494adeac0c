"""`AnimateRequest`: the one parameter language of stillmotion.

Every field has a type, a range, a one-line description and its front-door
metadata (``json_schema_extra``, written with :func:`_meta`: group, unit,
UI step, whether HTTP clients may set it, and the CLI flag, short alias and
metavar where they are not derived). :data:`OPTIONS` reads all of it into
one :class:`OptionSpec` per field, and every front door adapts that:

- the CLI generates ``stillmotion animate``'s options from it;
- the HTTP server types ``POST /v1/jobs``'s form from the fields marked
  ``api`` and serves them at ``GET /v1/options``;
- the studio builds its settings form from ``GET /v1/options``.

So a new option is one field here (plus ``flag``/``short`` metadata if its
flag is not ``--`` + its name). Validation failures become one-line
:class:`~stillmotion.errors.InputError`s naming the flag, the value and the
fix (:func:`describe_error`), the same words on the CLI and over HTTP.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticUndefined

from .errors import InputError

__all__ = [
    "HOSTED_CONCURRENCY",
    "AnimateRequest",
    "Aspect",
    "MemoryMode",
    "OPTIONS",
    "OptionSpec",
    "PRESETS",
    "Preset",
    "Resolution",
    "describe_error",
    "parse_size",
]

MAX_SIDE = 4096
"""Largest output side in pixels (4K DCI width)."""
MIN_SIDE = 64
"""Smallest output side in pixels."""

HOSTED_CONCURRENCY = 4
"""Hosted rows of a batch in flight at once by default: each only waits on its provider, whose rate
limit is the cap that matters (``--hosted-concurrency``). Here, not in :mod:`stillmotion.batch`, so
that the command line builds its options without importing the batch machinery."""

MemoryMode = Literal["auto", "full", "model-offload", "group-offload", "sequential"]
"""GPU memory modes of the diffusion engines (``--memory``): the one list of them."""


class Resolution(str, Enum):
    """Output resolution by its short side: 480p, 720p or 1080p."""

    p480 = "480p"
    p720 = "720p"
    p1080 = "1080p"

    @property
    def short_side(self) -> int:
        return int(self.value[:-1])


class Aspect(str, Enum):
    """Output aspect ratio; ``source`` keeps the photo's own."""

    wide = "16:9"
    vertical = "9:16"
    square = "1:1"
    portrait = "4:5"
    source = "source"

    @property
    def ratio(self) -> float | None:
        """Width / height, or None for ``source``."""
        if self is Aspect.source:
            return None
        w, h = self.value.split(":")
        return int(w) / int(h)

    @property
    def label(self) -> str:
        """Words for a picker, e.g. ``"9:16 vertical"``."""
        return "as the photo" if self is Aspect.source else f"{self.value} {_ASPECT_WORDS[self.name]}"


_ASPECT_WORDS = {"wide": "landscape", "vertical": "vertical", "square": "square", "portrait": "portrait"}


class Preset(str, Enum):
    """Platform presets: aspect, duration and loop for where the clip is posted."""

    reels = "reels"
    tiktok = "tiktok"
    shorts = "shorts"
    x = "x"
    linkedin = "linkedin"
    web_loop = "web-loop"

    @property
    def label(self) -> str:
        """The platform's name, e.g. ``"Instagram Reels"``."""
        return _PRESET_LABELS[self.value]


_PRESET_LABELS = {
    "reels": "Instagram Reels",
    "tiktok": "TikTok",
    "shorts": "YouTube Shorts",
    "x": "X",
    "linkedin": "LinkedIn",
    "web-loop": "Web loop",
}


PRESETS: dict[str, dict] = {
    # Vertical short-form feeds: 9:16, a few seconds, looping (they replay).
    "reels": {"aspect": "9:16", "duration": 6.0, "loop": True},
    "tiktok": {"aspect": "9:16", "duration": 6.0, "loop": True},
    "shorts": {"aspect": "9:16", "duration": 8.0, "loop": True},
    # Feeds that autoplay in landscape or square/portrait cards.
    "x": {"aspect": "16:9", "duration": 6.0, "loop": False},
    "linkedin": {"aspect": "4:5", "duration": 6.0, "loop": False},
    # A website's hero background: wide and seamless.
    "web-loop": {"aspect": "16:9", "duration": 8.0, "loop": True},
}
"""What each --preset sets, unless the option is given explicitly."""


_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"WxH"`` into ``(width, height)`` in pixels.

    Both sides must be even (H.264 with yuv420p needs it) and within
    [64, 4096].

    Raises:
        InputError: the text is not ``WxH`` or a side is out of range or odd.

    >>> parse_size("1280x720")
    (1280, 720)
    """
    m = _SIZE_RE.match(text)
    if not m:
        raise InputError(f"--size {text!r} is not WxH: write it like 1280x720")
    w, h = int(m.group(1)), int(m.group(2))
    for name, v in (("width", w), ("height", h)):
        if not MIN_SIDE <= v <= MAX_SIDE:
            raise InputError(f"--size {text}: {name} {v} is out of range, use {MIN_SIDE}..{MAX_SIDE} pixels")
        if v % 2:
            raise InputError(
                f"--size {text}: {name} {v} is odd; H.264 yuv420p needs even sides, use {v - 1} or {v + 1}"
            )
    return w, h


def _meta(
    group: str,
    *,
    unit: str | None = None,
    step: float | None = None,
    api: bool = False,
    flag: str | None = None,
    short: str | None = None,
    metavar: str | None = None,
) -> dict[str, Any]:
    """A field's front-door metadata, stored in its ``json_schema_extra`` (read back by :data:`OPTIONS`).

    Args:
        group: where the option belongs: input, clip, motion, brush, diffusion, hosted, finish or output.
        unit: the unit of the value (``"s"``, ``"fps"``, ``"px"``), or None when unitless.
        step: the UI's granularity for a number (a slider or spin box step).
        api: True when an HTTP client may set it (no server file paths).
        flag: the long CLI flag when it is not ``--`` + the name with dashes (``"--arrow"``).
        short: a one-letter CLI alias (``"-p"``).
        metavar: the CLI's placeholder for the value (default: built from the type and range).
    """
    extra: dict[str, Any] = {"group": group, "api": api}
    for key, value in (("unit", unit), ("step", step), ("flag", flag), ("short", short), ("metavar", metavar)):
        if value is not None:
            extra[key] = value
    return extra


class AnimateRequest(BaseModel):
    """One animation job: the photo, the motion prompt and every setting.

    Units: ``duration`` in seconds, ``fps`` in frames per second, ``size``
    in pixels. ``motion_strength`` and ``consistency`` are unitless in
    [0, 1]. Fields not used by an engine are reported as ignored in the
    clip's warnings, never silently dropped.

    Each field also carries its front-door metadata (``json_schema_extra``,
    written with :func:`_meta`): the group, the unit, the UI step, whether an
    HTTP client may set it, and the CLI flag where it is not ``--`` + the
    name. :data:`OPTIONS` reads it for the CLI, the HTTP form and the studio.

    >>> AnimateRequest(image="photo.jpg", prompt="slow push-in").frame_count
    120
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False, defer_build=True)

    image: Path = Field(
        description="Source photo (JPEG, PNG, WebP, TIFF, BMP, GIF).", json_schema_extra=_meta("input", metavar="PHOTO")
    )
    prompt: str = Field(
        default="",
        max_length=2000,
        description="Motion prompt: what moves, how, how fast.",
        json_schema_extra=_meta("input", short="-p", api=True),
    )
    negative_prompt: str = Field(
        default="",
        max_length=2000,
        description="Motion to avoid, e.g. 'camera shake, zooming'.",
        json_schema_extra=_meta("input", short="-n", api=True),
    )
    engine: str = Field(
        default="living",
        description="Engine name; `stillmotion engines` lists them.",
        json_schema_extra=_meta("input", metavar="NAME", api=True),
    )
    duration: float = Field(
        default=5.0,
        ge=1.0,
        le=30.0,
        description="Clip length in seconds.",
        json_schema_extra=_meta("clip", unit="s", step=0.5, api=True),
    )
    fps: float = Field(
        default=24.0,
        ge=8.0,
        le=60.0,
        description="Frames per second.",
        json_schema_extra=_meta("clip", unit="fps", step=1, api=True),
    )
    size: str | None = Field(
        default=None,
        description="Output size WxH in pixels; overrides resolution and aspect.",
        json_schema_extra=_meta("clip", unit="px", metavar="WxH", api=True),
    )
    resolution: Resolution = Field(
        default=Resolution.p720, description="Output short side.", json_schema_extra=_meta("clip", api=True)
    )
    aspect: Aspect = Field(
        default=Aspect.source,
        description="Output aspect ratio; source keeps the photo's.",
        json_schema_extra=_meta("clip", api=True),
    )
    motion_strength: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Amplitude of the motion, 0 (still) to 1 (strong).",
        json_schema_extra=_meta("motion", step=0.05, api=True),
    )
    consistency: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Faithfulness to the photo vs freedom (generative engines).",
        json_schema_extra=_meta("motion", step=0.05),
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**32 - 1,
        description="Random seed; the same seed gives the same clip.",
        json_schema_extra=_meta("motion", step=1, api=True),
    )
    variations: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Number of clips, with seeds seed, seed+1, ...",
        json_schema_extra=_meta("motion", step=1, api=True),
    )
    pick: Literal["best"] | None = Field(
        default=None,
        description="With --variations: rank the clips by the evaluation score and keep the best first "
        "(all kept, scores in the recipe)",
        json_schema_extra=_meta("motion"),
    )
    loop: bool = Field(
        default=False, description="Make the last frame flow into the first.", json_schema_extra=_meta("clip", api=True)
    )
    last_image: Path | None = Field(
        default=None,
        description="End frame, for engines that take one.",
        json_schema_extra=_meta("input", metavar="PHOTO"),
    )
    depth_model: str | None = Field(
        default=None,
        description="Learned depth: a Hugging Face repo id in the cache, a local folder, or 'none' (classical); "
        "default: Depth Anything V2 Small when it is in the cache.",
        json_schema_extra=_meta("motion", metavar="NAME|DIR|none"),
    )
    scene_model: str | None = Field(
        default=None,
        description="Learned sky/water/vegetation masks: a Hugging Face repo id in the cache, a local folder, "
        "or 'none' (classical); default: openmmlab/upernet-convnext-tiny when it is in the cache.",
        json_schema_extra=_meta("motion", metavar="NAME|DIR|none"),
    )
    mask: Path | None = Field(
        default=None,
        description="Where things move: a PNG the photo's size, white = moves.",
        json_schema_extra=_meta("brush", metavar="PNG"),
    )
    freeze: Path | None = Field(
        default=None,
        description="Where nothing moves: a PNG the photo's size, white = frozen.",
        json_schema_extra=_meta("brush", metavar="PNG"),
    )
    arrows: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Motion-brush arrows in photo pixels (at most 64). Repeatable.",
        json_schema_extra=_meta("brush", flag="--arrow", metavar="X1,Y1,X2,Y2[:SPEED]", unit="px"),
    )
    output: Path | None = Field(
        default=None,
        description="Output .mp4 path; default: PHOTO_STEM.mp4 in the current folder.",
        json_schema_extra=_meta("output", short="-o", metavar="OUT.mp4"),
    )
    show_regions: Path | None = Field(
        default=None,
        description="Also write the photo with the regions found (sky, water, vegetation, hair, steam, faces) "
        "drawn on it, as a PNG.",
        json_schema_extra=_meta("output", metavar="OUT.png"),
    )
    guidance_scale: float | None = Field(
        default=None,
        ge=0.0,
        le=30.0,
        description="Guidance scale (diffusion engines; default: the model's).",
        json_schema_extra=_meta("diffusion"),
    )
    steps: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="num_inference_steps (diffusion engines; default: the model's).",
        json_schema_extra=_meta("diffusion"),
    )
    model_path: Path | None = Field(
        default=None,
        description="A diffusers-format model folder (diffusion engines; default: the Hugging Face cache).",
        json_schema_extra=_meta("diffusion", metavar="DIR"),
    )
    memory: MemoryMode = Field(
        default="auto", description="GPU memory mode (diffusion engines).", json_schema_extra=_meta("diffusion")
    )
    fast: bool = Field(
        default=False,
        description="Quality-neutral GPU speedups: attention backend and regional torch.compile (diffusion engines).",
        json_schema_extra=_meta("diffusion"),
    )
    cache: bool = Field(
        default=False,
        description="Step caching (FirstBlockCache): faster, slightly lower quality (diffusion engines).",
        json_schema_extra=_meta("diffusion"),
    )
    refine: str | None = Field(
        default=None,
        description="Draft, then refine: the engine renders a motion draft, then this diffusion engine refines it "
        "(video-to-video, keeping the draft's motion); `stillmotion engines` says which can.",
        json_schema_extra=_meta("diffusion", metavar="NAME", api=True),
    )
    refine_strength: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="How much --refine may change the draft: 0 keeps the draft as it is, 1 ignores its look.",
        json_schema_extra=_meta("diffusion", step=0.05, api=True),
    )
    interpolate: float | None = Field(
        default=None,
        gt=0,
        le=120,
        description="Finish: motion-compensated interpolation to this frame rate.",
        json_schema_extra=_meta("finish", unit="fps", metavar="FPS"),
    )
    upscale: int | None = Field(
        default=None,
        ge=2,
        le=4,
        description="Finish: upscale ×2 or ×4 (classical, or --upscaler weights).",
        json_schema_extra=_meta("finish", metavar="2|4"),
    )
    upscaler: str | None = Field(
        default=None,
        description="Finish: super-resolution weights (.pth/.safetensors or a cached Hub name).",
        json_schema_extra=_meta("finish", metavar="WEIGHTS"),
    )
    audio: Path | None = Field(
        default=None,
        description="Finish: a sound file laid under the clip (trimmed or looped, faded).",
        json_schema_extra=_meta("finish", metavar="SOUND"),
    )
    format: Literal["mp4", "h265", "webm", "webp", "gif", "png"] | None = Field(
        default=None,
        description="Finish: output format (default from the output's extension).",
        json_schema_extra=_meta("finish"),
    )
    crf: int | None = Field(
        default=None,
        ge=0,
        le=63,
        description="Finish: quality for mp4/h265/webm (lower is better).",
        json_schema_extra=_meta("finish"),
    )
    preset: Preset | None = Field(
        default=None,
        description="Platform preset: sets aspect, duration and loop unless given.",
        json_schema_extra=_meta("clip", api=True),
    )
    provider: Literal["replicate", "fal"] | None = Field(
        default=None,
        description="Hosted engines: the provider that runs the model (default: replicate).",
        json_schema_extra=_meta("hosted"),
    )
    input: list[str] = Field(
        default_factory=list,
        max_length=32,
        description="Hosted engines: a model-specific input KEY=VALUE, typed by the model's schema. Repeatable.",
        json_schema_extra=_meta("hosted", metavar="KEY=VALUE"),
    )
    generate_audio: bool | None = Field(
        default=None,
        description="Hosted engines that can: generate sound with the clip (default: the model's).",
        json_schema_extra=_meta("hosted", api=True),
    )
    reference: list[Path] = Field(
        default_factory=list,
        max_length=7,
        description="Hosted reference-to-video engines: another reference image besides the photo. Repeatable.",
        json_schema_extra=_meta("hosted", metavar="IMAGE"),
    )
    motion_video: Path | None = Field(
        default=None,
        description="Hosted motion-control engines: the driving video the photo's subject follows.",
        json_schema_extra=_meta("hosted", metavar="FILE"),
    )
    max_cost: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="Hosted engines: refuse a job whose estimated cost is above this.",
        json_schema_extra=_meta("hosted", unit="USD", step=0.05, api=True, metavar="USD"),
    )

    @field_validator("show_regions")
    @classmethod
    def _check_show_regions(cls, v: Path | None) -> Path | None:
        if v is not None:
            from ._atomic import check_png_name

            check_png_name(v, "--show-regions")
        return v

    @field_validator("size")
    @classmethod
    def _check_size(cls, v: str | None) -> str | None:
        if v is None:
            return v
        w, h = parse_size(v)
        return f"{w}x{h}"

    @field_validator("input")
    @classmethod
    def _check_inputs(cls, v: list[str]) -> list[str]:
        for item in v:
            key, eq, _ = item.partition("=")
            if not eq or not key.strip():
                raise InputError(f"--input {item!r} is not KEY=VALUE: write it like --input mode=pro")
        return v

    @field_validator("engine")
    @classmethod
    def _check_engine(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("refine")
    @classmethod
    def _check_refine(cls, v: str | None) -> str | None:
        return (v.strip().lower() or None) if v is not None else None

    @field_validator("arrows", mode="before")
    @classmethod
    def _arrows_as_text(cls, v):
        from .arrows import Arrow

        if isinstance(v, (str, Arrow)):
            v = [v]
        if isinstance(v, (list, tuple)):
            return [a.text if isinstance(a, Arrow) else a for a in v]
        return v

    @field_validator("arrows")
    @classmethod
    def _check_arrows(cls, v: list[str]) -> list[str]:
        from .arrows import parse_arrow

        for text in v:
            parse_arrow(text)
        return v

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data):
        """A preset fills aspect, duration and loop where they were not given."""
        if isinstance(data, dict) and data.get("preset") is not None:
            name = getattr(data["preset"], "value", data["preset"])
            values = PRESETS.get(str(name))
            if values is not None:
                data = dict(data)
                for key, value in values.items():
                    if data.get(key) is None:
                        data[key] = value
        return data

    @model_validator(mode="after")
    def _check_output(self) -> AnimateRequest:
        allowed = {".mp4", ".webm", ".webp", ".gif", ""}
        if self.output is not None and self.output.suffix.lower() not in allowed:
            raise ValueError(
                f"output {str(self.output)!r} must end in .mp4, .webm, .webp or .gif "
                "(or be a folder name for --format png)"
            )
        if self.upscale is not None and self.upscale not in (2, 4):
            raise ValueError(f"--upscale {self.upscale}: use 2 or 4")
        return self

    @property
    def frame_count(self) -> int:
        """Number of frames: round(duration × fps), at least 2."""
        return max(2, int(round(self.duration * self.fps)))

    @classmethod
    def build(cls, **fields) -> AnimateRequest:
        """Validate ``fields`` into a request, turning pydantic errors into one-line InputErrors.

        Raises:
            InputError: a field is missing, of the wrong type or out of range.
        """
        try:
            return cls(**fields)
        except InputError:
            raise
        except ValidationError as err:
            raise InputError(_describe(err)) from None


def _describe(err: ValidationError) -> str:
    """One line naming the first bad field, its value and the fix."""
    return describe_error(err.errors()[0])


def describe_error(error: Mapping[str, Any]) -> str:
    """One line for one pydantic error of an :class:`AnimateRequest` field: the flag, the value and the fix.

    ``error`` is an item of ``ValidationError.errors()`` (FastAPI's request
    errors have the same shape once ``"body"`` is dropped from ``loc``).

    >>> describe_error({"type": "enum", "loc": ("resolution",), "input": "4k", "msg": ""})
    "--resolution '4k' is not valid: use one of 480p, 720p, 1080p"
    """
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, InputError):  # raised by our own validator: already one line naming the flag
        return str(cause)
    loc = tuple(error.get("loc") or ())
    name = str(loc[0]) if loc else "request"
    spec = _BY_NAME.get(name)
    flag = spec.flag if spec else "--" + name.replace("_", "-")
    value = error.get("input")
    shown = repr(value) if isinstance(value, str) else str(value)
    kind = error.get("type", "")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{flag} {shown} is out of range: use a value in {spec.range_text() if spec else ctx}"
    if kind in ("float_parsing", "float_type"):
        return f"{flag} {shown} is not a number: use " + (f"a value in {spec.range_text()}" if spec else "a number")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{flag} {shown} is not a whole number: use " + (f"one in {spec.range_text()}" if spec else "an integer")
    if kind in ("bool_parsing", "bool_type"):
        return f"{flag} {shown} is not valid: use true or false"
    if kind in ("enum", "literal_error"):
        choices = ", ".join(spec.choices) if spec and spec.choices else str(ctx.get("expected", ""))
        return f"{flag} {shown} is not valid: use one of {choices}"
    if kind == "extra_forbidden":
        return f"unknown option {'.'.join(map(str, loc))!r}: see `stillmotion animate --help` for the options"
    if kind == "missing":
        return f"{flag} is missing: pass it (see `stillmotion animate --help`)"
    if kind == "path_type":
        return f"{flag} {shown} is not a file path: pass a path"
    if kind == "too_long" and name == "arrows":
        return f"{flag}: {ctx.get('actual_length')} arrows is too many: use at most {ctx.get('max_length')}"
    if kind == "string_too_long":
        return f"{flag} is too long ({len(str(value))} characters): use at most {ctx.get('max_length')}"
    if kind == "value_error":
        msg = str(error.get("msg", "")).removeprefix("Value error, ")
        return msg if name == "request" or len(loc) == 0 else f"{flag}: {msg}"
    return f"{flag} {shown}: {error.get('msg', 'invalid')}"


# ---------------------------------------------------------------- the options, as the front doors see them


@dataclass(frozen=True)
class OptionSpec:
    """One :class:`AnimateRequest` field as the CLI, the HTTP form and the studio present it.

    Built from the field's type, constraints, description and :func:`_meta`
    metadata; never written by hand.

    Attributes:
        name: the field name (``"motion_strength"``).
        flag: the long CLI flag (``"--motion-strength"``; ``"--arrow"`` for ``arrows``).
        short: a one-letter CLI alias (``"-p"``) or None.
        kind: ``"number"``, ``"integer"``, ``"boolean"``, ``"string"``, ``"path"``, ``"enum"`` or ``"list"``.
        default: the default as JSON (an enum's value, a path as text), None when unset.
        minimum / maximum: the numeric bounds, or None; ``exclusive_minimum`` when the lower one is excluded.
        choices: an enum's values, in order; ``labels`` their words for a picker.
        nullable: True when None is accepted (the option may be left unset).
        description / unit / group / step / api / metavar: see :func:`_meta`.
    """

    name: str
    flag: str
    short: str | None
    kind: str
    default: Any
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    choices: tuple[str, ...]
    labels: dict[str, str]
    nullable: bool
    description: str
    unit: str | None
    group: str
    step: float | None
    api: bool
    metavar: str

    def range_text(self) -> str:
        """``"1..30"``, ``"0..120 (above 0)"``, or what the kind accepts when there is no range."""
        if self.minimum is not None and self.maximum is not None:
            above = f" (above {_num(self.minimum)})" if self.exclusive_minimum else ""
            return f"{_num(self.minimum)}..{_num(self.maximum)}{above}"
        return {"integer": "a whole number", "number": "a number"}.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``GET /v1/options``: name, flag, type, default, minimum, maximum, enum, labels, ..."""
        return {
            "name": self.name,
            "flag": self.flag,
            "short": self.short,
            "type": self.kind,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusive_minimum": self.exclusive_minimum,
            "enum": list(self.choices) or None,
            "labels": self.labels or None,
            "nullable": self.nullable,
            "description": self.description,
            "unit": self.unit,
            "group": self.group,
            "step": self.step,
            "api": self.api,
            "metavar": self.metavar,
        }


def _num(x: float) -> str:
    """1.0 → ``"1"``, 0.05 → ``"0.05"``, 4294967295 → ``"4294967295"``."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _option_spec(name: str, info: Any) -> OptionSpec:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    ann = info.annotation
    args = typing.get_args(ann)
    nullable = typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in args
    if nullable:
        (ann,) = [a for a in args if a is not type(None)]
    choices: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    if isinstance(ann, type) and issubclass(ann, Enum):
        kind, choices = "enum", tuple(str(m.value) for m in ann)
        labels = {str(m.value): m.label for m in ann if isinstance(m, (Aspect, Preset))}
    elif typing.get_origin(ann) is Literal:
        kind, choices = "enum", tuple(str(a) for a in typing.get_args(ann))
    else:
        kinds = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
        kind = kinds.get(ann, "list" if typing.get_origin(ann) is list else "string")
    bounds: dict[str, float] = {}
    for m in info.metadata:
        for key in ("ge", "le", "gt", "lt"):
            if getattr(m, key, None) is not None:
                bounds[key] = getattr(m, key)
    # The factory itself (``list``), not ``get_default``: pydantic's check whether a factory takes the
    # validated data reads ``inspect.signature(list)``, which costs the CLI's start-up ~5 ms.
    default = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(default, Enum):
        default = default.value
    elif isinstance(default, Path):
        default = str(default)
    minimum = bounds.get("ge", bounds.get("gt"))
    maximum = bounds.get("le", bounds.get("lt"))
    spec = OptionSpec(
        name=name,
        flag=extra.get("flag", "--" + name.replace("_", "-")),
        short=extra.get("short"),
        kind=kind,
        default=None if default is PydanticUndefined else default,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum="gt" in bounds,
        choices=choices,
        labels=labels,
        nullable=nullable,
        description=info.description or "",
        unit=extra.get("unit"),
        group=extra.get("group", "input"),
        step=extra.get("step"),
        api=bool(extra.get("api", False)),
        metavar="",
    )
    metavar = extra.get("metavar")
    if metavar is None:
        if choices:
            metavar = "|".join(choices)
        elif minimum is not None and maximum is not None:
            metavar = spec.range_text()
        else:
            metavar = {"integer": "N", "number": "NUMBER", "path": "PATH", "boolean": ""}.get(kind, "TEXT")
    return OptionSpec(**{**spec.__dict__, "metavar": metavar})


OPTIONS: tuple[OptionSpec, ...] = tuple(_option_spec(n, f) for n, f in AnimateRequest.model_fields.items())
"""Every :class:`AnimateRequest` field with its flag, kind, default, range, choices, unit and group, in field order."""

_BY_NAME = {o.name: o for o in OPTIONS}
