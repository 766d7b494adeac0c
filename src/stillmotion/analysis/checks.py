"""The eight checks of a photo, each returning a :class:`~stillmotion.analysis.report.Check`.

:func:`run_checks` runs them in report order (:data:`~stillmotion.analysis.report.CHECK_NAMES`):
resolution, aspect, sharpness of the subject, exposure, noise, JPEG compression,
saturation / heavy filters, depth cues. Pixel checks run on the Scene's working copy
(long side at most :data:`~stillmotion.scene.DEPTH_SIDE`, 1024 px: the size of the
video, where softness and grain show), except JPEG blockiness, which is measured at
full resolution on a few crops (downscaling erases the 8×8 grid). Thresholds:
:data:`~stillmotion.analysis.thresholds.THRESHOLDS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .._measure import grad_mag, jpeg_blockiness
from ..image import SMALL_SIDE_PX
from ..request import Aspect
from ..scene import Scene
from .report import LEVELS, Check
from .thresholds import THRESHOLDS as T

__all__ = ["OUTPUT_ASPECTS", "run_checks"]

OUTPUT_ASPECTS = (Aspect.wide, Aspect.vertical, Aspect.square, Aspect.portrait)
"""The output aspects a photo is compared with when no target is given."""


def run_checks(rgb: np.ndarray, scene: Scene, *, target: Aspect | None, kind: str) -> list[Check]:
    """The eight checks of a photo, in report order.

    Args:
        rgb: uint8 H×W×3, the photo at full resolution (for its size and JPEG blockiness).
        scene: the photo's Scene (working copy, faces, depth, saliency, regions).
        target: the output aspect the clip will have, or None (the closest one is reported).
        kind: the photo's kind (:func:`~stillmotion.analysis.kind.classify_kind`): a product's or
            a text graphic's white backdrop is no exposure flaw.

    Returns:
        One :class:`Check` per name in :data:`~stillmotion.analysis.report.CHECK_NAMES`, in that order.
    """
    H, W = rgb.shape[:2]
    small = scene.small
    h, w = small.shape[:2]
    grey8 = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    grey = grey8.astype(np.float32) / 255.0
    s = w / W
    face_boxes = [tuple(v * s for v in f) for f in scene.faces]
    sky_share = float(scene.regions["sky"].mean())
    blur = _sharpness_map(grey, scene.saliency, scene.depth, face_boxes)
    return [
        _check_resolution(W, H),
        _check_aspect(W, H, target),
        _check_sharpness(blur, bool(scene.faces), w),
        _check_exposure(grey8, scene.regions["sky"], backdrop_ok=kind in ("product", "text")),
        _check_noise(small),
        _check_compression(rgb),
        _check_saturation(small, grey8),
        _check_depth(scene.depth, face_boxes, (w, h), scene.subject(), blur, sky_share),
    ]


# ---------------------------------------------------------------- resolution and aspect


def _check_resolution(W: int, H: int) -> Check:
    long, short = max(W, H), min(W, H)
    value, orient = f"{W}×{H}", ("portrait orientation, " if H > W else "")
    (min_long, min_short), (pref_long, pref_short) = T.min_size_px, T.preferred_size_px
    min_txt = f"{min_long}×{min_short}" if W >= H else f"{min_short}×{min_long}"
    pref_txt = f"{pref_long}×{pref_short}" if W >= H else f"{pref_short}×{pref_long}"
    if short < T.unusable_side_px:
        return Check(
            "resolution",
            "unusable",
            value,
            "px",
            f"{value} px is far too small to animate: use a photo of at least {min_txt} px",
        )
    if short < SMALL_SIDE_PX:
        return Check(
            "resolution",
            "warning",
            value,
            "px",
            f"{value} px is small ({orient}short side under {SMALL_SIDE_PX} px): the clip will be upscaled "
            f"and look soft; use the original, at least {min_txt} px (ideally {pref_txt})",
        )
    if long < T.min_size_px[0] or short < T.min_size_px[1]:
        return Check(
            "resolution",
            "advice",
            value,
            "px",
            f"{value} px is below the recommended {min_txt}: 720p output will be slightly upscaled; "
            f"a larger original ({pref_txt} or more) gives a crisper clip",
        )
    if long < T.preferred_size_px[0] or short < T.preferred_size_px[1]:
        return Check(
            "resolution", "ok", value, "px", f"{value} px: fine for 720p; {pref_txt} or more is best for 1080p"
        )
    return Check("resolution", "ok", value, "px", f"{value} px: enough for 1080p output")


_PHOTO_ASPECTS = {
    "21:9": 21 / 9,
    "2:1": 2.0,
    "16:9": 16 / 9,
    "16:10": 1.6,
    "3:2": 1.5,
    "4:3": 4 / 3,
    "5:4": 1.25,
    "1:1": 1.0,
    "4:5": 0.8,
    "3:4": 0.75,
    "2:3": 2 / 3,
    "10:16": 0.625,
    "9:16": 9 / 16,
    "1:2": 0.5,
    "9:21": 9 / 21,
}
"""Common photo aspects (width / height) by name, for the aspect check's wording."""


def _aspect_name(r: float) -> str:
    name, ref = min(_PHOTO_ASPECTS.items(), key=lambda kv: abs(math.log(r / kv[1])))
    return name if abs(math.log(r / ref)) < 0.02 else (f"{r:.2f}:1" if r >= 1 else f"1:{1 / r:.2f}")


def _ratio(aspect: Aspect) -> float:
    """Width / height of an output aspect (not ``source``, which has none)."""
    assert aspect.ratio is not None, "only an output aspect has a ratio"
    return aspect.ratio


def _crop_keep(r: float, t: float) -> tuple[float, str]:
    """Fraction kept, and of which side, when a width/height ``r`` photo is cropped to ``t``."""
    return (t / r, "width") if r > t else (r / t, "height")


def _check_aspect(W: int, H: int, target: Aspect | None) -> Check:
    r = W / H
    name = _aspect_name(r)
    value = round(r, 3)
    if target is None:
        best = min(OUTPUT_ASPECTS, key=lambda a: abs(math.log(r / _ratio(a))))
        keep, side = _crop_keep(r, _ratio(best))
        if keep > 0.995:
            return Check("aspect", "ok", value, "", f"{name} photo ({r:.2f}): exactly {best.value}, nothing is cropped")
        return Check(
            "aspect",
            "ok",
            value,
            "",
            f"{name} photo ({r:.2f}): closest output aspect {best.value}, whose crop keeps "
            f"{keep:.0%} of the {side}; the default (source) keeps the whole photo",
        )
    keep, side = _crop_keep(r, _ratio(target))
    if keep > 0.995:
        return Check("aspect", "ok", value, "", f"{name} photo ({r:.2f}): already {target.value}, nothing is cropped")
    msg = f"{name} photo ({r:.2f}): a {target.value} crop keeps {keep:.0%} of the {side}, around the subject"
    if keep < T.aspect_warning_keep:
        return Check(
            "aspect",
            "warning",
            value,
            "",
            f"{msg}; much of the scene is lost: shoot or pick a photo closer to {target.value}",
        )
    if keep < T.aspect_advice_keep:
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
    g1 = grad_mag(g)
    g2 = grad_mag(cv2.GaussianBlur(g, (0, 0), 1.0))
    edges = (cv2.Canny((g * 255).astype(np.uint8), 40, 100) > 0) & (g1 > 0.1)
    ratio = np.clip(g1 / (g2 + 1e-6), 1.005, 50.0)
    sigma = np.clip(1.0 / np.sqrt(ratio * ratio - 1.0), 0.0, 10.0).astype(np.float32)
    return edges, sigma


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
    gradient directions when it is ``THRESHOLDS.motion_anisotropy`` × that of the crispest
    direction (camera shake smears edges across the motion only), else 0."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    direction = ((np.degrees(np.arctan2(gy[edges], gx[edges])) % 180 + 22.5) // 45).astype(int) % 4
    vals = sigma[edges]
    per_dir = [float(np.percentile(vals[direction == k], 30)) for k in range(4) if (direction == k).sum() >= 50]
    if len(per_dir) < 2 or max(per_dir) < T.motion_anisotropy * max(min(per_dir), 1e-3):
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
    tile = max(32, round(max(h, w) / 8))
    ny, nx = -(-h // tile), -(-w // tile)
    ys, xs = np.nonzero(edges)
    vals = sigma[ys, xs]
    tid = (ys // tile) * nx + xs // tile
    order = np.argsort(tid, kind="stable")
    bounds = np.searchsorted(tid[order], np.arange(ny * nx + 1))
    sorted_vals = vals[order]
    tiles = np.full(ny * nx, np.nan)
    need = max(20, int(0.003 * tile * tile))
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
    # take the crispest two of the tiles weighing at least THRESHOLDS.subject_tile_weight
    # of the most (spectral-residual saliency is patchy: a low bar keeps a
    # small sharp subject, such as a drop, next to its salient surroundings).
    sal = cv2.resize(saliency, (w, h), interpolation=cv2.INTER_AREA)
    sal = cv2.GaussianBlur(sal, (0, 0), max(2.0, w / 60))
    near = cv2.resize(depth, (w, h), interpolation=cv2.INTER_AREA)
    weight = sal / (float(sal.max()) + 1e-6) * (0.3 + near)
    padded = np.zeros((ny * tile, nx * tile), np.float32)
    padded[:h, :w] = weight
    tw = padded.reshape(ny, tile, nx, tile).mean(axis=(1, 3))
    tw = np.where(np.isfinite(tiles), tw, 0.0)
    if tw.max() <= 0:
        return _Blur(tiles, frame, frame, spread, "salient area", motion, plain)
    chosen = np.sort(tiles[tw >= T.subject_tile_weight * tw.max()])
    return _Blur(tiles, frame, float(chosen[:2].mean()), spread, "salient area", motion, plain)


def _check_sharpness(b: _Blur, has_face: bool, work_w: int) -> Check:
    if not math.isfinite(b.frame) and b.plain:
        return Check(
            "sharpness",
            "warning",
            "n/a",
            "px",
            "no detail at all (a plain or nearly uniform image): nothing will visibly move; use a photo with a subject",
        )
    if not math.isfinite(b.frame):
        return Check(
            "sharpness",
            "unusable",
            "n/a",
            "px",
            "no sharp edge anywhere: the photo is badly out of focus or shaken; use another shot",
        )
    subj = b.subject if math.isfinite(b.subject) else b.frame
    where = "the face" if b.where == "face" else "the subject"
    if b.motion > T.sharp_px and b.motion > subj:
        # Camera shake: the crispest edges run along the motion and look sharp.
        subj = b.motion
        level = "warning" if subj > T.soft_px else "advice"
        return Check(
            "sharpness",
            level,
            round(subj, 2),
            "px",
            f"motion blur: edges are smeared in one direction (blur ≈{subj:.1f} px at {work_w} px wide "
            "across the motion), camera shake or a moving subject; use a steadier or faster shot",
        )
    value = round(subj, 2)
    at = f"blur ≈{subj:.1f} px at {work_w} px wide"
    if b.frame > T.blur_unusable_px:
        return Check(
            "sharpness",
            "unusable",
            value,
            "px",
            f"nothing in the frame is sharp ({at}): the photo is badly out of focus or shaken; use another shot",
        )
    if subj <= T.sharp_px:
        bokeh = " (the blurred background is fine: it helps depth)" if b.spread >= T.shallow_dof_spread else ""
        return Check("sharpness", "ok", value, "px", f"{where} is sharp ({at}){bokeh}")
    if subj > T.soft_px and b.frame <= T.sharp_px:
        level = "warning" if has_face else "advice"
        return Check(
            "sharpness",
            level,
            value,
            "px",
            f"{where} is soft ({at}) while other parts are sharp (≈{b.frame:.1f} px): focus missed "
            f"{where}; pick a frame focused on it",
        )
    if subj > T.soft_px:
        return Check(
            "sharpness",
            "warning",
            value,
            "px",
            f"{where} is soft ({at}) and nothing else is sharper: out of focus, shaken or "
            "over-smoothed; the clip will look soft; use a sharper shot",
        )
    return Check(
        "sharpness",
        "advice",
        value,
        "px",
        f"{where} is slightly soft ({at}): acceptable, but a crisper shot will look better in motion",
    )


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
    blown = grey8 > T.clipped_level
    clipped = float(blown.mean())
    crushed = float((grey8 < T.crushed_level).mean())
    value = round(100 * mean, 1)
    stats = f"mean brightness {mean:.0%}, {clipped:.0%} blown highlights, {crushed:.0%} crushed shadows"
    if mean < T.unusable_mean[0] or mean > T.unusable_mean[1]:
        black_or_white = "black" if mean < 0.5 else "white"
        return Check("exposure", "unusable", value, "%", f"the frame is almost all {black_or_white} ({stats})")
    backdrop = sky_blown = 0.0
    if clipped > T.clipped_advice:
        _n, labels = cv2.connectedComponents(blown.astype(np.uint8), connectivity=8)
        edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        touching = np.isin(labels, edge[edge != 0])
        in_sky = cv2.resize(sky, (grey8.shape[1], grey8.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5
        sky_blown = float((blown & in_sky).mean())
        if backdrop_ok:
            in_sky[:] = False
        backdrop = float((touching & ~in_sky).mean())
    problems: list[tuple[str, str]] = []  # (level, words)
    if mean < T.dark_warning_mean:
        problems.append(
            ("warning", "too dark: brighten it (or lift the shadows) before animating, or motion will be hard to see")
        )
    elif mean < T.dark_advice_mean:
        problems.append(
            ("advice", "on the dark side: fine for a night or low-key shot, otherwise brighten it a little")
        )
    elif mean > T.bright_advice_mean and backdrop < 0.5 * clipped:
        problems.append(("advice", "very bright: fine for a high-key shot, otherwise lower the exposure a little"))
    if clipped > T.clipped_advice and backdrop >= 0.8 * clipped:
        problems.append(
            ("advice", f"a blown-out white backdrop ({backdrop:.0%} of the frame): fine for a studio or graphic look")
        )
    elif clipped > T.clipped_warning:
        where = (
            "the sky is blown out, clouds there cannot drift"
            if sky_blown > 0.5 * clipped
            else "large blown highlights have no detail to move"
        )
        problems.append(("warning", f"{where}: recover the highlights or use a better-exposed shot"))
    elif clipped > T.clipped_advice:
        problems.append(("advice", "some highlights are blown: recover them if you can"))
    if crushed > T.crushed_warning:
        problems.append(("warning", "large areas are pure black: lift the shadows"))
    elif crushed > T.crushed_advice:
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
    noise's σ) on the flattest part of the photo (``THRESHOLDS.noise_flat_share``), made blind to texture by
    comparing two scales: white noise loses three quarters of its HH energy
    from one scale to the next, texture keeps it, so σ² ≈ 4/3 (E₁ − E₂).
    """
    g = cv2.cvtColor(small.astype(np.float32), cv2.COLOR_RGB2GRAY)
    d1, ll = _haar_hh(g)
    d2, _ = _haar_hh(ll)
    if d2.size < 16:
        return 0.0
    grad = grad_mag(cv2.GaussianBlur(g, (0, 0), 2.0))[0::4, 0::4][: d2.shape[0], : d2.shape[1]]
    flat2 = grad <= np.percentile(grad, 100 * T.noise_flat_share)
    flat1 = np.repeat(np.repeat(flat2, 2, axis=0), 2, axis=1)
    e1 = float(np.mean(d1[: flat1.shape[0], : flat1.shape[1]][flat1] ** 2))
    e2 = float(np.mean(d2[flat2] ** 2))
    return math.sqrt(max(0.0, 4.0 / 3.0 * (e1 - e2)))


def _check_noise(small: np.ndarray) -> Check:
    n = _noise_sigma(small)
    value = round(n, 2)
    if n > T.noise_warning:
        return Check(
            "noise",
            "warning",
            value,
            "/255",
            f"heavy noise (grain ≈{n:.1f} levels of 255 at video size): denoise it first, "
            "grain swims when the image moves",
        )
    if n > T.noise_advice:
        return Check(
            "noise",
            "advice",
            value,
            "/255",
            f"visible grain (≈{n:.1f} levels of 255 at video size): a light denoise will help",
        )
    return Check("noise", "ok", value, "/255", f"clean (noise ≈{n:.1f} levels of 255 at video size)")


def _check_compression(rgb: np.ndarray) -> Check:
    ratio, extra = jpeg_blockiness(rgb, T.block_crop, T.block_crops)
    value = round(ratio, 2)
    steps = f"blockiness {ratio:.2f}, block edges {extra:.1f} levels stronger than other steps"
    if ratio > T.block_warning_ratio:
        return Check(
            "compression",
            "warning",
            value,
            "×",
            f"heavy JPEG compression: 8×8 blocks show ({steps}); use the original or a "
            "higher-quality export, blocks crawl when the image moves",
        )
    if ratio > T.block_advice_ratio:
        return Check(
            "compression",
            "advice",
            value,
            "×",
            f"noticeable JPEG compression ({steps}): a higher-quality export is better",
        )
    return Check("compression", "ok", value, "×", f"no visible JPEG blocking ({steps})")


def _check_saturation(small: np.ndarray, grey8: np.ndarray) -> Check:
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    over = float(((hsv[..., 1] > T.oversaturated_s * 255) & (hsv[..., 2] > T.oversaturated_v * 255)).mean())
    contrast = float(grey8.std()) / 255.0
    value = round(100 * over, 1)
    notes = []
    if over > T.oversaturated_advice:
        notes.append(
            f"very saturated colours ({over:.0%} of the photo at full saturation): fine if that is the look, "
            "but a heavy filter or saturation boost shows as colour banding in motion"
        )
    if contrast > T.contrast_advice:
        notes.append(
            f"extreme contrast (RMS {contrast:.2f}): a heavy filter or HDR look; a gentler edit animates more naturally"
        )
    if notes:
        return Check("saturation", "advice", value, "%", "; ".join(notes))
    return Check(
        "saturation",
        "ok",
        value,
        "%",
        f"natural colour and contrast ({over:.0%} fully saturated, RMS contrast {contrast:.2f})",
    )


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
        rows = slice(max(0, int(cy * h - bh / 2)), int(cy * h + bh / 2))
        inside[rows, max(0, int(cx * w - bw / 2)) : int(cx * w + bw / 2)] = True
    sep = 0.0
    if inside.any() and not inside.all():
        background = np.percentile(d[~inside], 25) if faces else np.median(d[~inside])
        sep = float(np.median(d[inside]) - background)
    value = round(sep, 3) + 0.0  # + 0.0: no "-0.0"
    cues = []
    if faces and sep >= T.depth_separation_good:
        cues.append(f"the person stands {sep:.2f} nearer than the background on a 0–1 depth scale")
    elif not faces and sep >= T.depth_subject_good:
        cues.append(f"the subject stands {sep:.2f} nearer than the rest on a 0–1 depth scale")
    if math.isfinite(b.frame) and b.frame <= T.sharp_px and b.spread >= T.shallow_dof_spread:
        cues.append("shallow depth of field (sharp subject, blurred background)")
    if sky >= T.depth_open_sky and not faces:
        cues.append(f"an open scene from near ground to a far sky ({sky:.0%} sky)")
    if cues:
        return Check(
            "depth",
            "ok",
            value,
            "",
            f"good depth cues: {'; '.join(cues)}: parallax will read well, push-ins and gentle orbits work",
        )
    return Check(
        "depth",
        "advice",
        value,
        "",
        f"flat scene (subject-to-background depth difference {value:+.2f} on a 0–1 scale, no depth-of-field "
        "or horizon cue): prefer zooms and element motion over orbits",
    )
