"""Face boxes: MediaPipe's BlazeFace with the ``[portrait]`` extra, OpenCV's Haar cascades otherwise.

BlazeFace (Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face
Detection on Mobile GPUs", arXiv 1907.05047, 2019) runs on LiteRT from the
models stillmotion ships (see :mod:`.landmarks`). Both of MediaPipe's
variants run on the whole photo, letterboxed: the short-range model
(128×128, faces within about 2 m: portraits, selfies) and the full-range
one (192×192, faces within about 5 m: groups, people in a scene). Anchors,
box decoding, score thresholds and weighted non-maximum suppression follow
MediaPipe's graphs (``modules/face_detection/face_detection.pbtxt``,
``face_detection_short_range.pbtxt``, ``face_detection_full_range.pbtxt``).
Each detection is then confirmed by Face Mesh's face-presence score, as in
MediaPipe's own detect-then-mesh pipeline: on 21 real photos without a
face, the cascades find a face in rocks, BlazeFace alone in three (seed
heads, flowers), the two together in none.

Without LiteRT (or with ``STILLMOTION_NO_LANDMARKS`` set) the classical
path runs: the Haar cascades (Viola & Jones, CVPR 2001) that
``opencv-python-headless`` 4.x ships in ``cv2.data.haarcascades``;
frontal faces first, then profiles (both directions, by mirroring) for
faces the frontal cascade missed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

__all__ = ["Face", "detect_faces", "face_method"]

DETECT_SIDE = 512
"""Long side, in pixels, at which the Haar cascades search."""

Face = tuple[int, int, int, int]
"""A face box (x, y, width, height) in pixels of the image searched."""


def face_method() -> str:
    """How :func:`detect_faces` finds faces here, in words."""
    from .landmarks import landmarks_status

    return "BlazeFace (MediaPipe models on LiteRT)" if landmarks_status() is None else "Haar cascades (OpenCV)"


def detect_faces(rgb: np.ndarray, *, min_fraction: float = 0.04) -> list[Face]:
    """Find faces in a photo.

    Args:
        rgb: uint8 H×W×3 RGB (greyscale photos come as equal channels).
        min_fraction: smallest face side as a fraction of the photo's short side.

    Returns:
        Face boxes ``(x, y, w, h)`` in pixels of ``rgb``, largest first; empty
        when none is found (or, on the Haar path, the cascades are not installed).

    Example:
        >>> import skimage.data
        >>> len(detect_faces(skimage.data.astronaut()))
        1
    """
    from .landmarks import landmarks_status

    if landmarks_status() is None:
        min_side = min(rgb.shape[:2]) * min_fraction
        boxes = [b for b in _blazeface(rgb) if max(b[2], b[3]) >= min_side]
    else:
        boxes = _haar(rgb, min_fraction)
    boxes.sort(key=lambda b: -b[2] * b[3])
    return boxes


# --- BlazeFace -------------------------------------------------------------------------


@dataclass(frozen=True)
class _BlazeModel:
    """One BlazeFace variant with MediaPipe's options for it."""

    path: str  # under the model folder
    size: int  # input tensor side, pixels
    strides: tuple[int, ...]  # SsdAnchorsCalculator: one per layer
    anchors_per_layer: int  # aspect ratio 1.0, plus an interpolated-scale anchor when that ratio is > 0
    min_score: float  # TensorsToDetectionsCalculator.min_score_thresh


_SHORT = _BlazeModel("face_detection/face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5)
_FULL = _BlazeModel("face_detection/face_detection_full_range_sparse.tflite", 192, (4,), 1, 0.5)
_NMS_IOU = 0.3
"""NonMaxSuppressionCalculator.min_suppression_threshold (IoU, weighted algorithm)."""


@lru_cache(maxsize=2)
def _anchors(model: _BlazeModel) -> np.ndarray:
    """float64 N×2 anchor centres (x, y) in [0, 1] of the input tensor.

    MediaPipe's SsdAnchorsCalculator with ``fixed_anchor_size``: every anchor is
    1×1, consecutive layers of equal stride share one feature map, and each
    cell holds ``anchors_per_layer`` anchors per layer, row-major.
    """
    out = []
    i = 0
    while i < len(model.strides):
        j = i
        while j < len(model.strides) and model.strides[j] == model.strides[i]:
            j += 1
        side = math.ceil(model.size / model.strides[i])
        ys, xs = np.mgrid[0:side, 0:side]
        centres = np.stack([(xs + 0.5) / side, (ys + 0.5) / side], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, (j - i) * model.anchors_per_layer, axis=1).reshape(-1, 2))
        i = j
    return np.concatenate(out)


def _letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """rgb fitted into size×size keeping its aspect ratio, black borders, as float32 in
    [-1, 1] (ImageToTensorCalculator with keep_aspect_ratio, BORDER_ZERO); and the scale
    and the left and top padding, in tensor pixels."""
    H, W = rgb.shape[:2]
    s = size / max(H, W)
    w, h = max(1, round(W * s)), max(1, round(H * s))
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    px, py = (size - w) // 2, (size - h) // 2
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[py : py + h, px : px + w] = small
    return canvas.astype(np.float32) / 127.5 - 1.0, s, px, py


def _detect(rgb: np.ndarray, model: _BlazeModel) -> tuple[np.ndarray, np.ndarray]:
    """Scores (N,) and boxes N×4 (x0, y0, x1, y1, photo pixels) above the model's threshold."""
    from .landmarks import run_model

    x, s, px, py = _letterbox(rgb, model.size)
    out = run_model(model.path, x)
    raw = next(o for o in out if o.shape[-1] == 16).reshape(-1, 16).astype(np.float64)
    logits = next(o for o in out if o.shape[-1] == 1).reshape(-1).astype(np.float64)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))  # score_clipping_thresh 100
    keep = scores >= model.min_score
    anchors = _anchors(model)[keep]
    raw = raw[keep]
    # reverse_output_order: x, y, w, h; offsets and sizes in tensor pixels (x/y/w/h_scale = size).
    cx = raw[:, 0] / model.size + anchors[:, 0]
    cy = raw[:, 1] / model.size + anchors[:, 1]
    w, h = raw[:, 2] / model.size, raw[:, 3] / model.size
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * model.size
    boxes = (boxes - [px, py, px, py]) / s  # letterbox removal: tensor → photo pixels
    return scores[keep], boxes


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def _weighted_nms(scores: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
    """MediaPipe's weighted NMS: the best detection absorbs every other that overlaps it
    by IoU > 0.3, and its box becomes their score-weighted mean (steadier than the best alone)."""
    order = np.argsort(-scores, kind="stable")
    scores, boxes = scores[order], boxes[order]
    out = []
    while len(scores):
        near = _iou(boxes[0], boxes) > _NMS_IOU
        near[0] = True
        out.append((scores[near, None] * boxes[near]).sum(axis=0) / scores[near].sum())
        scores, boxes = scores[~near], boxes[~near]
    return out


def _blazeface(rgb: np.ndarray) -> list[Face]:
    """Faces from both BlazeFace variants, merged by the same weighted NMS, each confirmed
    by Face Mesh's face-presence score (≥ 0.5, as MediaPipe's face landmark graph)."""
    from .landmarks import face_presence

    H, W = rgb.shape[:2]
    # One area-averaging shrink for both models (at 12 MP the resize, not the networks,
    # is most of the time); twice the larger input keeps the final resize area-averaged.
    k = min(1.0, 2 * _FULL.size / max(H, W))
    small = (
        cv2.resize(rgb, (max(1, round(W * k)), max(1, round(H * k))), interpolation=cv2.INTER_AREA) if k < 1 else rgb
    )
    results = [_detect(small, m) for m in (_SHORT, _FULL)]
    scores = np.concatenate([r[0] for r in results])
    sx, sy = W / small.shape[1], H / small.shape[0]
    boxes = np.concatenate([r[1] for r in results]) * [sx, sy, sx, sy]
    faces = []
    for x0, y0, x1, y1 in _weighted_nms(scores, boxes):
        # BlazeFace alone, at MediaPipe's thresholds, still sees faces in backlit seed
        # heads and flowers (3 of 21 photos without a face); Face Mesh, which looks
        # at the crop at 192×192, scores those 0.000 and real faces 1.000.
        presence = face_presence(rgb, (x0, y0, x1 - x0, y1 - y0))
        x0, y0 = max(0, round(x0)), max(0, round(y0))
        x1, y1 = min(W, round(x1)), min(H, round(y1))
        if presence >= 0.5 and x1 > x0 and y1 > y0:
            faces.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    return faces


# --- Haar cascades (without the extra) ------------------------------------------------


@lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier | None:
    path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", ""), name)
    clf = cv2.CascadeClassifier(path)
    return None if clf.empty() else clf


def _haar(rgb: np.ndarray, min_fraction: float) -> list[Face]:
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
    return [tuple(int(round(v / s)) for v in b) for b in boxes]


def _overlap(a: Face, b: Face) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(min(aw * ah, bw * bh) or 1)
