"""Evaluate a clip with classical, reference-light video metrics.

:func:`evaluate_clip` streams a clip once (frames downscaled so the longer
side is ``max_side`` pixels; only a few frames and small thumbnails are
held) and measures:

``fidelity_psnr`` / ``fidelity_ssim`` (needs ``source``)
    The anchor (first) frame against the source photo, centre-cropped to the
    clip's aspect and resized to the clip's size (a small ECC affine
    alignment is tried as well and the better match kept). Higher is better.
``drift``
    1 − SSIM between the frames of the last second and the first frame,
    after compensating the global camera motion (affine, accumulated from
    the optical flow and refined with ``cv2.findTransformECC``). Lower is
    better: the picture stays the same picture.
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
    so a loop that goes out and back still reads as its move); ``plan_match`` (1/0) compares it with the
    first camera move the prompt asks for.
``loop_seam``
    Difference last → first frame divided by the median neighbouring-frame
    difference: ≈ 1 for a seamless loop, large for a jump cut.
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
metrics that were measured.
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

__all__ = ["CAMERA_MOVES", "Evaluation", "Metric", "SCORE_WEIGHTS", "evaluate_clip"]

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
flicker ``1 − clip((flicker − 1) / 7)`` grey levels; drift ``1 − clip(drift / 0.5)``;
fidelity ``clip((psnr − 18) / 14)`` dB; dynamic degree 1 between 0.15 and 4 px/frame,
falling off outside (rewards moderate motion); jerk ``1 / (1 + jerk / 0.05)``;
plan_match 1 or 0. Missing metrics (no source, no prompt) drop out and the
weights are renormalised."""

# Measured move thresholds, in pixels over the whole clip at max_side.
_STATIC_PX = 2.5
_ORBIT_CURL_SHARE = 0.6


@dataclass
class Metric:
    """One measured quantity with its unit, a sentence on what it means, and a verdict."""

    name: str
    value: float
    unit: str
    meaning: str
    verdict: str  # "good" | "fair" | "poor"


@dataclass
class Evaluation:
    """All metrics of one clip, a combined score (0..1, higher is better) and the measured camera move."""

    path: str
    metrics: list[Metric] = field(default_factory=list)
    score: float = 0.0
    camera_move: str = "static"

    def metric(self, name: str) -> Metric:
        """The metric called ``name``; KeyError when it was not measured."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric {name!r} (have: {', '.join(m.name for m in self.metrics)})")

    def to_dict(self, rank: int | None = None, of: int | None = None) -> dict[str, Any]:
        """The evaluation as plain JSON: the one schema of ``recipe["evaluation"]`` and ``stillmotion eval --json``.

        ``{"score": 0..1, "camera_move": one of CAMERA_MOVES, "metrics": {name: {"value", "unit",
        "verdict", "meaning"}}}`` in measuring order, plus ``"rank"`` (1 = best) and ``"of"``
        (how many clips were ranked) when ``rank`` is given (``--pick best``). The clip's path is
        not included: the recipe and the caller know it.

        Raises:
            ValueError: ``rank`` without ``of``, or outside 1..of.
        """
        d: dict[str, Any] = {"score": float(self.score), "camera_move": self.camera_move}
        if rank is not None:
            if of is None or not 1 <= rank <= of:
                raise ValueError(f"rank must be in 1..of, got rank={rank} of={of}")
            d["rank"], d["of"] = int(rank), int(of)
        d["metrics"] = {
            m.name: {"value": float(m.value), "unit": m.unit, "verdict": m.verdict, "meaning": m.meaning}
            for m in self.metrics
        }
        return d

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [f"{self.path}: score {self.score:.2f} (0..1, higher is better), camera move {self.camera_move}"]
        for m in self.metrics:
            lines.append(f"  {m.name:<15} {_fmt(m.value):>9} {m.unit:<10} {m.verdict:<5} {m.meaning}")
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


_PLAN_TO_MEASURED = {
    "static": "static",
    "push-in": "push-in",
    "zoom-in": "push-in",
    "dolly-zoom-in": "push-in",
    "pull-back": "pull-back",
    "zoom-out": "pull-back",
    "dolly-zoom-out": "pull-back",
    "pan-left": "pan-left",
    "truck-left": "pan-left",
    "pan-right": "pan-right",
    "truck-right": "pan-right",
    "tilt-up": "tilt-up",
    "crane-up": "tilt-up",
    "tilt-down": "tilt-down",
    "crane-down": "tilt-down",
}


def _planned_move(prompt: str) -> str:
    from .plan.prompt import parse_prompt

    plan = parse_prompt(prompt)
    if not plan.camera or all(c.amount == 0 for c in plan.camera):
        return "static"
    return _PLAN_TO_MEASURED.get(plan.camera[0].move.value, "orbit/other")


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


def _load_source(source: str | os.PathLike, w: int, h: int) -> np.ndarray:
    """The source photo centre-cropped to the clip's aspect and resized to w×h: uint8 h×w×3."""
    from .image import load_image

    rgb = load_image(source).rgb
    sh, sw = rgb.shape[:2]
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
    """``drift``: 1 − SSIM of up to 6 frames of the last second against the first, camera move compensated.

    The camera move is the accumulated affine content motion, refined by ECC.
    """

    def __init__(self, tail_len: int) -> None:
        self.first: np.ndarray | None = None
        self.cum = np.eye(3)  # content motion first → current frame, 3×3 affine
        self.tail: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=tail_len)  # (grey, cumulative warp 2×3)

    def update(self, f: _Frame) -> None:
        if self.first is None:
            self.first = f.grey
        if f.affine is not None:
            a0, a1, a2, b0, b1, b2 = f.affine
            self.cum = np.array([[1 + a1, a2, a0], [b1, 1 + b2, b0], [0, 0, 1]]) @ self.cum
        self.tail.append((f.grey, self.cum[:2].copy()))

    def result(self) -> _Result:
        first = self.first
        assert first is not None
        size = first.shape[1], first.shape[0]
        picks = list(self.tail)
        if len(picks) > 6:
            idx = np.linspace(0, len(picks) - 1, 6).round().astype(int)
            picks = [picks[i] for i in idx]
        vals = []
        for g, warp in picks:
            aligned, mask = _align(g, _ecc(first, g, warp), size)
            vals.append(1.0 - _ssim(first, aligned, mask))
        drift = float(np.mean(vals))
        return _Result(
            [
                Metric(
                    "drift",
                    drift,
                    "1-SSIM",
                    "last second vs first frame after compensating the camera move (affine, ECC); lower is better",
                    _verdict(drift, 0.15, 0.3, False),
                )
            ],
            {"drift": float(1 - np.clip(drift / 0.5, 0, 1))},
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
    """``camera_move`` (and ``plan_match`` with a prompt): the global move read off the affine fits.

    Running sums of dx, dy, divergence and curl; each is taken at its furthest
    point from the start, so a loop that goes out and back still reads as its move.
    """

    def __init__(self, grid: _Grid, prompt: str | None) -> None:
        self.grid = grid
        self.prompt = prompt
        self.run = np.zeros(4)  # running sums of dx, dy, divergence, curl
        self.peak = np.zeros(4)
        self.move = "static"  # set by result()

    def update(self, f: _Frame) -> None:
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
        out = _Result(
            [
                Metric(
                    "camera_move",
                    mag,
                    "px",
                    f"measured global move: {self.move} (size of the move over the clip, px at {max(w, h)}; "
                    f"dx {tx:+.1f}, dy {ty:+.1f}, divergence {div:+.4f}, curl {curl:+.4f})",
                    "good",
                )
            ]
        )
        if self.prompt is not None:
            planned = _planned_move(self.prompt)
            match = 1.0 if planned == self.move else 0.0
            out.metrics.append(
                Metric(
                    "plan_match",
                    match,
                    "1/0",
                    f"the prompt asks for {planned}, the clip shows {self.move}",
                    "good" if match else "poor",
                )
            )
            out.parts["plan_match"] = match
        return out


class _LoopSeam:
    """``loop_seam``: mean |last − first frame| / median mean |neighbouring frames' difference|."""

    def __init__(self) -> None:
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.diffs: list[float] = []

    def update(self, f: _Frame) -> None:
        if self.first is None:
            self.first = f.grey
        if f.prev is not None:
            self.diffs.append(float(np.abs(f.grey.astype(np.float32) - f.prev.astype(np.float32)).mean()))
        self.last = f.grey

    def result(self) -> _Result:
        assert self.first is not None and self.last is not None
        seam_raw = float(np.abs(self.last.astype(np.float32) - self.first.astype(np.float32)).mean())
        med = float(np.median(self.diffs)) if self.diffs else 0.0
        seam = seam_raw / max(med, 0.05)
        return _Result(
            [
                Metric(
                    "loop_seam",
                    seam,
                    "ratio",
                    "last→first frame difference / median neighbouring-frame difference; ≈1 loops seamlessly",
                    _verdict(seam, 1.5, 4.0, False),
                )
            ]
        )


class _RegionFocus:
    """``region_focus``: non-camera motion inside the regions the prompt animates / elsewhere.

    The non-camera motion of a pixel is |flow − its affine fit| (px/frame), averaged over the clip.
    Regions (:func:`stillmotion.scene.regions.detect_regions`) are found on the source photo.
    """

    def __init__(self, grid: _Grid, src: np.ndarray, prompt: str) -> None:
        self.grid = grid
        self.src = src  # uint8 h×w×3, cropped and scaled to the clip
        self.prompt = prompt
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
        from .plan.prompt import parse_prompt
        from .scene.regions import detect_regions

        names = sorted({e.region for e in parse_prompt(self.prompt).elements} - {"image", "mask"})
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

    def update(self, f: _Frame) -> None:
        if f.index % self.every == 0 and len(self.frames) < 16:
            self.frames.append(f.rgb)

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
    max_side: int = 320,
) -> Evaluation:
    """Measure a clip (see the module docstring for every metric).

    Args:
        path: the clip (MP4 or anything PyAV decodes).
        source: the photo it was made from, for ``fidelity_psnr`` / ``fidelity_ssim``
            (and ``region_focus`` with a prompt).
        prompt: the motion prompt, for ``plan_match`` (and ``region_focus`` with a source).
        max_side: frames are downscaled so the longer side is this many pixels
            (flow magnitudes are in pixels at this size).

    Returns:
        An :class:`Evaluation`.

    Raises:
        InputError: unreadable clip, fewer than 3 frames, bad ``max_side`` or source.

    Example:
        >>> ev = evaluate_clip("out.mp4", source="photo.jpg", prompt="slow push-in")  # doctest: +SKIP
        >>> ev.score, ev.camera_move, ev.metric("flicker").verdict  # doctest: +SKIP
        (0.91, 'push-in', 'good')
    """
    # 1. Sizes and the metrics that apply.
    if int(max_side) < 32:
        raise InputError(f"max_side must be at least 32, got {max_side}")
    info = probe(path)
    fps = float(info.get("fps") or 24.0) or 24.0
    sw, sh = _small_size(int(info["width"]), int(info["height"]), int(max_side))
    grid = _Grid(sw, sh)
    src = _load_source(source, sw, sh) if source is not None else None
    # Up to 16 landmark samples spread over the clip, at most ~3 a second.
    n_expected = int(info.get("frame_count") or 0) or int(round(float(info.get("duration_s") or 0) * fps))
    camera = _CameraMove(grid, prompt)
    accumulators: list[_Accumulator] = [
        *([_Fidelity(src)] if src is not None else []),
        _Drift(tail_len=max(2, int(round(fps)))),
        _Flicker(grid),
        _DynamicDegree(max(sw, sh)),
        _Jerk(grid),
        camera,
        _LoopSeam(),
        *([_RegionFocus(grid, src, prompt)] if src is not None and prompt is not None else []),
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

    # 3. Results, in the accumulators' order, and the combined score.
    metrics: list[Metric] = []
    parts: dict[str, float] = {}
    for acc in accumulators:
        res = acc.result()
        metrics += res.metrics
        parts.update(res.parts)
    total_w = sum(SCORE_WEIGHTS[k] for k in parts)
    score = sum(SCORE_WEIGHTS[k] * v for k, v in parts.items()) / total_w if total_w else 0.0
    return Evaluation(path=str(Path(path)), metrics=metrics, score=float(np.clip(score, 0, 1)), camera_move=camera.move)
