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


@pytest.mark.parametrize(("name", "prompt", "move"), [
    ("pan", "pan right", "pan-right"),
    ("static", "static camera", "static"),
    ("push", "slow push-in", "push-in"),
])
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
    assert {"fidelity_psnr", "fidelity_ssim", "drift", "flicker", "dynamic_degree", "jerk",
            "camera_move", "plan_match", "loop_seam", "frame_quality", "blockiness"} <= names
    assert all(m.verdict in {"good", "fair", "poor"} for m in ev.metrics)
    assert 0.0 <= ev.score <= 1.0
    assert ev.metric("drift").value < 0.3
    assert ev.metric("dynamic_degree").value > 0.3
    assert "BRISQUE" in ev.metric("frame_quality").meaning
    d = json.loads(json.dumps(ev.to_dict()))
    assert d["camera_move"] == "pan-right" and len(d["metrics"]) == len(ev.metrics)
    s = ev.summary()
    assert "pan-right" in s and "flicker" in s


def test_bad_input(tmp_path):
    with pytest.raises(stillmotion.InputError):
        evaluate_clip(tmp_path / "missing.mp4")
