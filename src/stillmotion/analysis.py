"""Analyze: judge a photo before generating, in words a photographer uses.

:func:`analyze_photo` loads the photo (or takes a loaded
:class:`~stillmotion.image.Still`), builds a :class:`~stillmotion.scene.Scene`
(or reuses the caller's, so faces, depth and regions are computed once and
shared with a following animate) and returns a :class:`Report`:

1. **Checks**, each a :class:`Check` with a level (``ok``, ``advice``,
   ``warning``, ``unusable``), the measured value and one plain line:
   resolution, aspect, sharpness of the subject, exposure, noise, JPEG
   compression, saturation / heavy filters, depth cues.
2. **Kind** of photo from the Scene's layers and classical image rules
   (portrait, crowd, landscape, product, architecture, text, general), with
   the reason, and the **expected result** of animating it (the seeds'
   table: landscape with sky or water → Excellent, portrait with a clear
   face → Very good, product → Very good, architecture → Good, crowd →
   Difficult, text-heavy graphic → Poor, anything else → Good), one step
   lower for each warning (at most two), Poor when a check is unusable.
3. **Recommendations**: motion prompts built from what was found ("clouds
   drifting slowly to the left, gentle waves on the water, slow push-in"),
   each one the prompt parser (:func:`stillmotion.plan.prompt.parse_prompt`)
   understands in full, with the engine and a clip length.

Pixel checks run on the Scene's working copy (long side at most
:data:`~stillmotion.scene.DEPTH_SIDE`, 1024 px: the size of the video, where
softness and grain show), except JPEG blockiness, which is measured at full
resolution on a few crops (downscaling erases the 8×8 grid). Every
threshold is a module constant below.

>>> report = analyze_photo("photo.jpg")  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
photo.jpg: 4000×3000, landscape, expected result: Excellent
...

Limits: rules, not a learned aesthetic model. The subject of a photo
without a face is taken to be the salient, near area (spectral-residual
saliency and the Scene's depth); the kind rules rely on the Scene's region
masks and Haar faces, with their limits (a studio backdrop can read as sky,
a dark night sky as water).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan.lint import PromptReport

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError
from .image import SMALL_SIDE_PX, Still, load_image
from .request import Aspect
from .scene import Scene

__all__ = [
    "ARCH_HV_SHARE",
    "ARCH_LINE_LENGTH",
    "ARCH_MAX_VEGETATION",
    "ASPECT_ADVICE_KEEP",
    "ASPECT_WARNING_KEEP",
    "BLOCK_ADVICE_RATIO",
    "BLOCK_CROP",
    "BLOCK_CROPS",
    "BLOCK_WARNING_RATIO",
    "BLUR_UNUSABLE_PX",
    "BRIGHT_ADVICE_MEAN",
    "CHECK_NAMES",
    "CLIPPED_ADVICE",
    "CLIPPED_LEVEL",
    "CLIPPED_WARNING",
    "CONTRAST_ADVICE",
    "CROWD_FACES",
    "CRUSHED_ADVICE",
    "CRUSHED_LEVEL",
    "CRUSHED_WARNING",
    "Check",
    "DARK_ADVICE_MEAN",
    "DARK_WARNING_MEAN",
    "DEPTH_OPEN_SKY",
    "DEPTH_SEPARATION_GOOD",
    "DEPTH_SUBJECT_GOOD",
    "DURATION_S",
    "ELEMENT_MIN_SHARE",
    "ELEMENT_RECOMMEND_SHARE",
    "ENGINE",
    "EXPECTED",
    "GRADES",
    "KINDS",
    "LANDSCAPE_GROUND_SHARE",
    "LANDSCAPE_NATURE_SHARE",
    "LANDSCAPE_SKY_SHARE",
    "LEVELS",
    "MIN_SIZE_PX",
    "MOTION_ANISOTROPY",
    "NOISE_ADVICE",
    "NOISE_FLAT_SHARE",
    "NOISE_WARNING",
    "OUTPUT_ASPECTS",
    "OVERSATURATED_ADVICE",
    "OVERSATURATED_S",
    "OVERSATURATED_V",
    "PORTRAIT_FACE_SHARE",
    "PREFERRED_SIZE_PX",
    "PRODUCT_MAX_BORDER_SPREAD",
    "PRODUCT_MAX_BORDER_TEXTURE",
    "PRODUCT_MAX_OBJECT_BORDER",
    "PRODUCT_OBJECT_SHARE",
    "REPORT_SCHEMA",
    "Report",
    "SHALLOW_DOF_SPREAD",
    "SHARP_PX",
    "SOFT_PX",
    "SUBJECT_TILE_WEIGHT",
    "TEXT_MIN_CHARS",
    "TEXT_MIN_COVER",
    "TEXT_MIN_LINES",
    "UNUSABLE_MEAN",
    "UNUSABLE_SIDE_PX",
    "analyze_photo",
]

# ---------------------------------------------------------------- vocabulary

LEVELS = ("ok", "advice", "warning", "unusable")
"""Check levels, from fine to fatal."""
CHECK_NAMES = ("resolution", "aspect", "sharpness", "exposure", "noise", "compression", "saturation", "depth")
"""The checks of a report, in report order."""
KINDS = ("portrait", "landscape", "product", "architecture", "crowd", "text", "general")
"""Kinds of photo the analysis tells apart."""
GRADES = ("Excellent", "Very good", "Good", "Difficult", "Poor")
"""Expected results, best first."""
EXPECTED = {
    "landscape": "Excellent",  # with sky or water; "Very good" with vegetation only
    "portrait": "Very good",
    "product": "Very good",
    "architecture": "Good",
    "general": "Good",
    "crowd": "Difficult",
    "text": "Poor",
}
"""Expected result by kind before the checks (the seeds' table)."""
ENGINE = "living"
"""The engine recommended: classical, offline, fast, and the one the prompts are written for."""
DURATION_S = {"Excellent": 5.0, "Very good": 5.0, "Good": 5.0, "Difficult": 4.0, "Poor": 3.0}
"""Recommended clip length in seconds by expected result: a weak photo holds up for less time."""

# ---------------------------------------------------------------- thresholds

UNUSABLE_SIDE_PX = 64
"""Short side (px) below which a photo is unusable: a 720p clip would magnify it over 11×."""
MIN_SIZE_PX = (1024, 576)
"""Smallest recommended (long side, short side) in pixels; below it the clip is upscaled a little."""
PREFERRED_SIZE_PX = (1920, 1080)
"""Preferred (long side, short side) in pixels: enough for 1080p output."""

ASPECT_ADVICE_KEEP = 0.75
"""A crop to the target aspect that keeps less than this fraction of the width (or height) is advice."""
ASPECT_WARNING_KEEP = 0.5
"""... and less than this fraction is a warning: the subject may not fit."""
OUTPUT_ASPECTS = (Aspect.wide, Aspect.vertical, Aspect.square, Aspect.portrait)
"""The output aspects a photo is compared with when no target is given."""

SHARP_PX = 1.2
"""Edge blur radius (px at the working size, see :func:`_edge_blur`) up to which the subject is sharp.
Sharp photos measure 0.3–0.9; a Gaussian blur of σ = 3 px on a 512–640 px photo measures 2.1–2.6."""
SOFT_PX = 1.5
"""Edge blur radius (px) above which the subject is soft (warning); between SHARP_PX and this: slightly soft."""
MOTION_ANISOTROPY = 1.7
"""Motion blur: edges in their blurriest direction are this many times blurrier than in the crispest
(sharp photos measure 1.1–1.45, a 15 px shake 2.6)."""
SUBJECT_TILE_WEIGHT = 0.15
"""Without a face, tiles whose saliency × nearness is at least this fraction of the most count as the subject."""
BLUR_UNUSABLE_PX = 4.0
"""Edge blur radius (px) of the sharpest part of the frame above which nothing is recognisable."""

DARK_WARNING_MEAN = 0.20
"""Mean luminance (fraction of white) below which the photo is too dark (warning)."""
DARK_ADVICE_MEAN = 0.28
"""Mean luminance below which the photo is on the dark side (advice)."""
BRIGHT_ADVICE_MEAN = 0.82
"""Mean luminance above which the photo is very bright (advice)."""
UNUSABLE_MEAN = (0.03, 0.98)
"""Mean luminance outside this range: a nearly black or white frame (unusable)."""
CLIPPED_LEVEL = 250
"""Luminance (0–255) above which a pixel is a clipped highlight."""
CRUSHED_LEVEL = 5
"""Luminance (0–255) below which a pixel is a crushed shadow."""
CLIPPED_ADVICE = 0.05
"""Share of clipped highlights above which it is advice ..."""
CLIPPED_WARNING = 0.25
"""... and above which it is a warning (no detail left to animate)."""
CRUSHED_ADVICE = 0.20
"""Share of crushed shadows above which it is advice ..."""
CRUSHED_WARNING = 0.40
"""... and above which it is a warning."""

NOISE_ADVICE = 3.0
"""Luminance noise σ (levels of 255, at the working size) above which grain is visible (advice)."""
NOISE_WARNING = 6.0
"""Noise σ above which the photo is heavily noisy (warning)."""
NOISE_FLAT_SHARE = 0.15
"""Share of the photo, the flattest, where noise is measured."""

BLOCK_ADVICE_RATIO = 1.5
"""JPEG blockiness (see :func:`_blockiness`: step across the 8×8 grid over the typical step,
regularised) above which compression is noticeable (advice). Quality 90–95 measures 1.0–1.4."""
BLOCK_WARNING_RATIO = 1.9
"""Blockiness above which the photo is heavily compressed (warning); quality 5 measures 2–4."""

OVERSATURATED_S = 0.9
"""HSV saturation above which a bright pixel counts as over-saturated."""
OVERSATURATED_V = 0.5
"""HSV value above which an over-saturated pixel counts (dark saturated pixels are just shadows)."""
OVERSATURATED_ADVICE = 0.15
"""Share of over-saturated pixels above which it is advice (a heavy filter or saturation boost)."""
CONTRAST_ADVICE = 0.36
"""RMS contrast (luminance std / 255) above which contrast is extreme (advice)."""

DEPTH_SEPARATION_GOOD = 0.2
"""A face's depth minus the background's (0–1 scale, 1 = near) from which parallax reads well."""
DEPTH_SUBJECT_GOOD = 0.12
"""Without a face, the subject's depth minus the rest's from which parallax reads well."""
DEPTH_OPEN_SKY = 0.1
"""Sky share from which a scene without faces has a far plane (a horizon) for parallax."""
SHALLOW_DOF_SPREAD = 0.7
"""Edge blur spread (px) between the blurred and the sharpest parts that marks a shallow depth of field."""

PORTRAIT_FACE_SHARE = 0.015
"""Largest face area (fraction of the frame) from which the photo is a portrait."""
CROWD_FACES = 5
"""Faces from which the photo is a crowd."""
ELEMENT_MIN_SHARE = 0.02
"""Share of the frame from which a region (sky, water, ...) is reported as an element."""
ELEMENT_RECOMMEND_SHARE = 0.05
"""Share of the frame from which sky, water or vegetation is put in a recommended prompt."""
LANDSCAPE_NATURE_SHARE = 0.35
"""Share of sky + water + vegetation (with some sky) from which the photo is a landscape ..."""
LANDSCAPE_SKY_SHARE = 0.12
"""... the sky share that counts ..."""
LANDSCAPE_GROUND_SHARE = 0.5
"""... or water + vegetation share alone (a lake shore, a meadow) from which it is one."""
TEXT_MIN_CHARS = 40
"""Character-like shapes in text lines from which the photo is a text graphic ..."""
TEXT_MIN_LINES = 3
"""... in at least this many lines ..."""
TEXT_MIN_COVER = 0.04
"""... covering at least this share of the frame."""
ARCH_LINE_LENGTH = 2.0
"""Total length of long straight lines, in units of (width + height), from which it is architecture ..."""
ARCH_HV_SHARE = 0.6
"""... when this share of that length is vertical or horizontal ..."""
ARCH_MAX_VEGETATION = 0.15
"""... and vegetation covers less than this share."""
PRODUCT_MAX_BORDER_TEXTURE = 0.03
"""Median Sobel gradient magnitude (grey in [0, 1]) of the frame's border below which the background is clean ..."""
PRODUCT_MAX_BORDER_SPREAD = 40.0
"""... and the border's colour spread (75th percentile of the 8-bit Lab distance to its median colour)
below which it is one colour or a soft gradient."""
PRODUCT_MAX_OBJECT_BORDER = 0.35
"""Largest share of the border strip the object may cover (a product stands inside the frame)."""
PRODUCT_OBJECT_SHARE = (0.03, 0.7)
"""Share of the frame the object standing out from that background must cover."""

BLOCK_CROP = 256
"""Side (px) of the full-resolution crops blockiness is measured on."""
BLOCK_CROPS = 3
"""Crops per row and per column (BLOCK_CROPS² crops in all)."""


# ---------------------------------------------------------------- results


@dataclass
class Check:
    """One line of a report.

    Attributes:
        name: one of :data:`CHECK_NAMES`.
        level: one of :data:`LEVELS`.
        value: the measured value behind the line (a number, or text such as ``"4000×3000"``).
        unit: the value's unit (``"px"``, ``"%"``, ``"×"``, ``"/255"`` or ``""``).
        message: one plain line for a photographer: what was measured and what to do.
    """

    name: str
    level: str
    value: float | str
    unit: str
    message: str

    def __post_init__(self) -> None:
        if self.name not in CHECK_NAMES:
            raise ValueError(f"Check.name must be one of {', '.join(CHECK_NAMES)}, got {self.name!r}")
        if self.level not in LEVELS:
            raise ValueError(f"Check.level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if not isinstance(self.value, str):
            self.value = float(self.value)  # a plain float (not numpy's) for JSON


@dataclass
class Report:
    """What :func:`analyze_photo` found, and what it suggests.

    Attributes:
        path: the photo's path (``""`` for an array).
        width, height: the photo's size in pixels.
        checks: one :class:`Check` per name in :data:`CHECK_NAMES`, in that order.
        kind: one of :data:`KINDS`.
        kind_reason: why, in plain words.
        expected: one of :data:`GRADES`: how well the photo should animate.
        faces: number of faces found.
        elements: natural elements found, among sky, water, vegetation, hair, steam.
        recommendations: motion prompts suited to this photo, best first.
        engine: the engine to use ("living").
        duration_s: recommended clip length in seconds.
        timings_s: seconds spent per stage ("load", "scene", "kind", "checks", "recommend", "total").
    """

    path: str
    width: int
    height: int
    checks: list[Check]
    kind: str
    kind_reason: str
    expected: str
    faces: int
    elements: list[str]
    recommendations: list[str]
    engine: str = ENGINE
    duration_s: float = 5.0
    timings_s: dict = field(default_factory=dict)
    prompt: "PromptReport | None" = None
    """Prompt coaching (:func:`stillmotion.plan.lint.lint_prompt`) when a prompt was given."""

    @property
    def usable(self) -> bool:
        """False when any check is "unusable"."""
        return all(c.level != "unusable" for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name`` (one of :data:`CHECK_NAMES`).

        Raises:
            KeyError: no check has that name.
        """
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; checks are {', '.join(CHECK_NAMES)}")

    def to_dict(self) -> dict:
        """A JSON-ready dict that validates against :data:`REPORT_SCHEMA`."""
        d = asdict(self)
        d["prompt"] = None if self.prompt is None else self.prompt.to_dict()
        d["usable"] = self.usable
        d["timings_s"] = {k: round(float(v), 4) for k, v in self.timings_s.items()}
        return d

    def summary(self) -> str:
        """The report in plain words, one item per line (what ``stillmotion analyze`` prints)."""
        name = Path(self.path).name if self.path else "photo"
        lines = [f"{name}: {self.width}×{self.height}, {self.kind}, expected result: {self.expected}"]
        lines.append(f"Why: {self.kind_reason}")
        if not self.usable:
            lines.append("Not usable as it is: fix the unusable items below first")
        for c in self.checks:
            lines.append(f"{c.level.upper() if c.level != 'ok' else 'ok':8s} {c.name}: {c.message}")
        lines.append(f"Faces: {self.faces}")
        lines.append("Elements that can move: " + (", ".join(self.elements) if self.elements else "none found"))
        lines.append(f"Recommended: engine {self.engine}, {self.duration_s:g} s")
        for p in self.recommendations:
            lines.append(f'Try: "{p}"')
        if self.prompt is not None:
            lines.append(f"Prompt: \"{self.prompt.prompt}\" ({self.prompt.score}/100)")
            lines.extend("  " + line for line in self.prompt.summary().splitlines())
        return "\n".join(lines)


_CHECK_SCHEMA = {
    "type": "object",
    "required": ["name", "level", "value", "unit", "message"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "enum": list(CHECK_NAMES)},
        "level": {"type": "string", "enum": list(LEVELS)},
        "value": {"type": ["number", "string"]},
        "unit": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
    },
}

REPORT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://stillmotion.invalid/schemas/analysis-report.json",
    "title": "stillmotion photo analysis report",
    "description": "Report.to_dict(): checks of a source photo, its kind, the expected result and motion prompts.",
    "type": "object",
    "required": [
        "path", "width", "height", "checks", "kind", "kind_reason", "expected", "faces", "elements",
        "recommendations", "engine", "duration_s", "timings_s", "usable", "prompt",
    ],
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string"},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "checks": {"type": "array", "items": _CHECK_SCHEMA, "minItems": len(CHECK_NAMES), "maxItems": len(CHECK_NAMES)},
        "kind": {"type": "string", "enum": list(KINDS)},
        "kind_reason": {"type": "string", "minLength": 1},
        "expected": {"type": "string", "enum": list(GRADES)},
        "faces": {"type": "integer", "minimum": 0},
        "elements": {"type": "array", "items": {"type": "string", "enum": ["sky", "water", "vegetation", "hair", "steam"]}},
        "recommendations": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "engine": {"type": "string"},
        "duration_s": {"type": "number", "minimum": 1, "maximum": 30},
        "timings_s": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "usable": {"type": "boolean"},
        "prompt": {
            "type": ["object", "null"],
            "required": ["prompt", "lints", "rewrite", "score"],
            "properties": {
                "prompt": {"type": "string"},
                "lints": {"type": "array", "items": {"type": "object", "required": ["code", "level", "message"]}},
                "rewrite": {"type": ["string", "null"]},
                "score": {"type": "integer", "minimum": 0, "maximum": 100},
            },
        },
    },
}
"""JSON Schema (draft 2020-12) of :meth:`Report.to_dict`."""


# ---------------------------------------------------------------- entry point


def analyze_photo(
    photo: str | os.PathLike | Still,
    *,
    target_aspect: Aspect | str | None = None,
    scene: Scene | None = None,
) -> Report:
    """Judge a photo before animating it: checks, kind, expected result, prompts.

    Args:
        photo: a photo file, or a :class:`~stillmotion.image.Still` already loaded.
        target_aspect: the output aspect the clip will have (16:9, 9:16, 1:1,
            4:5); the aspect check says how much of the photo a crop to it
            keeps. None or ``source``: the closest output aspect is reported.
        scene: the photo's :class:`~stillmotion.scene.Scene`, if one exists
            (its layers are reused; built from the photo when None). Must
            wrap the same pixels.

    Returns:
        A :class:`Report`; ``report.usable`` is False when a check is unusable.

    Raises:
        InputError: the file cannot be loaded (see :func:`~stillmotion.image.load_image`),
            or ``target_aspect`` is not an output aspect.
        ValueError: ``scene`` wraps a photo of another size.

    >>> report = analyze_photo("photo.jpg", target_aspect="9:16")  # doctest: +SKIP
    >>> report.check("aspect").message  # doctest: +SKIP
    '3:2 photo (1.50): a 9:16 crop keeps 38% of the width, around the subject'
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        target = Aspect(target_aspect) if target_aspect is not None else None
    except ValueError:
        raise InputError(f"target_aspect {target_aspect!r} is not an output aspect: use 16:9, 9:16, 1:1, 4:5 or source") from None
    if target is Aspect.source:
        target = None

    # 1. Load.
    still = photo if isinstance(photo, Still) else load_image(photo)
    rgb = still.rgb
    W, H = still.size
    t1 = time.perf_counter()
    timings["load"] = t1 - t0

    # 2. Understand: the layers a following animate reuses.
    if scene is None:
        scene = Scene(rgb)
    elif scene.size != (W, H):
        raise ValueError(f"scene is {scene.size[0]}×{scene.size[1]} px but the photo is {W}×{H} px: pass the photo's own Scene")
    faces = scene.faces
    depth = scene.depth
    regions = {k: float(v.mean()) for k, v in scene.regions.items()}
    small = scene._small  # the Scene's working copy, long side at most DEPTH_SIDE (shared, not recomputed)
    t2 = time.perf_counter()
    timings["scene"] = t2 - t1

    # 3. Kind of photo (the exposure check needs it: a product's white backdrop is no flaw).
    h, w = small.shape[:2]
    grey8 = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    grey = grey8.astype(np.float32) / 255.0
    kind, reason = _kind(grey, small, faces, (W, H), regions)
    t3 = time.perf_counter()
    timings["kind"] = t3 - t2

    # 4. Checks.
    s = w / W
    face_boxes = [tuple(v * s for v in f) for f in faces]
    blur = _sharpness_map(grey, scene.saliency, depth, face_boxes)
    checks = [
        _check_resolution(W, H),
        _check_aspect(W, H, target),
        _check_sharpness(blur, bool(faces), w),
        _check_exposure(grey8, scene.regions["sky"], backdrop_ok=kind in ("product", "text")),
        _check_noise(small),
        _check_compression(rgb),
        _check_saturation(small, grey8),
        _check_depth(depth, face_boxes, (w, h), scene.subject(), blur, regions.get("sky", 0.0)),
    ]
    t4 = time.perf_counter()
    timings["checks"] = t4 - t3

    # 5. Expected result and prompts.
    elements = [k for k in ("sky", "water", "vegetation", "hair", "steam") if regions.get(k, 0.0) >= ELEMENT_MIN_SHARE]
    expected, downgrade = _expected(kind, regions, checks)
    if downgrade:
        reason = f"{reason}; {downgrade}"
    flat = next(c for c in checks if c.name == "depth").level != "ok"
    recommendations = _recommend(kind, elements, regions, scene.regions, flat, _blue_sky(small, scene.regions["sky"]))
    t5 = time.perf_counter()
    timings["recommend"] = t5 - t4
    timings["total"] = t5 - t0

    return Report(
        path=str(still.path) if getattr(still, "path", None) is not None else "",
        width=W,
        height=H,
        checks=checks,
        kind=kind,
        kind_reason=reason,
        expected=expected,
        faces=len(faces),
        elements=elements,
        recommendations=recommendations,
        engine=ENGINE,
        duration_s=DURATION_S[expected],
        timings_s=timings,
    )


# ---------------------------------------------------------------- resolution and aspect


def _check_resolution(W: int, H: int) -> Check:
    long, short = max(W, H), min(W, H)
    value, orient = f"{W}×{H}", ("portrait orientation, " if H > W else "")
    min_txt = f"{MIN_SIZE_PX[0]}×{MIN_SIZE_PX[1]}" if W >= H else f"{MIN_SIZE_PX[1]}×{MIN_SIZE_PX[0]}"
    pref_txt = f"{PREFERRED_SIZE_PX[0]}×{PREFERRED_SIZE_PX[1]}" if W >= H else f"{PREFERRED_SIZE_PX[1]}×{PREFERRED_SIZE_PX[0]}"
    if short < UNUSABLE_SIDE_PX:
        return Check("resolution", "unusable", value, "px",
                     f"{value} px is far too small to animate: use a photo of at least {min_txt} px")
    if short < SMALL_SIDE_PX:
        return Check("resolution", "warning", value, "px",
                     f"{value} px is small ({orient}short side under {SMALL_SIDE_PX} px): the clip will be upscaled "
                     f"and look soft; use the original, at least {min_txt} px (ideally {pref_txt})")
    if long < MIN_SIZE_PX[0] or short < MIN_SIZE_PX[1]:
        return Check("resolution", "advice", value, "px",
                     f"{value} px is below the recommended {min_txt}: 720p output will be slightly upscaled; "
                     f"a larger original ({pref_txt} or more) gives a crisper clip")
    if long < PREFERRED_SIZE_PX[0] or short < PREFERRED_SIZE_PX[1]:
        return Check("resolution", "ok", value, "px",
                     f"{value} px: fine for 720p; {pref_txt} or more is best for 1080p")
    return Check("resolution", "ok", value, "px", f"{value} px: enough for 1080p output")


_PHOTO_ASPECTS = {"21:9": 21 / 9, "2:1": 2.0, "16:9": 16 / 9, "16:10": 1.6, "3:2": 1.5, "4:3": 4 / 3, "5:4": 1.25, "1:1": 1.0,
                  "4:5": 0.8, "3:4": 0.75, "2:3": 2 / 3, "10:16": 0.625, "9:16": 9 / 16, "1:2": 0.5, "9:21": 9 / 21}


def _aspect_name(r: float) -> str:
    name, ref = min(_PHOTO_ASPECTS.items(), key=lambda kv: abs(math.log(r / kv[1])))
    return name if abs(math.log(r / ref)) < 0.02 else (f"{r:.2f}:1" if r >= 1 else f"1:{1 / r:.2f}")


def _crop_keep(r: float, t: float) -> tuple[float, str]:
    """Fraction kept, and of which side, when a width/height ``r`` photo is cropped to ``t``."""
    return (t / r, "width") if r > t else (r / t, "height")


def _check_aspect(W: int, H: int, target: Aspect | None) -> Check:
    r = W / H
    name = _aspect_name(r)
    value = round(r, 3)
    if target is None:
        best = min(OUTPUT_ASPECTS, key=lambda a: abs(math.log(r / a.ratio)))
        keep, side = _crop_keep(r, best.ratio)
        if keep > 0.995:
            return Check("aspect", "ok", value, "", f"{name} photo ({r:.2f}): exactly {best.value}, nothing is cropped")
        return Check("aspect", "ok", value, "",
                     f"{name} photo ({r:.2f}): closest output aspect {best.value}, whose crop keeps "
                     f"{keep:.0%} of the {side}; the default (source) keeps the whole photo")
    keep, side = _crop_keep(r, target.ratio)
    if keep > 0.995:
        return Check("aspect", "ok", value, "", f"{name} photo ({r:.2f}): already {target.value}, nothing is cropped")
    msg = f"{name} photo ({r:.2f}): a {target.value} crop keeps {keep:.0%} of the {side}, around the subject"
    if keep < ASPECT_WARNING_KEEP:
        return Check("aspect", "warning", value, "",
                     f"{msg}; much of the scene is lost: shoot or pick a photo closer to {target.value}")
    if keep < ASPECT_ADVICE_KEEP:
        return Check("aspect", "advice", value, "", f"{msg}; check that the subject fits")
    return Check("aspect", "ok", value, "", msg)


# ---------------------------------------------------------------- sharpness


def _edge_blur(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blur radius at the photo's edges, contrast-invariant.

    Zhuo & Sim, "Defocus map estimation from a single image" (Pattern
    Recognition 2011), as in :mod:`stillmotion.scene.depth`'s defocus cue: an
    edge blurred by σ, re-blurred with σ0 = 1 px, has a gradient ratio
    R = |∇I| / |∇(I ∗ g_σ0)| = √(σ² + σ0²) / σ, so σ = σ0 / √(R² − 1).
    Unlike the Laplacian variance, this does not grow with contrast or
    texture, so a smooth face in focus is not "softer" than out-of-focus grass.

    Args:
        grey: float32 h×w in [0, 1].

    Returns:
        (edges, sigma): bool h×w Canny edges of the contrast-stretched image,
        float32 h×w blur radius in pixels (meaningful at the edges).
    """
    lo, hi = np.percentile(grey, (1, 99))
    g = np.clip((grey - lo) / max(float(hi - lo), 1e-3), 0.0, 1.0).astype(np.float32)
    g1 = _grad_mag(g)
    g2 = _grad_mag(cv2.GaussianBlur(g, (0, 0), 1.0))
    edges = (cv2.Canny((g * 255).astype(np.uint8), 40, 100) > 0) & (g1 > 0.1)
    ratio = np.clip(g1 / (g2 + 1e-6), 1.005, 50.0)
    sigma = np.clip(1.0 / np.sqrt(ratio * ratio - 1.0), 0.0, 10.0).astype(np.float32)
    return edges, sigma


def _grad_mag(x: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


@dataclass
class _Blur:
    """Edge blur of the working image: per tile, and where the subject is."""

    tiles: np.ndarray  # float64 ny×nx blur radius (px) of each tile's crispest edges, NaN without edges
    frame: float  # the frame's sharpest region (mean of the 3 crispest tiles), NaN without edges
    subject: float  # the subject's blur, NaN when unmeasurable
    spread: float  # 75th percentile of the tiles minus the sharpest region
    where: str  # "face" or "salient area"
    motion: float = 0.0  # blur (px) of the frame's edges in their blurriest direction, when motion blur is found
    plain: bool = False  # no tonal variation to speak of (a blank or nearly uniform image)


def _motion_blur(grey: np.ndarray, edges: np.ndarray, sigma: np.ndarray) -> float:
    """Directional (motion) blur: the blur of the frame's edges in their blurriest of 4
    gradient directions when it is :data:`MOTION_ANISOTROPY` × that of the crispest
    direction (camera shake smears edges across the motion only), else 0."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    direction = ((np.degrees(np.arctan2(gy[edges], gx[edges])) % 180 + 22.5) // 45).astype(int) % 4
    vals = sigma[edges]
    per_dir = [float(np.percentile(vals[direction == k], 30)) for k in range(4) if (direction == k).sum() >= 50]
    if len(per_dir) < 2 or max(per_dir) < MOTION_ANISOTROPY * max(min(per_dir), 1e-3):
        return 0.0
    return max(per_dir)


def _sharpness_map(grey: np.ndarray, saliency: np.ndarray, depth: np.ndarray, faces: list) -> _Blur:
    h, w = grey.shape
    edges, sigma = _edge_blur(grey)
    motion = _motion_blur(grey, edges, sigma)
    plain = float(np.percentile(grey, 99) - np.percentile(grey, 1)) < 0.1
    # Tiles of about 1/8 of the long side; a tile's blur is the 30th
    # percentile of its edges' blur (its crispest part: a sharp subject
    # against bokeh in the same tile still counts as sharp).
    T = max(32, round(max(h, w) / 8))
    ny, nx = -(-h // T), -(-w // T)
    ys, xs = np.nonzero(edges)
    vals = sigma[ys, xs]
    tid = (ys // T) * nx + xs // T
    order = np.argsort(tid, kind="stable")
    bounds = np.searchsorted(tid[order], np.arange(ny * nx + 1))
    sorted_vals = vals[order]
    tiles = np.full(ny * nx, np.nan)
    need = max(20, int(0.003 * T * T))
    for t in range(ny * nx):
        a, b = bounds[t], bounds[t + 1]
        if b - a >= need:
            tiles[t] = np.percentile(sorted_vals[a:b], 30)
    tiles = tiles.reshape(ny, nx)
    valid = np.sort(tiles[np.isfinite(tiles)])
    frame = float(valid[:3].mean()) if valid.size else math.nan
    spread = float(np.percentile(valid, 75) - frame) if valid.size >= 4 else 0.0

    if faces:
        x, y, fw, fh = faces[0]
        box = (slice(max(0, int(y)), int(y + fh)), slice(max(0, int(x)), int(x + fw)))
        v = sigma[box][edges[box]]
        if v.size >= 20:
            return _Blur(tiles, frame, float(np.percentile(v, 30)), spread, "face", motion, plain)
    # No face: the salient, near area. Weight each tile by saliency × depth and
    # take the crispest two of the tiles weighing at least SUBJECT_TILE_WEIGHT
    # of the most (spectral-residual saliency is patchy: a low bar keeps a
    # small sharp subject, such as a drop, next to its salient surroundings).
    sal = cv2.resize(saliency, (w, h), interpolation=cv2.INTER_AREA)
    sal = cv2.GaussianBlur(sal, (0, 0), max(2.0, w / 60))
    near = cv2.resize(depth, (w, h), interpolation=cv2.INTER_AREA)
    weight = sal / (float(sal.max()) + 1e-6) * (0.3 + near)
    padded = np.zeros((ny * T, nx * T), np.float32)
    padded[:h, :w] = weight
    tw = padded.reshape(ny, T, nx, T).mean(axis=(1, 3))
    tw = np.where(np.isfinite(tiles), tw, 0.0)
    if tw.max() <= 0:
        return _Blur(tiles, frame, frame, spread, "salient area", motion, plain)
    chosen = np.sort(tiles[tw >= SUBJECT_TILE_WEIGHT * tw.max()])
    return _Blur(tiles, frame, float(chosen[:2].mean()), spread, "salient area", motion, plain)


def _check_sharpness(b: _Blur, has_face: bool, work_w: int) -> Check:
    if not math.isfinite(b.frame) and b.plain:
        return Check("sharpness", "warning", "n/a", "px",
                     "no detail at all (a plain or nearly uniform image): nothing will visibly move; use a photo with a subject")
    if not math.isfinite(b.frame):
        return Check("sharpness", "unusable", "n/a", "px",
                     "no sharp edge anywhere: the photo is badly out of focus or shaken; use another shot")
    subj = b.subject if math.isfinite(b.subject) else b.frame
    where = "the face" if b.where == "face" else "the subject"
    if b.motion > SHARP_PX and b.motion > subj:
        # Camera shake: the crispest edges run along the motion and look sharp.
        subj = b.motion
        level = "warning" if subj > SOFT_PX else "advice"
        return Check("sharpness", level, round(subj, 2), "px",
                     f"motion blur: edges are smeared in one direction (blur ≈{subj:.1f} px at {work_w} px wide "
                     "across the motion), camera shake or a moving subject; use a steadier or faster shot")
    value = round(subj, 2)
    at = f"blur ≈{subj:.1f} px at {work_w} px wide"
    if b.frame > BLUR_UNUSABLE_PX:
        return Check("sharpness", "unusable", value, "px",
                     f"nothing in the frame is sharp ({at}): the photo is badly out of focus or shaken; use another shot")
    if subj <= SHARP_PX:
        bokeh = " (the blurred background is fine: it helps depth)" if b.spread >= SHALLOW_DOF_SPREAD else ""
        return Check("sharpness", "ok", value, "px", f"{where} is sharp ({at}){bokeh}")
    if subj > SOFT_PX and b.frame <= SHARP_PX:
        level = "warning" if has_face else "advice"
        return Check("sharpness", level, value, "px",
                     f"{where} is soft ({at}) while other parts are sharp (≈{b.frame:.1f} px): focus missed "
                     f"{where}; pick a frame focused on it")
    if subj > SOFT_PX:
        return Check("sharpness", "warning", value, "px",
                     f"{where} is soft ({at}) and nothing else is sharper: out of focus, shaken or "
                     "over-smoothed; the clip will look soft; use a sharper shot")
    return Check("sharpness", "advice", value, "px",
                 f"{where} is slightly soft ({at}): acceptable, but a crisper shot will look better in motion")


# ---------------------------------------------------------------- exposure, noise, compression, colour


def _check_exposure(grey8: np.ndarray, sky: np.ndarray, *, backdrop_ok: bool = False) -> Check:
    """Brightness, blown highlights and crushed shadows.

    A blown area that touches the frame's edge and is not sky is taken for a
    white backdrop (a studio product shot, a graphic): fine as a look, so it
    is advice at most. A blown sky is not: clouds there have nothing to move.
    With ``backdrop_ok`` (a product or text kind) a blown "sky" is the
    backdrop too (the region detector takes a plain backdrop for sky).
    """
    mean = float(grey8.mean()) / 255.0
    blown = grey8 > CLIPPED_LEVEL
    clipped = float(blown.mean())
    crushed = float((grey8 < CRUSHED_LEVEL).mean())
    value = round(100 * mean, 1)
    stats = f"mean brightness {mean:.0%}, {clipped:.0%} blown highlights, {crushed:.0%} crushed shadows"
    if mean < UNUSABLE_MEAN[0] or mean > UNUSABLE_MEAN[1]:
        return Check("exposure", "unusable", value, "%", f"the frame is almost all {'black' if mean < 0.5 else 'white'} ({stats})")
    backdrop = sky_blown = 0.0
    if clipped > CLIPPED_ADVICE:
        n, labels = cv2.connectedComponents(blown.astype(np.uint8), connectivity=8)
        edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        touching = np.isin(labels, edge[edge != 0])
        in_sky = cv2.resize(sky, (grey8.shape[1], grey8.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5
        sky_blown = float((blown & in_sky).mean())
        if backdrop_ok:
            in_sky[:] = False
        backdrop = float((touching & ~in_sky).mean())
    problems: list[tuple[str, str]] = []  # (level, words)
    if mean < DARK_WARNING_MEAN:
        problems.append(("warning", "too dark: brighten it (or lift the shadows) before animating, or motion will be hard to see"))
    elif mean < DARK_ADVICE_MEAN:
        problems.append(("advice", "on the dark side: fine for a night or low-key shot, otherwise brighten it a little"))
    elif mean > BRIGHT_ADVICE_MEAN and backdrop < 0.5 * clipped:
        problems.append(("advice", "very bright: fine for a high-key shot, otherwise lower the exposure a little"))
    if clipped > CLIPPED_ADVICE and backdrop >= 0.8 * clipped:
        problems.append(("advice", f"a blown-out white backdrop ({backdrop:.0%} of the frame): fine for a studio or graphic look"))
    elif clipped > CLIPPED_WARNING:
        where = "the sky is blown out, clouds there cannot drift" if sky_blown > 0.5 * clipped else "large blown highlights have no detail to move"
        problems.append(("warning", f"{where}: recover the highlights or use a better-exposed shot"))
    elif clipped > CLIPPED_ADVICE:
        problems.append(("advice", "some highlights are blown: recover them if you can"))
    if crushed > CRUSHED_WARNING:
        problems.append(("warning", "large areas are pure black: lift the shadows"))
    elif crushed > CRUSHED_ADVICE:
        problems.append(("advice", "some shadows are crushed to black: lift them a little if you can"))
    if not problems:
        return Check("exposure", "ok", value, "%", f"well exposed ({stats})")
    level = max((p[0] for p in problems), key=LEVELS.index)
    return Check("exposure", level, value, "%", f"{'; '.join(p[1] for p in problems)} ({stats})")


def _haar_hh(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One level of the Haar transform: the diagonal detail (HH) and the 2×2 average (LL)."""
    h, w = g.shape
    g = g[: h // 2 * 2, : w // 2 * 2]
    a, b, c, d = g[0::2, 0::2], g[0::2, 1::2], g[1::2, 0::2], g[1::2, 1::2]
    return (a - b - c + d) / 2, (a + b + c + d) / 4


def _noise_sigma(small: np.ndarray) -> float:
    """Luminance noise σ in levels of 255 at the working size.

    Donoho's estimator (the diagonal Haar detail of white noise has the
    noise's σ) on the flattest part of the photo (:data:`NOISE_FLAT_SHARE`), made blind to texture by
    comparing two scales: white noise loses three quarters of its HH energy
    from one scale to the next, texture keeps it, so σ² ≈ 4/3 (E₁ − E₂).
    """
    g = cv2.cvtColor(small.astype(np.float32), cv2.COLOR_RGB2GRAY)
    d1, ll = _haar_hh(g)
    d2, _ = _haar_hh(ll)
    if d2.size < 16:
        return 0.0
    grad = _grad_mag(cv2.GaussianBlur(g, (0, 0), 2.0))[0::4, 0::4][: d2.shape[0], : d2.shape[1]]
    flat2 = grad <= np.percentile(grad, 100 * NOISE_FLAT_SHARE)
    flat1 = np.repeat(np.repeat(flat2, 2, axis=0), 2, axis=1)
    e1 = float(np.mean(d1[: flat1.shape[0], : flat1.shape[1]][flat1] ** 2))
    e2 = float(np.mean(d2[flat2] ** 2))
    return math.sqrt(max(0.0, 4.0 / 3.0 * (e1 - e2)))


def _check_noise(small: np.ndarray) -> Check:
    n = _noise_sigma(small)
    value = round(n, 2)
    if n > NOISE_WARNING:
        return Check("noise", "warning", value, "/255",
                     f"heavy noise (grain ≈{n:.1f} levels of 255 at video size): denoise it first, grain swims when the image moves")
    if n > NOISE_ADVICE:
        return Check("noise", "advice", value, "/255",
                     f"visible grain (≈{n:.1f} levels of 255 at video size): a light denoise will help")
    return Check("noise", "ok", value, "/255", f"clean (noise ≈{n:.1f} levels of 255 at video size)")


def _blockiness(rgb: np.ndarray) -> tuple[float, float]:
    """JPEG 8×8 blockiness at full resolution, on a grid of crops.

    The mean absolute step between neighbouring pixels is measured for each
    of the 8 column (and row) phases, pooled over crops that start on the
    8-pixel grid: a JPEG's block edges make one phase stand out (the phase
    is found, so a cropped JPEG counts too). Blockiness is
    (m + e + c) / (m + c), with m the typical step, e the extra step at the
    strongest phase and c = 1 level: the regularisation keeps smooth bokeh
    or sky, whose typical step is near 0, from turning a faint grid into a
    large ratio. About 1.0 for an uncompressed or resized photo.

    Returns:
        (blockiness, e): the ratio, and the extra step at block edges in levels of 255.
    """
    H, W = rgb.shape[:2]
    c = min(BLOCK_CROP, H // 8 * 8, W // 8 * 8)
    if c < 16:
        return 1.0, 0.0
    sums_h, sums_v = np.zeros(8), np.zeros(8)
    ys = np.linspace(0, H - c, BLOCK_CROPS).astype(int) // 8 * 8
    xs = np.linspace(0, W - c, BLOCK_CROPS).astype(int) // 8 * 8
    for y in np.unique(ys):
        for x in np.unique(xs):
            g = cv2.cvtColor(rgb[y : y + c, x : x + c], cv2.COLOR_RGB2GRAY).astype(np.float32)
            dh = np.abs(np.diff(g, axis=1)).mean(axis=0)  # step between column j and j+1
            dv = np.abs(np.diff(g, axis=0)).mean(axis=1)
            for p in range(8):
                sums_h[p] += dh[p::8].mean()
                sums_v[p] += dv[p::8].mean()
    n = 2 * len(np.unique(ys)) * len(np.unique(xs))
    typical = float(np.median(sums_h) + np.median(sums_v)) / n
    extra = float(sums_h.max() - np.median(sums_h) + sums_v.max() - np.median(sums_v)) / n
    return (typical + extra + 1.0) / (typical + 1.0), extra


def _check_compression(rgb: np.ndarray) -> Check:
    ratio, extra = _blockiness(rgb)
    value = round(ratio, 2)
    steps = f"blockiness {ratio:.2f}, block edges {extra:.1f} levels stronger than other steps"
    if ratio > BLOCK_WARNING_RATIO:
        return Check("compression", "warning", value, "×",
                     f"heavy JPEG compression: 8×8 blocks show ({steps}); use the original or a "
                     "higher-quality export, blocks crawl when the image moves")
    if ratio > BLOCK_ADVICE_RATIO:
        return Check("compression", "advice", value, "×",
                     f"noticeable JPEG compression ({steps}): a higher-quality export is better")
    return Check("compression", "ok", value, "×", f"no visible JPEG blocking ({steps})")


def _check_saturation(small: np.ndarray, grey8: np.ndarray) -> Check:
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    over = float(((hsv[..., 1] > OVERSATURATED_S * 255) & (hsv[..., 2] > OVERSATURATED_V * 255)).mean())
    contrast = float(grey8.std()) / 255.0
    value = round(100 * over, 1)
    notes = []
    if over > OVERSATURATED_ADVICE:
        notes.append(f"very saturated colours ({over:.0%} of the photo at full saturation): fine if that is the look, "
                     "but a heavy filter or saturation boost shows as colour banding in motion")
    if contrast > CONTRAST_ADVICE:
        notes.append(f"extreme contrast (RMS {contrast:.2f}): a heavy filter or HDR look; a gentler edit animates more naturally")
    if notes:
        return Check("saturation", "advice", value, "%", "; ".join(notes))
    return Check("saturation", "ok", value, "%", f"natural colour and contrast ({over:.0%} fully saturated, RMS contrast {contrast:.2f})")


# ---------------------------------------------------------------- depth


def _check_depth(
    depth: np.ndarray, faces: list, size: tuple[int, int], subject: tuple[float, float], b: _Blur, sky: float
) -> Check:
    """Depth cues that make parallax read: a person or subject in front, a shallow depth
    of field, or an open scene from near ground to a far sky.

    Separation is measured on the Scene's depth (0–1, 1 = near): for a face,
    its median depth minus the background's (the farthest quarter of the
    rest: the body below a face is as near as the face); otherwise the
    median depth of a box around the subject (30 % of each side) minus the
    median of the rest.
    """
    w, h = size
    d = cv2.resize(depth, (w, h), interpolation=cv2.INTER_AREA)
    inside = np.zeros((h, w), bool)
    if faces:
        x, y, fw, fh = faces[0]
        inside[max(0, int(y)) : int(y + fh), max(0, int(x)) : int(x + fw)] = True
    else:
        cx, cy = subject
        bw, bh = 0.3 * w, 0.3 * h
        inside[max(0, int(cy * h - bh / 2)) : int(cy * h + bh / 2), max(0, int(cx * w - bw / 2)) : int(cx * w + bw / 2)] = True
    sep = 0.0
    if inside.any() and not inside.all():
        background = np.percentile(d[~inside], 25) if faces else np.median(d[~inside])
        sep = float(np.median(d[inside]) - background)
    value = round(sep, 3) + 0.0  # + 0.0: no "-0.0"
    cues = []
    if faces and sep >= DEPTH_SEPARATION_GOOD:
        cues.append(f"the person stands {sep:.2f} nearer than the background on a 0–1 depth scale")
    elif not faces and sep >= DEPTH_SUBJECT_GOOD:
        cues.append(f"the subject stands {sep:.2f} nearer than the rest on a 0–1 depth scale")
    if math.isfinite(b.frame) and b.frame <= SHARP_PX and b.spread >= SHALLOW_DOF_SPREAD:
        cues.append("shallow depth of field (sharp subject, blurred background)")
    if sky >= DEPTH_OPEN_SKY and not faces:
        cues.append(f"an open scene from near ground to a far sky ({sky:.0%} sky)")
    if cues:
        return Check("depth", "ok", value, "",
                     f"good depth cues: {'; '.join(cues)}: parallax will read well, push-ins and gentle orbits work")
    return Check("depth", "advice", value, "",
                 f"flat scene (subject-to-background depth difference {value:+.2f} on a 0–1 scale, no depth-of-field "
                 "or horizon cue): prefer zooms and element motion over orbits")


# ---------------------------------------------------------------- kind


def _text_lines(grey: np.ndarray) -> tuple[int, int, float]:
    """Rendered text: character-sized, stroke-like shapes of the minority tone, lined up in rows.

    Otsu binarisation, connected components of character size and fill
    (solid blobs such as windows are left out), each widened sideways by
    0.6× its height so the letters of a line merge; a line is a merged
    blob at least 3× wider than tall holding at least 5 characters.

    Returns:
        (characters in lines, lines, share of the frame the lines cover).
    """
    h, w = grey.shape
    g8 = (grey * 255).astype(np.uint8)
    _, bw = cv2.threshold(g8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    fg = bw == 0 if (bw == 0).mean() < 0.5 else bw > 0
    n, _, st, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    x, y, cw, ch, area = (st[1:, i] for i in range(5))
    fill = area / np.maximum(cw * ch, 1)
    cand = np.nonzero((ch >= max(5, 0.008 * h)) & (ch <= 0.12 * h) & (cw <= 2.5 * ch) & (area >= 12)
                      & (fill > 0.08) & (fill < 0.85))[0]
    if cand.size < TEXT_MIN_CHARS:
        return int(cand.size), 0, 0.0
    rows = np.zeros((h, w), np.uint8)
    for i in cand:
        pad = int(0.6 * ch[i])
        cv2.rectangle(rows, (int(x[i] - pad), int(y[i])), (int(x[i] + cw[i] + pad), int(y[i] + ch[i] - 1)), 255, -1)
    m, labels, st2, _ = cv2.connectedComponentsWithStats(rows, connectivity=4)
    cx = np.clip(x[cand] + cw[cand] // 2, 0, w - 1)
    cy = np.clip(y[cand] + ch[cand] // 2, 0, h - 1)
    per_line = np.bincount(labels[cy, cx], minlength=m)
    lines = [k for k in range(1, m) if per_line[k] >= 5 and st2[k, 2] >= 3 * st2[k, 3]]
    chars = int(sum(per_line[k] for k in lines))
    cover = float(sum(st2[k, 4] for k in lines)) / (h * w)
    return chars, len(lines), cover


def _straight_lines(grey: np.ndarray) -> tuple[float, float]:
    """Long straight lines (probabilistic Hough on Canny edges).

    Returns:
        (total length in units of width + height, share of it within 10° of
        horizontal or vertical).
    """
    h, w = grey.shape
    edges = cv2.Canny((grey * 255).astype(np.uint8), 50, 150)
    found = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=50, minLineLength=int(0.1 * min(h, w)), maxLineGap=3)
    if found is None:
        return 0.0, 0.0
    seg = found[:, 0].astype(np.float32)
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    length = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(np.abs(dy), np.abs(dx)))
    hv = (angle < 10) | (angle > 80)
    return float(length.sum() / (h + w)), float(length[hv].sum() / max(float(length.sum()), 1e-6))


def _clean_background_object(small: np.ndarray, grey: np.ndarray) -> tuple[bool, str]:
    """A compact object standing out from a clean background (a product or still-life shot).

    The background is judged on the frame's border strip (6 % of the short
    side): smooth (median gradient below :data:`PRODUCT_MAX_BORDER_TEXTURE`)
    and of one colour or a soft gradient (75th percentile of the Lab
    distance to its median colour below :data:`PRODUCT_MAX_BORDER_SPREAD`).
    The object is the largest blob far in colour from that backdrop: it must
    cover :data:`PRODUCT_OBJECT_SHARE` of the frame and at most
    :data:`PRODUCT_MAX_OBJECT_BORDER` of the border strip (it stands inside
    the frame, not across it).
    """
    h, w = grey.shape
    b = max(2, round(0.06 * min(h, w)))
    border = np.zeros((h, w), bool)
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    texture = float(np.median(_grad_mag(cv2.GaussianBlur(grey, (0, 0), 1.0))[border]))
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab).astype(np.float32)  # 8-bit Lab: L, a, b in 0..255
    dist = np.linalg.norm(lab - np.median(lab[border], axis=0), axis=2)
    spread = float(np.percentile(dist[border], 75))
    if texture > PRODUCT_MAX_BORDER_TEXTURE or spread > PRODUCT_MAX_BORDER_SPREAD:
        return False, "busy background"
    obj = (dist > max(2.0 * spread, 20.0)).astype(np.uint8)
    obj = cv2.morphologyEx(obj, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, labels, st, _ = cv2.connectedComponentsWithStats(obj, connectivity=8)
    if n <= 1:
        return False, "nothing stands out from the background"
    k = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
    share = st[k, cv2.CC_STAT_AREA] / (h * w)
    on_border = float((labels[border] == k).mean())
    if not PRODUCT_OBJECT_SHARE[0] <= share <= PRODUCT_OBJECT_SHARE[1] or on_border > PRODUCT_MAX_OBJECT_BORDER:
        return False, "the subject is not a compact object"
    return True, f"one compact subject ({share:.0%} of the frame) on a clean, smooth background"


def _kind(grey: np.ndarray, small: np.ndarray, faces: list, size: tuple[int, int], regions: dict) -> tuple[str, str]:
    W, H = size
    chars, lines, cover = _text_lines(grey)
    if chars >= TEXT_MIN_CHARS and lines >= TEXT_MIN_LINES and cover >= TEXT_MIN_COVER:
        return "text", (f"rendered text: {chars} letter shapes in {lines} lines over {cover:.0%} of the frame; "
                        "motion models and warps smear letters")
    if len(faces) >= CROWD_FACES:
        return "crowd", f"{len(faces)} faces: many small faces are hard to keep natural in motion"
    face_share = faces[0][2] * faces[0][3] / (W * H) if faces else 0.0
    if faces and face_share >= PORTRAIT_FACE_SHARE:
        who = "one face" if len(faces) == 1 else f"{len(faces)} faces"
        return "portrait", f"{who}, the largest {face_share:.1%} of the frame: blinks, breathing and a push-in suit it"
    sky, water, veg = regions.get("sky", 0.0), regions.get("water", 0.0), regions.get("vegetation", 0.0)
    length, hv = _straight_lines(grey)
    if length >= ARCH_LINE_LENGTH and hv >= ARCH_HV_SHARE and veg < ARCH_MAX_VEGETATION:
        return "architecture", (f"long straight lines ({hv:.0%} of them vertical or horizontal) and little "
                                "vegetation: a building or structure; straight lines bend if the camera moves too much")
    nature = sky + water + veg
    if (sky >= LANDSCAPE_SKY_SHARE and nature >= LANDSCAPE_NATURE_SHARE) or water + veg >= LANDSCAPE_GROUND_SHARE:
        parts = [f"{k} {v:.0%}" for k, v in (("sky", sky), ("water", water), ("vegetation", veg)) if v >= ELEMENT_MIN_SHARE]
        return "landscape", f"natural elements fill the frame ({', '.join(parts)}): each can move on its own"
    product, why = _clean_background_object(small, grey)
    if product:
        return "product", f"{why}: a product or still-life shot"
    if regions.get("steam", 0.0) >= ELEMENT_MIN_SHARE:
        return "product", "a cup seen from above, as the subject: a food or drink shot"
    if faces:
        return "general", f"a small face ({face_share:.1%} of the frame) in a wider scene"
    return "general", "no face, no large natural elements, no dominant lines or clean backdrop: a general scene"


def _expected(kind: str, regions: dict, checks: list[Check]) -> tuple[str, str]:
    """Expected result: the kind's grade, one step lower per warning (two at most), Poor if unusable."""
    grade = EXPECTED[kind]
    if kind == "landscape" and max(regions.get("sky", 0.0), regions.get("water", 0.0)) < ELEMENT_MIN_SHARE:
        grade = "Very good"
    unusable = [c.name for c in checks if c.level == "unusable"]
    if unusable:
        return "Poor", f"Poor because {', '.join(unusable)} is unusable"
    warnings = [c.name for c in checks if c.level == "warning"]
    if not warnings:
        return grade, ""
    lowered = GRADES[min(len(GRADES) - 1, GRADES.index(grade) + min(2, len(warnings)))]
    if lowered == grade:
        return grade, ""
    plural = "s" if len(warnings) > 1 else ""
    return lowered, f"{grade} for a {kind} photo, lowered by the {' and '.join(warnings)} warning{plural}"


# ---------------------------------------------------------------- recommendations


def _blue_sky(small: np.ndarray, sky: np.ndarray) -> bool:
    """The sky region is blue (a real sky, not a plain grey or white backdrop taken for sky)."""
    m = cv2.resize(sky, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5
    if m.sum() < 16:
        return False
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)  # H in 0..180 (degrees / 2)
    hue, sat = float(np.median(hsv[..., 0][m])) * 2, float(np.median(hsv[..., 1][m])) / 255
    return 180 <= hue <= 260 and sat >= 0.12


def _recommend(kind: str, elements: list[str], shares: dict, masks: dict, flat: bool, blue_sky: bool) -> list[str]:
    """Motion prompts for this photo, best first; every clause is one the prompt parser uses.

    The first prompt combines the kind's motion (a portrait's blinks, a
    product's orbit, a building's tilt) with up to two natural elements and
    a camera move that suits the depth (a push-in on a flat scene, an orbit
    where the subject stands out); the others are a still-camera
    cinemagraph and a second camera move. An element is used when it covers
    :data:`ELEMENT_RECOMMEND_SHARE` of the frame; sky only in landscapes and
    architecture or when it is blue (the region detector takes a plain
    backdrop for sky); a portrait gets no sky or water (a backdrop, mostly).
    """
    phrases: dict[str, str] = {}
    for e in elements:
        if shares.get(e, 0.0) < ELEMENT_RECOMMEND_SHARE and e not in ("hair", "steam"):
            continue
        if e == "sky" and kind not in ("landscape", "architecture") and not blue_sky:
            continue
        if e == "sky":
            phrases[e] = "clouds drifting slowly to the left"
        elif e == "water":
            pool = shares.get("water", 0.0) > 0.6 and shares.get("sky", 0.0) < ELEMENT_MIN_SHARE
            phrases[e] = "ripples spreading across the water" if pool else "gentle waves on the water"
        elif e == "vegetation":
            m = masks["vegetation"]
            upper = float(m[: m.shape[0] // 2].sum()) / max(float(m.sum()), 1e-6)
            if upper > 0.6:
                phrases[e] = "leaves swaying gently in the breeze"
            elif shares.get("vegetation", 0.0) >= 0.3:
                phrases[e] = "grass swaying gently in the breeze"
            else:
                phrases[e] = "foliage swaying gently in the breeze"
        elif e == "steam":
            phrases[e] = "steam rising from the cup"
        elif e == "hair":
            phrases[e] = "hair moving gently in the breeze"
    # Water moves best, then plants, then clouds; the still-camera cinemagraph pairs
    # the first with the sky (two different flows).
    ordered = [phrases[e] for e in ("water", "vegetation", "sky") if e in phrases]
    nature = ordered[:2]
    still = [ordered[0], phrases["sky"]] if len(ordered) >= 2 and "sky" in phrases else nature
    out: list[str] = []
    if kind == "portrait":
        hair = [phrases["hair"]] if "hair" in phrases else []
        out.append(", ".join(["natural blinks", "subtle breathing", *hair, "slow push-in toward the face"]))
        out.append("natural blinks, subtle breathing, static camera")
        veg = [phrases["vegetation"]] if "vegetation" in phrases else []
        out.append(", ".join(["natural blinks", "gentle head sway", *veg, "very slow push-in"]))
    elif kind == "product":
        steam = [phrases["steam"]] if "steam" in phrases else []
        move = "slow push-in toward the subject" if flat else "slow orbit around the subject"
        out.append(", ".join([*steam, move, "soft light shifting"]))
        out.append(", ".join([*steam, "soft light shifting", "static camera"]))
        out.append(", ".join([*steam, "slow push-in toward the subject" if not flat else "very slow pull-back"]))
    elif kind == "architecture":
        sky = [phrases["sky"]] if "sky" in phrases else []
        out.append(", ".join([*sky, "slow tilt up revealing the building"]))
        out.append(", ".join([*sky, "very slow push-in toward the building"]))
    elif kind == "landscape":
        out.append(", ".join([*nature, "slow push-in"]))
        out.append(", ".join([*still, "static camera"]))
        out.append(", ".join([*nature[:1], "slow pan to the right"]))
    elif kind == "crowd":
        out.append("very slow push-in")
        out.append(", ".join([*nature[:1], "static camera"]) if nature else "very slow pull-back")
    elif kind == "text":
        out.append("very slow push-in")
        out.append("soft light shifting, static camera")
    else:
        move = "slow push-in" if flat else "gentle orbit to the right"
        out.append(", ".join([*nature, move]))
        out.append(", ".join([*nature, "slow pan to the right" if flat else "slow push-in"]))
        if nature:
            out.append(", ".join([*still, "static camera"]))
    unique: list[str] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique
