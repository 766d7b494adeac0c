"""The motion brush in the living engine: a mask, a freeze mask and arrows become one dense flow field.

The user's own say over what moves, as in Motionleap's motion brush
(displacement arrows, anchors, freeze; notes/living-photo.md §1.1):

- ``--mask PNG``: white = moves. Without it, motion fades away from the arrows.
- ``--freeze PNG``: white = never moves, whatever else says so.
- ``--arrow X1,Y1,X2,Y2[:SPEED]`` (repeatable): "the point X1,Y1 moves to
  X2,Y2 in one second", in photo pixels, times SPEED.

The masks are read by :func:`stillmotion.image.load_mask` and the arrows by
:func:`stillmotion.arrows.parse_arrow`; :func:`arrows_to_flow` densifies the
sparse arrows the way 3d-cinemagraphy does (xingyi-li/3d-cinemagraphy,
Apache-2.0: a normalised Gaussian RBF, masked) and zeroes frozen areas with
a feathered edge (the freeze term of mShuvi/Image-to-Cinemagrph,
reimplemented from its description).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..._measure import smoothstep
from ...arrows import Arrow

__all__ = ["arrows_to_flow"]


def arrows_to_flow(
    arrows: list[Arrow],
    shape: tuple[int, int],
    scale: float,
    *,
    mask: np.ndarray | None = None,
    freeze: np.ndarray | None = None,
) -> np.ndarray:
    """Densify motion-brush arrows into a constant (Eulerian) velocity field.

    Each arrow's velocity is (end − start) × ``scale`` × ``speed``: the
    arrow's length is how far its start point moves in one second. The
    field is the normalised Gaussian RBF of 3d-cinemagraphy,
    ``Σ exp(−(d_i/σ)²)·v_i / Σ exp(−(d_i/σ)²)``, with ``d_i`` the distance to
    arrow i's segment (the limit of sampling points densely along it, so
    a long arrow counts once, not once per sample). Then:

    - without ``mask``, it fades away from the arrows:
      × ``1 − Π_i (1 − exp(−(d_i/σ)²))``, 1 on every arrow, ≈0.02 at 2σ;
    - with ``mask`` (resized to the grid), it fills the mask and is
      exactly 0 outside it, ramping up over a feather width inside the edge;
    - inside ``freeze`` (resized; frozen where ≥ 0.5) it is exactly 0,
      ramping back up over the feather width outside the frozen area.

    σ = max(h, w) / (2·n_arrows), clipped to [s/16, s/4] with s = min(h, w):
    3d-cinemagraphy draws σ from [H/(2n), 2H/n]; the upper clip s/4 (not
    s/2) keeps one arrow without a mask to a brush-sized region (~2σ
    around it) instead of the whole frame. The feather width is
    max(2, s/32) grid pixels. The RBF is computed on a grid coarser by
    σ/8 (it varies on the scale of σ) and resized with bicubic
    interpolation; d² to a segment is C¹, so the field has no kinks.

    Args:
        arrows: The arrows, in photo pixels. An empty list gives an all-zero field.
        shape: (h, w) of the target grid in pixels, both ≥ 1.
        scale: Grid pixels per photo pixel, > 0. The grid covers the photo
            scaled by ``scale`` from its top-left corner (pixel centres at
            integers, as ``cv2.resize`` maps them); crop first otherwise.
        mask: float H'×W' in [0, 1] (1 = moves), any size; resized to (h, w).
        freeze: float H'×W' in [0, 1] (1 = frozen), any size; resized to (h, w).

    Returns:
        float32 array (h, w, 2): (dx, dy) in grid pixels per second.

    Raises:
        ValueError: ``shape``, ``scale``, ``mask`` or ``freeze`` is malformed.

    >>> flow = arrows_to_flow([Arrow(10, 50, 40, 50)], (100, 160), 1.0)
    >>> flow.shape, flow.dtype
    ((100, 160, 2), dtype('float32'))
    >>> [round(float(v), 1) for v in flow[50, 25]]
    [30.0, 0.0]
    """
    if len(shape) != 2 or any(int(v) != v or v < 1 for v in shape):
        raise ValueError(f"shape must be (h, w) with integer sides >= 1, got {shape}")
    h, w = (int(v) for v in shape)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be > 0 grid pixels per photo pixel, got {scale}")
    masks = {name: _as_map(m, name) for name, m in (("mask", mask), ("freeze", freeze)) if m is not None}
    flow = np.zeros((h, w, 2), np.float32)
    if not arrows:
        return flow

    n = len(arrows)
    s = min(h, w)
    sigma = float(np.clip(max(h, w) / (2 * n), s / 16, s / 4))
    step = max(1, int(sigma / 8))
    ch, cw = -(-h // step), -(-w // step)
    # Coarse pixel centres in grid coordinates, as cv2.resize maps them back.
    ys = ((np.arange(ch, dtype=np.float32) + 0.5) * (h / ch) - 0.5)[None, :, None]
    xs = ((np.arange(cw, dtype=np.float32) + 0.5) * (w / cw) - 0.5)[None, None, :]
    # Arrows in grid coordinates (pixel centres at integers).
    p = np.array([(a.x1, a.y1, a.x2, a.y2) for a in arrows], np.float64)
    p = ((p + 0.5) * scale - 0.5).astype(np.float32)
    ax, ay = p[:, 0, None, None], p[:, 1, None, None]
    ux, uy = p[:, 2, None, None] - ax, p[:, 3, None, None] - ay
    vel = np.array([a.velocity(scale) for a in arrows], np.float32)  # (n, 2)

    # Squared distance to each segment, in units of σ²: (n, ch, cw).
    rx, ry = xs - ax, ys - ay
    t = np.clip((rx * ux + ry * uy) / np.maximum(ux * ux + uy * uy, 1e-12), 0.0, 1.0)
    e = ((rx - t * ux) ** 2 + (ry - t * uy) ** 2) / np.float32(sigma * sigma)
    # Normalised RBF, shifted by the nearest arrow's term so it never underflows.
    wts = np.exp(e.min(axis=0) - e)
    dense = np.einsum("nyx,nc->yxc", wts, vel) / wts.sum(axis=0)[..., None]
    if "mask" not in masks:
        reach = 1.0 - np.prod(1.0 - np.exp(-e), axis=0)  # 1 on any arrow, → 0 away from all
        dense *= reach[..., None]
    if step > 1:
        dense = cv2.resize(dense, (w, h), interpolation=cv2.INTER_CUBIC)
    flow[:] = dense

    feather = max(2.0, s / 32)
    if "mask" in masks:
        m = _to_grid(masks["mask"], h, w)
        inside = cv2.distanceTransform((m > 1e-3).astype(np.uint8), cv2.DIST_L2, 5)  # px to the nearest 0
        flow *= (m * smoothstep(inside / feather))[..., None]
    if "freeze" in masks:
        f = _to_grid(masks["freeze"], h, w)
        away = cv2.distanceTransform((f < 0.5).astype(np.uint8), cv2.DIST_L2, 5)  # px to the nearest frozen
        flow *= (smoothstep(away / feather) * (1.0 - f))[..., None]
    return flow


def _as_map(m: np.ndarray, name: str) -> np.ndarray:
    """Check a mask is a finite 2-D array in [0, 1] and return it as float32."""
    a = np.asarray(m)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"{name} must be a 2-D H×W array in [0, 1], got shape {a.shape}")
    a = a.astype(np.float32, copy=False)
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ValueError(f"{name} values must be finite and in [0, 1], got [{a.min():g}, {a.max():g}]")
    return a


def _to_grid(m: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize a float32 map to (h, w): area-averaged when shrinking, bilinear when enlarging."""
    if m.shape == (h, w):
        return m
    shrink = m.shape[0] * m.shape[1] > h * w
    out = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0)
