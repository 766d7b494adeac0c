"""The motion brush: a mask, a freeze mask and arrows become one dense flow field.

The user's own say over what moves, as in Motionleap's motion brush
(displacement arrows, anchors, freeze; notes/living-photo.md §1.1):

- ``--mask PNG``: white = moves. Without it, motion fades away from the arrows.
- ``--freeze PNG``: white = never moves, whatever else says so.
- ``--arrow X1,Y1,X2,Y2[:SPEED]`` (repeatable): "the point X1,Y1 moves to
  X2,Y2 in one second", in photo pixels, times SPEED.

:func:`arrows_to_flow` densifies the sparse arrows the way 3d-cinemagraphy
does (xingyi-li/3d-cinemagraphy, Apache-2.0: a normalised Gaussian RBF,
masked) and zeroes frozen areas with a feathered edge (the freeze term of
mShuvi/Image-to-Cinemagrph, reimplemented from its description).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError

__all__ = ["MAX_SPEED", "Arrow", "arrows_to_flow", "load_mask", "parse_arrow"]

MAX_SPEED = 10.0
"""Largest arrow speed multiplier."""

_ARROW_FORM = "X1,Y1,X2,Y2[:SPEED]"
_ARROW_EXAMPLE = "write it like 100,200,160,200 or 100,200,160,200:1.5 (photo pixels)"
_NUM = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_ARROW_RE = re.compile(rf"^{_NUM},{_NUM},{_NUM},{_NUM}(?::{_NUM})?$")

# ITU-R BT.601 luma, as Pillow's convert("L").
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Soft threshold of mask values: below LO is exactly 0 (JPEG noise on black),
# above HI exactly 1, smoothstep between.
_MASK_LO, _MASK_HI = 0.1, 0.9
# A transparent mask whose painted pixels (alpha > 0.5) vary in luminance by
# at most this much is read by its alpha: the paint colour does not matter.
_UNIFORM_LUMA = 8 / 255
# What the mask means, by flag: load_mask accepts exactly these.
_MASK_ROLES = {"--mask": "moves", "--freeze": "frozen"}


@dataclass(frozen=True)
class Arrow:
    """One motion-brush arrow, in photo pixels (after EXIF orientation).

    The point (x1, y1) moves towards (x2, y2): the arrow's length is the
    displacement per second, times ``speed``.

    Attributes:
        x1, y1: Start, photo pixels (pixel centres at integers).
        x2, y2: End, photo pixels; differs from the start.
        speed: Multiplier of the arrow's length per second, in (0, 10].

    Raises:
        InputError: zero length, a coordinate that is not finite, or a speed
            outside (0, 10].

    >>> Arrow(100, 200, 160, 200).velocity(scale=0.5)
    (30.0, 0.0)
    """

    x1: float
    y1: float
    x2: float
    y2: float
    speed: float = 1.0

    def __post_init__(self) -> None:
        _check_arrow(self.x1, self.y1, self.x2, self.y2, self.speed, shown=None)

    @property
    def text(self) -> str:
        """The arrow as the CLI writes it, ``"X1,Y1,X2,Y2"`` or ``"X1,Y1,X2,Y2:SPEED"``."""
        return _arrow_text(self.x1, self.y1, self.x2, self.y2, self.speed)

    def velocity(self, scale: float = 1.0) -> tuple[float, float]:
        """(dx, dy) in grid pixels per second, for a grid of ``scale`` grid pixels per photo pixel."""
        k = self.speed * scale
        return float((self.x2 - self.x1) * k), float((self.y2 - self.y1) * k)


def parse_arrow(text: str) -> Arrow:
    """Parse ``"X1,Y1,X2,Y2"`` or ``"X1,Y1,X2,Y2:SPEED"`` (photo pixels) into an :class:`Arrow`.

    Raises:
        InputError: not four numbers with an optional ``:SPEED``, zero
            length, or a speed outside (0, 10]; one line naming ``--arrow``.

    >>> parse_arrow("100,200,160,200:1.5")
    Arrow(x1=100.0, y1=200.0, x2=160.0, y2=200.0, speed=1.5)
    """
    m = _ARROW_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise InputError(f"--arrow {text!r} is not {_ARROW_FORM}: {_ARROW_EXAMPLE}")
    x1, y1, x2, y2 = (float(g) for g in m.groups()[:4])
    speed = 1.0 if m.group(5) is None else float(m.group(5))
    _check_arrow(x1, y1, x2, y2, speed, shown=text)
    return Arrow(x1, y1, x2, y2, speed)


def _check_arrow(x1: float, y1: float, x2: float, y2: float, speed: float, *, shown: str | None) -> None:
    """Raise the one-line InputError for a bad arrow; ``shown`` is the user's text, if any."""
    values = (x1, y1, x2, y2, speed)
    if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in values):
        raise InputError(f"--arrow {shown or values!r}: every coordinate and the speed must be finite numbers; {_ARROW_EXAMPLE}")
    shown = _arrow_text(x1, y1, x2, y2, speed) if shown is None else shown
    if x1 == x2 and y1 == y2:
        raise InputError(
            f"--arrow {shown!r} has zero length: make the end point differ from the start "
            "(the arrow's length is how far that point moves in one second)"
        )
    if not 0 < speed <= MAX_SPEED:
        raise InputError(
            f"--arrow {shown!r} has speed {speed:g}: use a speed above 0 and at most {MAX_SPEED:g} "
            "(1 = the arrow's length per second)"
        )


def _arrow_text(x1: float, y1: float, x2: float, y2: float, speed: float) -> str:
    xy = f"{x1:g},{y1:g},{x2:g},{y2:g}"
    return xy if speed == 1 else f"{xy}:{speed:g}"


def load_mask(path: str | os.PathLike, photo_size: tuple[int, int], *, flag: str = "--mask") -> np.ndarray:
    """Read a painted mask: float32 H×W in [0, 1] at the photo's size, 1 = white.

    Any image :func:`~stillmotion.image.load_image` reads (JPEG, PNG, WebP,
    TIFF, BMP, GIF), turned upright by its EXIF orientation. Values are the
    luminance, or the alpha when the image has transparency and its painted
    pixels are all one colour (white strokes on a transparent layer); a
    transparent image with varied colours gives luminance × alpha. A soft
    threshold follows: below 0.1 is 0, above 0.9 is 1, smoothstep between.

    Args:
        path: The mask file.
        photo_size: (width, height) of the photo in pixels, after EXIF orientation.
        flag: ``"--mask"`` (white = moves; all black is an error) or
            ``"--freeze"`` (white = frozen; all black means nothing frozen
            and gives zeros; all white is an error).

    Returns:
        float32 array of shape (height, width), values in [0, 1].

    Raises:
        InputError: the file is missing, a folder, unreadable, not an image,
            truncated or corrupt; it is not exactly ``photo_size``; a
            ``--mask`` is all black or a ``--freeze`` all white.
        ValueError: ``flag`` is neither ``"--mask"`` nor ``"--freeze"``.

    >>> moves = load_mask("water.png", (1280, 960))  # doctest: +SKIP
    >>> moves.shape, moves.dtype  # doctest: +SKIP
    ((960, 1280), dtype('float32'))
    """
    from ..image import MAX_PIXELS, _decode_upright, _open_checked, _to_srgb_rgb8

    role = _MASK_ROLES.get(flag)
    if role is None:
        raise ValueError(f"flag must be one of {sorted(_MASK_ROLES)}, got {flag!r}")
    path = Path(path)
    label = f"{flag} '{path}'"
    pw, ph = photo_size
    notes: list[str] = []  # animated file, unreadable EXIF: harmless for a mask
    with _open_checked(path, label, MAX_PIXELS) as im:
        if im.size not in ((pw, ph), (ph, pw)):  # (ph, pw): EXIF may rotate it to the right size
            raise _wrong_size(label, im.size, photo_size)
        upright, _icc = _decode_upright(im, label, notes)
        if upright.size != (pw, ph):
            raise _wrong_size(label, upright.size, photo_size)
        raw = None
        if upright.has_transparency_data:
            rgba = np.asarray(upright.convert("RGBA"), dtype=np.float32) / 255
            alpha = rgba[..., 3]
            if alpha.min() < 1:
                lum = rgba[..., :3] @ _LUMA
                painted = alpha > 0.5
                uniform = not painted.any() or float(np.ptp(lum[painted])) <= _UNIFORM_LUMA
                raw = alpha if uniform else lum * alpha
            else:
                raw = rgba[..., :3] @ _LUMA
        if raw is None:
            raw = _to_srgb_rgb8(upright, None, label, notes).astype(np.float32) @ (_LUMA / 255)

    values = _smoothstep((raw - _MASK_LO) / (_MASK_HI - _MASK_LO))
    if role == "moves" and not values.any():
        raise InputError(f"{label} is all black: nothing would move; paint the moving areas white")
    if role == "frozen" and values.min() >= 1:
        raise InputError(f"{label} is all white: everything would be frozen; paint only the still areas white")
    return np.ascontiguousarray(values, dtype=np.float32)


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
        flow *= (m * _smoothstep(inside / feather))[..., None]
    if "freeze" in masks:
        f = _to_grid(masks["freeze"], h, w)
        away = cv2.distanceTransform((f < 0.5).astype(np.uint8), cv2.DIST_L2, 5)  # px to the nearest frozen
        flow *= (_smoothstep(away / feather) * (1.0 - f))[..., None]
    return flow


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """3x² − 2x³ of x clipped to [0, 1]: 0 below 0, 1 above 1, C¹ in between (float32)."""
    x = np.clip(x, 0.0, 1.0).astype(np.float32, copy=False)
    return x * x * (3.0 - 2.0 * x)


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


def _wrong_size(label: str, got: tuple[int, int], photo_size: tuple[int, int]) -> InputError:
    (gw, gh), (pw, ph) = got, photo_size
    return InputError(f"{label} is {gw}×{gh} but the photo is {pw}×{ph}: make the mask the photo's size")
