"""export_file (mp4, h265, webm, webp, gif, png folder) and mux_audio on real clips."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import stillmotion
from stillmotion.errors import InputError
from stillmotion.post.audio import mux_audio
from stillmotion.post.formats import export_file

W, H, FPS, N = 256, 170, 12, 12


@pytest.fixture(scope="module")
def clip(photos, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    stillmotion.animate(photos["astronaut"], "slow pan left", size=f"{W}x{H}", duration=1, fps=FPS, seed=1, output=out)
    return out


@pytest.fixture(scope="module")
def source_frames(clip) -> np.ndarray:
    return stillmotion.video.read_video(clip).frames_thwc


def _wav(path: Path, seconds: float, freq: float = 440.0, rate: int = 44100, channels: int = 1) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.5 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(x[:, None], channels, axis=1).tobytes())
    return path


def _tags(path: Path) -> dict[str, str]:
    with av.open(str(path)) as c:
        return {k.lower(): v for k, v in c.metadata.items()}


def _export_step(recipe: dict) -> dict:
    steps = [s for s in recipe["finish"] if s["step"] == "export"]
    assert len(steps) == 1
    return steps[0]


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".part" in p.name or ".video" in p.name]


@pytest.mark.parametrize(
    "fmt, name, codec",
    [(None, "out.mp4", "h264"), ("h265", "out265.mp4", "hevc"), (None, "out.webm", "vp9")],
)
def test_video_formats_decode_with_recipe(clip, source_frames, tmp_path, fmt, name, codec):
    out = export_file(clip, tmp_path / name, format=fmt)
    assert out == tmp_path / name
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == codec
        if codec == "hevc":
            assert stream.codec_tag == "hvc1"  # Safari/QuickTime refuse hev1
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
        assert not c.streams.audio
    assert len(frames) == N and frames[0].shape == (H, W, 3)
    assert np.abs(frames[N // 2].astype(int) - source_frames[N // 2]).mean() < 8
    recipe = json.loads(_tags(out)["comment"])
    step = _export_step(recipe)
    assert step["format"] == (fmt or name.rsplit(".", 1)[1])
    assert step["crf"] == {"mp4": 18, "h265": 23, "webm": 32}[step["format"]]
    assert recipe["prompt"] == "slow pan left"
    assert json.loads(out.with_suffix(".json").read_text()) == recipe
    _no_leftovers(tmp_path)


def test_webp_animated(clip, tmp_path):
    out = export_file(clip, tmp_path / "anim.webp", crf=0)
    with Image.open(out) as im:
        assert im.format == "WEBP" and im.n_frames == N and im.size == (W, H)
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            im.load()
            durations.append(im.info["duration"])
    assert all(83 <= d <= 84 for d in durations) and abs(sum(durations) - 1000) <= 1
    step = _export_step(json.loads((tmp_path / "anim.json").read_text()))
    assert step == {"step": "export", "format": "webp", "codec": "libwebp", "crf": 0}


def _gif_color_tables(data: bytes) -> tuple[bool, int, int]:
    """(has a global colour table, image count, images with a local colour table)."""
    assert data[:6] in (b"GIF87a", b"GIF89a")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    images = local = 0
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:
            break
        if kind == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif kind == 0x2C:  # image descriptor, optional local table, LZW min size, sub-blocks
            images += 1
            packed = data[pos + 9]
            pos += 10
            if packed & 0x80:
                local += 1
                pos += 3 * 2 ** ((packed & 7) + 1)
            pos += 1
        else:
            raise AssertionError(f"bad GIF block {kind:#x} at {pos}")
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return bool(flags & 0x80), images, local


def test_gif_one_global_palette(clip, source_frames, tmp_path):
    out = export_file(clip, tmp_path / "anim.gif")
    has_global, images, local = _gif_color_tables(out.read_bytes())
    assert has_global and images == N and local == 0
    with Image.open(out) as im:
        assert im.n_frames == N and im.size == (W, H) and im.info.get("loop") == 0
        durations, frames = [], []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
            frames.append(np.asarray(im.convert("RGB")))
    assert set(durations) <= {80, 90} and abs(sum(durations) - 1000) <= 10
    for i in (0, N // 2, N - 1):
        assert np.abs(frames[i].astype(int) - source_frames[i]).mean() < 12
    step = _export_step(json.loads((tmp_path / "anim.json").read_text()))
    assert step["format"] == "gif" and step["crf"] is None


def test_png_folder(clip, tmp_path):
    out = export_file(clip, tmp_path / "frames")
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{i:05d}.png" for i in range(1, N + 1)] + ["recipe.json"]
    with Image.open(out / "frame_00001.png") as im:
        assert im.size == (W, H) and im.mode == "RGB"
    recipe = json.loads((out / "recipe.json").read_text())
    assert _export_step(recipe)["format"] == "png"
    assert json.loads((tmp_path / "frames.json").read_text()) == recipe
    # exporting again replaces the folder whole
    export_file(clip, out, format="png")
    assert len(list(out.iterdir())) == N + 1
    _no_leftovers(tmp_path)


def test_source_sidecar_is_kept(clip, tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(clip.read_bytes())
    (tmp_path / "clip.json").write_text(clip.with_suffix(".json").read_text())
    before = (tmp_path / "clip.json").read_text()
    out = export_file(src, tmp_path / "clip.gif")
    assert (tmp_path / "clip.json").read_text() == before
    assert _export_step(json.loads((tmp_path / "clip.gif.json").read_text()))["format"] == "gif"
    assert out.exists()


def _audio(path: Path) -> tuple[np.ndarray, str]:
    with av.open(str(path)) as c:
        assert c.streams.audio, "no audio stream"
        name = c.streams.audio[0].codec_context.name
        samples = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    return samples, name


def test_audio_looped_and_faded_mp4(clip, tmp_path):
    sound = _wav(tmp_path / "beep.wav", 0.5)
    out = export_file(clip, tmp_path / "sound.mp4", audio=sound)
    samples, codec = _audio(out)
    assert codec == "aac"
    assert abs(samples.shape[1] / 48000 - 1.0) <= 0.1
    rms = lambda a, b: float(np.sqrt(np.mean(samples[:, int(a * 48000) : int(b * 48000)] ** 2)))
    assert rms(0.55, 0.7) > 0.2  # past the 0.5 s source: looped, not silence
    assert np.abs(samples[:, :48]).max() < 0.05  # first millisecond: faded in
    assert np.abs(samples[:, 47000:48000]).max() < 0.05  # last ~20 ms: faded out
    assert np.abs(samples).max() > 0.4
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in c.decode(video=0)) == N
    recipe = json.loads(_tags(out)["comment"])
    assert [s["step"] for s in recipe["finish"]] == ["export", "audio"]
    assert recipe["finish"][1]["looped"] >= 2 and recipe["finish"][1]["codec"] == "aac"
    assert json.loads((tmp_path / "sound.json").read_text()) == recipe
    _no_leftovers(tmp_path)


def test_audio_trimmed_webm_opus(clip, tmp_path):
    sound = _wav(tmp_path / "long.wav", 3.0, channels=2)
    out = export_file(clip, tmp_path / "sound.webm", audio=sound)
    samples, codec = _audio(out)
    assert codec == "opus"
    assert abs(samples.shape[1] / 48000 - 1.0) <= 0.1
    assert np.abs(samples[:, :48]).max() < 0.05 and np.abs(samples[:, -480:]).max() < 0.05
    step = json.loads((tmp_path / "sound.json").read_text())["finish"][-1]
    assert step["step"] == "audio" and step["trimmed"] is True and step["looped"] == 0
    _no_leftovers(tmp_path)


def test_mux_audio_copies_video_stream(clip, tmp_path):
    out = mux_audio(clip, _wav(tmp_path / "beep.wav", 0.5), tmp_path / "muxed.mp4")

    def video_packets(path):
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(video=0) if p.size]

    assert video_packets(out) == video_packets(clip)  # copied, not re-encoded
    samples, _ = _audio(out)
    assert abs(samples.shape[1] / 48000 - 1.0) <= 0.1


def _one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    return message


def test_bad_inputs(clip, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(InputError) as e:
        export_file(text, tmp_path / "x.gif")
    _one_line_error(e)
    with pytest.raises(InputError) as e:
        export_file(clip, tmp_path / "x.avi")
    _one_line_error(e)
    with pytest.raises(InputError) as e:
        export_file(clip, tmp_path / "x.bin", format="mkv2")
    assert "mp4" in _one_line_error(e) and "gif" in str(e.value)
    with pytest.raises(InputError) as e:
        export_file(clip, tmp_path / "x.gif", audio=_wav(tmp_path / "b.wav", 0.2))
    assert "without sound" in _one_line_error(e)
    with pytest.raises(InputError) as e:
        export_file(clip, tmp_path / "x.mp4", audio=tmp_path / "missing.wav")
    _one_line_error(e)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF nonsense" * 10)
    with pytest.raises(InputError) as e:
        export_file(clip, tmp_path / "x.mp4", audio=garbage)
    _one_line_error(e)
    with pytest.raises(InputError):
        export_file(clip, tmp_path / "x.gif", crf=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.wav", "garbage.wav", "notes.mp4"]
