"""Tests for stillmotion.video: real encodes of a real photo at tiny size, no mocks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from stillmotion.color import rgb_to_ycbcr709, rgb_to_yuv420, ycbcr709_to_rgb
from stillmotion.errors import GenerationError, InputError
from stillmotion.video import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    DecodedVideo,
    VideoWriter,
    iter_frames,
    iter_frames_yuv420,
    probe,
    read_video,
    write_json_atomic,
    write_png_atomic,
)

W, H = 320, 180


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """The astronaut photo (512×512) scaled to 400 wide and cropped to 400×240, uint8 H×W×3."""
    image = Image.fromarray(data.astronaut()).resize((400, 400), Image.Resampling.LANCZOS)
    return np.asarray(image)[80:320]


def pan_frames(photo: np.ndarray, count: int) -> list[np.ndarray]:
    """A slow diagonal pan: frame i is the W×H window shifted by (2i, i) pixels."""
    return [np.ascontiguousarray(photo[i : i + H, 2 * i : 2 * i + W]) for i in range(count)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


RECIPE = json.dumps(
    {
        "prompt": "slow push-in, hair moves in the wind — «ünïcödé» ✓",
        "seed": 1234,
        "params": {f"option_{i}": {"value": i * 0.5, "note": "x" * 40} for i in range(80)},
    },
    indent=2,
    ensure_ascii=False,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> tuple[Path, list[np.ndarray]]:
    """A 36-frame 24 fps clip written once for the read-back tests."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    frames = pan_frames(photo, 36)
    metadata = {"title": "astronaut pan", "comment": RECIPE, "stillmotion_recipe": RECIPE, "description": "d"}
    with VideoWriter(path, W, H, 24, metadata=metadata) as out:
        for frame in frames:
            out.write(frame)
    assert out.frames_written == 36
    return path, frames


def test_defaults() -> None:
    assert DEFAULT_CRF == 18
    assert DEFAULT_PRESET == "medium"


def test_probe_reports_exact_stream(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, frames = clip
    info = probe(path)
    assert (info["width"], info["height"]) == (W, H)
    assert info["frame_count"] == len(frames)
    assert info["fps"] == 24.0
    assert info["duration_s"] == pytest.approx(len(frames) / 24, abs=1e-6)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["faststart"] is True
    assert (info["color_primaries"], info["color_trc"], info["colorspace"]) == ("bt709", "bt709", "bt709")
    assert info["color_range"] == "tv"
    assert info["metadata"]["title"] == "astronaut pan"
    assert [p.name for p in path.parent.iterdir()] == ["clip.mp4"]


def test_read_video_round_trip(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, frames = clip
    video = read_video(path)
    assert isinstance(video, DecodedVideo)
    assert video.frames_thwc.dtype == np.uint8
    assert video.frames_thwc.shape == (len(frames), H, W, 3)
    assert video.fps == 24.0
    assert video.duration_s == pytest.approx(1.5)
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")
    assert (video.color_primaries, video.color_trc, video.colorspace, video.color_range) == (
        "bt709",
        "bt709",
        "bt709",
        "tv",
    )
    for written, decoded in zip(frames, video.frames_thwc):
        assert psnr(written, decoded) > 30
    # Motion survives: consecutive decoded frames differ like the written ones.
    assert not np.array_equal(video.frames_thwc[0], video.frames_thwc[-1])


def test_metadata_round_trips_exactly(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, _ = clip
    assert len(RECIPE) > 4000
    with av.open(str(path)) as container:
        tags = dict(container.metadata)
    assert tags["comment"] == RECIPE
    assert tags["stillmotion_recipe"] == RECIPE
    assert tags["title"] == "astronaut pan"
    assert tags["description"] == "d"
    assert read_video(path).metadata["stillmotion_recipe"] == RECIPE


def test_iter_frames_streams_rgb(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, frames = clip
    count = 0
    for frame in iter_frames(path):
        assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
        count += 1
    assert count == len(frames)


def _write_lossless(path: Path, photo: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Write ``n`` pan frames as 4:2:0 planes with x264 at CRF 0 (lossless); return the planes."""
    planes = [rgb_to_yuv420(f) for f in pan_frames(photo, n)]
    with VideoWriter(path, W, H, 24, crf=0) as out:
        for y, c in planes:
            out.write_yuv420(y, c)
    return planes


def test_iter_frames_yuv420_gives_the_streams_own_samples(tmp_path: Path, photo: np.ndarray) -> None:
    # x264 at CRF 0 is lossless: planes written with write_yuv420 must come back bit for bit
    planes = _write_lossless(tmp_path / "lossless.mp4", photo, 4)
    got = list(iter_frames_yuv420(tmp_path / "lossless.mp4"))
    assert len(got) == len(planes)
    for (y, c), (gy, gc) in zip(planes, got):
        assert gy.shape == (H, W) and gc.shape == (H // 2, W // 2, 2) and gy.dtype == gc.dtype == np.uint8
        assert np.array_equal(gy, y) and np.array_equal(gc, c)


def test_rgb_round_trip_keeps_chroma(tmp_path: Path, photo: np.ndarray) -> None:
    # decode → RGB → write: the writer's RGB → 4:2:0 conversion averages chroma over each 2×2
    # block, the inverse of the decoder's upsampling
    planes = _write_lossless(tmp_path / "src.mp4", photo, 3)
    with VideoWriter(tmp_path / "again.mp4", W, H, 24, crf=0) as out:
        for rgb in iter_frames(tmp_path / "src.mp4"):
            out.write(rgb)
    for (y, c), (gy, gc) in zip(planes, iter_frames_yuv420(tmp_path / "again.mp4")):
        assert psnr(gy, y) > 45.0
        assert psnr(gc, c) > 57.0, psnr(gc, c)  # 59.8 dB here; swscale's default filter: 53.1


def test_iter_frames_yuv420_converts_other_matrices(tmp_path: Path, photo: np.ndarray) -> None:
    # a BT.601 stream (ffmpeg's convention for untagged SD video) goes through RGB: its
    # planes are the BT.709 ones of the RGB frames iter_frames gives, chroma averaged 2×2
    path = tmp_path / "bt601.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for f in pan_frames(photo, 3):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            for packet in stream.encode(frame.reformat(format="yuv420p", dst_colorspace="ITU601")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    rgb = next(iter_frames(path))
    y, c = next(iter_frames_yuv420(path))
    assert y.shape == (H, W) and c.shape == (H // 2, W // 2, 2)
    y709, c709 = rgb_to_ycbcr709(rgb)
    assert np.array_equal(y, y709)
    assert np.array_equal(c, cv2.resize(c709, (W // 2, H // 2), interpolation=cv2.INTER_AREA))
    assert psnr(ycbcr709_to_rgb(y, c), rgb) > 35


@pytest.mark.parametrize(("fps", "count"), [(30000 / 1001, 30), (29.97, 25), (12.5, 10)])
def test_fractional_fps_is_exact(tmp_path: Path, photo: np.ndarray, fps: float, count: int) -> None:
    path = tmp_path / "rate.mp4"
    with VideoWriter(path, W, H, fps, preset="ultrafast") as out:
        for frame in pan_frames(photo, count):
            out.write(frame)
    info = probe(path)
    assert info["frame_count"] == count
    assert info["fps"] == pytest.approx(fps, rel=1e-9)
    assert info["duration_s"] == pytest.approx(count / fps, abs=1e-4)


def test_pure_colour_survives_bt709(tmp_path: Path) -> None:
    """A flat colour decodes within a few levels; a 601/709 mismatch is ~15 levels off in R and G."""
    colour = np.array([200, 30, 60], np.uint8)
    frame = np.broadcast_to(colour, (H, W, 3)).copy()
    path = tmp_path / "flat.mp4"
    with VideoWriter(path, W, H, 24) as out:
        for _ in range(4):
            out.write(frame)
    decoded = read_video(path).frames_thwc
    error = np.abs(decoded.astype(int) - colour.astype(int)).max()
    assert error <= 3, f"decoded {decoded[0, H // 2, W // 2]} for {colour}"


def test_exception_in_with_block_leaves_nothing(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError, match="render failed"):
        with VideoWriter(path, W, H, 24) as out:
            for frame in pan_frames(photo, 5):
                out.write(frame)
            assert leftovers(tmp_path), "the temporary file should exist while writing"
            raise RuntimeError("render failed")
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_leaves_nothing(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "clip.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(path, W, H, 24) as out:
            out.write(pan_frames(photo, 1)[0])
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_abort_leaves_nothing_and_is_idempotent(tmp_path: Path, photo: np.ndarray) -> None:
    out = VideoWriter(tmp_path / "clip.mp4", W, H, 24)
    out.write(pan_frames(photo, 1)[0])
    out.abort()
    out.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        out.write(pan_frames(photo, 1)[0])


def test_existing_file_untouched_until_replace(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"previous clip")
    with pytest.raises(InputError):
        with VideoWriter(path, W, H, 24) as out:
            for frame in pan_frames(photo, 3):
                out.write(frame)
            assert path.read_bytes() == b"previous clip"
            out.write(np.zeros((H, W + 2, 3), np.uint8))  # fails midway
    assert path.read_bytes() == b"previous clip"
    assert leftovers(tmp_path) == []
    # A successful write then replaces it.
    with VideoWriter(path, W, H, 24) as out:
        out.write(pan_frames(photo, 1)[0])
    assert probe(path)["frame_count"] == 1
    assert leftovers(tmp_path) == []


def test_temp_file_name_and_final_permissions(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "clip.mp4"
    out = VideoWriter(path, W, H, 24)
    (temp,) = leftovers(tmp_path)
    assert temp.startswith(".clip.mp4.") and temp.endswith(".part.mp4")
    assert not path.exists()
    out.write(pan_frames(photo, 1)[0])
    assert out.close() == path
    assert out.close() == path  # closing twice is harmless
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_missing_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        VideoWriter(tmp_path / "nope" / "clip.mp4", W, H, 24)


def test_folder_that_is_a_file_is_input_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(InputError, match="afile") as err:
        VideoWriter(tmp_path / "afile" / "clip.mp4", W, H, 24)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError, match="writable"):
            VideoWriter(folder / "clip.mp4", W, H, 24)
    finally:
        folder.chmod(0o700)


def test_wrong_frame_shape_and_dtype(tmp_path: Path, photo: np.ndarray) -> None:
    with VideoWriter(tmp_path / "clip.mp4", W, H, 24) as out:
        with pytest.raises(InputError, match="shape"):
            out.write(np.zeros((H, W, 4), np.uint8))
        with pytest.raises(ValueError, match="shape"):
            out.write(np.zeros((W, H, 3), np.uint8))
        with pytest.raises(InputError, match="uint8"):
            out.write(np.zeros((H, W, 3), np.float32))
        out.write(pan_frames(photo, 1)[0])  # still usable after a rejected frame
    assert probe(tmp_path / "clip.mp4")["frame_count"] == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 321},
        {"height": 0},
        {"fps": 0},
        {"fps": float("nan")},
        {"crf": 52},
        {"preset": "turbo"},
        {"metadata": {"comment": {"not": "a string"}}},
    ],
)
def test_bad_arguments_are_input_errors(tmp_path: Path, kwargs: dict) -> None:
    args = {"width": W, "height": H, "fps": 24, **kwargs}
    with pytest.raises(InputError):
        VideoWriter(tmp_path / "clip.mp4", args.pop("width"), args.pop("height"), args.pop("fps"), **args)
    assert list(tmp_path.iterdir()) == []


def test_zero_frames_is_generation_error(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="no frames"):
        with VideoWriter(tmp_path / "clip.mp4", W, H, 24):
            pass
    assert list(tmp_path.iterdir()) == []


def test_read_missing_or_bad_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_video(tmp_path / "missing.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(InputError):
        probe(bad)


def test_write_json_atomic_round_trip(tmp_path: Path) -> None:
    payload = {"prompt": "waves «ünï» ✓", "seed": 7, "nested": {"fps": 29.97, "list": [1, 2, 3]}}
    path = write_json_atomic(tmp_path / "clip.json", payload)
    assert path == tmp_path / "clip.json"
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == payload
    assert "«ünï»" in text and text.startswith('{\n  "prompt"')
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "clip.json", {"bad": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == payload
    assert [p.name for p in tmp_path.iterdir()] == ["clip.json"]
    with pytest.raises(InputError):
        write_json_atomic(tmp_path / "nope" / "clip.json", payload)


def test_write_png_atomic_round_trip(tmp_path: Path, photo: np.ndarray) -> None:
    image = pan_frames(photo, 1)[0]
    path = write_png_atomic(tmp_path / "poster.png", image)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        assert np.array_equal(np.asarray(im), image)
    assert [p.name for p in tmp_path.iterdir()] == ["poster.png"]
    with pytest.raises(InputError):
        write_png_atomic(tmp_path / "bad.png", image[..., 0])
