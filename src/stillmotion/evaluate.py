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

The combined :attr:`Evaluation.score` (0..1, higher is better) is a
weighted mean of per-metric scores (:data:`SCORE_WEIGHTS`), over the
metrics that were measured.
"""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError
from .scene.faces import detect_faces
from .scene.landmarks import FACE_OVAL, LEFT_EYE, RIGHT_EYE, detect_landmarks, landmarks_status
from .video import iter_frames, probe

__all__ = ["CAMERA_MOVES", "SCORE_WEIGHTS", "Evaluation", "Metric", "evaluate_clip"]

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

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict."""
        return {
            "path": self.path,
            "score": float(self.score),
            "camera_move": self.camera_move,
            "metrics": [
                {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in asdict(m).items()}
                for m in self.metrics
            ],
        }

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


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (7, 7), 1.5)  # noqa: E731
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
        _, warp = cv2.findTransformECC(
            template.astype(np.float32), image.astype(np.float32), warp, cv2.MOTION_AFFINE,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5), None, 5,
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


def _blockiness(grey: np.ndarray) -> float:
    """Mean |gradient| on 8-px block boundaries / mean |gradient| elsewhere (≈1: no blocking)."""
    g = grey.astype(np.float32)
    dx = np.abs(np.diff(g, axis=1))  # dx[:, j] between col j and j+1
    dy = np.abs(np.diff(g, axis=0))
    cols = np.arange(dx.shape[1])
    rows = np.arange(dy.shape[0])
    bx, by = (cols % 8) == 7, (rows % 8) == 7
    num = dx[:, bx].mean() + dy[by, :].mean()
    den = dx[:, ~bx].mean() + dy[~by, :].mean()
    return float(num / max(den, 1e-6))


def _verdict(value: float, good: float, fair: float, higher_better: bool) -> str:
    if higher_better:
        return "good" if value >= good else "fair" if value >= fair else "poor"
    return "good" if value <= good else "fair" if value <= fair else "poor"


_PLAN_TO_MEASURED = {
    "static": "static",
    "push-in": "push-in", "zoom-in": "push-in", "dolly-zoom-in": "push-in",
    "pull-back": "pull-back", "zoom-out": "pull-back", "dolly-zoom-out": "pull-back",
    "pan-left": "pan-left", "truck-left": "pan-left",
    "pan-right": "pan-right", "truck-right": "pan-right",
    "tilt-up": "tilt-up", "crane-up": "tilt-up",
    "tilt-down": "tilt-down", "crane-down": "tilt-down",
}


def _planned_move(prompt: str) -> str:
    from .plan.prompt import parse_prompt

    plan = parse_prompt(prompt)
    if not plan.camera or all(c.amount == 0 for c in plan.camera):
        return "static"
    return _PLAN_TO_MEASURED.get(plan.camera[0].move.value, "orbit/other")


def _classify(tx: float, ty: float, div: float, curl: float, w: int, h: int, n_steps: int) -> tuple[str, float]:
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


# --------------------------------------------------------------------------- main


def _region_focus(local: np.ndarray, src: np.ndarray, prompt: str) -> tuple[float, list[str], float] | None:
    """Mean residual motion inside the plan's element regions / outside them.

    Args:
        local: float h×w mean per-frame non-camera motion (px/frame), flow minus its affine fit.
        src: uint8 h×w×3 source photo cropped and scaled to the clip.
        prompt: the motion prompt; its elements name the regions.

    Returns:
        (ratio, region names, fraction of the frame inside), or None when the
        plan animates no named region or none is found on the photo.
    """
    from .plan.prompt import parse_prompt
    from .scene.regions import detect_regions

    names = sorted({e.region for e in parse_prompt(prompt).elements} - {"image", "mask"})
    if not names:
        return None
    masks = detect_regions(src, faces=detect_faces(src))
    h, w = local.shape
    union = np.zeros((h, w), np.float32)
    for k in names:
        if k in masks:
            union = np.maximum(union, cv2.resize(masks[k], (w, h), interpolation=cv2.INTER_LINEAR))
    m = max(2, int(0.03 * min(w, h)))
    inside, outside = union[m:-m, m:-m] > 0.5, union[m:-m, m:-m] < 0.1
    if inside.mean() < 0.01 or outside.mean() < 0.01:
        return None
    core = local[m:-m, m:-m]
    ratio = float(core[inside].mean() / max(float(core[outside].mean()), 0.01))
    return ratio, names, float(inside.mean())


_RIGID = sorted(set(FACE_OVAL) | {1, 4, 5, 6, 168, 197, 195} | set(LEFT_EYE["corners"]) | set(RIGHT_EYE["corners"]))


def _face_stability(frames: list[np.ndarray]) -> tuple[float, int, int] | None:
    """Landmark-geometry stability of each face over sampled frames.

    Face Mesh landmarks (MediaPipe, via LiteRT) of the rigid part of each face
    are aligned to the first sample's by a similarity transform (Umeyama 1991),
    so head motion and camera moves do not count; what is left is the face
    changing shape (warping, "melting"). Blinks and smiles move lids and lips,
    which are excluded.

    Returns:
        (mean RMS residual in inter-ocular distances, faces, samples), or None
        when no face is found or the landmark models are not installed.
    """
    if len(frames) < 2 or landmarks_status() is not None:
        return None
    first = detect_landmarks(frames[0], detect_faces(frames[0]))
    if not first:
        return None
    vals: list[float] = []
    for ref in first:
        a, b = ref.points[RIGHT_EYE["corners"][0], :2], ref.points[LEFT_EYE["corners"][1], :2]
        iod = float(np.linalg.norm(a - b)) + 1e-6
        ref_pts = ref.points[_RIGID, :2].astype(np.float64)
        box = tuple(int(round(v)) for v in ref.box)
        for frame in frames[1:]:
            found = detect_landmarks(frame, [box])
            if not found:
                continue
            cur = found[0].points[_RIGID, :2].astype(np.float64)
            box = tuple(int(round(v)) for v in found[0].box)
            m, _ = cv2.estimateAffinePartial2D(cur, ref_pts, method=cv2.LMEDS)
            if m is None:
                continue
            moved = cur @ m[:, :2].T + m[:, 2]
            vals.append(float(np.sqrt(((moved - ref_pts) ** 2).sum(axis=1).mean())) / iod)
    if not vals:
        return None
    return float(np.mean(vals)), len(first), len(frames)


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
        source: the photo it was made from, for ``fidelity_psnr`` / ``fidelity_ssim``.
        prompt: the motion prompt, for ``plan_match``.
        max_side: frames are downscaled so the longer side is this many pixels
            (flow magnitudes are in pixels at this size).

    Returns:
        An :class:`Evaluation`.

    Raises:
        InputError: unreadable clip, fewer than 3 frames, bad ``max_side`` or source.
    """
    if int(max_side) < 32:
        raise InputError(f"max_side must be at least 32, got {max_side}")
    info = probe(path)
    fps = float(info.get("fps") or 24.0) or 24.0
    W, H = int(info["width"]), int(info["height"])
    sw, sh = _small_size(W, H, int(max_side))
    tail_len = max(2, int(round(fps)))

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    first_rgb = first_g = prev_g = None
    last_g = None
    tail: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=tail_len)  # (grey, cumulative warp 2×3)
    cum = np.eye(3)
    flicker_vals: list[float] = []
    mag_vals: list[float] = []
    diffs: list[float] = []
    motions: list[tuple[float, float]] = []
    grid_x, grid_y = np.meshgrid(np.arange(sw, dtype=np.float32), np.arange(sh, dtype=np.float32))
    local = np.zeros((sh, sw), np.float64)  # summed non-camera (residual) motion per pixel
    run = np.zeros(4)  # running sums of dx, dy, divergence, curl
    peak = np.zeros(4)
    sharp: list[float] = []
    blocks: list[float] = []
    # Up to 16 landmark samples spread over the clip, at most ~3 a second.
    n_expected = int(info.get("frame_count") or 0) or int(round(float(info.get("duration_s") or 0) * fps))
    face_step = max(1, int(round(fps / 3)), -(-n_expected // 16))
    face_frames: list[np.ndarray] = []
    n = 0
    for frame in iter_frames(path):
        if n % face_step == 0 and len(face_frames) < 16:
            face_frames.append(frame)
        if n % 2 == 0 or n < 2:
            blocks.append(_blockiness(_grey(frame)))
        small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA) if (sw, sh) != frame.shape[1::-1] else frame
        g = _grey(small)
        sharp.append(float(cv2.Laplacian(g, cv2.CV_64F).var()))
        if first_g is None:
            first_rgb, first_g = small.copy(), g
        else:
            # Backward flow (cur → prev): for a pixel of cur, where it was in prev.
            fb = dis.calc(g, prev_g, None)
            warped = cv2.remap(prev_g, grid_x + fb[..., 0], grid_y + fb[..., 1], cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
            m = max(2, int(0.03 * min(sw, sh)))
            res = np.abs(warped.astype(np.float32) - g.astype(np.float32))[m:-m, m:-m]
            flicker_vals.append(float(res.mean()))
            mag_vals.append(float(np.hypot(fb[..., 0], fb[..., 1]).mean()))
            diffs.append(float(np.abs(g.astype(np.float32) - prev_g.astype(np.float32)).mean()))
            # Content motion prev → cur ≈ −backward flow; fit an affine model.
            p, _ = _fit_affine(-fb)
            a0, a1, a2, b0, b1, b2 = p
            local += np.hypot(-fb[..., 0] - (a0 + a1 * grid_x + a2 * grid_y),
                              -fb[..., 1] - (b0 + b1 * grid_x + b2 * grid_y))
            cx, cy = (sw - 1) / 2, (sh - 1) / 2
            tx, ty = a0 + a1 * cx + a2 * cy, b0 + b1 * cx + b2 * cy
            motions.append((tx, ty))
            run += (tx, ty, a1 + b2, b1 - a2)
            for k in range(4):  # the furthest the camera got from its start (loops return to zero)
                if abs(run[k]) > abs(peak[k]):
                    peak[k] = run[k]
            step = np.array([[1 + a1, a2, a0], [b1, 1 + b2, b0], [0, 0, 1]])
            cum = step @ cum
        tail.append((g, cum[:2].copy()))
        prev_g = g
        last_g = g
        n += 1
    if n < 3 or first_g is None or last_g is None:
        raise InputError(f"{path}: needs at least 3 frames to evaluate, found {n}")

    metrics: list[Metric] = []
    parts: dict[str, float] = {}

    # Fidelity.
    if source is not None:
        src = _load_source(source, sw, sh)
        psnr_c = _psnr(first_rgb, src)
        ssim_c = _ssim(_grey(first_rgb), _grey(src))
        warp = _ecc(_grey(first_rgb), _grey(src), np.eye(2, 3, dtype=np.float32))
        aligned, mask = _align(src, warp, (sw, sh))
        psnr_a = _psnr(first_rgb, aligned, mask)
        if psnr_a > psnr_c:
            psnr_c, ssim_c = psnr_a, _ssim(_grey(first_rgb), _grey(aligned), mask)
        metrics.append(Metric("fidelity_psnr", psnr_c, "dB",
                              "anchor (first) frame vs the source photo cropped to the clip; higher is better",
                              _verdict(psnr_c, 30, 24, True)))
        metrics.append(Metric("fidelity_ssim", ssim_c, "0..1",
                              "structural similarity of the anchor frame to the source photo; higher is better",
                              _verdict(ssim_c, 0.9, 0.75, True)))
        parts["fidelity"] = float(np.clip((psnr_c - 18.0) / 14.0, 0, 1))

    # Drift: last second vs the first frame, global motion compensated.
    picks = list(tail)
    if len(picks) > 6:
        idx = np.linspace(0, len(picks) - 1, 6).round().astype(int)
        picks = [picks[i] for i in idx]
    drift_vals = []
    for g, warp in picks:
        warp = _ecc(first_g, g, warp)
        aligned, mask = _align(g, warp, (sw, sh))
        drift_vals.append(1.0 - _ssim(first_g, aligned, mask))
    drift = float(np.mean(drift_vals))
    metrics.append(Metric("drift", drift, "1-SSIM",
                          "last second vs first frame after compensating the camera move (affine, ECC); lower is better",
                          _verdict(drift, 0.15, 0.3, False)))
    parts["drift"] = float(1 - np.clip(drift / 0.5, 0, 1))

    flicker = float(np.mean(flicker_vals))
    metrics.append(Metric("flicker", flicker, "grey levels",
                          "flow-compensated residual between neighbouring frames (DIS flow); lower is better",
                          _verdict(flicker, 2.5, 5.0, False)))
    parts["flicker"] = float(1 - np.clip((flicker - 1.0) / 7.0, 0, 1))

    dyn = float(np.mean(mag_vals))
    metrics.append(Metric("dynamic_degree", dyn, "px/frame",
                          f"mean optical-flow magnitude at {max(sw, sh)} px; moderate is best",
                          "good" if 0.15 <= dyn <= 4 else "fair" if 0.05 <= dyn <= 8 else "poor"))
    if dyn < 0.15:
        parts["dynamic_degree"] = float(np.clip(dyn / 0.15, 0, 1) * 0.6 + 0.4 * (dyn > 0.02))
    elif dyn <= 4:
        parts["dynamic_degree"] = 1.0
    else:
        parts["dynamic_degree"] = float(np.clip(1 - (dyn - 4) / 8, 0, 1))

    mv = np.array(motions, dtype=np.float64)
    jerk = float(np.var(np.diff(mv, n=2, axis=0), axis=0).sum()) if len(mv) >= 3 else 0.0
    metrics.append(Metric("jerk", jerk, "px²/frame⁴",
                          "variance of the second difference of the global motion; lower is smoother",
                          _verdict(jerk, 0.02, 0.1, False)))
    parts["jerk"] = float(1 / (1 + jerk / 0.05))

    tx_sum, ty_sum, div_sum, curl_sum = (float(v) for v in peak)
    move, mag = _classify(tx_sum, ty_sum, div_sum, curl_sum, sw, sh, len(motions))
    metrics.append(Metric("camera_move", mag, "px",
                          f"measured global move: {move} (size of the move over the clip, px at {max(sw, sh)}; "
                          f"dx {tx_sum:+.1f}, dy {ty_sum:+.1f}, divergence {div_sum:+.4f}, curl {curl_sum:+.4f})",
                          "good"))
    if prompt is not None:
        planned = _planned_move(prompt)
        match = 1.0 if planned == move else 0.0
        metrics.append(Metric("plan_match", match, "1/0",
                              f"the prompt asks for {planned}, the clip shows {move}",
                              "good" if match else "poor"))
        parts["plan_match"] = match

    seam_raw = float(np.abs(last_g.astype(np.float32) - first_g.astype(np.float32)).mean())
    med = float(np.median(diffs)) if diffs else 0.0
    seam = seam_raw / max(med, 0.05)
    metrics.append(Metric("loop_seam", seam, "ratio",
                          "last→first frame difference / median neighbouring-frame difference; ≈1 loops seamlessly",
                          _verdict(seam, 1.5, 4.0, False)))

    if source is not None and prompt is not None:
        region = _region_focus(local / max(1, n - 1), src, prompt)
        if region is not None:
            ratio, names, inside = region
            metrics.append(Metric("region_focus", ratio, "ratio",
                                  f"non-camera motion inside the regions the prompt animates ({', '.join(names)}, "
                                  f"{inside:.0%} of the frame, found on the source photo) / elsewhere; "
                                  "higher means the motion is where it was asked for",
                                  _verdict(ratio, 2.0, 1.2, True)))
            parts["region_focus"] = float(np.clip((ratio - 1.0) / 2.0, 0, 1))

    face = _face_stability(face_frames)
    if face is not None:
        value, n_faces, n_samples = face
        metrics.append(Metric("face_stability", value, "IOD",
                              f"RMS change of the rigid face landmarks (oval, nose, eye corners; {n_faces} face(s), "
                              f"{n_samples} samples) after removing head translation, rotation and scale, "
                              "in inter-ocular distances; lower is steadier",
                              _verdict(value, 0.02, 0.05, False)))
        parts["face_stability"] = float(1 - np.clip((value - 0.01) / 0.08, 0, 1))

    sharpness = float(np.mean(sharp))
    metrics.append(Metric("frame_quality", sharpness, "Laplacian var",
                          "no-reference sharpness (variance of the Laplacian, mean per frame); "
                          + ("BRISQUE available via cv2.quality but not used"
                             if hasattr(cv2, "quality") else "BRISQUE skipped: cv2.quality (opencv-contrib) not installed"),
                          _verdict(sharpness, 100, 30, True)))
    blk = float(np.mean(blocks))
    metrics.append(Metric("blockiness", blk, "ratio",
                          "gradient on 8-px block edges / elsewhere (mean per frame); ≈1 means no visible blocking",
                          _verdict(blk, 1.15, 1.4, False)))

    total_w = sum(SCORE_WEIGHTS[k] for k in parts)
    score = sum(SCORE_WEIGHTS[k] * v for k, v in parts.items()) / total_w if total_w else 0.0
    return Evaluation(path=str(Path(path)), metrics=metrics, score=float(np.clip(score, 0, 1)), camera_move=move)
