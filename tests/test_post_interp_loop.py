"""Finishing: motion-compensated interpolation and loops, on real clips made from real photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

import stillmotion
from stillmotion.errors import InputError
from stillmotion.evaluate import evaluate_clip
from stillmotion.post._io import default_output, open_clip
from stillmotion.post.interpolate import input_crf, interpolate_file, interpolate_pair
from stillmotion.post.loop import loop_file
from stillmotion.recipe import from_tags
from stillmotion.video import VideoWriter, iter_frames_yuv420, probe, read_video


def _clip(photo, out, prompt="slow pan right", *, size="256x170", fps=12, strength=1.0):
    # motion_strength 1: a few pixels per frame, so interpolation has motion to get right
    return stillmotion.animate(
        photo, prompt, size=size, duration=2, fps=fps, seed=1, motion_strength=strength, output=out
    ).path


def _write(path, frames, fps):
    with VideoWriter(path, frames[0].shape[1], frames[0].shape[0], fps) as w:
        for f in frames:
            w.write(f)
    return path


def _psnr(x, y):
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / max(mse, 1e-10))


def _mad(a, b):
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))))


@pytest.fixture(scope="module")
def pan(photos, tmp_path_factory):
    return _clip(photos["astronaut"], tmp_path_factory.mktemp("pan") / "pan.mp4")


def test_interpolation_beats_blending_on_held_out_frames(pan, tmp_path):
    full = read_video(pan).frames_thwc
    half = _write(tmp_path / "half.mp4", list(full[::2]), 6)
    out = interpolate_file(half, tmp_path / "x2.mp4", factor=2)
    got = read_video(out)
    held = read_video(half).frames_thwc
    assert got.fps == pytest.approx(12.0)
    assert len(got.frames_thwc) == 2 * len(held)
    p_interp, p_blend = [], []
    for k in range(len(held) - 1):
        truth = full[2 * k + 1]
        p_interp.append(_psnr(got.frames_thwc[2 * k + 1], truth))
        blend = ((held[k].astype(np.float32) + held[k + 1]) / 2 + 0.5).astype(np.uint8)
        p_blend.append(_psnr(blend, truth))
    assert np.mean(p_interp) >= np.mean(p_blend) + 2.0, (np.mean(p_interp), np.mean(p_blend))


@pytest.fixture(scope="module")
def living_pan(tmp_path_factory):
    """A living slow pan over a development photo (beach and bridge cables, 640×400, 24 fps, 1.5 s)."""
    from pathlib import Path

    candidates = (p / "shared" / "photos" / "beach-bridge.jpg" for p in Path(__file__).resolve().parents)
    photo = next((c for c in candidates if c.exists()), None)
    if photo is None:
        pytest.skip("the development photos (../shared/photos) are not on this machine")
    out = tmp_path_factory.mktemp("living") / "pan.mp4"
    return stillmotion.animate(photo, "slow pan right", size="640x400", duration=1.5, fps=24, seed=1, output=out).path


def test_kept_frames_are_the_input_and_held_out_frames_beat_blending(living_pan, tmp_path):
    full = read_video(living_pan).frames_thwc
    half = _write(tmp_path / "half.mp4", list(full[::2]), 12)
    assert input_crf(half) == 18.0  # VideoWriter's default
    out = interpolate_file(half, tmp_path / "x2.mp4", factor=2)
    got, kept = list(iter_frames_yuv420(out)), list(iter_frames_yuv420(half))
    assert len(got) == 2 * len(kept)
    # kept frames: the decoded input's own planes, re-encoded 6 CRF finer (not re-warped, no colour
    # conversion): within x264's rounding
    kept_psnr = [_psnr(got[2 * k][0], kept[k][0]) for k in range(len(kept))]
    assert min(kept_psnr) > 44.0, kept_psnr
    # held-out frames against the true rendered ones; blending's frames (of the same decoded planes)
    # go through the same encoder at the CRF interpolate chose, so both pay the same encoding
    crf = from_tags(probe(out)["metadata"])["finish"][-1]["crf"]

    def mix(a, b):
        return tuple(((x.astype(np.float32) + y) / 2 + 0.5).astype(np.uint8) for x, y in zip(a, b))

    blends = [mix(kept[k], kept[k + 1]) for k in range(len(kept) - 1)]
    blends.append(kept[-1])  # interpolate repeats the last frame too
    both = [f for pair in zip(kept, blends) for f in pair]
    h, w = both[0][0].shape
    with VideoWriter(tmp_path / "blend.mp4", w, h, 24, crf=crf) as wr:
        for y, c in both:
            wr.write_yuv420(y, c)
    blended = read_video(tmp_path / "blend.mp4").frames_thwc
    interp = read_video(out).frames_thwc
    held = range(1, 2 * len(kept) - 1, 2)
    p_interp = np.mean([_psnr(interp[i], full[i]) for i in held])
    p_blend = np.mean([_psnr(blended[i], full[i]) for i in held])
    assert p_interp >= p_blend + 1.0, (p_interp, p_blend)


def test_input_crf_reads_x264_settings(pan, tmp_path):
    frames = read_video(pan).frames_thwc[:3]
    with VideoWriter(tmp_path / "c23.mp4", frames.shape[2], frames.shape[1], 12, crf=23) as w:
        for f in frames:
            w.write(f)
    assert input_crf(tmp_path / "c23.mp4") == 23.0
    text = tmp_path / "not-a-video.mp4"
    text.write_text("no x264 here")
    assert input_crf(text) is None
    assert input_crf(tmp_path / "missing.mp4") is None


def test_interpolate_pair_endpoints_and_shape(pan):
    v = read_video(pan).frames_thwc
    mid = interpolate_pair(v[4], v[6], 0.5)
    assert mid.shape == v[4].shape and mid.dtype == np.uint8
    assert np.array_equal(interpolate_pair(v[4], v[6], 0.0), v[4])
    assert _psnr(mid, v[5]) > _psnr(v[4], v[5])


def test_frame_counts_fps_and_recipe(pan, tmp_path):
    n = probe(pan)["frame_count"]
    a = interpolate_file(pan, tmp_path / "f2.mp4", factor=2)
    info = probe(a)
    assert info["fps"] == pytest.approx(24.0) and info["frame_count"] == 2 * n
    b = interpolate_file(pan, tmp_path / "f30.mp4", fps=30)
    info = probe(b)
    assert info["fps"] == pytest.approx(30.0) and info["frame_count"] == round(n * 30 / 12)
    assert info["duration_s"] == pytest.approx(n / 12, abs=0.05)
    # frames at whole source positions (k·12/30 integral, i.e. k = 0, 5, 10…) are the source frames
    src, out = read_video(pan).frames_thwc, read_video(b).frames_thwc
    for k in (0, 5, 10, 25):
        # re-encoding at 256×170, 6 CRF finer than the input, costs about 1.5 grey levels (was 2.0 at the same CRF)
        assert _mad(out[k], src[k * 12 // 30]) < 2.0
    recipe = from_tags(probe(b)["metadata"])
    original = from_tags(probe(pan)["metadata"])
    assert recipe["prompt"] == original["prompt"] and recipe["seed"] == original["seed"]
    assert recipe["finish"][-1] == {
        "step": "interpolate",
        "from_fps": 12.0,
        "to_fps": 30.0,
        "method": "DIS optical flow (fast), bidirectional, occlusion-aware, bicubic luma warp",
        "crf": 12,  # the astronaut pan was written at CRF 18 by animate; 6 finer keeps its kept frames
    }
    assert json.loads(b.with_suffix(".json").read_text())["finish"] == recipe["finish"]
    # default output next to the source, never overwriting
    first = default_output(pan, "interpolated")
    first.write_bytes(b"x")
    assert default_output(pan, "interpolated").name == "pan-interpolated-2.mp4"
    first.unlink()


def test_no_interpolation_across_a_cut(pan, photos, tmp_path):
    other = _clip(photos["coffee"], tmp_path / "coffee.mp4")
    a, b = read_video(pan).frames_thwc, read_video(other).frames_thwc
    cut = _write(tmp_path / "cut.mp4", list(a) + list(b), 12)
    src = read_video(cut).frames_thwc
    out = read_video(interpolate_file(cut, tmp_path / "cut-x2.mp4", factor=2)).frames_thwc
    n = len(a)
    # output 2n−1 lies between the last frame of A and the first of B: a copy of one, never a blend
    for k in (2 * n - 2, 2 * n - 1, 2 * n):
        err = min(_mad(out[k], src[n - 1]), _mad(out[k], src[n]))
        blend = ((src[n - 1].astype(np.float32) + src[n]) / 2).astype(np.uint8)
        assert err < 4.0 and _mad(out[k], blend) > 4 * err + 5, (k, err, _mad(out[k], blend))
    # inside each shot it still interpolates
    assert _mad(out[2 * n - 3], src[n - 2]) > 0.5 and _mad(out[2 * n - 3], src[n - 1]) > 0.5


@pytest.mark.parametrize("mode", ["seamless", "crossfade"])
def test_loop_seam_is_like_a_normal_step(pan, tmp_path, mode):
    src = read_video(pan).frames_thwc
    typical = float(np.median([_mad(src[k], src[k + 1]) for k in range(len(src) - 1)]))
    assert _mad(src[-1], src[0]) > 3 * typical  # the source does not loop
    out_path = loop_file(pan, tmp_path / f"{mode}.mp4", mode=mode)
    out = read_video(out_path).frames_thwc
    # crossfade drops its overlap; seamless keeps every frame
    assert len(out) == len(src) if mode == "seamless" else len(out) < len(src)
    assert _mad(out[-1], out[0]) <= 1.5 * typical
    steps = [_mad(out[k], out[k + 1]) for k in range(len(out) - 1)]
    assert max(steps) <= 1.5 * typical
    step = from_tags(probe(out_path)["metadata"])["finish"][-1]
    assert step["step"] == "loop" and step["mode"] == mode and step["frames"] == len(out)


@pytest.mark.parametrize(
    ("photo", "prompt"),
    [
        ("china", "slow pan right"),
        ("astronaut", "slow push-in"),
        ("coffee", "slow orbit"),
        ("chelsea", "slow pan left"),
    ],
)
def test_seamless_loop_keeps_length_and_motion_with_a_normal_seam(photos, tmp_path, photo, prompt):
    # issue 18: the old seamless mode halved the clip and ended with a seam of 1.6–3.7 typical steps.
    # 24 fps at the default motion strength: steps of about a grey level, where H.264 popped at the wrap
    # (the keyframe's noise against the last P-frame's) with a seam of 1.22 on astronaut and coffee
    clip = _clip(photos[photo], tmp_path / "clip.mp4", prompt, size="320x214", fps=24, strength=0.5)
    out_path = loop_file(clip, tmp_path / "loop.mp4", mode="seamless")
    src, out = read_video(clip).frames_thwc, read_video(out_path).frames_thwc
    assert len(out) == len(src)
    # the judge's measure: last→first grey difference / median neighbouring-frame difference, on the file
    seam = evaluate_clip(out_path).metric("loop_seam").value
    assert seam <= 1.2, seam
    # motion kept: the loop steps like its source (not frozen, not sped up), and no step is a jump
    src_steps = [_mad(src[k], src[k + 1]) for k in range(len(src) - 1)]
    out_steps = [_mad(out[k], out[k + 1]) for k in range(len(out) - 1)]
    assert 0.7 <= np.median(out_steps) / np.median(src_steps) <= 1.4
    assert max(out_steps) <= 1.5 * np.median(out_steps)
    # away from the wrap the frames are the source's own: nearer to f[t] than to its neighbours (codec noise aside)
    n = len(src)
    k = from_tags(probe(out_path)["metadata"])["finish"][-1]["blend_frames"] // 2
    assert 0 < k <= n // 3
    for t in range(k, n - k, 3):
        assert int(np.argmin([_mad(out[t], src[u]) for u in range(t - 2, t + 3)])) == 2
    # in the wrap window they blend in the frame half a clip away (f[N/2] at the wrap)
    assert _mad(out[0], src[n // 2]) < 0.5 * _mad(out[0], src[0])


def test_pingpong(pan, tmp_path):
    src = read_video(pan).frames_thwc
    out = read_video(loop_file(pan, tmp_path / "pp.mp4", mode="pingpong")).frames_thwc
    n = len(src)
    assert len(out) == 2 * n - 2
    # each output frame is (up to codec noise) the source frame it should be: 0…N−1, then N−2…1
    expected = list(range(n)) + list(range(n - 2, 0, -1))
    for k in range(0, len(out), 3):
        assert int(np.argmin([_mad(out[k], f) for f in src])) == expected[k]


def test_bad_inputs_are_one_line_input_errors(pan, tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("not a video\n")
    cases = [
        lambda: interpolate_file(text, factor=2),
        lambda: interpolate_file(tmp_path / "missing.mp4", factor=2),
        lambda: interpolate_file(pan, factor=1),
        lambda: interpolate_file(pan, factor=2.5),
        lambda: interpolate_file(pan, fps=10),
        lambda: interpolate_file(pan, fps=12),
        lambda: interpolate_file(pan),
        lambda: interpolate_file(pan, fps=24, factor=2),
        lambda: loop_file(text),
        lambda: loop_file(pan, mode="bounce"),
        lambda: open_clip(text),
    ]
    for case in cases:
        with pytest.raises(InputError) as err:
            case()
        assert "\n" not in str(err.value) and str(err.value)
    with pytest.raises(InputError, match="is not a video PyAV can read"):
        open_clip(text)
    assert not list(tmp_path.glob("*.mp4"))
