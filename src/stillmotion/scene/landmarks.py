"""Face landmarks offline: MediaPipe's Face Mesh and Iris models run by LiteRT.

The models ship inside stillmotion (``scene/models/``: face detection,
468-point Face Mesh, Iris, selfie segmentation), copied unchanged from the
``mediapipe==0.10.14`` wheel, the last release that bundles them (later
releases download them at run time, which stillmotion never does);
``models/NOTICE.md`` names each file, its SHA-256 and its paper, and
``models/LICENSE`` is their Apache-2.0 licence. They run on Google's LiteRT
interpreter, the one thing the extra installs::

    pip install "stillmotion[portrait]"              # ai-edge-litert

If the shipped files are missing (a trimmed install), an installed
``mediapipe`` 0.10.14 is looked up as before (located, never imported:
the full package pulls jax and matplotlib).

Models (Apache-2.0, Google): Face Mesh (Kartynnik et al., "Real-time
Facial Surface Geometry from Monocular Video on Mobile GPUs", CVPR
Workshops 2019) on a 192×192 crop, 468 points; Iris (Ablavatski et al.,
"Real-time Pupil Tracking from Monocular Video for Digital Puppetry",
2020) on 64×64 eye crops, 71 eye-contour points and 5 iris points. Face
boxes come from :mod:`.faces` (BlazeFace on the same interpreter). Without
LiteRT, :func:`detect_landmarks` returns nothing and
:func:`landmarks_status` says why, so callers fall back to the (Haar)
face boxes with a clear notice.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

__all__ = [
    "FaceLandmarks",
    "LEFT_EYE",
    "RIGHT_EYE",
    "detect_landmarks",
    "face_presence",
    "landmarks_status",
    "person_mask",
    "pseudo_landmarks",
    "run_model",
]

# Face Mesh indices (MediaPipe canonical face model). "Left" is the
# subject's left eye (on the image's right).
LEFT_EYE = {
    "upper": [386, 385, 384, 398, 387, 388, 466],
    "lower": [374, 380, 381, 382, 373, 390, 249],
    "corners": [362, 263],
}
RIGHT_EYE = {
    "upper": [159, 158, 157, 173, 160, 161, 246],
    "lower": [145, 144, 163, 7, 153, 154, 155],
    "corners": [33, 133],
}
FACE_OVAL = [
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
]
MOUTH_CORNERS = [61, 291]
NOSE_TIP = 1
CHIN = 152
BROWS = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
CROP_SCALE = 1.5
"""Face Mesh crop: the face box enlarged this much (as MediaPipe's face rect)."""


@dataclass(frozen=True)
class FaceLandmarks:
    """One face's landmarks in photo pixels.

    Attributes:
        points: float32 468×3 (x, y in pixels; z relative depth in pixels, smaller = nearer).
        score: face presence confidence in [0, 1].
        iris: float32 2×2 centres (x, y) of the subject's right and left iris, or None.
        iris_radius: iris radius in pixels (mean of both), or None.
        eyelids: float32 2×16×2 eye contours from the Iris model (right eye, left
            eye; per eye: corner, 7 lower-lid points, corner, 7 upper-lid points),
            which follow the lids more closely than Face Mesh, or None.
    """

    points: np.ndarray
    score: float
    iris: np.ndarray | None = None
    iris_radius: float | None = None
    eyelids: np.ndarray | None = None

    def eye_openness(self) -> float:
        """Mean lid gap / eye width over both eyes (≈ 0.25–0.4 open, < 0.1 closed),
        from the Iris model's eyelids when present, else from Face Mesh."""
        if self.eyelids is not None:
            vals = []
            for c in self.eyelids:
                gap = np.linalg.norm(c[10:15] - c[[7, 6, 5, 4, 3]][::-1], axis=1).mean()
                vals.append(float(gap / (np.linalg.norm(c[0] - c[8]) + 1e-6)))
            return float(np.mean(vals))
        vals = []
        for eye in (LEFT_EYE, RIGHT_EYE):
            up = self.points[eye["upper"][:4], :2].mean(axis=0)
            lo = self.points[eye["lower"][:4], :2].mean(axis=0)
            a, b = self.points[eye["corners"][0], :2], self.points[eye["corners"][1], :2]
            vals.append(float(np.linalg.norm(up - lo) / (np.linalg.norm(a - b) + 1e-6)))
        return float(np.mean(vals))

    def head_roll_deg(self) -> float:
        """Roll of the line between the eye corners, degrees (+ = clockwise on screen)."""
        a = self.points[RIGHT_EYE["corners"][0], :2]
        b = self.points[LEFT_EYE["corners"][1], :2]
        return float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x, y, w, h) bounding box of the face oval, pixels."""
        p = self.points[FACE_OVAL, :2]
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


MODEL_DIR = os.path.join(os.path.dirname(__file__), "models")
"""The shipped models, laid out as in mediapipe's ``modules/`` folder."""


@lru_cache(maxsize=1)
def _model_dir() -> str | None:
    """The folder holding ``face_landmark/face_landmark.tflite`` and its siblings: the
    shipped copy, else an installed mediapipe 0.10.14's; None when neither has them."""
    marker = os.path.join("face_landmark", "face_landmark.tflite")
    if os.path.exists(os.path.join(MODEL_DIR, marker)):
        return MODEL_DIR
    spec = importlib.util.find_spec("mediapipe")  # locate, never import (it pulls jax, matplotlib …)
    if spec is None or not spec.origin:
        return None
    root = os.path.join(os.path.dirname(spec.origin), "modules")
    return root if os.path.exists(os.path.join(root, marker)) else None


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter  # Google's LiteRT (ex TFLite runtime)

        return Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter

            return Interpreter
        except ImportError:
            return None


def landmarks_status() -> str | None:
    """None when the learned face models (BlazeFace, Face Mesh, Iris, selfie
    segmentation) can run here, else the reason and the fix (one line)."""
    if os.environ.get("STILLMOTION_NO_LANDMARKS"):
        return "learned face models are switched off (STILLMOTION_NO_LANDMARKS is set)"
    if _interpreter_class() is None:
        return "learned face boxes and landmarks need LiteRT: pip install 'stillmotion[portrait]'"
    if _model_dir() is None:
        return f"the face models are missing from {MODEL_DIR} (a trimmed install?): reinstall stillmotion"
    return None


@lru_cache(maxsize=4)
def _load(name: str):
    interpreter, root = _interpreter_class(), _model_dir()
    if interpreter is None or root is None:
        raise RuntimeError(landmarks_status() or "LiteRT or the face models are missing")
    # LiteRT announces its XNNPACK delegate on stderr from C++; keep the CLI's
    # output to what the user needs by muting fd 2 while it loads.
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            interp = interpreter(model_path=os.path.join(root, name), num_threads=2)
            interp.allocate_tensors()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return interp


def run_model(name: str, x: np.ndarray) -> list[np.ndarray]:
    """Run one model on one input (no batch axis), returning its output tensors.

    Args:
        name: the model's path under the model folder, e.g. ``"face_landmark/face_landmark.tflite"``.
        x: float32 input of the model's shape without the batch axis (H×W×3 for the image models).

    Raises:
        RuntimeError: LiteRT or the model files are missing (:func:`landmarks_status` says which).
    """
    interp = _load(name)
    interp.set_tensor(interp.get_input_details()[0]["index"], x[None].astype(np.float32))
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def _crop(rgb: np.ndarray, cx: float, cy: float, side: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A square crop of ``side`` pixels centred at (cx, cy) resized to size×size; and the
    2×3 affine from crop pixels back to photo pixels."""
    s = side / size
    back = np.array([[s, 0, cx - side / 2], [0, s, cy - side / 2]], np.float64)
    fwd = cv2.invertAffineTransform(back)
    crop = cv2.warpAffine(rgb, fwd, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return crop, back


def _mesh(rgb: np.ndarray, cx: float, cy: float, side: float) -> tuple[np.ndarray, float]:
    crop, back = _crop(rgb, cx, cy, side, 192)
    out = run_model("face_landmark/face_landmark.tflite", crop.astype(np.float32) / 255.0)
    mesh = next(o for o in out if o.size == 1404).reshape(468, 3).astype(np.float64)
    score = float(1.0 / (1.0 + np.exp(-next(o for o in out if o.size == 1).ravel()[0])))
    xy = mesh[:, :2] @ back[:, :2].T + back[:, 2]
    z = mesh[:, 2:3] * back[0, 0]
    return np.hstack([xy, z]).astype(np.float32), score


def _iris(rgb: np.ndarray, pts: np.ndarray, eye: dict, flip: bool) -> tuple[np.ndarray, float, np.ndarray] | None:
    a, b = pts[eye["corners"][0], :2], pts[eye["corners"][1], :2]
    c = (a + b) / 2
    side = 2.3 * float(np.linalg.norm(a - b))
    if side < 8:
        return None
    crop, back = _crop(rgb, float(c[0]), float(c[1]), side, 64)
    if flip:
        crop = crop[:, ::-1]
    out = run_model("iris_landmark/iris_landmark.tflite", np.ascontiguousarray(crop).astype(np.float32) / 255.0)
    iris = next(o for o in out if o.size == 15).reshape(5, 3)[:, :2].astype(np.float64)
    contour = next(o for o in out if o.size == 213).reshape(71, 3)[:16, :2].astype(np.float64)
    if flip:
        iris[:, 0] = 64 - iris[:, 0]
        contour[:, 0] = 64 - contour[:, 0]
    xy = iris @ back[:, :2].T + back[:, 2]
    lids = contour @ back[:, :2].T + back[:, 2]
    radius = float(np.mean(np.linalg.norm(xy[1:] - xy[0], axis=1)))
    return xy[0].astype(np.float32), radius, lids.astype(np.float32)


def face_presence(rgb: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Face Mesh's face-presence score in [0, 1] for a face box (x, y, w, h, pixels), on the
    crop :func:`detect_landmarks` would use first; real faces score ≈ 1, anything else ≈ 0."""
    x, y, w, h = box
    return _mesh(rgb, x + w / 2, y + h / 2, CROP_SCALE * max(w, h))[1]


def detect_landmarks(rgb: np.ndarray, faces: list[tuple[int, int, int, int]]) -> list[FaceLandmarks]:
    """Landmarks of each face box, or an empty list when the models are not installed.

    Args:
        rgb: uint8 H×W×3 RGB photo (greyscale photos as equal channels).
        faces: face boxes (x, y, w, h) in pixels (from :func:`.faces.detect_faces`).

    Returns:
        One :class:`FaceLandmarks` per face the mesh confirms (score ≥ 0.5), in order.
    """
    if landmarks_status() is not None:
        return []
    out = []
    for x, y, w, h in faces:
        cx, cy, side = x + w / 2, y + h / 2, CROP_SCALE * max(w, h)
        pts, score = _mesh(rgb, cx, cy, side)
        # Second pass on the crop the first pass implies (tighter, centred).
        bx0, by0 = pts[FACE_OVAL, :2].min(axis=0)
        bx1, by1 = pts[FACE_OVAL, :2].max(axis=0)
        pts, score = _mesh(rgb, (bx0 + bx1) / 2, (by0 + by1) / 2, CROP_SCALE * max(bx1 - bx0, by1 - by0))
        if score < 0.5:
            continue
        iris = radius = lids = None
        right = _iris(rgb, pts, RIGHT_EYE, flip=False)
        left = _iris(rgb, pts, LEFT_EYE, flip=True)
        if right is not None and left is not None:
            iris = np.stack([right[0], left[0]])
            radius = (right[1] + left[1]) / 2
            lids = np.stack([right[2], left[2]])
        out.append(FaceLandmarks(pts, score, iris, radius, lids))
    return out


def person_mask(rgb: np.ndarray) -> np.ndarray | None:
    """Soft person mask from MediaPipe's bundled selfie segmentation (LiteRT), or None.

    Args:
        rgb: uint8 H×W×3 RGB.

    Returns:
        float32 H×W in [0, 1], 1 = person; None when the models are not installed.
    """
    if landmarks_status() is not None:
        return None
    h, w = rgb.shape[:2]
    x = cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    out = run_model("selfie_segmentation/selfie_segmentation.tflite", x)
    m = out[0].reshape(256, 256).astype(np.float32)
    m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(m, 0.0, 1.0)


def pseudo_landmarks(box: tuple[float, float, float, float]) -> FaceLandmarks:
    """A stand-in for a face known only by its box (Haar fallback): the face oval as the
    box's inscribed ellipse, the chin at its bottom, the nose at its centre. Enough for
    breathing and head sway; not for blinks, gaze or a smile."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    pts = np.tile(np.array([cx, cy, 0.0], np.float32), (468, 1))
    ang = np.linspace(-np.pi / 2, 1.5 * np.pi, len(FACE_OVAL), endpoint=False)
    pts[FACE_OVAL, 0] = cx + 0.5 * w * np.cos(ang)
    pts[FACE_OVAL, 1] = cy + 0.6 * h * np.sin(ang)
    pts[CHIN, :2] = (cx, y + 1.1 * h)
    return FaceLandmarks(pts, 0.0, None, None)
