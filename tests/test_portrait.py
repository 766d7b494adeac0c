"""Portrait micro-motion, measured on the output with re-detected landmarks.

Real portraits: scikit-image's astronaut (colour) and matplotlib's
grace_hopper.jpg (archival). Learned landmarks need the [portrait] extra
(LiteRT; the models ship with stillmotion, CI installs it); the fallback
path (Haar boxes only) is tested by switching them off.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

import stillmotion
from stillmotion.image import load_image
from stillmotion.scene.faces import detect_faces
from stillmotion.scene.landmarks import detect_landmarks, landmarks_status
from stillmotion.video import read_video

needs_landmarks = pytest.mark.skipif(landmarks_status() is not None, reason=str(landmarks_status()))


@pytest.fixture(scope="module")
def hopper(tmp_path_factory):
    import matplotlib.cbook as cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = Image.open(f).convert("RGB")
    p = tmp_path_factory.mktemp("hopper") / "grace_hopper.jpg"
    img.save(p, quality=95)
    return p


def _clip(photo, prompt, tmp_path, name, **kw):
    opts = dict(duration=4.0, fps=12, seed=3, output=tmp_path / f"{name}.mp4", size="320x320")
    opts.update(kw)
    clip = stillmotion.animate(photo, prompt, **opts)
    return clip, read_video(clip.path).frames_thwc


def _openness(frames) -> np.ndarray:
    out = []
    for f in frames:
        lm = detect_landmarks(f, detect_faces(f))
        out.append(lm[0].eye_openness() if lm else np.nan)
    return np.array(out)


@needs_landmarks
@pytest.mark.parametrize("which", ["astronaut", "hopper"])
def test_blinks_close_and_reopen_both_eyes(photos, hopper, tmp_path, which):
    photo = photos["astronaut"] if which == "astronaut" else hopper
    size = "320x320" if which == "astronaut" else "320x368"
    clip, frames = _clip(photo, "natural blinks, static camera", tmp_path, which, size=size)
    blinks = clip.recipe["shot"]["portrait"]["blinks_s"]
    assert blinks, "no blink scheduled in 4 s"
    openness = _openness(frames)
    assert np.isfinite(openness).all()
    fps = clip.fps
    in_blink = np.zeros(len(frames), bool)
    mid_blink = []
    for start, length in blinks:
        a, b = int(np.floor(start * fps)), int(np.ceil((start + length) * fps))
        in_blink[max(0, a - 1) : b + 2] = True
        mid_blink.append(int(round((start + length / 2) * fps)))
    base = np.median(openness[~in_blink])
    assert base > 0.15, base
    # Face Mesh and Iris are trained on open eyes and under-read closure; what they
    # read drops clearly at each blink's middle and is steady everywhere else.
    for m in mid_blink:
        assert openness[m] < 0.85 * base, (m, openness[m], base)
    assert np.all(openness[~in_blink] > 0.95 * base), openness[~in_blink].min()
    # And directly: the lid covers the dark iris and pupil, so the eyes' opening
    # (from frame 0's landmarks) gets brighter at mid-blink, and only then.
    from stillmotion.scene.landmarks import LEFT_EYE, RIGHT_EYE

    lm0 = detect_landmarks(frames[0], detect_faces(frames[0]))[0]
    mask = np.zeros(frames.shape[1:3], np.uint8)
    for eye in (LEFT_EYE, RIGHT_EYE):
        poly = np.concatenate([lm0.points[eye["upper"], :2], lm0.points[eye["lower"], :2][::-1]])
        cv2.fillConvexPoly(mask, cv2.convexHull(poly.astype(np.int32)), 1)
    luma = np.array([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[mask > 0].mean() for f in frames])
    open_luma = np.median(luma[~in_blink])
    for m in mid_blink:
        assert luma[m] > open_luma + 12, (luma[m], open_luma)
    assert np.all(np.abs(luma[~in_blink] - open_luma) < 6), np.abs(luma[~in_blink] - open_luma).max()


@needs_landmarks
def test_head_stays_within_a_few_degrees_and_the_face_stays_itself(photos, tmp_path):
    from skimage.metrics import structural_similarity

    _, frames = _clip(
        photos["astronaut"], "a slight head tilt, natural breathing, static camera", tmp_path, "tilt", size="320x320"
    )
    rolls = []
    for f in frames[::3]:
        lm = detect_landmarks(f, detect_faces(f))
        rolls.append(lm[0].head_roll_deg())
    rolls = np.array(rolls)
    assert 0.3 < rolls.max() - rolls.min() < 6.0, rolls  # it moves, by a few degrees
    # Likeness: the face region of every frame stays close to the first.
    lm0 = detect_landmarks(frames[0], detect_faces(frames[0]))[0]
    x, y, w, h = (int(v) for v in lm0.box)
    grey = [cv2.cvtColor(f[y : y + h, x : x + w], cv2.COLOR_RGB2GRAY) for f in frames]
    ssim = [structural_similarity(grey[0], g, data_range=255) for g in grey[1:]]
    assert min(ssim) > 0.75, min(ssim)
    assert np.median(ssim) > 0.85, np.median(ssim)


@needs_landmarks
def test_background_far_from_the_person_stays_still(photos, tmp_path):
    clip, frames = _clip(photos["astronaut"], "portrait comes to life, static camera", tmp_path, "still")
    assert clip.recipe["shot"]["portrait"]["person_mask"]
    diff = np.abs(frames.astype(int) - frames[0].astype(int)).max(axis=(0, 3))
    # The top-right corner (studio backdrop, the shuttle model) and the flag at the left edge.
    assert diff[:60, -60:].mean() < 1.5, diff[:60, -60:].mean()
    assert diff[:120, :30].mean() < 1.5
    # …while the face and shoulders do move.
    assert diff[120:220, 100:220].mean() > diff[:60, -60:].mean() + 0.5


def test_without_landmarks_the_fallback_breathes_and_sways(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("STILLMOTION_NO_LANDMARKS", "1")
    from stillmotion.scene import _CACHE

    _CACHE.clear()
    clip, frames = _clip(
        photos["astronaut"], "portrait comes to life, static camera", tmp_path, "fallback", duration=2.0
    )
    info = clip.recipe["shot"]["portrait"]
    assert info["method"] == "face boxes (Haar cascades)"
    assert info["blinks_s"] == []
    assert any("without landmarks" in w for w in clip.warnings)
    diff = np.abs(frames.astype(int) - frames[0].astype(int)).max(axis=(0, 3))
    assert diff[100:300, 60:260].mean() > 0.5  # the person moves
    _CACHE.clear()


def test_no_face_warns_and_the_rest_runs(photos, tmp_path):
    clip, frames = _clip(
        photos["china"], "natural blinks, slow push-in", tmp_path, "noface", size="384x256", duration=1.0
    )
    assert any("no face was found" in w for w in clip.warnings)
    assert clip.recipe["plan"]["camera"][0]["move"] == "push-in"
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 1.0


@needs_landmarks
def test_portrait_composes_with_a_camera_move(photos, tmp_path):
    clip, _frames = _clip(
        photos["astronaut"], "subtle zoom toward the face, natural breathing visible", tmp_path, "zoom", duration=2.0
    )
    recipe = json.loads(clip.sidecar.read_text())
    assert recipe["plan"]["camera"][0]["move"] == "zoom-in"
    assert recipe["plan"]["portrait"]["breathe"] and not recipe["plan"]["portrait"]["blink"]
    assert "Portrait: slow breathing" in clip.plan_text


@needs_landmarks
def test_landmarks_on_archival_greyscale(hopper):
    rgb = load_image(hopper).rgb
    grey = np.dstack([cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)] * 3)
    lm = detect_landmarks(grey, detect_faces(grey))
    assert lm and lm[0].score > 0.5 and 0.15 < lm[0].eye_openness() < 0.6


@needs_landmarks
def test_several_faces_and_a_small_one(photos, hopper, tmp_path):
    """Two portraits side by side and a small copy: every face found gets its motion, nothing breaks."""
    a = np.asarray(Image.open(photos["astronaut"]).convert("RGB").resize((400, 400)))
    b = np.asarray(Image.open(hopper).convert("RGB").resize((340, 400)))
    small = cv2.resize(a, (120, 120))
    canvas = np.full((400, 860, 3), 128, np.uint8)
    canvas[:, :400] = a
    canvas[:, 400:740] = b
    canvas[280:400, 740:860] = small
    p = tmp_path / "group.png"
    Image.fromarray(canvas).save(p)
    clip, frames = _clip(p, "natural blinks, breathing, static camera", tmp_path, "group", size="430x200", duration=2.0)
    info = clip.recipe["shot"]["portrait"]
    assert info["faces"] >= 2, info
    assert len(frames) == 24 and np.isfinite(frames.astype(float)).all()
