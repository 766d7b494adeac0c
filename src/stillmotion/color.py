"""BT.709 colour: RGB ⇄ limited-range YCbCr, the matrix every clip is written with.

Layouts and ranges
    RGB: uint8 H×W×3, sRGB-encoded 0–255 (as photos are), full range.
    Y: uint8 H×W, limited ("tv") range 16–235.
    CbCr: uint8 h×w×2 (Cb, Cr), limited range 16–240, 128 = no colour;
    full resolution (4:4:4) or half in both directions (4:2:0).

The matrix is ITU-R BT.709 (``KR = 0.2126``, ``KB = 0.0722``); the encoder
(:class:`stillmotion.video.VideoWriter`) tags its MP4s the same way, so a
player converts back with the same matrix and colours survive a round trip.

Example::

    y, cbcr = rgb_to_ycbcr709(frame_hwc)      # 4:4:4
    rgb = ycbcr709_to_rgb(y, cbcr)            # ≈ frame_hwc, within 1–2 levels
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["KB", "KG", "KR", "rgb_to_ycbcr709", "rgb_to_yuv420", "ycbcr709_to_rgb"]

KR = 0.2126
"""BT.709 weight of red in luma."""
KB = 0.0722
"""BT.709 weight of blue in luma."""
KG = 1.0 - KR - KB
"""BT.709 weight of green in luma (0.7152)."""


def rgb_to_ycbcr709(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert RGB to BT.709 limited-range YCbCr, full resolution (4:4:4).

    Args:
        rgb: uint8 H×W×3 RGB (sRGB-encoded, as photos are).

    Returns:
        ``(y, cbcr)``: uint8 H×W luma in 16–235 and uint8 H×W×2 chroma in 16–240.
    """
    f = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    yy = KR * f[..., 0] + KG * f[..., 1] + KB * f[..., 2]
    cb = (f[..., 2] - yy) / np.float32(2.0 * (1.0 - KB))
    cr = (f[..., 0] - yy) / np.float32(2.0 * (1.0 - KR))
    y8 = np.clip(16.0 + 219.0 * yy + 0.5, 0, 255).astype(np.uint8)
    c8 = np.clip(np.dstack([cb, cr]) * 224.0 + 128.5, 0, 255).astype(np.uint8)
    return y8, c8


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert RGB to BT.709 limited-range 4:2:0 planes, what the encoder takes.

    Args:
        rgb: uint8 H×W×3 RGB.

    Returns:
        ``(y, cbcr)``: uint8 H×W luma and uint8 ⌈H/2⌉×⌈W/2⌉×2 chroma, each chroma
        sample the mean of its 2×2 block (an odd last row or column is repeated).
    """
    y, c = rgb_to_ycbcr709(rgb)
    h, w = y.shape
    if h % 2 or w % 2:
        c = cv2.copyMakeBorder(c, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return y, cv2.resize(c, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)


def ycbcr709_to_rgb(y: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    """Convert BT.709 limited-range YCbCr to RGB.

    Args:
        y: uint8 H×W luma.
        cbcr: uint8 h×w×2 chroma, at full (h = H) or half (4:2:0) resolution;
            half-resolution chroma is upsampled bilinearly.

    Returns:
        uint8 H×W×3 RGB.
    """
    H, W = y.shape
    if cbcr.shape[:2] != (H, W):
        cbcr = cv2.resize(cbcr, (W, H), interpolation=cv2.INTER_LINEAR)
    yy = (y.astype(np.float32) - 16.0) / 219.0
    cb = (cbcr[..., 0].astype(np.float32) - 128.0) / 224.0
    cr = (cbcr[..., 1].astype(np.float32) - 128.0) / 224.0
    r = yy + 2.0 * (1.0 - KR) * cr
    b = yy + 2.0 * (1.0 - KB) * cb
    g = (yy - KR * r - KB * b) / KG
    return np.clip(np.dstack([r, g, b]) * 255.0 + 0.5, 0, 255).astype(np.uint8)
