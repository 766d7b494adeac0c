"""Small image measures shared by the photo checks (analysis), the clip metrics (evaluate) and the scene.

Private module, public names: :func:`grey`, :func:`grad_mag`, the two blockiness measures
(:func:`jpeg_blockiness` of a source photo, :func:`block_edge_ratio` of a decoded video frame:
they answer different questions, see each) and the shape guard :func:`check_rgb_uint8`.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["block_edge_ratio", "check_rgb_uint8", "grad_mag", "grey", "jpeg_blockiness", "smoothstep"]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """3x² − 2x³ of x clipped to [0, 1]: 0 below 0, 1 above 1, C¹ in between (float32, x's shape)."""
    x = np.clip(x, 0.0, 1.0).astype(np.float32, copy=False)
    return x * x * (3.0 - 2.0 * x)


def check_rgb_uint8(name: str, array: np.ndarray) -> None:
    """Raise unless ``array`` is a uint8 H×W×3 (RGB) array.

    Args:
        name: the argument's name, for the message (``"rgb"``).
        array: the value to check.

    Raises:
        ValueError: ``"{name} must be uint8 H×W×3, got {dtype} {shape}"``.
    """
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        dtype = getattr(array, "dtype", type(array).__name__)
        raise ValueError(f"{name} must be uint8 H×W×3, got {dtype} {getattr(array, 'shape', None)}")


def grey(rgb: np.ndarray) -> np.ndarray:
    """Luma of an RGB image (OpenCV's BT.601 weights), same dtype: uint8 H×W×3 → uint8 H×W."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def grad_mag(x: np.ndarray) -> np.ndarray:
    """Gradient magnitude of a single-channel image: float32 H×W, √(Sobel x² + Sobel y²) (3×3 kernels).

    Units: the input's levels per pixel, times 4 (the Sobel kernel's weight; a unit step reads 4).
    """
    gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def jpeg_blockiness(rgb: np.ndarray, crop: int, crops: int) -> tuple[float, float]:
    """JPEG 8×8 blockiness of a photo at full resolution, on a grid of crops (phase-free).

    The mean absolute step between neighbouring pixels is measured for each
    of the 8 column (and row) phases, pooled over ``crops``×``crops`` crops of
    ``crop`` px that start on the 8-pixel grid: a JPEG's block edges make one
    phase stand out (the phase is found, so a cropped JPEG counts too).
    Blockiness is (m + e + c) / (m + c), with m the typical step, e the extra
    step at the strongest phase and c = 1 level: the regularisation keeps
    smooth bokeh or sky, whose typical step is near 0, from turning a faint
    grid into a large ratio. About 1.0 for an uncompressed or resized photo.

    Args:
        rgb: uint8 H×W×3 photo.
        crop: side of each crop in px (cut to the image, in multiples of 8).
        crops: crops per axis.

    Returns:
        (blockiness, e): the ratio (≥ 1), and the extra step at block edges in levels of 255.
        (1.0, 0.0) for an image under 16 px.
    """
    H, W = rgb.shape[:2]
    c = min(crop, H // 8 * 8, W // 8 * 8)
    if c < 16:
        return 1.0, 0.0
    sums_h, sums_v = np.zeros(8), np.zeros(8)
    ys = np.linspace(0, H - c, crops).astype(int) // 8 * 8
    xs = np.linspace(0, W - c, crops).astype(int) // 8 * 8
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


def block_edge_ratio(grey_frame: np.ndarray) -> float:
    """Codec blocking of a decoded video frame: mean |step| across the fixed 8-px grid / elsewhere.

    The grid is anchored at the frame's top-left corner (where a video codec's
    macroblocks are), unlike :func:`jpeg_blockiness`, which searches the phase
    and regularises flat areas. Steps between columns 7|8, 15|16, … and the
    same rows are the block edges.

    Args:
        grey_frame: H×W luma, any numeric dtype (levels of 255).

    Returns:
        The ratio: ≈ 1 means no visible blocking, higher is blockier.
    """
    g = grey_frame.astype(np.float32)
    dx = np.abs(np.diff(g, axis=1))  # dx[:, j] between col j and j+1
    dy = np.abs(np.diff(g, axis=0))
    cols = np.arange(dx.shape[1])
    rows = np.arange(dy.shape[0])
    bx, by = (cols % 8) == 7, (rows % 8) == 7
    num = dx[:, bx].mean() + dy[by, :].mean()
    den = dx[:, ~bx].mean() + dy[~by, :].mean()
    return float(num / max(den, 1e-6))
