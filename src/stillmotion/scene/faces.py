"""Face boxes with OpenCV's bundled Haar cascades (Viola & Jones, CVPR 2001).

Classical and offline: ``opencv-python-headless`` 4.x ships the cascade
files in ``cv2.data.haarcascades``. Frontal faces first, then profiles
(both directions, by mirroring) for faces the frontal cascade missed.
Learned landmarks (MediaPipe) come with the portrait engine.
"""

from __future__ import annotations

import os
from functools import lru_cache

import cv2
import numpy as np

__all__ = ["Face", "detect_faces"]

DETECT_SIDE = 512
"""Long side, in pixels, at which faces are searched."""

Face = tuple[int, int, int, int]
"""A face box (x, y, width, height) in pixels of the image searched."""


@lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier | None:
    path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""), name)
    clf = cv2.CascadeClassifier(path)
    return None if clf.empty() else clf


def detect_faces(rgb: np.ndarray, *, min_fraction: float = 0.04) -> list[Face]:
    """Find faces in a photo.

    Args:
        rgb: uint8 H×W×3 RGB (greyscale photos come as equal channels).
        min_fraction: smallest face side as a fraction of the photo's short side.

    Returns:
        Face boxes ``(x, y, w, h)`` in pixels of ``rgb``, largest first; empty
        when none is found or the cascades are not installed.
    """
    H, W = rgb.shape[:2]
    s = min(1.0, DETECT_SIDE / max(H, W))
    small = (
        cv2.resize(rgb, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA) if s < 1 else rgb
    )
    grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(20, int(min(grey.shape) * min_fraction))
    boxes: list[tuple[int, int, int, int]] = []
    frontal = _cascade("haarcascade_frontalface_default.xml")
    if frontal is not None:
        boxes += [tuple(b) for b in frontal.detectMultiScale(grey, 1.1, 6, minSize=(min_side, min_side))]
    profile = _cascade("haarcascade_profileface.xml")
    if profile is not None and not boxes:
        # Profiles only when no frontal face: the mirrored pass doubles the cost.
        gw = grey.shape[1]
        found = [tuple(b) for b in profile.detectMultiScale(grey, 1.15, 6, minSize=(min_side, min_side))]
        mirrored = profile.detectMultiScale(cv2.flip(grey, 1), 1.15, 6, minSize=(min_side, min_side))
        found += [(gw - x - w, y, w, h) for x, y, w, h in mirrored]
        boxes += [b for b in found if not any(_overlap(b, o) > 0.3 for o in boxes)]
    boxes = [tuple(int(round(v / s)) for v in b) for b in boxes]
    boxes.sort(key=lambda b: -b[2] * b[3])
    return boxes


def _overlap(a: Face, b: Face) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(min(aw * ah, bw * bh) or 1)
