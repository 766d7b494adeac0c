"""stillmotion.evaluate: classical clip metrics on real clips made from real photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

import stillmotion
from stillmotion.evaluate import Evaluation, Metric, evaluate_clip
from stillmotion.video import VideoWriter, iter_frames

KW = dict(size="256x170", duration=1.5, fps=12, seed=1)


@pytest.fixture(scope="module")
def clips(photos, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    out = {}
    for name, prompt, extra in [
        ("pan", "pan right", {}),
        ("static", "static camera", {}),
        ("push", "slow push-in", {}),
        ("loop", "slow push-in", {"loop": True}),
    ]:
        p = root / f"{name}.mp4"
        stillmotion.animate(photos["chelsea"], prompt, output=p, **KW, **extra)
        out[name] = p
    frames = list(iter_frames(out["push"]))
    flick = root / "flicker.mp4"
    with VideoWriter(flick, frames[0].shape[1], frames[0].shape[0], 12) as w:
        for i, f in enumerate(frames):
            gain = 1.15 if i % 2 else 1.0
            w.write(np.clip(f.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    out["flicker"] = flick
    return out


def test_flicker_scores_worse(clips, photos):
    good = evaluate_clip(clips["push"], source=photos["chelsea"])
    bad = evaluate_clip(clips["flicker"], source=photos["chelsea"])
    assert bad.metric("flicker").value > 3 * good.metric("flicker").value
    assert bad.metric("flicker").verdict == "poor"
    assert bad.score < good.score - 0.1


@pytest.mark.parametrize(
    ("name", "prompt", "move"),
    [
        ("pan", "pan right", "pan-right"),
        ("static", "static camera", "static"),
        ("push", "slow push-in", "push-in"),
    ],
)
def test_camera_move_and_plan_match(clips, name, prompt, move):
    ev = evaluate_clip(clips[name], prompt=prompt)
    assert ev.camera_move == move
    assert ev.metric("plan_match").value == 1.0
    other = evaluate_clip(clips[name], prompt="tilt down")
    assert other.metric("plan_match").value == 0.0


def test_fidelity_against_own_and_other_photo(clips, photos):
    own = evaluate_clip(clips["push"], source=photos["chelsea"])
    other = evaluate_clip(clips["push"], source=photos["coffee"])
    assert own.metric("fidelity_psnr").value > 25
    assert own.metric("fidelity_ssim").value > 0.8
    assert other.metric("fidelity_psnr").value < 18
    assert other.metric("fidelity_ssim").value < own.metric("fidelity_ssim").value - 0.3
    with pytest.raises(KeyError):
        evaluate_clip(clips["push"]).metric("fidelity_psnr")


def test_loop_seam(clips):
    loop = evaluate_clip(clips["loop"]).metric("loop_seam").value
    push = evaluate_clip(clips["push"]).metric("loop_seam").value
    assert loop <= 1.5
    assert push > 3 and push > 2 * loop


def test_metrics_dict_and_summary(clips, photos):
    ev = evaluate_clip(clips["pan"], source=photos["chelsea"], prompt="pan right")
    assert isinstance(ev, Evaluation) and all(isinstance(m, Metric) for m in ev.metrics)
    names = {m.name for m in ev.metrics}
    assert {
        "fidelity_psnr",
        "fidelity_ssim",
        "drift",
        "flicker",
        "dynamic_degree",
        "jerk",
        "camera_move",
        "plan_match",
        "loop_seam",
        "frame_quality",
        "blockiness",
    } <= names
    assert all(m.verdict in {"good", "fair", "poor"} for m in ev.metrics)
    assert 0.0 <= ev.score <= 1.0
    assert ev.metric("drift").value < 0.3
    assert ev.metric("dynamic_degree").value > 0.3
    assert "BRISQUE" in ev.metric("frame_quality").meaning
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["camera_move"] == "pan-right" and len(d["metrics"]) == len(ev.metrics)
    assert d["metrics"]["flicker"] == {
        "value": ev.metric("flicker").value,
        "unit": "grey levels",
        "verdict": ev.metric("flicker").verdict,
        "meaning": ev.metric("flicker").meaning,
    }
    assert "rank" not in d and "of" not in d
    ranked = ev.to_dict(rank=2, of=3)
    assert (ranked["rank"], ranked["of"], ranked["score"]) == (2, 3, d["score"])
    with pytest.raises(ValueError, match="rank"):
        ev.to_dict(rank=4, of=3)
    s = ev.summary()
    assert "pan-right" in s and "flicker" in s


def test_bad_input(tmp_path):
    with pytest.raises(stillmotion.InputError):
        evaluate_clip(tmp_path / "missing.mp4")


def _face_clip(path, rgb, warp_face: bool):
    """12 frames of the astronaut: a slow zoom + pan (rigid); optionally the face
    region is progressively stretched vertically (the face 'melting')."""
    import cv2

    h, w = rgb.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    with VideoWriter(path, w, h, 12) as wr:
        for i in range(12):
            t = i / 11
            m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1 + 0.06 * t)
            m[0, 2] += 8 * t
            frame = cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REFLECT)
            if warp_face:
                # Lower face (below the eyes, around the astronaut's mouth and chin) pulled down and sideways.
                cx, cy, r = 0.46 * w, 0.32 * h, 0.12 * w
                wgt = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * r * r)).astype(np.float32)
                frame = cv2.remap(
                    frame, gx - 10 * t * wgt, gy - 14 * t * wgt, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
                )
            wr.write(frame)


def test_face_stability_catches_a_warping_face(photos, tmp_path):
    from stillmotion.scene.landmarks import landmarks_status

    if landmarks_status() is not None:
        pytest.skip(landmarks_status())
    import cv2

    rgb = cv2.imread(str(photos["astronaut"]))[..., ::-1].copy()
    rigid, melt = tmp_path / "rigid.mp4", tmp_path / "melt.mp4"
    _face_clip(rigid, rgb, False)
    _face_clip(melt, rgb, True)
    a, b = evaluate_clip(rigid), evaluate_clip(melt)
    fa, fb = a.metric("face_stability"), b.metric("face_stability")
    assert fa.verdict == "good", fa
    assert fb.value > 2 * fa.value, (fa, fb)
    assert b.score < a.score


def test_region_focus_motion_where_the_prompt_asked(photos, tmp_path):
    import cv2

    prompt = "static camera, clouds drifting right"
    good = tmp_path / "clouds.mp4"
    stillmotion.animate(photos["china"], prompt, output=good, size="320x240", duration=2, fps=12, seed=1)
    # Same photo, but the motion is a wobble in the bottom 40 % (the temple and trees), not the sky.
    rgb = cv2.imread(str(photos["china"]))[..., ::-1]
    h, w = 240, 320
    src = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    wrong = tmp_path / "wrong.mp4"
    with VideoWriter(wrong, w, h, 12) as wr:
        for i in range(24):
            dx = 2.0 * np.sin(i * 0.8 + gy / 9) * (gy > 0.6 * h)
            wr.write(cv2.remap(src, gx + dx.astype(np.float32), gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    a = evaluate_clip(good, source=photos["china"], prompt=prompt)
    b = evaluate_clip(wrong, source=photos["china"], prompt=prompt)
    ra, rb = a.metric("region_focus"), b.metric("region_focus")
    assert "sky" in ra.meaning
    assert ra.verdict == "good" and rb.verdict == "poor", (ra, rb)
    assert a.score > b.score
    # Without a prompt that names an element there is no region metric.
    assert all(m.name != "region_focus" for m in evaluate_clip(good, source=photos["china"], prompt="static").metrics)


def _eval_golden():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "make_eval_golden", Path(__file__).parent / "data" / "make_eval_golden.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["astronaut_orbit_loop", "china_pushin_clouds"])
def test_metrics_match_the_stored_values(name):
    """Every metric of two stored clips (made by tests/data/make_eval_golden.py) is what
    evaluate_clip measured on them when they were made: value within 1e-6, unit, verdict, meaning."""
    from pathlib import Path

    make = _eval_golden()
    stored = json.loads((Path(__file__).parent / "data" / "eval_golden.json").read_text())[name]
    now = make.measure(name)
    assert now["camera_move"] == stored["camera_move"]
    assert now["score"] == pytest.approx(stored["score"], rel=0, abs=1e-6)
    assert list(now["metrics"]) == list(stored["metrics"])
    for metric, want in stored["metrics"].items():
        got = now["metrics"][metric]
        assert got["value"] == pytest.approx(want["value"], rel=0, abs=1e-6), metric
        assert (got["unit"], got["verdict"], got["meaning"]) == (want["unit"], want["verdict"], want["meaning"]), metric
