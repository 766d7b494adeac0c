"""Evaluate a clip with classical, reference-light video metrics.

:func:`evaluate_clip` streams a clip once (frames downscaled so the longer
side is ``max_side`` pixels; only a few frames and small thumbnails are
held) and measures:

``fidelity_psnr`` / ``fidelity_ssim`` (needs ``source``)
    The anchor (first) frame against the source photo, cropped as the recipe's
    ``shot.framing`` says (else centre-cropped to the clip's aspect) and resized to the clip's size (a small ECC affine
    alignment is tried as well and the better match kept). Higher is better.
``drift``
    Motion that no camera move explains, in px at ``max_side``: corners of the first frame
    (outside the regions the plan animates, and outside faces for a portrait plan) tracked
    with pyramidal Lucas–Kanade to up to 6 frames of the last second, a homography fitted by
    RANSAC to take out whatever camera move the clip makes, then the tracks' mean distance to
    it. An asked-for move (push-in, pan, both) is explained by the homography and is not drift;
    a frozen or sliding part of the picture is. Lower is better.
``flicker``
    Flow-compensated residual: frame *i* warped onto frame *i+1* with DIS
    optical flow, mean absolute difference in grey levels (0–255). Lower is
    better; brightness pumping and boiling textures raise it.
``dynamic_degree``
    Mean optical-flow magnitude, pixels per frame at ``max_side``.
``jerk``
    Variance of the second difference of the per-frame global motion
    (px/frame²): lower is smoother.
``camera_move``
    The global move read off the flow field (mean dx, dy, divergence and
    curl per frame, summed; each taken at its furthest point from the start,
    so a loop that goes out and back still reads as its move).
``plan_match``
    With an intent (the recipe's plan, else the prompt parsed by
    :func:`stillmotion.plan.prompt.parse_prompt`): one check per planned camera
    move, each on its own component (push-in/pull-back on the zoom, pans and
    trucks on dx, tilts and cranes on dy; orbits and rolls only have to move),
    passing with the planned sign and at least 15 % of the largest component;
    a move nobody asked for that dominates is a failed check too. The value is
    the share of checks passed; every check is in the metric's ``details``.
``loop_seam``
    Difference last → first frame divided by the median neighbouring-frame
    difference: ≈ 1 for a seamless loop, large for a jump cut. Judged only
    when the clip was meant to loop (``loop=True``, the recipe's request or
    plan, a "loop" in the prompt); otherwise its verdict is ``n/a``.
``face_stability``
    Per face (MediaPipe Face Mesh through LiteRT, up to 16 samples over the clip):
    RMS change of the rigid landmarks (face oval, nose, eye corners) after a
    similarity alignment to the first sample, in inter-ocular distances.
    Head motion, blinks and smiles do not count; a face that warps or
    "melts" does. Good < 0.02, poor > 0.05. Echoes VBench's subject
    consistency, measured on geometry. Absent when no face is found.
``region_focus``
    With a source and a prompt that animates elements (water, clouds,
    foliage, hair, steam): the mean non-camera motion (flow minus its affine
    fit) inside those regions, found on the source photo, divided by that
    elsewhere. Good ≥ 2, poor < 1.2. Regions stay where the first frame has
    them, so a large camera move blurs the answer. Echoes VBench's motion
    evaluation restricted to regions (as in motion-brush benchmarks).
``frame_quality`` / ``blockiness``
    No-reference sharpness (variance of the Laplacian, mean per frame) and
    8×8 block-edge strength (≈ 1 means no visible blocking). BRISQUE needs
    ``cv2.quality`` (opencv-contrib); without it BRISQUE is skipped.

Each metric is an accumulator (``update(frame)`` per decoded frame, then
``result()``), in the manner of torchmetrics; :func:`evaluate_clip` decodes
the clip once, computes the optical flow and its affine fit once per frame
and hands both to every accumulator.

The combined :attr:`Evaluation.score` (0..1, higher is better) is a
weighted mean of per-metric scores (:data:`SCORE_WEIGHTS`), over the
metrics that were measured. Every :class:`Metric` says on which frames it
was measured (``frames``); :meth:`Evaluation.to_dict` (``stillmotion eval
--json``) follows :data:`EVALUATION_SCHEMA`.
"""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from ._measure import block_edge_ratio, grey
from .errors import InputError
from .scene.faces import detect_faces
from .scene.landmarks import FACE_OVAL, LEFT_EYE, RIGHT_EYE, detect_landmarks, landmarks_status
from .video import iter_frames, probe

__all__ = [
    "CAMERA_MOVES",
    "EVALUATION_SCHEMA",
    "Evaluation",
    "Metric",
    "SCHEMA_ID",
    "SCORE_WEIGHTS",
    "VERDICTS",
    "evaluate_clip",
]

CAMERA_MOVES = ("static", "push-in", "pull-back", "pan-left", "pan-right", "tilt-up", "tilt-down", "orbit/other")

SCORE_WEIGHTS: dict[str, float] = {
    "flicker": 0.30,
    "drift": 0.20,
    "fidelity": 0.20,
    "dynamic_degree": 0.15,
    "jerk": 0.05,
    "plan_match": 0.10,
    "face_stability": 0.15,
    "region_focus": 0.10,
}
"""Weights of the combined score. Per-metric scores (each 0..1):
flicker ``1 − clip((flicker − 1) / 7)`` grey levels; drift ``1 − clip((drift − 0.5) / 3)`` px;
fidelity ``clip((psnr − 18) / 14)`` dB; dynamic degree 1 between 0.15 and 4 px/frame,
falling off outside (rewards moderate motion); jerk ``1 / (1 + jerk / 0.05)``;
plan_match the share of checks passed. Missing metrics (no source, no prompt) drop out and the
weights are renormalised."""

# Measured move thresholds, in pixels over the whole clip at max_side.
_STATIC_PX = 2.5
_ORBIT_CURL_SHARE = 0.6


VERDICTS = ("good", "fair", "poor", "n/a")
"""A metric's verdict: ``n/a`` means measured for information only, not judged and not scored
(a loop seam on a clip that was not asked to loop)."""


@dataclass
class Metric:
    """One measured quantity: its unit, what it measured, on which frames, and a verdict.

    Attributes:
        name: the metric's key (``flicker``, ``drift``, …).
        value: the measured value, in ``unit``.
        unit: the unit of ``value``.
        meaning: one sentence: what was measured and which way is better.
        verdict: one of :data:`VERDICTS`.
        frames: which decoded frames (0-based) it was measured on, in words
            (``"0-119 (consecutive pairs)"``, ``"0 vs 108-119"``).
        details: per-check figures where a metric combines several checks
            (``plan_match``: one entry per planned camera move), else empty.
    """

    name: str
    value: float
    unit: str
    meaning: str
    verdict: str
    frames: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)


SCHEMA_ID = "stillmotion-evaluation/2"
"""The ``schema`` value of :meth:`Evaluation.to_dict`; bumped when the JSON's shape changes."""

EVALUATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "stillmotion evaluation (stillmotion eval --json, recipe['evaluation'])",
    "type": "object",
    "required": ["schema", "score", "verdict", "camera_move", "intent", "metrics"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "weighted mean of the per-metric scores (SCORE_WEIGHTS) over the metrics that were "
            "measured and judged; higher is better",
        },
        "verdict": {"enum": ["good", "fair", "poor"], "description": "score ≥ 0.8 good, ≥ 0.6 fair, else poor"},
        "camera_move": {"enum": list(CAMERA_MOVES), "description": "the dominant global move measured"},
        "intent": {
            "type": "object",
            "description": "what the clip was asked to do, as the judge read it",
            "required": ["source", "camera", "loop", "loop_from"],
            "properties": {
                "source": {"enum": ["recipe", "prompt", "none"], "description": "where the plan came from"},
                "camera": {"type": "array", "items": {"type": "string"}, "description": "planned camera moves"},
                "loop": {"type": "boolean", "description": "the clip was meant to loop"},
                "loop_from": {"type": "string", "description": "what said so (or that nothing did)"},
            },
        },
        "rank": {"type": "integer", "minimum": 1, "description": "with --pick best: 1 = best"},
        "of": {"type": "integer", "minimum": 1, "description": "with --pick best: how many clips were ranked"},
        "metrics": {
            "type": "object",
            "description": "metric name → measurement, in measuring order",
            "additionalProperties": {
                "type": "object",
                "required": ["value", "unit", "verdict", "meaning", "frames"],
                "properties": {
                    "value": {"type": "number"},
                    "unit": {"type": "string"},
                    "verdict": {"enum": list(VERDICTS)},
                    "meaning": {"type": "string", "description": "what was measured, which way is better"},
                    "frames": {"type": "string", "description": "the 0-based frames it was measured on"},
                    "details": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "per-check figures (plan_match: one per planned move)",
                    },
                },
            },
        },
    },
}
"""JSON Schema (draft 2020-12) of :meth:`Evaluation.to_dict`, the output of ``stillmotion eval --json``."""


@dataclass
class Evaluation:
    """All metrics of one clip, a combined score (0..1, higher is better), the measured camera
    move and the intent it was judged against (``{"source", "camera", "loop", "loop_from"}``)."""

    path: str
    metrics: list[Metric] = field(default_factory=list)
    score: float = 0.0
    camera_move: str = "static"
    intent: dict[str, Any] = field(
        default_factory=lambda: {"source": "none", "camera": [], "loop": False, "loop_from": "nothing asked"}
    )

    @property
    def verdict(self) -> str:
        """The combined verdict: ``good`` for a score ≥ 0.8, ``fair`` ≥ 0.6, else ``poor``."""
        return _verdict(self.score, 0.8, 0.6, True)

    def metric(self, name: str) -> Metric:
        """The metric called ``name``; KeyError when it was not measured."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric {name!r} (have: {', '.join(m.name for m in self.metrics)})")

    def to_dict(self, rank: int | None = None, of: int | None = None) -> dict[str, Any]:
        """The evaluation as plain JSON: the one schema of ``recipe["evaluation"]`` and ``stillmotion eval --json``.

        The shape is :data:`EVALUATION_SCHEMA` (``"schema": SCHEMA_ID``): ``{"schema", "score": 0..1, "verdict",
        "camera_move": one of CAMERA_MOVES, "intent": {"source", "camera", "loop", "loop_from"},
        "metrics": {name: {"value", "unit", "verdict", "meaning", "frames"[, "details"]}}}`` in
        measuring order, plus ``"rank"`` (1 = best) and ``"of"`` (how many clips were ranked) when
        ``rank`` is given (``--pick best``). The clip's path is not included: the recipe and the
        caller know it.

        Raises:
            ValueError: ``rank`` without ``of``, or outside 1..of.
        """
        d: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "score": float(self.score),
            "verdict": self.verdict,
            "camera_move": self.camera_move,
            "intent": dict(self.intent),
        }
        if rank is not None:
            if of is None or not 1 <= rank <= of:
                raise ValueError(f"rank must be in 1..of, got rank={rank} of={of}")
            d["rank"], d["of"] = int(rank), int(of)
        d["metrics"] = {}
        for m in self.metrics:
            entry: dict[str, Any] = {
                "value": float(m.value),
                "unit": m.unit,
                "verdict": m.verdict,
                "meaning": m.meaning,
                "frames": m.frames,
            }
            if m.details:
                entry["details"] = [dict(x) for x in m.details]
            d["metrics"][m.name] = entry
        return d

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [
            f"{self.path}: score {self.score:.2f} {self.verdict} (0..1, higher is better), "
            f"camera move {self.camera_move}"
        ]
        asked = ", ".join(self.intent["camera"]) or "static"
        loop = "loop" if self.intent["loop"] else "no loop"
        lines.append(f"  asked ({self.intent['source']}): {asked}; {loop} ({self.intent['loop_from']})")
        for m in self.metrics:
            lines.append(
                f"  {m.name:<15} {_fmt(m.value):>9} {m.unit:<10} {m.verdict:<5} {m.meaning} [frames {m.frames}]"
            )
        return "\n".join(lines)


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


# --------------------------------------------------------------------------- helpers


def _small_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    s = min(1.0, max_side / max(w, h))
    return max(8, int(round(w * s))), max(8, int(round(h * s)))


def _ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (7, 7), 1.5)
    ma, mb = blur(a), blur(b)
    va = blur(a * a) - ma * ma
    vb = blur(b * b) - mb * mb
    cov = blur(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
    if mask is not None:
        m = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        if m.sum() < 64:
            return float(s.mean())
        return float(s[m].mean())
    return float(s.mean())


def _psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    if mask is not None and mask.sum() >= 64:
        d = d[mask]
    mse = float(np.mean(d * d))
    return 99.0 if mse <= 1e-10 else float(10 * np.log10(255.0**2 / mse))


def _fit_affine(flow: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares affine motion model of a flow field (inner 90 %, one outlier-rejection pass).

    Returns (params [a0, a1, a2, b0, b1, b2] with u = a0 + a1 x + a2 y, v = b0 + b1 x + b2 y in
    pixel coordinates, residual RMS in px).
    """
    h, w = flow.shape[:2]
    step = max(2, min(h, w) // 60)
    my, mx = int(h * 0.05), int(w * 0.05)
    ys, xs = np.mgrid[my : h - my : step, mx : w - mx : step]
    u = flow[ys, xs, 0].ravel().astype(np.float64)
    v = flow[ys, xs, 1].ravel().astype(np.float64)
    X = np.stack([np.ones(u.size), xs.ravel().astype(np.float64), ys.ravel().astype(np.float64)], 1)
    keep = np.ones(u.size, bool)
    pu = pv = np.zeros(3)
    for _ in range(2):
        pu, *_ = np.linalg.lstsq(X[keep], u[keep], rcond=None)
        pv, *_ = np.linalg.lstsq(X[keep], v[keep], rcond=None)
        r = np.hypot(X @ pu - u, X @ pv - v)
        thr = max(0.05, 2.5 * float(np.median(r)))
        keep = r <= thr
        if keep.sum() < 12:
            keep = np.ones(u.size, bool)
            break
    r = np.hypot(X @ pu - u, X @ pv - v)
    return np.concatenate([pu, pv]), float(np.sqrt(np.mean(r[keep] ** 2)))


def _ecc(template: np.ndarray, image: np.ndarray, init: np.ndarray) -> np.ndarray:
    """Refine the affine warp (image(W x) ≈ template(x)); the init back when ECC fails."""
    warp = init.astype(np.float32).copy()
    try:
        _, warp = cv2.findTransformECC(  # type: ignore[call-overload]  # the stubs refuse inputMask=None
            template.astype(np.float32),
            image.astype(np.float32),
            warp,
            cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5),
            None,
            5,
        )
    except cv2.error:
        return init.astype(np.float32)
    if not np.all(np.isfinite(warp)) or np.abs(warp[:, :2] - np.eye(2)).max() > 0.5:
        return init.astype(np.float32)
    return warp


def _align(image: np.ndarray, warp: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """image warped into template coordinates with ``warp`` (inverse map), and the valid mask."""
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(image, warp, size, flags=flags, borderMode=cv2.BORDER_CONSTANT)
    ones = np.full(image.shape[:2], 255, np.uint8)
    mask = cv2.warpAffine(ones, warp, size, flags=flags, borderMode=cv2.BORDER_CONSTANT) > 250
    return out, mask


def _verdict(value: float, good: float, fair: float, higher_better: bool) -> str:
    if higher_better:
        return "good" if value >= good else "fair" if value >= fair else "poor"
    return "good" if value <= good else "fair" if value <= fair else "poor"


# Planned move → the measured component that shows it and its sign. Components, in px over the
# clip at the evaluation size: "x" and "y" the content translation at the frame centre (content
# slides left when the camera pans right), "zoom" the isotropic scale's displacement at the
# frame corner (positive = content grows), "any" the largest of all (direction not checked).
_MOVE_CHECK: dict[str, tuple[str, int]] = {
    "push-in": ("zoom", 1),
    "zoom-in": ("zoom", 1),
    "dolly-zoom-in": ("zoom", 1),
    "pull-back": ("zoom", -1),
    "zoom-out": ("zoom", -1),
    "dolly-zoom-out": ("zoom", -1),
    "pan-left": ("x", 1),
    "truck-left": ("x", 1),
    "pan-right": ("x", -1),
    "truck-right": ("x", -1),
    "tilt-up": ("y", 1),
    "crane-up": ("y", 1),
    "tilt-down": ("y", -1),
    "crane-down": ("y", -1),
    "orbit-left": ("any", 1),
    "orbit-right": ("any", 1),
    "roll-left": ("any", 1),
    "roll-right": ("any", 1),
}
_AXIS_WORDS = {
    "x": "content dx",
    "y": "content dy",
    "zoom": "zoom at the corner",
    "roll": "roll at the corner",
    "largest": "largest component",
    "any": "largest component",
}
# A planned move must reach this share of the largest measured component (a slow push-in next
# to a gentle pan still counts; a trace of zoom from a pan does not).
_CHECK_SHARE = 0.15


@dataclass
class _Intent:
    """What the clip was asked to do, read from its recipe or parsed from its prompt.

    ``camera``: planned moves (:class:`stillmotion.plan.motion.Move` values; empty = static);
    ``regions``: the scene regions the plan animates (``sky``, ``water``, …);
    ``loop``: the clip was meant to loop, and ``loop_from`` what said so.
    """

    source: str  # "recipe" | "prompt" | "none"
    camera: list[str]
    regions: list[str]
    loop: bool
    loop_from: str
    portrait: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "camera": list(self.camera), "loop": self.loop, "loop_from": self.loop_from}


def _read_intent(prompt: str | None, recipe: dict[str, Any] | None, loop: bool | None) -> _Intent:
    """The clip's intent: the recipe's plan when there is one, else the prompt parsed by
    :func:`stillmotion.plan.prompt.parse_prompt`; ``loop`` (``--loop``) wins over both."""
    plan: dict[str, Any] | None = None
    source = "none"
    if recipe is not None and isinstance(recipe.get("plan"), dict):
        plan, source = recipe["plan"], "recipe"
    elif prompt is not None:
        from .plan.prompt import parse_prompt

        plan, source = parse_prompt(prompt).to_dict(), "prompt"
    camera = [str(c["move"]) for c in (plan or {}).get("camera", []) if float(c.get("amount", 1.0)) != 0]
    regions = sorted({str(e["region"]) for e in (plan or {}).get("elements", [])} - {"image", "mask"})
    request = (recipe or {}).get("request") or {}
    if loop is not None:
        looped, said = bool(loop), "--loop given" if loop else "--no-loop given"
    elif request.get("loop"):
        looped, said = True, "the recipe's request asks to loop"
    elif plan is not None and plan.get("loop"):
        looped, said = True, f"the {source}'s plan asks to loop"
    else:
        looped, said = False, "neither the recipe, the prompt nor --loop asks to loop"
    return _Intent(source, camera, regions, looped, said, (plan or {}).get("portrait") is not None)


def _frames(first: int, last: int) -> str:
    """A frame range in words (0-based, inclusive)."""
    return str(first) if first == last else f"{first}-{last}"


def _classify(tx: float, ty: float, div: float, curl: float, w: int, h: int) -> tuple[str, float]:
    """The global move from the summed content motion; returns (move, magnitude in px over the clip)."""
    r = 0.5 * math.hypot(w, h)
    zoom_px = 0.5 * div * r  # displacement at the frame corner from the isotropic scale
    roll_px = 0.5 * curl * r
    trans_px = math.hypot(tx, ty)
    mag = max(trans_px, abs(zoom_px), abs(roll_px))
    if mag < _STATIC_PX:
        return "static", mag
    if abs(roll_px) >= _ORBIT_CURL_SHARE * mag and abs(roll_px) > 0.5 * max(trans_px, abs(zoom_px)):
        return "orbit/other", mag
    if abs(zoom_px) >= trans_px:
        return ("push-in" if zoom_px > 0 else "pull-back"), mag
    if abs(tx) >= abs(ty):
        return ("pan-right" if tx < 0 else "pan-left"), mag  # content moves left when the camera pans right
    return ("tilt-up" if ty > 0 else "tilt-down"), mag


def _load_source(
    source: str | os.PathLike, w: int, h: int, framing: tuple[float, float, float, int, int] | None = None
) -> np.ndarray:
    """The source photo cropped as the clip frames it and resized to w×h: uint8 h×w×3.

    ``framing`` (from the recipe's ``shot.framing``): (centre x, centre y in photo px, photo px per
    output px, the clip's full width and height in px): the window the engine's first frame shows
    (the living engine frames a face or subject, not always the centre). Without it, or when the
    window falls outside the photo: a centre crop to the clip's aspect.
    """
    from .image import load_image

    rgb = load_image(source).rgb
    sh, sw = rgb.shape[:2]
    if framing is not None:
        cx, cy, ppo, fw, fh = framing
        x0, x1 = int(round(cx - fw * ppo / 2)), int(round(cx + fw * ppo / 2))
        y0, y1 = int(round(cy - fh * ppo / 2)), int(round(cy + fh * ppo / 2))
        if 0 <= x0 < x1 <= sw + 1 and 0 <= y0 < y1 <= sh + 1:
            return cv2.resize(rgb[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA)
    target = w / h
    if sw / sh > target:
        cw = max(1, int(round(sh * target)))
        x0 = (sw - cw) // 2
        rgb = rgb[:, x0 : x0 + cw]
    else:
        ch = max(1, int(round(sw / target)))
        y0 = (sh - ch) // 2
        rgb = rgb[y0 : y0 + ch]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------- accumulators


@dataclass
class _Frame:
    """One decoded frame, as every accumulator sees it.

    Sizes: the clip's W×H for ``rgb``; w×h (the longer side ``max_side``) for the rest.
    """

    index: int  # 0-based frame number
    rgb: np.ndarray  # uint8 H×W×3, the decoded frame at full size
    small: np.ndarray  # uint8 h×w×3, downscaled (INTER_AREA)
    grey: np.ndarray  # uint8 h×w luma of ``small``
    prev: np.ndarray | None  # uint8 h×w luma of the previous frame; None on the first
    flow: np.ndarray | None  # float32 h×w×2 backward DIS flow (this → previous frame), px; None on the first
    affine: np.ndarray | None  # float64 (6,) content motion previous → this frame (see _fit_affine); None on the first


@dataclass
class _Grid:
    """The pixel grid at the evaluation size, built once per clip (flicker remap and region residual)."""

    w: int
    h: int
    x: np.ndarray = field(init=False)  # float32 h×w column index
    y: np.ndarray = field(init=False)  # float32 h×w row index

    def __post_init__(self) -> None:
        self.x, self.y = np.meshgrid(np.arange(self.w, dtype=np.float32), np.arange(self.h, dtype=np.float32))

    @property
    def margin(self) -> int:
        """Border (px) left out of residual means: 3 % of the shorter side, at least 2."""
        return max(2, int(0.03 * min(self.w, self.h)))

    def translation(self, p: np.ndarray) -> tuple[float, float]:
        """The affine motion ``p`` at the frame centre: (tx, ty) in px."""
        a0, a1, a2, b0, b1, b2 = p
        cx, cy = (self.w - 1) / 2, (self.h - 1) / 2
        return a0 + a1 * cx + a2 * cy, b0 + b1 * cx + b2 * cy


@dataclass
class _Result:
    """What an accumulator measured: its metrics (possibly none) and its parts of the combined score."""

    metrics: list[Metric] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)  # SCORE_WEIGHTS key → 0..1


class _Accumulator(Protocol):
    def update(self, f: _Frame) -> None: ...

    def result(self) -> _Result: ...


class _Fidelity:
    """``fidelity_psnr`` / ``fidelity_ssim``: the first frame against the source photo (plain and ECC-aligned)."""

    def __init__(self, src: np.ndarray) -> None:
        self.src = src  # uint8 h×w×3, cropped and scaled to the clip
        self.first: np.ndarray | None = None

    def update(self, f: _Frame) -> None:
        if self.first is None:
            self.first = f.small.copy()

    def result(self) -> _Result:
        first, src = self.first, self.src
        assert first is not None
        h, w = first.shape[:2]
        psnr = _psnr(first, src)
        ssim = _ssim(grey(first), grey(src))
        warp = _ecc(grey(first), grey(src), np.eye(2, 3, dtype=np.float32))
        aligned, mask = _align(src, warp, (w, h))
        psnr_a = _psnr(first, aligned, mask)
        if psnr_a > psnr:
            psnr, ssim = psnr_a, _ssim(grey(first), grey(aligned), mask)
        return _Result(
            [
                Metric(
                    "fidelity_psnr",
                    psnr,
                    "dB",
                    "anchor (first) frame vs the source photo cropped to the clip; higher is better",
                    _verdict(psnr, 30, 24, True),
                ),
                Metric(
                    "fidelity_ssim",
                    ssim,
                    "0..1",
                    "structural similarity of the anchor frame to the source photo; higher is better",
                    _verdict(ssim, 0.9, 0.75, True),
                ),
            ],
            {"fidelity": float(np.clip((psnr - 18.0) / 14.0, 0, 1))},
        )


class _Drift:
    """``drift``: motion the plan does not explain, frame 0 against up to 6 frames of the last second.

    Corners (Shi–Tomasi) of frame 0 outside the animated regions are tracked to each picked
    frame with pyramidal Lucas–Kanade (Bouguet 2000), kept when the backward track returns
    within 0.5 px; a homography fitted by RANSAC (``cv2.findHomography``) takes out the camera
    move, whatever it is (push-in, pan, both); the mean distance of the tracks to it (each capped
    at 10 % of the longer side) is what no camera move explains: a frozen or sliding part of the
    picture, a melting subject. Depth parallax of a moving camera is left as residual too, but it
    is small against the move (well under 1 px at 320 px for the living engine's moves).
    """

    def __init__(self, tail_len: int, regions: list[str], portrait: bool) -> None:
        self.first: np.ndarray | None = None
        self.first_rgb: np.ndarray | None = None
        self.regions, self.portrait = regions, portrait
        self.tail: deque[tuple[int, np.ndarray]] = deque(maxlen=tail_len)  # (index, grey)

    def update(self, f: _Frame) -> None:
        if self.first is None:
            self.first, self.first_rgb = f.grey, f.small
        self.tail.append((f.index, f.grey))

    def _still_mask(self) -> tuple[np.ndarray, str]:
        """uint8 h×w, 255 where the plan animates nothing (element regions, faces of a portrait)."""
        assert self.first is not None and self.first_rgb is not None
        h, w = self.first.shape
        mask = np.full((h, w), 255, np.uint8)
        left_out = []
        if self.regions:
            from .scene.regions import detect_regions

            masks = detect_regions(self.first_rgb)
            for k in self.regions:
                if k in masks:
                    m = cv2.resize(masks[k], (w, h), interpolation=cv2.INTER_LINEAR) > 0.3
                    mask[cv2.dilate(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] = 0
            left_out.append(", ".join(self.regions))
        if self.portrait:
            for x, y, bw, bh in detect_faces(self.first_rgb):
                cx, cy = x + bw / 2, y + bh / 2
                x0, y0 = int(max(0, cx - bw)), int(max(0, cy - bh))
                mask[y0 : int(cy + bh) + 1, x0 : int(cx + bw) + 1] = 0
            left_out.append("faces")
        return mask, (f", outside the animated {' and '.join(left_out)}" if left_out else "")

    def result(self) -> _Result:
        first = self.first
        assert first is not None
        h, w = first.shape
        mask, where = self._still_mask()
        pts = cv2.goodFeaturesToTrack(first, 400, 0.01, max(3, max(w, h) // 50), mask=mask)
        picks = list(self.tail)
        if len(picks) > 6:
            picks = [picks[i] for i in np.linspace(0, len(picks) - 1, 6).round().astype(int)]
        cap = 0.1 * max(w, h)
        lk = dict(winSize=(21, 21), maxLevel=3)
        vals, used, n_tracks = [], [], []
        for index, g in picks:
            if pts is None or len(pts) < 8 or index == 0:
                continue
            p1, st, _ = cv2.calcOpticalFlowPyrLK(first, g, pts, None, **lk)  # type: ignore[call-overload]
            back, st2, _ = cv2.calcOpticalFlowPyrLK(g, first, p1, None, **lk)  # type: ignore[call-overload]
            ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm(back - pts, axis=2).ravel() < 0.5)
            if ok.sum() < 8:
                continue
            a, b = pts[ok].reshape(-1, 2), p1[ok].reshape(-1, 2)
            H, _ = cv2.findHomography(a, b, cv2.RANSAC, 1.0)
            if H is None:
                continue
            res = np.linalg.norm(cv2.perspectiveTransform(a[None], H)[0] - b, axis=1)
            vals.append(float(np.minimum(res, cap).mean()))
            used.append(index)
            n_tracks.append(int(ok.sum()))
        if not vals:
            return _Result()
        drift = float(np.mean(vals))
        return _Result(
            [
                Metric(
                    "drift",
                    drift,
                    "px",
                    f"motion the camera move does not explain: mean distance of {int(np.mean(n_tracks))} "
                    f"tracked corners{where} to the best homography, px at {max(w, h)}; lower is better",
                    _verdict(drift, 1.0, 2.5, False),
                    f"0 vs {', '.join(map(str, used))} (the last second)",
                )
            ],
            {"drift": float(1 - np.clip((drift - 0.5) / 3.0, 0, 1))},
        )


class _Flicker:
    """``flicker``: mean |previous frame warped by the flow − this frame| (grey levels), border left out."""

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid
        self.vals: list[float] = []

    def update(self, f: _Frame) -> None:
        if f.flow is None or f.prev is None:
            return
        gx, gy, m = self.grid.x, self.grid.y, self.grid.margin
        warped = cv2.remap(
            f.prev, gx + f.flow[..., 0], gy + f.flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        res = np.abs(warped.astype(np.float32) - f.grey.astype(np.float32))[m:-m, m:-m]
        self.vals.append(float(res.mean()))

    def result(self) -> _Result:
        flicker = float(np.mean(self.vals))
        return _Result(
            [
                Metric(
                    "flicker",
                    flicker,
                    "grey levels",
                    "flow-compensated residual between neighbouring frames (DIS flow); lower is better",
                    _verdict(flicker, 2.5, 5.0, False),
                )
            ],
            {"flicker": float(1 - np.clip((flicker - 1.0) / 7.0, 0, 1))},
        )


class _DynamicDegree:
    """``dynamic_degree``: mean optical-flow magnitude, px/frame at the evaluation size."""

    def __init__(self, side: int) -> None:
        self.side = side  # the evaluation size's longer side, px
        self.vals: list[float] = []

    def update(self, f: _Frame) -> None:
        if f.flow is not None:
            self.vals.append(float(np.hypot(f.flow[..., 0], f.flow[..., 1]).mean()))

    def result(self) -> _Result:
        dyn = float(np.mean(self.vals))
        if dyn < 0.15:
            part = float(np.clip(dyn / 0.15, 0, 1) * 0.6 + 0.4 * (dyn > 0.02))
        elif dyn <= 4:
            part = 1.0
        else:
            part = float(np.clip(1 - (dyn - 4) / 8, 0, 1))
        return _Result(
            [
                Metric(
                    "dynamic_degree",
                    dyn,
                    "px/frame",
                    f"mean optical-flow magnitude at {self.side} px; moderate is best",
                    "good" if 0.15 <= dyn <= 4 else "fair" if 0.05 <= dyn <= 8 else "poor",
                )
            ],
            {"dynamic_degree": part},
        )


class _Jerk:
    """``jerk``: variance of the second difference of the per-frame global translation (px²/frame⁴)."""

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid
        self.motions: list[tuple[float, float]] = []

    def update(self, f: _Frame) -> None:
        if f.affine is not None:
            self.motions.append(self.grid.translation(f.affine))

    def result(self) -> _Result:
        mv = np.array(self.motions, dtype=np.float64)
        jerk = float(np.var(np.diff(mv, n=2, axis=0), axis=0).sum()) if len(mv) >= 3 else 0.0
        return _Result(
            [
                Metric(
                    "jerk",
                    jerk,
                    "px²/frame⁴",
                    "variance of the second difference of the global motion; lower is smoother",
                    _verdict(jerk, 0.02, 0.1, False),
                )
            ],
            {"jerk": float(1 / (1 + jerk / 0.05))},
        )


class _CameraMove:
    """``camera_move`` (and ``plan_match`` with an intent): the global move read off the affine fits.

    Running sums of dx, dy, divergence and curl; each is taken at its furthest
    point from the start, so a loop that goes out and back still reads as its move.
    ``plan_match`` is one check per planned move (a push-in with a pan is two), each
    passing when its component has the planned sign and at least ``_CHECK_SHARE`` of the
    largest component; a static plan passes when nothing moves more than ``_STATIC_PX``.
    """

    def __init__(self, grid: _Grid, intent: _Intent | None) -> None:
        self.grid = grid
        self.intent = intent
        self.run = np.zeros(4)  # running sums of dx, dy, divergence, curl
        self.peak = np.zeros(4)
        self.move = "static"  # set by result()
        self.n = 0

    def update(self, f: _Frame) -> None:
        self.n = f.index + 1
        if f.affine is None:
            return
        _, a1, a2, _, b1, b2 = f.affine
        tx, ty = self.grid.translation(f.affine)
        self.run += (tx, ty, a1 + b2, b1 - a2)
        for k in range(4):  # the furthest the camera got from its start (loops return to zero)
            if abs(self.run[k]) > abs(self.peak[k]):
                self.peak[k] = self.run[k]

    def result(self) -> _Result:
        tx, ty, div, curl = (float(v) for v in self.peak)
        w, h = self.grid.w, self.grid.h
        self.move, mag = _classify(tx, ty, div, curl, w, h)
        r = 0.5 * math.hypot(w, h)
        comp = {"x": tx, "y": ty, "zoom": 0.5 * div * r, "roll": 0.5 * curl * r}
        frames = f"{_frames(0, self.n - 1)} (consecutive pairs, summed)"
        out = _Result(
            [
                Metric(
                    "camera_move",
                    mag,
                    "px",
                    f"measured global move: {self.move} (size of the move over the clip, px at {max(w, h)}; "
                    f"dx {tx:+.1f}, dy {ty:+.1f}, divergence {div:+.4f}, curl {curl:+.4f})",
                    "good",
                    frames,
                )
            ]
        )
        if self.intent is None or self.intent.source == "none":
            return out
        largest = max(abs(v) for v in comp.values())
        need = max(_STATIC_PX, _CHECK_SHARE * largest)
        checks: list[dict[str, Any]] = []
        if not self.intent.camera:
            checks.append(
                {
                    "move": "static",
                    "component": "largest",
                    "measured_px": round(largest, 3),
                    "planned_sign": "none",
                    "passed": bool(largest < _STATIC_PX),
                }
            )
        for move in self.intent.camera:
            axis, sign = _MOVE_CHECK.get(move, ("any", 1))
            got = largest if axis == "any" else sign * comp[axis]
            checks.append(
                {
                    "move": move,
                    "component": axis,
                    "measured_px": round(largest if axis == "any" else comp[axis], 3),
                    "planned_sign": "any" if axis == "any" else "+" if sign > 0 else "-",
                    "passed": bool(got >= need),
                }
            )
        # A move nobody asked for that dominates the clip fails too (a "pan right" that tilts).
        asked = {_MOVE_CHECK.get(m, ("any", 1))[0] for m in self.intent.camera}
        top = max(comp, key=lambda k: abs(comp[k]))
        if self.intent.camera and "any" not in asked and top not in asked and abs(comp[top]) >= _STATIC_PX:
            checks.append(
                {
                    "move": f"unasked {top}",
                    "component": top,
                    "measured_px": round(comp[top], 3),
                    "planned_sign": "none",
                    "passed": False,
                }
            )
        match = sum(c["passed"] for c in checks) / len(checks)
        said = "; ".join(
            f"{c['move']}: {_AXIS_WORDS.get(c['component'], c['component'])} {c['measured_px']:+.1f} px"
            + (f" (planned {c['planned_sign']})" if c["planned_sign"] in "+-" else "")
            + (" ok" if c["passed"] else " missing")
            for c in checks
        )
        out.metrics.append(
            Metric(
                "plan_match",
                match,
                "share",
                f"share of the {self.intent.source}'s camera checks the clip passes ({said}; a move passes "
                f"with its planned sign and ≥ {need:.1f} px at {max(w, h)}); higher is better",
                _verdict(match, 1.0, 0.5, True),
                frames,
                checks,
            )
        )
        out.parts["plan_match"] = match
        return out


class _LoopSeam:
    """``loop_seam``: mean |last − first frame| / median mean |neighbouring frames' difference|.

    Judged only when the clip was meant to loop; otherwise measured for information with the
    verdict ``n/a`` (a clip that was not asked to loop has no seam to judge).
    """

    def __init__(self, loop: bool, why: str) -> None:
        self.loop, self.why = loop, why
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.diffs: list[float] = []
        self.n = 0

    def update(self, f: _Frame) -> None:
        if self.first is None:
            self.first = f.grey
        if f.prev is not None:
            self.diffs.append(float(np.abs(f.grey.astype(np.float32) - f.prev.astype(np.float32)).mean()))
        self.last = f.grey
        self.n = f.index + 1

    def result(self) -> _Result:
        assert self.first is not None and self.last is not None
        seam_raw = float(np.abs(self.last.astype(np.float32) - self.first.astype(np.float32)).mean())
        med = float(np.median(self.diffs)) if self.diffs else 0.0
        seam = seam_raw / max(med, 0.05)
        meaning = "last→first frame difference / median neighbouring-frame difference; ≈1 loops seamlessly"
        if self.loop:
            verdict = _verdict(seam, 1.5, 4.0, False)
            meaning += f" ({self.why})"
        else:
            verdict = "n/a"
            meaning = f"not applicable: {self.why}; for information only, not judged: " + meaning
        frames = f"{self.n - 1} vs 0, against the median of pairs 0-{self.n - 1}"
        return _Result([Metric("loop_seam", seam, "ratio", meaning, verdict, frames)])


class _RegionFocus:
    """``region_focus``: non-camera motion inside the regions the prompt animates / elsewhere.

    The non-camera motion of a pixel is |flow − its affine fit| (px/frame), averaged over the clip.
    Regions (:func:`stillmotion.scene.regions.detect_regions`) are found on the source photo.
    """

    def __init__(self, grid: _Grid, src: np.ndarray, regions: list[str]) -> None:
        self.grid = grid
        self.src = src  # uint8 h×w×3, cropped and scaled to the clip
        self.regions = regions  # the region names the plan animates
        self.local = np.zeros((grid.h, grid.w), np.float64)  # summed non-camera (residual) motion per pixel
        self.steps = 0

    def update(self, f: _Frame) -> None:
        if f.flow is None or f.affine is None:
            return
        a0, a1, a2, b0, b1, b2 = f.affine
        gx, gy = self.grid.x, self.grid.y
        # Content motion previous → this frame ≈ −backward flow.
        self.local += np.hypot(-f.flow[..., 0] - (a0 + a1 * gx + a2 * gy), -f.flow[..., 1] - (b0 + b1 * gx + b2 * gy))
        self.steps += 1

    def result(self) -> _Result:
        from .scene.regions import detect_regions

        names = self.regions
        if not names:
            return _Result()
        local = self.local / max(1, self.steps)
        masks = detect_regions(self.src, faces=detect_faces(self.src))
        h, w = local.shape
        union = np.zeros((h, w), np.float32)
        for k in names:
            if k in masks:
                union = np.maximum(union, cv2.resize(masks[k], (w, h), interpolation=cv2.INTER_LINEAR))
        m = self.grid.margin
        inside, outside = union[m:-m, m:-m] > 0.5, union[m:-m, m:-m] < 0.1
        if inside.mean() < 0.01 or outside.mean() < 0.01:
            return _Result()
        core = local[m:-m, m:-m]
        ratio = float(core[inside].mean() / max(float(core[outside].mean()), 0.01))
        return _Result(
            [
                Metric(
                    "region_focus",
                    ratio,
                    "ratio",
                    f"non-camera motion inside the regions the prompt animates ({', '.join(names)}, "
                    f"{float(inside.mean()):.0%} of the frame, found on the source photo) / elsewhere; "
                    "higher means the motion is where it was asked for",
                    _verdict(ratio, 2.0, 1.2, True),
                )
            ],
            {"region_focus": float(np.clip((ratio - 1.0) / 2.0, 0, 1))},
        )


_RIGID = sorted(set(FACE_OVAL) | {1, 4, 5, 6, 168, 197, 195} | set(LEFT_EYE["corners"]) | set(RIGHT_EYE["corners"]))


def _int_box(box: tuple[float, ...]) -> tuple[int, int, int, int]:
    """A face box (x, y, w, h) rounded to whole pixels."""
    x, y, w, h = (int(round(v)) for v in box)
    return x, y, w, h


class _FaceStability:
    """``face_stability``: landmark-geometry stability of each face over up to 16 sampled frames.

    Face Mesh landmarks (MediaPipe, via LiteRT) of the rigid part of each face
    are aligned to the first sample's by a similarity transform (Umeyama 1991),
    so head motion and camera moves do not count; what is left is the face
    changing shape (warping, "melting"). Blinks and smiles move lids and lips,
    which are excluded. No metric when no face is found or the landmark models
    are not installed.
    """

    def __init__(self, every: int) -> None:
        self.every = every  # sample every this many frames
        self.frames: list[np.ndarray] = []
        self.indices: list[int] = []

    def update(self, f: _Frame) -> None:
        if f.index % self.every == 0 and len(self.frames) < 16:
            self.frames.append(f.rgb)
            self.indices.append(f.index)

    def result(self) -> _Result:
        frames = self.frames
        if len(frames) < 2 or landmarks_status() is not None:
            return _Result()
        first = detect_landmarks(frames[0], detect_faces(frames[0]))
        if not first:
            return _Result()
        vals: list[float] = []
        for ref in first:
            a, b = ref.points[RIGHT_EYE["corners"][0], :2], ref.points[LEFT_EYE["corners"][1], :2]
            iod = float(np.linalg.norm(a - b)) + 1e-6
            ref_pts = ref.points[_RIGID, :2].astype(np.float64)
            box = _int_box(ref.box)
            for frame in frames[1:]:
                found = detect_landmarks(frame, [box])
                if not found:
                    continue
                cur = found[0].points[_RIGID, :2].astype(np.float64)
                box = _int_box(found[0].box)
                m, _ = cv2.estimateAffinePartial2D(cur, ref_pts, method=cv2.LMEDS)
                if m is None:
                    continue
                moved = cur @ m[:, :2].T + m[:, 2]
                vals.append(float(np.sqrt(((moved - ref_pts) ** 2).sum(axis=1).mean())) / iod)
        if not vals:
            return _Result()
        value = float(np.mean(vals))
        return _Result(
            [
                Metric(
                    "face_stability",
                    value,
                    "IOD",
                    f"RMS change of the rigid face landmarks (oval, nose, eye corners; {len(first)} face(s), "
                    f"{len(frames)} samples) after removing head translation, rotation and scale, "
                    "in inter-ocular distances; lower is steadier",
                    _verdict(value, 0.02, 0.05, False),
                    f"{', '.join(map(str, self.indices[1:]))} vs 0",
                )
            ],
            {"face_stability": float(1 - np.clip((value - 0.01) / 0.08, 0, 1))},
        )


class _Sharpness:
    """``frame_quality``: no-reference sharpness, variance of the Laplacian (mean per frame, evaluation size)."""

    def __init__(self) -> None:
        self.vals: list[float] = []

    def update(self, f: _Frame) -> None:
        self.vals.append(float(cv2.Laplacian(f.grey, cv2.CV_64F).var()))

    def result(self) -> _Result:
        sharpness = float(np.mean(self.vals))
        brisque = (
            "BRISQUE available via cv2.quality but not used"
            if hasattr(cv2, "quality")
            else "BRISQUE skipped: cv2.quality (opencv-contrib) not installed"
        )
        return _Result(
            [
                Metric(
                    "frame_quality",
                    sharpness,
                    "Laplacian var",
                    "no-reference sharpness (variance of the Laplacian, mean per frame); " + brisque,
                    _verdict(sharpness, 100, 30, True),
                )
            ]
        )


class _Blockiness:
    """``blockiness``: :func:`stillmotion._measure.block_edge_ratio` at full size, frames 0, 1, 2, 4, 6, …"""

    def __init__(self) -> None:
        self.vals: list[float] = []

    def update(self, f: _Frame) -> None:
        if f.index % 2 == 0 or f.index < 2:
            self.vals.append(block_edge_ratio(grey(f.rgb)))

    def result(self) -> _Result:
        blk = float(np.mean(self.vals))
        return _Result(
            [
                Metric(
                    "blockiness",
                    blk,
                    "ratio",
                    "gradient on 8-px block edges / elsewhere (mean per frame); ≈1 means no visible blocking",
                    _verdict(blk, 1.15, 1.4, False),
                )
            ]
        )


# --------------------------------------------------------------------------- main


def evaluate_clip(
    path: str | os.PathLike,
    *,
    source: str | os.PathLike | None = None,
    prompt: str | None = None,
    recipe: dict[str, Any] | str | os.PathLike | None = None,
    loop: bool | None = None,
    max_side: int = 320,
) -> Evaluation:
    """Measure a clip against what it was asked to do (see the module docstring for every metric).

    Args:
        path: the clip (MP4 or anything PyAV decodes).
        source: the photo it was made from, for ``fidelity_psnr`` / ``fidelity_ssim``
            (and ``region_focus`` with a plan that animates elements).
        prompt: the motion prompt; parsed by :func:`stillmotion.plan.prompt.parse_prompt`
            for ``plan_match`` (every planned camera move is a check) when there is no recipe.
        recipe: the clip's recipe (the dict, or its JSON sidecar): its ``plan`` is the intent
            (camera moves, animated elements, loop) and its ``request.loop`` says whether the
            clip was meant to loop; its ``prompt`` is used when ``prompt`` is None.
        loop: the clip was meant to loop (``--loop``); None = as the recipe or prompt says.
            ``loop_seam`` is judged only for a clip meant to loop (else its verdict is ``n/a``).
        max_side: frames are downscaled so the longer side is this many pixels
            (flow and drift are in pixels at this size).

    Returns:
        An :class:`Evaluation`; its :meth:`~Evaluation.to_dict` follows :data:`EVALUATION_SCHEMA`.

    Raises:
        InputError: unreadable clip or recipe, fewer than 3 frames, bad ``max_side`` or source.

    Example:
        >>> ev = evaluate_clip("out.mp4", source="photo.jpg", prompt="slow push-in, pan right")  # doctest: +SKIP
        >>> ev.score, ev.metric("plan_match").value, ev.metric("loop_seam").verdict  # doctest: +SKIP
        (0.93, 1.0, 'n/a')
    """
    # 1. Sizes, the intent and the metrics that apply.
    if int(max_side) < 32:
        raise InputError(f"max_side must be at least 32, got {max_side}")
    if recipe is not None and not isinstance(recipe, dict):
        import json

        try:
            recipe = json.loads(Path(recipe).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"recipe {recipe}: cannot read it as JSON ({err})") from err
        if not isinstance(recipe, dict):
            raise InputError(f"recipe {recipe}: not a JSON object")
    if prompt is None and recipe is not None and isinstance(recipe.get("prompt"), str):
        prompt = recipe["prompt"]
    intent = _read_intent(prompt, recipe, loop)
    info = probe(path)
    fps = float(info.get("fps") or 24.0) or 24.0
    sw, sh = _small_size(int(info["width"]), int(info["height"]), int(max_side))
    grid = _Grid(sw, sh)
    framing = None
    shot_framing = ((recipe or {}).get("shot") or {}).get("framing") or {}
    if "centre_px" in shot_framing and "photo_pixels_per_output_pixel" in shot_framing:
        (cx, cy), ppo = shot_framing["centre_px"], shot_framing["photo_pixels_per_output_pixel"]
        framing = (float(cx), float(cy), float(ppo), int(info["width"]), int(info["height"]))
    src = _load_source(source, sw, sh, framing) if source is not None else None
    # Up to 16 landmark samples spread over the clip, at most ~3 a second.
    n_expected = int(info.get("frame_count") or 0) or int(round(float(info.get("duration_s") or 0) * fps))
    camera = _CameraMove(grid, intent)
    accumulators: list[_Accumulator] = [
        *([_Fidelity(src)] if src is not None else []),
        _Drift(max(2, int(round(fps))), intent.regions, intent.portrait),
        _Flicker(grid),
        _DynamicDegree(max(sw, sh)),
        _Jerk(grid),
        camera,
        _LoopSeam(intent.loop, intent.loop_from),
        *([_RegionFocus(grid, src, intent.regions)] if src is not None and intent.regions else []),
        _FaceStability(every=max(1, int(round(fps / 3)), -(-n_expected // 16))),
        _Sharpness(),
        _Blockiness(),
    ]

    # 2. One pass over the frames: flow and its affine fit once, then every accumulator.
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    prev: np.ndarray | None = None
    n = 0
    for frame in iter_frames(path):
        small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA) if (sw, sh) != frame.shape[1::-1] else frame
        g = grey(small)
        flow = affine = None
        if prev is not None:
            flow = dis.calc(g, prev, None)  # backward (this → previous): for a pixel here, where it was before
            affine, _ = _fit_affine(-flow)  # content motion previous → this ≈ −backward flow
        step = _Frame(index=n, rgb=frame, small=small, grey=g, prev=prev, flow=flow, affine=affine)
        for acc in accumulators:
            acc.update(step)
        prev = g
        n += 1
    if n < 3:
        raise InputError(f"{path}: needs at least 3 frames to evaluate, found {n}")

    # 3. Results, in the accumulators' order (each says on which frames), and the combined score.
    frames = {
        "fidelity_psnr": "0 (vs the source photo)",
        "fidelity_ssim": "0 (vs the source photo)",
        "frame_quality": f"0-{n - 1}",
        "blockiness": f"0, 1 and every even frame to {n - 1}",
    }
    metrics: list[Metric] = []
    parts: dict[str, float] = {}
    for acc in accumulators:
        res = acc.result()
        for m in res.metrics:
            m.frames = m.frames or frames.get(m.name, f"0-{n - 1} (consecutive pairs)")
        metrics += res.metrics
        parts.update(res.parts)
    total_w = sum(SCORE_WEIGHTS[k] for k in parts)
    score = sum(SCORE_WEIGHTS[k] * v for k, v in parts.items()) / total_w if total_w else 0.0
    return Evaluation(
        path=str(Path(path)),
        metrics=metrics,
        score=float(np.clip(score, 0, 1)),
        camera_move=camera.move,
        intent=intent.to_dict(),
    )
