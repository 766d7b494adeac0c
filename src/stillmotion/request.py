"""`AnimateRequest`: the one parameter language of stillmotion.

Every field has a type, a range, a unit and a one-line description. The
Python API (:func:`stillmotion.animate`) and the CLI (``stillmotion
animate``) are thin adapters over this model; a new option is added here
once. Validation failures become :class:`~stillmotion.errors.InputError`
with the field name, the value and the valid range.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .arrows import Arrow, parse_arrow
from .errors import InputError

__all__ = ["ASPECTS", "PRESETS", "RESOLUTIONS", "AnimateRequest", "Aspect", "Preset", "Resolution", "parse_size"]

MAX_SIDE = 4096
"""Largest output side in pixels (4K DCI width)."""
MIN_SIDE = 64
"""Smallest output side in pixels."""


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


class Preset(str, Enum):
    """Platform presets: aspect, duration and loop for where the clip is posted."""

    reels = "reels"
    tiktok = "tiktok"
    shorts = "shorts"
    x = "x"
    linkedin = "linkedin"
    web_loop = "web-loop"


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

RESOLUTIONS = tuple(r.value for r in Resolution)
ASPECTS = tuple(a.value for a in Aspect)

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
            raise InputError(f"--size {text}: {name} {v} is odd; H.264 yuv420p needs even sides, use {v - 1} or {v + 1}")
    return w, h


class AnimateRequest(BaseModel):
    """One animation job: the photo, the motion prompt and every setting.

    Units: ``duration`` in seconds, ``fps`` in frames per second, ``size``
    in pixels. ``motion_strength`` and ``consistency`` are unitless in
    [0, 1]. Fields not used by an engine are reported as ignored in the
    clip's warnings, never silently dropped.

    >>> AnimateRequest(image="photo.jpg", prompt="slow push-in").frame_count
    120
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)

    image: Path = Field(description="Source photo (JPEG, PNG, WebP, TIFF, BMP, GIF).")
    prompt: str = Field(default="", max_length=2000, description="Motion prompt: what moves, how, how fast.")
    negative_prompt: str = Field(default="", max_length=2000, description="Motion to avoid, e.g. 'camera shake, zooming'.")
    engine: str = Field(default="living", description="Engine name; `stillmotion engines` lists them.")
    duration: float = Field(default=5.0, ge=1.0, le=30.0, description="Clip length in seconds (1-30).")
    fps: float = Field(default=24.0, ge=8.0, le=60.0, description="Frames per second (8-60).")
    size: str | None = Field(default=None, description="Output size WxH in pixels; overrides resolution and aspect.")
    resolution: Resolution = Field(default=Resolution.p720, description="Output short side: 480p, 720p or 1080p.")
    aspect: Aspect = Field(default=Aspect.source, description="Output aspect: 16:9, 9:16, 1:1, 4:5 or source.")
    motion_strength: float = Field(default=0.5, ge=0.0, le=1.0, description="Amplitude of the motion, 0 (still) to 1 (strong).")
    consistency: float = Field(default=0.5, ge=0.0, le=1.0, description="Faithfulness to the photo vs freedom (generative engines).")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1, description="Random seed; the same seed gives the same clip.")
    variations: int = Field(default=1, ge=1, le=16, description="Number of clips, with seeds seed, seed+1, ...")
    pick: str | None = Field(default=None, pattern="^best$", description="With --variations: rank the clips by the evaluation score and keep the best first (all kept, scores in the recipe)")
    loop: bool = Field(default=False, description="Make the last frame flow into the first.")
    last_image: Path | None = Field(default=None, description="End frame, for engines that take one.")
    depth_model: str | None = Field(default=None, description="Learned depth: a Hugging Face repo id in the cache or a local folder.")
    mask: Path | None = Field(default=None, description="Where things move: a PNG the photo's size, white = moves.")
    freeze: Path | None = Field(default=None, description="Where nothing moves: a PNG the photo's size, white = frozen.")
    arrows: list[str] = Field(default_factory=list, max_length=64, description="Motion-brush arrows X1,Y1,X2,Y2[:SPEED] in photo pixels (at most 64).")
    output: Path | None = Field(default=None, description="Output .mp4 path; default: PHOTO_STEM.mp4 in the current folder.")

    @field_validator("size")
    @classmethod
    def _check_size(cls, v: str | None) -> str | None:
        if v is None:
            return v
        w, h = parse_size(v)
        return f"{w}x{h}"

    @field_validator("engine")
    @classmethod
    def _check_engine(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("arrows", mode="before")
    @classmethod
    def _arrows_as_text(cls, v):
        if isinstance(v, (str, Arrow)):
            v = [v]
        if isinstance(v, (list, tuple)):
            return [a.text if isinstance(a, Arrow) else a for a in v]
        return v

    @field_validator("arrows")
    @classmethod
    def _check_arrows(cls, v: list[str]) -> list[str]:
        for text in v:
            parse_arrow(text)
        return v

    guidance_scale: float | None = Field(default=None, ge=0.0, le=30.0, description="Guidance scale (diffusion engines; default: the model's).")
    steps: int | None = Field(default=None, ge=1, le=200, description="num_inference_steps (diffusion engines; default: the model's).")
    model_path: Path | None = Field(default=None, description="A diffusers-format model folder (diffusion engines; default: the Hugging Face cache).")
    memory: str = Field(default="auto", pattern="^(auto|full|model-offload|group-offload|sequential)$", description="GPU memory mode: auto, full, model-offload, group-offload or sequential.")
    fast: bool = Field(default=False, description="Quality-neutral GPU speedups: attention backend and regional torch.compile (diffusion engines).")
    cache: bool = Field(default=False, description="Step caching (FirstBlockCache): faster, slightly lower quality (diffusion engines).")
    interpolate: float | None = Field(default=None, gt=0, le=120, description="Finish: motion-compensated interpolation to this fps.")
    upscale: int | None = Field(default=None, ge=2, le=4, description="Finish: upscale ×2 or ×4 (classical, or --upscaler weights).")
    upscaler: str | None = Field(default=None, description="Finish: super-resolution weights (.pth/.safetensors or a cached Hub name).")
    audio: Path | None = Field(default=None, description="Finish: a sound file laid under the clip (trimmed or looped, faded).")
    format: str | None = Field(default=None, pattern="^(mp4|h265|webm|webp|gif|png)$", description="Finish: output format (default from the output's extension).")
    crf: int | None = Field(default=None, ge=0, le=63, description="Finish: quality for mp4/h265/webm (lower is better).")
    preset: Preset | None = Field(default=None, description="Platform preset (reels, tiktok, shorts, x, linkedin, web-loop): sets aspect, duration and loop.")

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
    def _check_output(self) -> "AnimateRequest":
        allowed = {".mp4", ".webm", ".webp", ".gif", ""}
        if self.output is not None and self.output.suffix.lower() not in allowed:
            raise ValueError(
                f"output {str(self.output)!r} must end in .mp4, .webm, .webp or .gif (or be a folder name for --format png)"
            )
        if self.upscale is not None and self.upscale not in (2, 4):
            raise ValueError(f"--upscale {self.upscale}: use 2 or 4")
        return self

    @property
    def frame_count(self) -> int:
        """Number of frames: round(duration × fps), at least 2."""
        return max(2, int(round(self.duration * self.fps)))

    @classmethod
    def build(cls, **fields) -> "AnimateRequest":
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
    e = err.errors()[0]
    cause = e.get("ctx", {}).get("error")
    if isinstance(cause, InputError):  # raised by our own validator: already one line naming the flag
        return str(cause)
    field = ".".join(str(p) for p in e["loc"]) or "request"
    name = str(e["loc"][0]) if e["loc"] else "request"
    flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
    value = e.get("input")
    ctx = e.get("ctx", {})
    kind = e["type"]
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo = AnimateRequest.model_fields[name].metadata if name in AnimateRequest.model_fields else []
        bounds = {type(m).__name__: m for m in lo}
        ge = getattr(bounds.get("Ge"), "ge", None)
        le = getattr(bounds.get("Le"), "le", None)
        rng = f"{ge}..{le}" if ge is not None and le is not None else ", ".join(f"{k} {v}" for k, v in ctx.items())
        return f"{flag} {value!r} is out of range: use a value in {rng}"
    if kind == "enum":
        return f"{flag} {value!r} is not valid: use one of {ctx.get('expected', '')}"
    if kind == "extra_forbidden":
        return f"unknown option {field!r}: see `stillmotion animate --help` for the options"
    if kind == "path_type":
        return f"{flag} {value!r} is not a file path: pass a path"
    if kind == "too_long" and name == "arrows":
        return f"{flag}: {ctx.get('actual_length')} arrows is too many: use at most {ctx.get('max_length')}"
    if kind == "value_error":
        msg = e["msg"].removeprefix("Value error, ")
        return msg if field == "request" else f"{flag}: {msg}"
    return f"{flag} {value!r}: {e['msg']}"


# Fields whose CLI flag is not "--" + the field name.
_FLAGS = {"arrows": "--arrow"}
