"""The hosted models: one declarative row per model (what each provider calls its fields).

Facts come from ``shared/notes/hosted-models.md`` (provider pages, official SDK
source, the models' cog ``predict.py``); every row is checked against the
model's live input schema before its first job (see :mod:`.replicate`), and the
live schema wins on allowed values (enums, ranges). A row says:

- where the model lives (``replicate`` id, ``fal`` endpoint or None);
- which input field takes the photo (``image``), the end frame (``end``),
  references (``references``, for reference-to-video models), a driving video
  (``motion_video``) or driving audio (``audio_in``);
- how duration is asked for (:class:`Duration`), and resolution (``resolution``:
  field and its values, or Kling's ``mode``);
- the optional controls it has (``negative``, ``seed``, ``generate_audio``,
  ``camera_fixed``) and the prompt rewriters it has, kept off (``off``) so the
  motion prompt is used as written;
- the price estimate (:class:`Price`, USD, with its date and source).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["MODELS", "Duration", "HostedModel", "Price", "fal_route", "find_model", "from_schema", "generic_model"]


@dataclass(frozen=True)
class Duration:
    """How a model takes the clip length.

    Attributes:
        kind: ``enum`` (one of ``values`` seconds), ``range`` (whole seconds in
            ``values[0]..values[1]``), ``frames`` (``frames_field`` in
            ``values[0]..values[1]`` at ``fps_field`` frames per second, in
            ``fps_range``) or ``fixed`` (the model makes ``values[0]`` seconds).
        field: the duration field (``duration``, ``seconds``), unused for ``frames``/``fixed``.
        values: see ``kind``.
        as_text: the provider wants the number as a string ("5").
    """

    kind: Literal["enum", "range", "frames", "fixed"]
    values: tuple[float, ...]
    field: str = "duration"
    frames_field: str = "num_frames"
    fps_field: str = "frames_per_second"
    fps_range: tuple[int, int] = (5, 30)
    as_text: bool = False


@dataclass(frozen=True)
class Price:
    """A price estimate in USD: ``per_second`` × output seconds + ``per_run``.

    Attributes:
        per_second: USD per output second (0 when priced per run).
        per_run: USD per prediction.
        date: when the price was read (ISO date), or "" when unknown.
        source: where it was read (URL), or a note saying it is not verified.
        by_resolution: per-second prices by short side (e.g. {720: 0.05, 1080: 0.1}),
            overriding ``per_second`` when the model charges by resolution.
    """

    per_second: float = 0.0
    per_run: float = 0.0
    date: str = ""
    source: str = "not verified: no published price found"
    by_resolution: tuple[tuple[int, float], ...] = ()

    def estimate(self, seconds: float, short_side: int | None = None) -> float:
        """The estimated cost in USD of one clip of ``seconds`` at ``short_side`` px."""
        rate = self.per_second
        if self.by_resolution and short_side is not None:
            rate = min(self.by_resolution, key=lambda kv: abs(kv[0] - short_side))[1]
        return round(rate * seconds + self.per_run, 4)


@dataclass(frozen=True)
class HostedModel:
    """One hosted model (see the module docstring for the fields' meaning).

    Attributes:
        name: the engine name (a contract: ``--engine NAME``).
        display: the model's display name, also accepted as an engine name (any case).
        replicate: the Replicate ``owner/name``.
        fal: the fal endpoint, or None.
        fal_native: the row's fields are fal's (the model runs on fal; Replicate's fields otherwise).
        fal_fields: for ``--provider fal``: the row's fields that differ on fal's route (see
            :func:`fal_route`); empty when the route is not mapped.
        summary: one line for ``stillmotion engines``.
        image: the photo's field (the first frame), or None for reference-to-video models.
        references: the list field for reference images (the photo first), or None.
        end: the end-frame field, or None.
        motion_video: the driving-video field (``--motion-video``), or None.
        audio_in: the driving-audio field (``--audio``), or None.
        generate_audio: the boolean field that makes the model generate sound, or None.
        makes_audio: the clip always has sound (Ovi).
        negative: the negative-prompt field, or None.
        seed: the seed field, or None.
        camera_fixed: the boolean field that locks the camera, or None.
        prompt_field: the prompt's field.
        resolution: (field, allowed short sides) or None; Kling's ``mode`` maps through ``modes``.
        modes: for a ``mode`` field: value → short side (``{"standard": 720, "pro": 1080}``).
        aspect: (field, allowed ratios) for models that frame by aspect ratio, or None.
        duration: how the model takes the clip length.
        fps: frames per second of the output (when the model says).
        off: fields set to turn prompt rewriting off (the motion prompt is used as written).
        price: the cost estimate.
        typical_s: a typical run time in seconds (for the ETA).
        licence: terms of use, in words.
    """

    name: str
    display: str
    replicate: str
    summary: str
    fal: str | None = None
    image: str | None = "image"
    references: str | None = None
    end: str | None = None
    motion_video: str | None = None
    audio_in: str | None = None
    generate_audio: str | None = None
    makes_audio: bool = False
    negative: str | None = "negative_prompt"
    seed: str | None = "seed"
    camera_fixed: str | None = None
    prompt_field: str = "prompt"
    resolution: tuple[str, tuple[int, ...]] | None = None
    modes: tuple[tuple[str, int], ...] = ()
    aspect: tuple[str, tuple[str, ...]] | None = None
    duration: Duration = Duration("enum", (5.0,))
    fps: float = 24.0
    off: tuple[tuple[str, object], ...] = ()
    price: Price = field(default_factory=Price)
    typical_s: float = 120.0
    licence: str = "the provider's terms of use (hosted; outputs per the provider's licence)"
    generic: bool = False
    fal_native: bool = False
    fal_fields: tuple[tuple[str, object], ...] = ()


_WAN_OFF = (("enable_prompt_expansion", False),)
_MINIMAX_OFF = (("prompt_optimizer", False),)


def _kling(**kw: object) -> HostedModel:
    base = HostedModel(
        name="",
        display="",
        replicate="",
        summary="",
        image="start_image",
        seed=None,
        duration=Duration("enum", (5.0, 10.0)),
        typical_s=240.0,
        licence="Kling terms of use (Kuaishou), via Replicate",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _wan(**kw: object) -> HostedModel:
    base = HostedModel(
        name="",
        display="",
        replicate="",
        summary="",
        resolution=("resolution", (720, 1080)),
        off=_WAN_OFF,
        duration=Duration("enum", (5.0, 10.0)),
        typical_s=150.0,
        licence="Alibaba Wan terms of use, via Replicate",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


MODELS: tuple[HostedModel, ...] = (
    _kling(
        name="kling-v2.1",
        display="Kling v2.1",
        replicate="kwaivgi/kling-v2.1",
        fal="fal-ai/kling-video/v2.1/standard/image-to-video",
        summary="Kling v2.1: 5 or 10 s, 720p (standard) or 1080p (pro, which takes an end frame), 24 fps",
        end="end_image",
        modes=(("standard", 720), ("pro", 1080)),
    ),
    _kling(
        name="kling-v2.6",
        display="Kling v2.6",
        replicate="kwaivgi/kling-v2.6",
        fal="fal-ai/kling-video/v2.6/pro/image-to-video",
        summary="Kling v2.6: 5 or 10 s with optional generated sound (--generate-audio)",
        generate_audio="generate_audio",
    ),
    _kling(
        name="kling-v3-video",
        display="Kling v3 Video",
        replicate="kwaivgi/kling-v3-video",
        fal="fal-ai/kling-video/v3/standard/image-to-video",
        summary="Kling v3: 3–15 s, 720p or 1080p, end frame, optional sound",
        end="end_image",
        generate_audio="generate_audio",
        modes=(("standard", 720), ("pro", 1080)),
        duration=Duration("range", (3.0, 15.0)),
    ),
    _kling(
        name="kling-v2.6-motion-control",
        display="Kling v2.6 Motion Control",
        replicate="kwaivgi/kling-v2.6-motion-control",
        fal="fal-ai/kling-video/v2.6/standard/motion-control",
        summary="Kling v2.6 Motion Control: the photo's character follows a driving video (--motion-video)",
        image="image",
        negative=None,
        motion_video="video",
        duration=Duration("fixed", (5.0,)),
        modes=(("std", 720), ("pro", 1080)),
    ),
    HostedModel(
        name="gen4-turbo",
        display="Runway Gen-4 Turbo",
        replicate="runwayml/gen4-turbo",
        summary="Runway Gen-4 Turbo: 5 or 10 s at 720p, fast",
        negative=None,
        aspect=("aspect_ratio", ("16:9", "9:16", "4:3", "3:4", "1:1", "21:9")),
        duration=Duration("enum", (5.0, 10.0)),
        typical_s=60.0,
        licence="Runway terms of use, via Replicate",
    ),
    HostedModel(
        name="video-01-live",
        display="Video 01 Live",
        replicate="minimax/video-01-live",
        fal="fal-ai/minimax/video-01-live/image-to-video",
        summary="MiniMax Video-01-Live: about 6 s, tuned for animating illustrations and portraits",
        image="first_frame_image",
        negative=None,
        seed=None,
        off=_MINIMAX_OFF,
        duration=Duration("fixed", (6.0,)),
        fps=25.0,
        typical_s=180.0,
        licence="MiniMax terms of use, via Replicate",
    ),
    HostedModel(
        name="hailuo-2.3-fast",
        display="Hailuo 2.3 Fast",
        replicate="minimax/hailuo-2.3-fast",
        fal="fal-ai/minimax/hailuo-2.3-fast/standard/image-to-video",
        summary="MiniMax Hailuo 2.3 Fast: 6 or 10 s, 768p or 1080p",
        image="first_frame_image",
        negative=None,
        seed=None,
        off=_MINIMAX_OFF,
        resolution=("resolution", (768, 1080)),
        duration=Duration("enum", (6.0, 10.0)),
        fps=25.0,
        typical_s=120.0,
        licence="MiniMax terms of use, via Replicate",
    ),
    HostedModel(
        name="seedance-1-pro",
        display="Seedance 1 Pro",
        replicate="bytedance/seedance-1-pro",
        fal="fal-ai/bytedance/seedance/v1/pro/image-to-video",
        summary="ByteDance Seedance 1 Pro: 2–12 s, 480p–1080p, end frame, camera lock",
        end="last_frame_image",
        negative=None,
        camera_fixed="camera_fixed",
        resolution=("resolution", (480, 720, 1080)),
        duration=Duration("range", (2.0, 12.0)),
        typical_s=90.0,
        licence="ByteDance Seedance terms of use, via Replicate",
    ),
    _wan(
        name="wan-2.7-i2v",
        display="Wan 2.7 I2V",
        replicate="wan-video/wan-2.7-i2v",
        fal="fal-ai/wan/v2.7/image-to-video",
        summary="Wan 2.7 image-to-video: 2–15 s, 720p or 1080p, end frame, driving audio",
        image="first_frame",
        end="last_frame",
        audio_in="audio",
        duration=Duration("range", (2.0, 15.0)),
    ),
    _wan(
        name="wan-2.6-i2v",
        display="Wan 2.6 I2V",
        replicate="wan-video/wan-2.6-i2v",
        fal="wan/v2.6/image-to-video",
        summary="Wan 2.6 image-to-video: 5, 10 or 15 s, 720p or 1080p, driving audio",
        audio_in="audio",
        duration=Duration("enum", (5.0, 10.0, 15.0)),
    ),
    _wan(
        name="wan-2.5-i2v-fast",
        display="Wan 2.5 I2V Fast",
        replicate="wan-video/wan-2.5-i2v-fast",
        summary="Wan 2.5 image-to-video (fast): 5 or 10 s, 720p or 1080p, driving audio",
        audio_in="audio",
    ),
    _wan(
        name="wan-2.2-i2v-fast",
        display="Wan 2.2 I2V Fast",
        replicate="wan-video/wan-2.2-i2v-fast",
        fal="fal-ai/wan/v2.2-a14b/image-to-video",
        summary="Wan 2.2 A14B (Pruna fast build): 81–121 frames at 5–30 fps, 480p or 720p, end frame",
        end="last_image",
        negative=None,
        off=(),
        resolution=("resolution", (480, 720)),
        duration=Duration("frames", (81.0, 121.0)),
        fps=16.0,
        typical_s=40.0,
    ),
    _wan(
        name="wan-2.7-r2v",
        display="Wan 2.7 R2V",
        replicate="wan-video/wan-2.7-r2v",
        summary="Wan 2.7 reference-to-video: the photo (and --reference images) as references, not a first frame",
        image=None,
        references="reference_images",
        off=(),
        aspect=("aspect_ratio", ("16:9", "9:16", "1:1", "4:3", "3:4")),
        duration=Duration("range", (2.0, 10.0)),
    ),
    HostedModel(
        name="ovi-i2v",
        display="Ovi I2V",
        replicate="character-ai/ovi-i2v",
        fal="fal-ai/ovi/image-to-video",
        summary="Character.AI Ovi: about 5 s of video with generated speech and sound (<S>…<E> in the prompt)",
        negative="video_negative_prompt",
        makes_audio=True,
        duration=Duration("fixed", (5.0,)),
        typical_s=120.0,
        licence="Ovi: Apache-2.0 weights; hosted per Replicate's terms",
    ),
    HostedModel(
        name="grok-imagine-video",
        display="Grok Imagine Video",
        replicate="xai/grok-imagine-video",
        fal="xai/grok-imagine-video/image-to-video",
        summary="xAI Grok Imagine image-to-video: 1–10 s, 480p or 720p",
        negative=None,
        seed=None,
        resolution=("resolution", (480, 720)),
        duration=Duration("range", (1.0, 10.0)),
        typical_s=60.0,
        licence="xAI terms of use, via Replicate",
    ),
    HostedModel(
        name="grok-imagine-r2v",
        display="Grok Imagine R2V",
        replicate="xai/grok-imagine-r2v",
        summary="xAI Grok Imagine reference-to-video: the photo (and --reference images, up to 7) as references",
        image=None,
        references="reference_images",
        negative=None,
        seed=None,
        resolution=("resolution", (480, 720)),
        aspect=("aspect_ratio", ("16:9", "9:16", "1:1")),
        duration=Duration("range", (1.0, 10.0)),
        typical_s=60.0,
        licence="xAI terms of use, via Replicate",
    ),
    HostedModel(
        name="p-video",
        display="P-Video",
        replicate="prunaai/p-video",
        summary="Pruna P-Video: fast, 720p or 1080p at 24 or 48 fps, end frame, driving audio",
        end="last_frame_image",
        negative=None,
        audio_in="audio",
        resolution=("resolution", (720, 1080)),
        off=(("prompt_upsampling", False),),
        duration=Duration("range", (1.0, 10.0)),
        typical_s=30.0,
        licence="Pruna terms of use, via Replicate",
    ),
    HostedModel(
        name="happyhorse-1.0",
        display="HappyHorse 1.0",
        replicate="alibaba/happyhorse-1.0",
        summary="Alibaba HappyHorse 1.0: 3–15 s, 720p or 1080p",
        negative=None,
        resolution=("resolution", (720, 1080)),
        duration=Duration("range", (3.0, 15.0)),
        typical_s=120.0,
        licence="Alibaba terms of use, via Replicate",
    ),
    HostedModel(
        name="sora-2",
        display="Sora 2",
        replicate="openai/sora-2",
        fal="fal-ai/sora-2/image-to-video",
        summary="OpenAI Sora 2: 4, 8 or 12 s (landscape or portrait)",
        image="input_reference",
        negative=None,
        seed=None,
        aspect=("aspect_ratio", ("landscape", "portrait")),
        duration=Duration("enum", (4.0, 8.0, 12.0), field="seconds"),
        typical_s=180.0,
        licence="OpenAI terms of use, via Replicate",
    ),
    HostedModel(
        name="replicate:i2vgen-xl",
        display="I2VGen-XL (Replicate)",
        replicate="ali-vilab/i2vgen-xl",
        summary="I2VGen-XL on Replicate: 16 frames at 8 fps (the local engine is i2vgen-xl)",
        negative=None,
        duration=Duration("fixed", (2.0,)),
        fps=8.0,
        typical_s=60.0,
        licence="I2VGen-XL: MIT (research code); hosted per Replicate's terms",
    ),
    HostedModel(
        name="replicate:pia",
        display="PIA (Replicate)",
        replicate="cjwbw/pia",
        summary="PIA on Replicate: 8–24 frames (the local engine is pia)",
        duration=Duration("fixed", (2.0,)),
        fps=8.0,
        typical_s=60.0,
        licence="PIA: Apache-2.0 code; hosted per Replicate's terms",
    ),
    HostedModel(
        name="pika-2.2",
        display="Pika 2.2",
        replicate="",
        fal="fal-ai/pika/v2.2/image-to-video",
        summary="Pika 2.2 image-to-video on fal (not on Replicate; FAL_KEY): 5 or 10 s, 720p or 1080p",
        image="image_url",
        seed="seed",
        resolution=("resolution", (720, 1080)),
        duration=Duration("enum", (5.0, 10.0)),
        typical_s=90.0,
        licence="Pika terms of use, via fal",
        fal_native=True,
    ),
)
"""Every hosted model, in the order ``stillmotion engines`` lists them."""


_READ = "2026-12-04"  # the fal pages are undated: the date they were read
_FAL = "https://fal.ai/models/{}/llms.txt (fal's price of the same model; Replicate's own not found)"

_PRICES: dict[str, Price] = {
    "kling-v2.1": Price(
        by_resolution=((720, 0.056), (1080, 0.098)),
        date=_READ,
        source=_FAL.format("fal-ai/kling-video/v2.1/standard/image-to-video"),
    ),
    "kling-v2.6": Price(
        per_second=0.07,
        date=_READ,
        source=_FAL.format("fal-ai/kling-video/v2.6/pro/image-to-video") + "; ×2 with sound",
    ),
    "kling-v3-video": Price(
        by_resolution=((720, 0.084), (1080, 0.112)),
        date=_READ,
        source=_FAL.format("fal-ai/kling-video/v3/pro/image-to-video") + "; more with sound",
    ),
    "gen4-turbo": Price(
        per_second=0.05, date=_READ, source="Runway API reference (5 credits/s at $0.01/credit), third-party copy"
    ),
    "hailuo-2.3-fast": Price(
        per_second=0.032,
        date=_READ,
        source=_FAL.format("fal-ai/minimax/hailuo-2.3-fast/standard/image-to-video")
        + " ($0.19 per 6 s, $0.32 per 10 s at 768p)",
    ),
    "seedance-1-pro": Price(
        by_resolution=((480, 0.024), (720, 0.054), (1080, 0.1215)),
        date=_READ,
        source=_FAL.format("fal-ai/bytedance/seedance/v1/pro/image-to-video") + " ($2.50 per 1M video tokens)",
    ),
    "wan-2.7-i2v": Price(
        by_resolution=((720, 0.10), (1080, 0.15)), date=_READ, source=_FAL.format("fal-ai/wan/v2.7/image-to-video")
    ),
    "wan-2.5-i2v-fast": Price(
        by_resolution=((480, 0.05), (720, 0.10), (1080, 0.15)),
        date=_READ,
        source=_FAL.format("fal-ai/wan-25-preview/image-to-video") + ", the non-fast model",
    ),
    "wan-2.2-i2v-fast": Price(
        per_run=0.10, date=_READ, source=_FAL.format("fal-ai/wan/v2.2-a14b/image-to-video/turbo") + ", 720p turbo"
    ),
    "wan-2.7-r2v": Price(per_second=0.10, date=_READ, source=_FAL.format("fal-ai/wan/v2.7/reference-to-video")),
    "ovi-i2v": Price(per_run=0.20, date=_READ, source=_FAL.format("fal-ai/ovi/image-to-video")),
    "grok-imagine-video": Price(
        by_resolution=((480, 0.05), (720, 0.07)),
        date=_READ,
        source="https://docs.krea.ai/api-reference/video/grok-imagine (third-party)",
    ),
    "p-video": Price(
        by_resolution=((720, 0.02), (1080, 0.04)),
        date=_READ,
        source="https://lumenfall.ai/models/prunaai/p-video (third-party)",
    ),
    "happyhorse-1.0": Price(
        by_resolution=((720, 0.14), (1080, 0.28)), date=_READ, source=_FAL.format("alibaba/happy-horse/image-to-video")
    ),
    "sora-2": Price(per_second=0.10, date=_READ, source=_FAL.format("fal-ai/sora-2/image-to-video")),
    "pika-2.2": Price(per_run=0.20, date=_READ, source=_FAL.format("fal-ai/pika/v2.2/image-to-video") + " (720p, 5 s)"),
}
MODELS = tuple(replace(m, price=_PRICES[m.name]) if m.name in _PRICES else m for m in MODELS)

_FAL_TEXT_5_10 = Duration("enum", (5.0, 10.0), as_text=True)
_FAL_ROUTES: dict[str, tuple[tuple[str, object], ...]] = {
    # fal's own field names for the same models (fal llms.txt pages, via shared/notes/hosted-models.md).
    "kling-v2.1": (("image", "image_url"), ("end", None), ("modes", ()), ("duration", _FAL_TEXT_5_10)),
    "kling-v2.6": (("image", "image_url"), ("duration", _FAL_TEXT_5_10)),
    "kling-v3-video": (
        ("image", "start_image_url"),
        ("end", "end_image_url"),
        ("modes", ()),
        ("duration", Duration("range", (3.0, 15.0), as_text=True)),
    ),
    "kling-v2.6-motion-control": (("image", "image_url"), ("motion_video", "video_url"), ("modes", ())),
    "hailuo-2.3-fast": (
        ("image", "image_url"),
        ("resolution", None),
        ("duration", Duration("enum", (6.0, 10.0), as_text=True)),
    ),
    "seedance-1-pro": (
        ("image", "image_url"),
        ("end", "end_image_url"),
        ("duration", Duration("range", (2.0, 12.0), as_text=True)),
    ),
    "wan-2.7-i2v": (("image", "image_url"), ("end", "end_image_url"), ("audio_in", "audio_url")),
    "wan-2.6-i2v": (("image", "image_url"), ("audio_in", "audio_url")),
    "wan-2.2-i2v-fast": (
        ("image", "image_url"),
        ("end", None),
        ("off", ()),
        ("duration", Duration("frames", (17.0, 161.0), fps_range=(4, 60))),
    ),
    "ovi-i2v": (("image", "image_url"), ("negative", "negative_prompt")),
    "sora-2": (
        ("image", "image_url"),
        ("aspect", ("aspect_ratio", ("16:9", "9:16"))),
        ("duration", Duration("enum", (4.0, 8.0, 12.0))),
    ),
}
MODELS = tuple(replace(m, fal_fields=_FAL_ROUTES[m.name]) if m.name in _FAL_ROUTES else m for m in MODELS)


def fal_route(model: HostedModel) -> HostedModel | None:
    """``model`` as it runs on fal (``--provider fal``): its fal endpoint and fal's field names, or
    None when the route is not mapped. fal's live schema is not fetched: the row decides."""
    if model.fal_native:
        return model
    if not model.fal or not model.fal_fields:
        return None
    return replace(model, fal_native=True, seed=model.seed, **dict(model.fal_fields))  # type: ignore[arg-type]


def find_model(name: str) -> HostedModel | None:
    """The model whose engine name or display name is ``name`` (any case), or None."""
    key = name.strip().lower()
    for m in MODELS:
        if key in (m.name, m.display.lower()):
            return m
    return None


_IMAGE_FIELDS = ("image", "start_image", "first_frame_image", "first_frame", "input_image", "input_reference")
_END_FIELDS = ("end_image", "last_image", "last_frame_image", "last_frame")


def generic_model(ref: str) -> HostedModel:
    """A row for any Replicate model ``owner/name`` (``--engine replicate:owner/name``), whose fields
    are read from its live schema when a job is prepared (see :func:`from_schema`)."""
    return HostedModel(
        name=f"replicate:{ref}",
        display=f"replicate:{ref}",
        replicate=ref,
        summary=f"{ref} on Replicate, mapped from its live schema (--input KEY=VALUE for its own controls)",
        duration=Duration("fixed", (0.0,)),
        licence=f"the terms of {ref} on Replicate",
        generic=True,
    )


def from_schema(model: HostedModel, properties: dict[str, dict]) -> HostedModel:
    """``model`` with its fields found in a live input schema: the first image field of the usual
    names, the end frame, negative prompt, seed, duration (an enum or a range of seconds, or
    ``num_frames`` at ``frames_per_second``/``fps``) and a ``resolution`` of ``NNNp`` values."""
    props = properties

    def first(names: tuple[str, ...]) -> str | None:
        return next((n for n in names if n in props), None)

    duration = Duration("fixed", (0.0,))
    if "duration" in props:
        enum = [float(v) for v in props["duration"].get("enum", []) if str(v).replace(".", "", 1).isdigit()]
        lo, hi = props["duration"].get("minimum"), props["duration"].get("maximum")
        if enum:
            duration = Duration("enum", tuple(enum), as_text=isinstance(props["duration"]["enum"][0], str))
        elif lo is not None and hi is not None:
            duration = Duration("range", (float(lo), float(hi)))
    elif "num_frames" in props and ("frames_per_second" in props or "fps" in props):
        frames = props["num_frames"]
        fps_field = "frames_per_second" if "frames_per_second" in props else "fps"
        fps = props[fps_field]
        duration = Duration(
            "frames",
            (float(frames.get("minimum", 16)), float(frames.get("maximum", 121))),
            fps_field=fps_field,
            fps_range=(int(fps.get("minimum", 8)), int(fps.get("maximum", 30))),
        )
    sides = tuple(
        int(str(v).rstrip("pP")) for v in props.get("resolution", {}).get("enum", []) if str(v).rstrip("pP").isdigit()
    )
    return replace(
        model,
        image=first(_IMAGE_FIELDS),
        end=first(_END_FIELDS),
        negative="negative_prompt" if "negative_prompt" in props else None,
        seed="seed" if "seed" in props else None,
        duration=duration,
        resolution=("resolution", sides) if sides else None,
    )
