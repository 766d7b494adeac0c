"""Depth from one photo without a learned model: fused classical cues.

No model download and no torch: a handful of monocular cues, each a
float32 H×W map in [0, 1] with 1 = near, are fused by weights that grow
with how informative each cue is on this photo, then snapped to the
photo's edges with a guided filter (He et al., "Guided Image Filtering",
ECCV 2010). Cues:

- **ground plane**: below the horizon, lower in the frame is nearer
  (Hoiem et al., "Automatic Photo Pop-up", SIGGRAPH 2005);
- **defocus**: in-focus edges are nearer than blurred ones when the photo
  has a shallow depth of field (Zhuo & Sim, "Defocus map estimation from a
  single image", Pattern Recognition 2011: re-blur gradient ratio);
- **sky**: bright, smooth, top-connected regions are farthest;
- **aerial perspective**: hazier (higher dark channel) is farther
  (He, Sun & Tang, "Single Image Haze Removal Using Dark Channel Prior",
  CVPR 2009);
- **subject**: faces (and the body below them) and the salient object
  (Hou & Zhang, "Saliency Detection: A Spectral Residual Approach",
  CVPR 2007) are in front.

The result is relative (ordinal) depth, not metres: good enough to order
layers for parallax, which is all the ``living`` engine needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .._measure import check_rgb_uint8, grad_mag

__all__ = [
    "DepthCues",
    "estimate_depth",
    "guided_filter",
    "hold_to_support",
    "is_frayed",
    "sky_edge",
    "sky_mask",
    "spectral_residual_saliency",
]

WORK_SIDE = 384
"""Long side, in pixels, at which the cues are computed (depth is smooth)."""


@dataclass(frozen=True)
class DepthCues:
    """The individual cue maps (float32 h×w in [0, 1], 1 = near) and their fusion weights."""

    ground: np.ndarray
    defocus: np.ndarray
    haze: np.ndarray
    subject: np.ndarray
    sky: np.ndarray
    weights: dict[str, float]
    horizon: float
    """Horizon height as a fraction of the image height from the top."""


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-aware smoothing of ``src`` following the edges of ``guide``.

    Args:
        guide: float32 H×W (grey) in [0, 1].
        src: float32 H×W to filter.
        radius: box radius in pixels (≥ 1).
        eps: regularisation (variance units of ``guide``); larger = smoother.

    Returns:
        float32 H×W.

    From He, Sun & Tang, "Guided Image Filtering" (ECCV 2010), grey guide.
    """
    k = (2 * radius + 1, 2 * radius + 1)
    mean = lambda x: cv2.boxFilter(x, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT)
    mi, ms = mean(guide), mean(src)
    cov = mean(guide * src) - mi * ms
    var = mean(guide * guide) - mi * mi
    a = cov / (var + eps)
    b = ms - a * mi
    return mean(a) * guide + mean(b)


def spectral_residual_saliency(grey: np.ndarray) -> np.ndarray:
    """Saliency map by the spectral residual (Hou & Zhang, CVPR 2007).

    Args:
        grey: float32 H×W in [0, 1].

    Returns:
        float32 H×W in [0, 1], 1 = most salient.
    """
    h, w = grey.shape
    small = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    spec = np.fft.fft2(small)
    log_amp = np.log(np.abs(spec) + 1e-6)
    phase = np.angle(spec)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 3)
    sal = cv2.resize(sal, (w, h), interpolation=cv2.INTER_LINEAR)
    return _normalise(sal)


def estimate_depth(
    rgb: np.ndarray,
    *,
    faces: list[tuple[int, int, int, int]] | None = None,
    return_cues: bool = False,
) -> np.ndarray | tuple[np.ndarray, DepthCues]:
    """Relative depth of a photo from fused classical cues.

    Args:
        rgb: uint8 H×W×3 RGB photo.
        faces: face boxes (x, y, w, h) in pixels of ``rgb``, if known; their
            heads and bodies are put in front.
        return_cues: also return the :class:`DepthCues` (for explanations
            and tests).

    Returns:
        float32 H×W depth in [0, 1], 1 = nearest, the same H×W as ``rgb``
        (and the cues when ``return_cues``).

    Raises:
        ValueError: ``rgb`` is not uint8 H×W×3.
    """
    check_rgb_uint8("rgb", rgb)
    H, W = rgb.shape[:2]
    scale = WORK_SIDE / max(H, W)
    h, w = max(8, round(H * scale)), max(8, round(W * scale))
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    img = small.astype(np.float32) / 255.0
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)

    sky = sky_mask(img, grey)
    horizon = _horizon(sky)
    ground = _ground_prior(h, w, horizon)
    defocus, defocus_spread = _defocus_cue(grey)
    haze, haze_spread = _haze_cue(img, sky)
    subject = _subject_cue(grey, faces, scale, (h, w))

    # Weights: priors are always on; image-driven cues count as much as they
    # vary on this photo (a deep-focus landscape has no defocus signal).
    weights = {
        "ground": 1.0,
        "defocus": 1.6 * float(np.clip((defocus_spread - 0.05) / 0.2, 0.0, 1.0)),
        # Aerial perspective only means distance outdoors, where there is sky.
        "haze": 0.5 * float(np.clip(haze_spread / 0.25, 0.0, 1.0)) * float(sky.mean() > 0.03),
        "subject": 0.9 if faces else 0.35,
    }
    total = sum(weights.values())
    fused = (
        weights["ground"] * ground
        + weights["defocus"] * defocus
        + weights["haze"] * haze
        + weights["subject"] * subject
    ) / total
    fused = _normalise(fused, lo_pct=1.0, hi_pct=99.0)
    if faces:
        # People are a layer in front of what is behind them: lift the head
        # and body region to near depth rather than only nudging it.
        fused = np.maximum(fused, 0.9 * subject)
    # Snap to the photo's edges: coarse then fine guided filtering. The sky
    # keeps its cue values here (close to those of what stands in front of
    # it), so the filters do not pull the outline of a roof toward infinity.
    fused = guided_filter(grey, fused, radius=max(2, w // 24), eps=1e-2)
    fused = guided_filter(grey, fused, radius=max(1, w // 96), eps=1e-3)
    fused = _normalise(fused, lo_pct=0.5, hi_pct=99.5)
    sky_hard = sky_edge(img, sky) if sky.max() > 0.5 else None
    if sky_hard is not None:
        # What stands in front of the sky is one piece, extended over the sky
        # for now: the sky gets its infinite depth after upsampling, so the
        # step stays hard.
        fused = hold_to_support(0.1 + 0.9 * fused, sky_hard, extend=True)

    depth = cv2.resize(fused, (W, H), interpolation=cv2.INTER_LINEAR)
    if W * H > w * h * 2:
        # Re-snap the upsampled map to full-resolution edges.
        g_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        depth = guided_filter(g_full, depth, radius=max(2, round(2 / scale)), eps=2e-3)
    if sky_hard is not None:
        up = cv2.resize(sky_hard.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR) > 0.5
        depth[up] = 0.0
    depth = np.clip(depth, 0.0, 1.0).astype(np.float32)
    if return_cues:
        cues = DepthCues(ground, defocus, haze, subject, sky, weights, horizon)
        return depth, cues
    return depth


# ---------------------------------------------------------------- cues


def _normalise(x: np.ndarray, lo_pct: float = 0.0, hi_pct: float = 100.0) -> np.ndarray:
    lo, hi = np.percentile(x, [lo_pct, hi_pct])
    if hi - lo < 1e-6:
        return np.zeros_like(x, dtype=np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def sky_mask(img: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """Soft sky mask: bright, smooth, blue or grey, connected to the top edge.

    Args:
        img: float32 h×w×3 RGB in [0, 1].
        grey: float32 h×w luma of ``img`` in [0, 1].

    Returns:
        float32 h×w in [0, 1], 1 = sky (a closed, slightly blurred binary mask; all 0 when
        under 2 % of the frame is sky).
    """
    h, w = grey.shape
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # H in degrees, S and V in [0, 1]
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    texture = cv2.GaussianBlur(grad_mag(grey), (0, 0), 2.0)
    smooth = texture < 0.06
    # A blue sky is judged on its own brightness (it may be the darker part
    # of a photo that is mostly sky); a grey or white one against the rest
    # of the photo (an overcast sky is its brightest part).
    blue = (hue > 180) & (hue < 260) & (sat > 0.12) & (val > 0.3)
    greyish = (sat < 0.2) & (val > max(0.2, float(np.percentile(val, 35))))
    cand = (smooth & (blue | greyish)).astype(np.uint8)
    # Keep the candidate components that touch the top rows, and those cut
    # off from them by thin things in front of the sky (cables, masts,
    # branches: within 4 % of the width) whose colour where they face it
    # matches the sky's (ΔE < 5: a piece of sky across a cable is 1.5 away;
    # the sea below a hazy horizon 9).
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=4)
    if n <= 1:
        return np.zeros((h, w), np.float32)
    top_labels = np.unique(labels[: max(1, h // 50)])
    keep = np.zeros(n, bool)
    keep[top_labels] = True
    keep[0] = False
    k = max(3, int(0.04 * max(h, w)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    for _ in range(3):
        mask = keep[labels]
        near = cv2.dilate(mask.astype(np.uint8), disc) > 0
        added = False
        for i in np.unique(labels[near & ~mask & (cand > 0)]):
            if i == 0 or stats[i, cv2.CC_STAT_AREA] < 0.002 * h * w:
                continue
            comp = labels == i
            beside = mask & (cv2.dilate(comp.astype(np.uint8), disc) > 0)
            facing = comp & near
            if beside.sum() < 10 or facing.sum() < 10:
                continue
            if float(np.sqrt(((lab[facing].mean(axis=0) - lab[beside].mean(axis=0)) ** 2).sum())) < 5.0:
                keep[i] = added = True
        if not added:
            break
    mask = keep[labels]
    if mask.mean() < 0.02:
        return np.zeros((h, w), np.float32)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5)


SKY_FRAY = 9.0
"""Most outline pixels per √(sky pixels) that :func:`sky_edge` accepts as a sky (a
straight horizon across a square frame gives 1; china.jpg's pagoda and trees about
4.5; a close-up of splashing water 14)."""


def is_frayed(mask: np.ndarray, limit: float = SKY_FRAY) -> bool:
    """Whether a sky candidate is frayed into pieces rather than one region with an outline.

    A sky is one compact region; a bright, smooth texture taken for sky (a
    close-up of water, white boards, a window) comes in many pieces, with
    far more outline for its area.

    Args:
        mask: bool h×w sky candidate.
        limit: most outline pixels (8-neighbours outside the mask) per
            √(mask pixels).

    Returns:
        True when the outline is longer than ``limit``·√area (an empty mask is not frayed).
    """
    if not mask.any():
        return False
    outline = (cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~mask
    return bool(outline.sum() > limit * np.sqrt(mask.sum()))


def sky_edge(img: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """The sky mask snapped to the outline of what stands in front of it.

    :func:`sky_mask` stops a few pixels short of every edge (it asks for
    smoothness over a blurred window). Pixels in that band are given back
    to the sky, one pixel at a time (up to 8), when their colour is within
    ΔE 8 (CIELAB) of the sky around them (its local mean over sky pixels
    only) and they are locally flat; a finial, a mast or a twig is neither.
    Holes in the sky that do not reach the bottom edge (up to 3 % of the
    frame: dark clouds, birds) join it. A frayed result (outline over :data:`SKY_FRAY`·√area: a
    bright, smooth texture, not a sky) is dropped.

    Args:
        img: float32 h×w×3 RGB in [0, 1].
        sky: float32 h×w soft sky mask (from :func:`sky_mask`).

    Returns:
        bool h×w: True = sky; all False when there is none.
    """
    hard = sky > 0.5
    if not hard.any():
        return hard
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    flat = cv2.GaussianBlur(grad_mag(grey), (0, 0), 0.7) < 0.08
    step = np.ones((3, 3), np.uint8)
    for _ in range(8):
        # Grow one pixel at a time into flat pixels of the local sky's colour.
        m = hard.astype(np.float32)
        den = cv2.GaussianBlur(m, (0, 0), 3.0) + 1e-4
        local = np.stack([cv2.GaussianBlur(lab[..., c] * m, (0, 0), 3.0) / den for c in range(3)], axis=-1)
        close = np.sqrt(((lab - local) ** 2).sum(axis=-1)) < 8.0
        ring = (cv2.dilate(m, step) > 0) & ~hard
        grow = ring & close & flat
        if not grow.any():
            break
        hard = hard | grow
    if is_frayed(hard):
        return np.zeros_like(hard)
    # Dark clouds and birds within the sky are as far as the sky: holes that
    # do not reach the bottom edge, up to 3 % of the frame.
    _n, labels, stats, _ = cv2.connectedComponentsWithStats((~hard).astype(np.uint8), connectivity=4)
    h, w = hard.shape
    top, height, area = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    inner = (top + height < h) & (area <= 0.03 * h * w)
    inner[0] = False  # label 0 is the sky itself
    hard = hard | (inner[labels] & ~hard)
    return hard


def hold_to_support(depth: np.ndarray, sky: np.ndarray, *, extend: bool = False) -> np.ndarray:
    """Make everything in front of the sky one piece with a hard edge against it.

    A smooth depth map (cue fusion, guided filtering, a network's output)
    blends a thin structure seen against the sky with the sky's far depth:
    a pagoda's finial, a mast, a branch or a lock of hair gets a depth
    *between* its support and the sky, and a parallax move tears it off
    what holds it (a neck narrower than the filter's window dips to the
    sky's depth and opens a gap). Three steps fix that:

    1. thin parts (what a morphological opening with a disc 1.5 % of the
       width across removes from the non-sky part: a mast, a finial's
       neck, a twig) take the depth of the nearest thick part;
    2. the sky gets depth 0 (infinity) and everything
       else is extended over it from the nearest non-sky pixel, so no
       blend of the two is left along the outline (the renderer's
       disocclusion plate handles the hard step);
    3. valleys narrower than 3 % of the width inside the non-sky part are
       filled (a grey-level closing, Serra, "Image Analysis and
       Mathematical Morphology", 1982): a thin part stays at the depth of
       the thicker parts on either side of it.

    Args:
        depth: float32 h×w depth in [0, 1], 1 = near.
        sky: bool h×w, True = sky (e.g. from :func:`sky_edge`).
        extend: leave the sky at the extended depth of what is in front of
            it (for a caller that resamples the map and sets the sky after).

    Returns:
        float32 h×w depth in [0, 1], same shape.

    Raises:
        ValueError: the shapes differ.
    """
    if depth.shape != sky.shape:
        raise ValueError(f"depth {depth.shape} and sky {sky.shape} must have the same shape")
    if not sky.any() or sky.all():
        return depth.astype(np.float32)
    w = depth.shape[1]
    d = depth.astype(np.float32)
    solid = ~sky
    # 1. Thin parts (what an opening with a disc of 1.5 % of the width
    #    removes: a mast, a finial's neck, a twig) take the depth of the
    #    nearest thick part, which holds them.
    r = max(3, int(0.015 * w) | 1)
    disc_r = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r, r))
    thick = cv2.morphologyEx(solid.astype(np.uint8), cv2.MORPH_OPEN, disc_r) > 0
    core = cv2.erode(solid.astype(np.uint8), disc_r) > 0  # well inside, away from the thin parts' roots
    if core.any():
        d = np.where(solid & ~thick, _nearest_fill(d, ~core), d)
    # 2. Extend the non-sky depth over the sky from its nearest pixel.
    ext = _nearest_fill(d, sky)
    # 3. Close narrow valleys.
    k = max(5, int(0.03 * w) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    held = np.maximum(ext, cv2.morphologyEx(ext, cv2.MORPH_CLOSE, disc))
    if extend:
        return held.astype(np.float32)
    return np.where(sky, np.float32(0.0), held).astype(np.float32)


def _nearest_fill(values: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """``values`` with every pixel of ``holes`` replaced by the value of the nearest pixel outside them."""
    _dist, labels = cv2.distanceTransformWithLabels(
        holes.astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    table = np.zeros(int(labels.max()) + 1, np.float32)
    table[labels[~holes]] = values[~holes]
    return np.where(holes, table[labels], values).astype(np.float32)


def _horizon(sky: np.ndarray) -> float:
    """Horizon as a fraction of the height: the lowest typical sky row, else 0."""
    h, _w = sky.shape
    cols = sky > 0.5
    if cols.mean() < 0.02:
        return 0.0
    # Per column: the last sky row; the horizon is the median over sky columns.
    has = cols.any(axis=0)
    last = h - 1 - np.argmax(cols[::-1, :], axis=0)
    return float(np.median(last[has]) / h)


def _ground_prior(h: int, w: int, horizon: float) -> np.ndarray:
    """Lower in the frame is nearer, below the horizon (a ground plane seen from eye height)."""
    y = (np.arange(h, dtype=np.float32) + 0.5) / h
    ramp = np.clip((y - horizon) / max(1e-3, 1.0 - horizon), 0.0, 1.0)
    # Perspective: depth along a ground plane grows like 1/(y - horizon);
    # in disparity that is linear in (y - horizon), softened by a gamma.
    ramp = ramp**0.8
    return np.repeat(ramp[:, None], w, axis=1).astype(np.float32)


def _defocus_cue(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """Sharpness from the re-blur gradient ratio at edges, propagated; 1 = sharp (near).

    Zhuo & Sim (2011): re-blur with σ0; at an edge blurred by σ the
    gradient ratio R = |∇I| / |∇(I*g_σ0)| gives σ = σ0 / sqrt(R² − 1).
    Sparse estimates at Canny edges are spread by normalised convolution
    and a guided filter instead of the paper's matting Laplacian.
    """
    sigma0 = 1.0
    g1 = grad_mag(grey)
    g2 = grad_mag(cv2.GaussianBlur(grey, (0, 0), sigma0))
    ratio = g1 / (g2 + 1e-6)
    edges = cv2.Canny((grey * 255).astype(np.uint8), 30, 90) > 0
    edges &= g1 > 0.02
    ratio = np.clip(ratio, 1.01, 20.0)
    blur_sigma = np.clip(sigma0 / np.sqrt(ratio * ratio - 1.0), 0.0, 5.0)
    sharp = np.exp(-blur_sigma / 1.2).astype(np.float32)  # 1 = sharp
    if edges.sum() < 30:
        return np.full_like(grey, 0.5), 0.0
    weight = edges.astype(np.float32)
    h, w = grey.shape
    s = max(h, w) / 12.0
    num = cv2.GaussianBlur(sharp * weight, (0, 0), s)
    den = cv2.GaussianBlur(weight, (0, 0), s)
    dense = num / (den + 1e-4)
    dense = guided_filter(grey, dense.astype(np.float32), radius=max(2, w // 32), eps=5e-3)
    # Shallow depth of field shows as a share of clearly blurred edges
    # (σ > 1.5 px at the working size); deep-focus photos have almost none.
    blurred_share = float((blur_sigma[edges] > 1.5).mean())
    return _normalise(dense, 2.0, 98.0), blurred_share


def _haze_cue(img: np.ndarray, sky: np.ndarray) -> tuple[np.ndarray, float]:
    """Aerial perspective: a high dark channel (haze) is far; 1 = near (clear)."""
    dark = cv2.erode(img.min(axis=2), np.ones((9, 9), np.uint8))
    dark = cv2.GaussianBlur(dark, (0, 0), 4.0)
    land = sky < 0.5
    if land.mean() < 0.05:
        return np.full(dark.shape, 0.5, np.float32), 0.0
    vals = dark[land]
    spread = float(np.percentile(vals, 95) - np.percentile(vals, 5))
    return 1.0 - _normalise(dark, 2.0, 98.0), spread


def _subject_cue(
    grey: np.ndarray,
    faces: list[tuple[int, int, int, int]] | None,
    scale: float,
    shape: tuple[int, int],
) -> np.ndarray:
    """The subject in front: faces with the body below them, else the salient object."""
    h, w = shape
    if faces:
        out = np.zeros((h, w), np.float32)
        for x, y, fw, fh in faces:
            x, y, fw, fh = (v * scale for v in (x, y, fw, fh))
            cx, cy = x + fw / 2, y + fh / 2
            # Head: an ellipse a bit larger than the face box; body: a wider
            # ellipse below, as far as the frame goes.
            cv2.ellipse(out, (round(cx), round(cy)), (round(fw * 0.75), round(fh * 0.95)), 0, 0, 360, 1.0, -1)
            cv2.ellipse(out, (round(cx), round(cy + fh * 2.2)), (round(fw * 1.6), round(fh * 2.0)), 0, 0, 360, 0.9, -1)
        return guided_filter(grey, cv2.GaussianBlur(out, (0, 0), max(1.0, w / 80)), max(2, w // 40), 1e-3)
    sal = spectral_residual_saliency(grey)
    return _normalise(cv2.GaussianBlur(sal, (0, 0), max(1.0, w / 40)), 5.0, 99.0)
