"""Framing: where the view sits in the photo so no frame shows pixels from outside it.

Every output pixel of every frame samples the photo somewhere; with
parallax that place depends on depth, but linearly in disparity between
the scene's nearest and farthest planes. So the samples of the border
pixels at the two extreme disparities, over all frames, bound every
sample the clip will take. The framing picks the largest view (the least
crop) that keeps that bound inside the photo, centred as close as it can
to where the shot wants to be. For moves with parallax it also searches
the end view that reveals least, in the spirit of 3d-ken-burns' autozoom
(Niklaus et al., "3D Ken Burns Effect from a Single Image", TOG 2019: a
grid of end-view shifts, keep the one with the fewest disoccluded
pixels) — implemented anew here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import CameraPath, Pose
from .parallax import FAR_DISPARITY, pose_maps

__all__ = ["Framing", "fit_framing", "sample_bounds"]

EDGE_MARGIN = 2.5
"""Photo pixels kept clear at the border: bilinear sampling needs one neighbour,
and resampling the photo to the working size rounds its size by up to a pixel."""


@dataclass(frozen=True)
class Framing:
    """Where the identity view sits in the photo.

    Attributes:
        photo_per_output: photo pixels per output pixel at the identity pose
            (< 1 means the photo is upscaled).
        centre: photo position (x, y) of the view centre, pixels.
        bounds: (xmin, xmax, ymin, ymax) of every sample of the clip, in
            output pixels relative to the view centre at the identity pose.
        crop_fraction: the identity view's width as a fraction of the widest
            view of this aspect the photo allows (1 = no extra crop).
    """

    photo_per_output: float
    centre: tuple[float, float]
    bounds: tuple[float, float, float, float]
    crop_fraction: float

    def region(self, photo_size: tuple[int, int], pad: float = 8.0) -> tuple[int, int, int, int]:
        """The photo rectangle (x0, y0, x1, y1) the clip can sample, in pixels, padded and clipped."""
        m, (cx, cy) = self.photo_per_output, self.centre
        xmin, xmax, ymin, ymax = self.bounds
        W, H = photo_size
        x0 = int(np.floor(max(0.0, cx + m * xmin - pad)))
        x1 = int(np.ceil(min(float(W), cx + m * xmax + pad)))
        y0 = int(np.floor(max(0.0, cy + m * ymin - pad)))
        y1 = int(np.ceil(min(float(H), cy + m * ymax + pad)))
        return x0, y0, x1, y1


def sample_bounds(path: CameraPath, poses: list[Pose], size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Bounding box of all samples of the clip, in output pixels about the identity view's centre.

    Args:
        path: the camera path (its geometry gives the focal length).
        poses: the poses of every frame.
        size: output (width, height) in pixels.

    Returns:
        (xmin, xmax, ymin, ymax) over the border pixels of every frame at the
        nearest and farthest disparity (samples are linear in disparity in
        between, so this bounds every pixel).
    """
    W, H = size
    n = 24
    tx = np.linspace(0, W - 1, n) - (W - 1) / 2
    ty = np.linspace(0, H - 1, n) - (H - 1) / 2
    xs = np.concatenate([tx, tx, np.full(n, tx[0]), np.full(n, tx[-1])])
    ys = np.concatenate([np.full(n, ty[0]), np.full(n, ty[-1]), ty, ty])
    lo = np.array([np.inf, np.inf])
    hi = -lo
    for pose in poses:
        px, py, dx, dy = pose_maps(pose, path.geometry, xs, ys, 1.0, (0.0, 0.0))
        for w in (FAR_DISPARITY, 1.0):
            sx, sy = px + w * dx, py + w * dy
            lo = np.minimum(lo, [sx.min(), sy.min()])
            hi = np.maximum(hi, [sx.max(), sy.max()])
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def fit_framing(
    bounds: tuple[float, float, float, float],
    photo_size: tuple[int, int],
    output_size: tuple[int, int],
    desired_centre: tuple[float, float],
) -> Framing:
    """The largest identity view whose every sample stays inside the photo.

    Args:
        bounds: from :func:`sample_bounds`, output pixels.
        photo_size: (width, height) of the photo, pixels.
        output_size: (width, height) of the clip, pixels.
        desired_centre: where the view centre should be, photo pixels; the
            nearest feasible centre is used.

    Returns:
        The :class:`Framing`.
    """
    W, H = photo_size
    Wo, Ho = output_size
    xmin, xmax, ymin, ymax = bounds
    span_x, span_y = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    m = min((W - 2 * EDGE_MARGIN) / span_x, (H - 2 * EDGE_MARGIN) / span_y)
    widest = min(W / Wo, H / Ho)
    cx = float(np.clip(desired_centre[0], EDGE_MARGIN - m * xmin, W - EDGE_MARGIN - m * xmax))
    cy = float(np.clip(desired_centre[1], EDGE_MARGIN - m * ymin, H - EDGE_MARGIN - m * ymax))
    return Framing(m, (cx, cy), bounds, crop_fraction=min(1.0, m / widest))
