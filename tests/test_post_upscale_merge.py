"""Finishing steps: upscale (classical and spandrel) and merge, on real clips."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import stillmotion
from conftest import psnr
from stillmotion.errors import InputError
from stillmotion.post.merge import merge_files, parse_transition
from stillmotion.post.upscale import sharpen_upscale, upscale_file
from stillmotion.video import VideoWriter, probe, read_video


@pytest.fixture(scope="module")
def clips(photos, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("post")
    out = {}
    for name, photo, prompt, size, fps in (
        ("push", "astronaut", "slow push-in", "128x96", 12),
        ("static", "coffee", "static camera", "128x96", 12),
        ("pan", "china", "slow pan left", "160x96", 8),
        ("big", "chelsea", "slow push-in", "256x192", 12),
    ):
        out[name] = stillmotion.animate(
            photos[photo], prompt, size=size, duration=1, fps=fps, seed=1, output=root / f"{name}.mp4"
        ).path
    return out


def _write(path, frames, fps=12.0):
    with VideoWriter(path, frames[0].shape[1], frames[0].shape[0], fps, crf=0, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    return path


# --------------------------------------------------------------------------- upscale, classical


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_sizes_and_recipe(clips, tmp_path, scale):
    out = upscale_file(clips["push"], tmp_path / f"x{scale}.mp4", scale=scale)
    info = probe(out)
    assert (info["width"], info["height"], info["frame_count"], info["fps"]) == (128 * scale, 96 * scale, 12, 12.0)
    recipe = json.loads(info["metadata"]["comment"])
    assert recipe["prompt"] == "slow push-in"
    assert recipe["finish"][-1] == {"step": "upscale", "scale": scale, "method": "lanczos+unsharp", "weights": None}
    assert json.loads(out.with_suffix(".json").read_text())["finish"][-1]["step"] == "upscale"


def test_upscale_default_output_and_bad_scale(clips):
    with pytest.raises(InputError, match="scale must be 2 or 4"):
        upscale_file(clips["push"], scale=3)
    out = upscale_file(clips["push"])
    try:
        assert out.name == "push-x2.mp4" and out.parent == clips["push"].parent
    finally:
        out.unlink()
        out.with_suffix(".json").unlink()


def test_upscale_beats_nearest_psnr(clips, tmp_path):
    """Downscale a real clip ×2, upscale it back: closer to the original than nearest-neighbour."""
    original = read_video(clips["big"]).frames_thwc
    small = [cv2.resize(f, (128, 96), interpolation=cv2.INTER_AREA) for f in original]
    up = read_video(upscale_file(_write(tmp_path / "small.mp4", small), tmp_path / "up.mp4", scale=2)).frames_thwc
    nearest = np.stack([cv2.resize(f, (256, 192), interpolation=cv2.INTER_NEAREST) for f in small])
    ours, near = psnr(up, original), psnr(nearest, original)
    assert ours > near + 1.0, (ours, near)
    # And the sharpening helps over plain Lanczos on the same frames (no encoder in the way).
    lanczos = np.stack([cv2.resize(f, (256, 192), interpolation=cv2.INTER_LANCZOS4) for f in small])
    sharp = np.stack([sharpen_upscale(f, 2) for f in small])
    assert psnr(sharp, original) >= psnr(lanczos, original) - 0.1


def test_upscale_is_temporally_stable(clips, tmp_path):
    # Same frame in → same frame out (a fixed kernel, no per-frame adaptation).
    frame = read_video(clips["static"]).frames_thwc[0]
    assert np.array_equal(sharpen_upscale(frame, 2), sharpen_upscale(frame.copy(), 2))
    # A static clip stays static after upscaling (up to the encoder).
    static = read_video(clips["static"]).frames_thwc
    up = read_video(upscale_file(clips["static"], tmp_path / "s.mp4", scale=2)).frames_thwc.astype(np.float32)
    src_diff = np.abs(np.diff(static.astype(np.float32), axis=0)).mean()
    up_diff = np.abs(np.diff(up, axis=0)).mean()
    assert up_diff <= max(1.0, 1.5 * src_diff), (up_diff, src_diff)
    # A moving clip: frame-to-frame change no higher than the source's (Lanczos-scaled) change.
    moving = read_video(clips["push"]).frames_thwc
    ref = np.stack([cv2.resize(f, (256, 192), interpolation=cv2.INTER_LANCZOS4) for f in moving]).astype(np.float32)
    up = read_video(upscale_file(clips["push"], tmp_path / "m.mp4", scale=2)).frames_thwc.astype(np.float32)
    assert np.abs(np.diff(up, axis=0)).mean() <= 1.15 * np.abs(np.diff(ref, axis=0)).mean()


def test_upscale_errors(clips, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        upscale_file(tmp_path / "nope.mp4", tmp_path / "o.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(InputError):
        upscale_file(bad, tmp_path / "o.mp4")
    with pytest.raises(InputError, match="do not exist") as err:
        upscale_file(clips["push"], tmp_path / "o.mp4", upscaler=tmp_path / "missing.pth")
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="local cache"):
        upscale_file(clips["push"], tmp_path / "o.mp4", upscaler="nobody/no-such-upscaler")
    assert not (tmp_path / "o.mp4").exists()


# --------------------------------------------------------------------------- upscale, spandrel


def _spandrel_or_skip():
    from stillmotion.errors import EngineUnavailable
    from stillmotion.post.upscale import import_spandrel

    try:
        return import_spandrel()
    except EngineUnavailable as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A tiny randomly initialised Real-ESRGAN Compact (SRVGGNetCompact) ×2, saved as a .pth."""
    torch, _ = _spandrel_or_skip()
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    model = Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=2)
    path = tmp_path_factory.mktemp("weights") / "tiny-compact-x2.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.mark.parametrize("scale", [2, 4])
def test_spandrel_upscaler_runs_offline(clips, tmp_path, tiny_weights, monkeypatch, scale):
    import socket

    def no_network(*a, **k):
        raise AssertionError("the upscaler tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    out = upscale_file(clips["push"], tmp_path / "l.mp4", scale=scale, upscaler=str(tiny_weights), tile=48)
    info = probe(out)
    assert (info["width"], info["height"], info["frame_count"]) == (128 * scale, 96 * scale, 12)
    step = json.loads(info["metadata"]["comment"])["finish"][-1]
    assert step["step"] == "upscale" and step["scale"] == scale and step["model_scale"] == 2
    assert step["method"] == "RealESRGAN Compact (spandrel)" and step["weights"] == "tiny-compact-x2.pth"


def test_spandrel_tiles_blend_without_seams(clips, tiny_weights):
    from stillmotion.post.upscale import _LearnedUpscaler

    frame = read_video(clips["big"]).frames_thwc[3]
    whole = _LearnedUpscaler(tiny_weights, "cpu", tile=512, overlap=0)(frame, 2).astype(np.int16)
    tiled = _LearnedUpscaler(tiny_weights, "cpu", tile=64, overlap=16)(frame, 2).astype(np.int16)
    assert tiled.shape == whole.shape == (384, 512, 3)
    assert np.abs(tiled - whole).max() <= 2


def test_spandrel_rejects_junk_weights(clips, tmp_path):
    _spandrel_or_skip()
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match=r"junk.pth"):
        upscale_file(clips["push"], tmp_path / "o.mp4", upscaler=junk)


# --------------------------------------------------------------------------- merge


def test_parse_transition():
    assert parse_transition("cut") == ("cut", 0.0)
    assert parse_transition("crossfade:0.5") == ("crossfade", 0.5)
    assert parse_transition("FADE:1") == ("fade", 1.0)
    for bad in ("dissolve:1", "crossfade", "crossfade:", "crossfade:-1", "crossfade:0", "fade:abc", "cut:1"):
        with pytest.raises(InputError):
            parse_transition(bad)


def test_merge_cut_mismatched_inputs(clips, tmp_path):
    """A 128×96 12 fps clip, a 160×96 8 fps one and a 256×192 12 fps one → all at 128×96, 12 fps."""
    out = merge_files([clips["push"], clips["pan"], clips["big"]], tmp_path / "m.mp4")
    v = read_video(out)
    assert v.frames_thwc.shape == (36, 96, 128, 3) and v.fps == 12.0  # 1 s each, the 8 fps one retimed
    recipe = json.loads(v.metadata["comment"])
    assert [r["prompt"] for r in recipe["merged"]] == ["slow push-in", "slow pan left", "slow push-in"]
    assert recipe["stillmotion"] == stillmotion.__version__
    step = recipe["finish"][-1]
    assert step["step"] == "merge" and step["transition"] == "cut"
    assert [p["path"] for p in step["parts"]] == ["push.mp4", "pan.mp4", "big.mp4"]
    # The third part is the 256×192 clip scaled ×0.5 (cover + centre-crop: same aspect, nothing cut).
    big = read_video(clips["big"]).frames_thwc
    expected = cv2.resize(big[5], (128, 96), interpolation=cv2.INTER_AREA)
    assert psnr(v.frames_thwc[24 + 5], expected) > 30


def test_merge_crossfade_blends(clips, tmp_path):
    a = read_video(clips["push"]).frames_thwc.astype(np.float32)
    b = read_video(clips["static"]).frames_thwc.astype(np.float32)
    out = merge_files([clips["push"], clips["static"]], tmp_path / "x.mp4", transition="crossfade:0.25")
    v = read_video(out).frames_thwc.astype(np.float32)
    n = 3  # 0.25 s at 12 fps
    assert len(v) == 12 + 12 - n
    # A untouched before the overlap, B after it (re-encoding at this size costs up to ~2.4 grey levels)
    assert np.abs(v[: 12 - n] - a[: 12 - n]).mean() < 2.8
    assert np.abs(v[12:] - b[n:]).mean() < 2.8
    for k in range(n):
        t = (k + 1) / (n + 1)
        blend = (1 - t) * a[12 - n + k] + t * b[k]
        got = v[12 - n + k]
        assert psnr(got, blend) > 32
        assert np.abs(got - a[12 - n + k]).mean() > 3 and np.abs(got - b[k]).mean() > 3  # a true blend
    step = json.loads(read_video(out).metadata["comment"])["finish"][-1]
    assert step["transition"] == "crossfade:0.25" and step["transition_frames"] == n


def test_merge_fade_through_black(clips, tmp_path):
    out = merge_files([clips["push"], clips["static"]], tmp_path / "f.mp4", transition="fade:0.5")
    v = read_video(out).frames_thwc.astype(np.float32)
    assert len(v) == 24 - 6
    means = v.mean(axis=(1, 2, 3))
    assert means[6:12].min() < 0.25 * means[:6].mean()  # dips to (near) black in the middle
    assert means[-1] > 0.8 * means[-6:].max()


def test_merge_errors(clips, tmp_path, photos):
    with pytest.raises(InputError, match="at least two"):
        merge_files([clips["push"]], tmp_path / "o.mp4")
    with pytest.raises(InputError, match="transition"):
        merge_files([clips["push"], clips["pan"]], tmp_path / "o.mp4", transition="wipe:1")
    with pytest.raises(InputError):
        merge_files([clips["push"], photos["coffee"]], tmp_path / "o.mp4")  # a PNG is not a clip
    with pytest.raises(InputError, match="does not exist"):
        merge_files([clips["push"], tmp_path / "nope.mp4"], tmp_path / "o.mp4")
    with pytest.raises(InputError, match="shorter transition"):
        merge_files([clips["push"], clips["pan"]], tmp_path / "o.mp4", transition="crossfade:3")
    assert not (tmp_path / "o.mp4").exists()


def test_spandrel_missing_is_engine_unavailable(clips, tmp_path, tiny_weights, monkeypatch):
    import sys

    from stillmotion.errors import EngineUnavailable

    monkeypatch.setitem(sys.modules, "spandrel", None)  # as if not installed
    with pytest.raises(EngineUnavailable, match=r"stillmotion\[upscale\]"):
        upscale_file(clips["push"], tmp_path / "o.mp4", upscaler=tiny_weights)
    assert not (tmp_path / "o.mp4").exists()
