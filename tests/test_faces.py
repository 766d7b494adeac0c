"""Face boxes on real photos: BlazeFace with the [portrait] extra, Haar cascades without.

Portraits: scikit-image's astronaut and matplotlib's grace_hopper.jpg, one
face each (the hand-drawn boxes below were read off the photos, brow to
chin). Photos without a face: scikit-image's coffee and chelsea (a cat),
scikit-learn's china.jpg and flower.jpg, and the sixteen development
photos in ``shared/photos`` (skipped where that folder is missing, as in
CI). Also: the shipped model files are the ones NOTICE.md lists.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stillmotion.scene import faces, landmarks
from stillmotion.scene.faces import detect_faces, face_method
from stillmotion.scene.landmarks import landmarks_status

SHARED = next(
    (p / "shared" / "photos" for p in Path(__file__).resolve().parents if (p / "shared" / "photos").is_dir()),
    None,
)
SHARED_NAMES = sorted(p.stem for p in SHARED.glob("*.jpg")) if SHARED else []

needs_models = pytest.mark.skipif(landmarks_status() is not None, reason=str(landmarks_status()))

FACE_BOXES = {"astronaut": (180, 78, 90, 88), "grace_hopper": (160, 140, 205, 195)}
"""The one real face of each portrait (x, y, w, h), drawn by hand."""


def _photo(name: str) -> np.ndarray:
    import skimage.data as data

    if name == "grace_hopper":
        import matplotlib.cbook as cbook

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            return np.asarray(Image.open(f).convert("RGB"))
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    return getattr(data, name)()


def _iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


@pytest.fixture(params=["learned", "haar"])
def method(request, monkeypatch) -> str:
    """Each test runs on both paths: the learned models (skipped without them) and Haar."""
    if request.param == "haar":
        monkeypatch.setenv("STILLMOTION_NO_LANDMARKS", "1")
    elif landmarks_status() is not None:
        pytest.skip(str(landmarks_status()))
    return face_method()


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_one_face_on_each_portrait_over_the_real_face(method, name):
    found = detect_faces(_photo(name))
    assert len(found) == 1, (method, found)
    assert _iou(found[0], FACE_BOXES[name]) > 0.6, (method, found[0], FACE_BOXES[name])


@pytest.mark.parametrize("name", ["coffee", "chelsea", "china", "flower"])
def test_no_face_on_package_photos_without_one(method, name):
    assert detect_faces(_photo(name)) == [], method


@pytest.mark.parametrize("name", SHARED_NAMES or [pytest.param("-", marks=pytest.mark.skip("shared/photos not found"))])
def test_no_face_on_the_development_photos(method, name):
    if method.startswith("Haar") and name == "forest-stream":
        pytest.xfail("the Haar cascades see a face in the stream's rocks (the reason for BlazeFace)")
    rgb = np.asarray(Image.open(SHARED / f"{name}.jpg").convert("RGB"))
    assert detect_faces(rgb) == [], method


@needs_models
def test_two_portraits_side_by_side_largest_first():
    a = np.asarray(Image.fromarray(_photo("astronaut")).resize((300, 300)))
    b = _photo("grace_hopper")  # 512×600: its face is the larger
    canvas = np.full((600, 812, 3), 128, np.uint8)
    canvas[150:450, :300] = a
    canvas[:, 300:] = b
    found = detect_faces(canvas)
    assert len(found) == 2, found
    hx, hy, hw, hh = FACE_BOXES["grace_hopper"]
    assert _iou(found[0], (hx + 300, hy, hw, hh)) > 0.6
    ax, ay, aw, ah = (round(v * 300 / 512) for v in FACE_BOXES["astronaut"])
    assert _iou(found[1], (ax, ay + 150, aw, ah)) > 0.5


def test_anchor_counts_match_the_models():
    """896 anchors for the short-range model, 2304 for the full-range (MediaPipe's num_boxes)."""
    assert len(faces._anchors(faces._SHORT)) == 896
    assert len(faces._anchors(faces._FULL)) == 2304


def test_shipped_models_are_the_files_the_notice_lists():
    root = Path(landmarks.MODEL_DIR)
    notice = (root / "NOTICE.md").read_text()
    listed = dict(re.findall(r"`([\w/]+\.tflite)` \| [^|]+ \| `([0-9a-f]{64})`", notice))
    shipped = {str(p.relative_to(root)): p for p in root.glob("*/*.tflite")}
    assert set(listed) == set(shipped) and len(shipped) == 5
    for rel, path in shipped.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[rel], rel
    assert "Apache License" in (root / "LICENSE").read_text()


def test_models_elsewhere_still_work(monkeypatch, tmp_path):
    """Without the shipped copy, an installed mediapipe 0.10.14's files are used; with
    neither, the status names the missing folder and faces come from Haar."""
    monkeypatch.setattr(landmarks, "MODEL_DIR", str(tmp_path / "missing"))
    landmarks._model_dir.cache_clear()
    try:
        found = landmarks._model_dir()
        assert found is None or found.endswith("modules")
        if found is None:
            assert "missing" in str(landmarks_status())
            assert face_method().startswith("Haar")
    finally:
        landmarks._model_dir.cache_clear()
