"""The seeds' finishing workflow end to end on living clips: variations → pick → upscale →
interpolate → merge → sound; and the same chain inside `animate`."""

from __future__ import annotations

import math
import struct
import wave

import av
import numpy as np

import stillmotion
from stillmotion.post.formats import export_file
from stillmotion.post.interpolate import interpolate_file
from stillmotion.post.merge import merge_files
from stillmotion.post.upscale import upscale_file
from stillmotion.video import probe


def _tone(path, seconds=0.7, rate=22050):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 330 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return path


def test_variations_pick_upscale_interpolate_merge_sound(photos, tmp_path):
    first = stillmotion.animate(
        photos["china"],
        "slow push-in, waves rolling in",
        variations=3,
        seed=1,
        size="192x128",
        duration=1,
        fps=12,
        output=tmp_path / "v.mp4",
    )
    assert len(first.variations) == 3 and first.contact_sheet.exists()
    pick = first.variations[1].path
    up = upscale_file(pick, tmp_path / "up.mp4", scale=2)
    smooth = interpolate_file(up, tmp_path / "smooth.mp4", factor=2)
    other = stillmotion.animate(
        photos["coffee"],
        "steam rising from the cup",
        seed=2,
        size="192x128",
        duration=1,
        fps=12,
        output=tmp_path / "o.mp4",
    )
    joined = merge_files([smooth, other.path], tmp_path / "joined.mp4", transition="crossfade:0.25")
    final = export_file(joined, tmp_path / "final.mp4", audio=_tone(tmp_path / "tone.wav"))
    info = probe(final)
    assert (info["width"], info["height"], round(info["fps"])) == (384, 256, 24)
    # 1 s + 1 s at 24 fps, minus the 6-frame crossfade.
    assert info["frame_count"] == 48 - 6
    with av.open(str(final)) as c:
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert abs(float(audio.duration * audio.time_base) - info["duration_s"]) < 0.15
    recipe = info["metadata"]["comment"]
    for step in ("upscale", "interpolate", "merge", "audio"):
        assert f'"step": "{step}"' in recipe


def test_animate_chains_the_finishing_steps(photos, tmp_path):
    clip = stillmotion.animate(
        photos["china"],
        "slow pan left",
        size="192x128",
        duration=1,
        fps=12,
        seed=3,
        interpolate=24,
        upscale=2,
        audio=_tone(tmp_path / "t.wav"),
        format="webm",
        output=tmp_path / "c.webm",
    )
    assert clip.path.suffix == ".webm" and clip.path.exists()
    assert (clip.width, clip.height, round(clip.fps), clip.frame_count) == (384, 256, 24, 24)
    assert [s["step"] for s in clip.recipe["finish"]] == ["interpolate", "upscale", "export", "audio"]
    with av.open(str(clip.path)) as c:
        assert {s.type for s in c.streams} == {"video", "audio"}
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == [], leftovers
    gif = stillmotion.animate(
        photos["china"], "slow pan left", size="192x128", duration=1, fps=12, seed=3, output=tmp_path / "g.gif"
    )
    from PIL import Image

    assert Image.open(gif.path).n_frames == 12
    assert np.isfinite(gif.duration_s)
