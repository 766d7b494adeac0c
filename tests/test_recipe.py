"""stillmotion.recipe: build → embed → read on a real tiny clip, sidecar naming, public()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stillmotion.image import load_image
from stillmotion.plan.prompt import parse_prompt
from stillmotion.recipe import build, embed, from_tags, public, read, sidecar_path
from stillmotion.request import AnimateRequest
from stillmotion.video import DEFAULT_CRF, DEFAULT_PRESET, VideoWriter, probe, write_json_atomic

W, H, FPS, N = 96, 64, 12.0, 6


@pytest.fixture
def recipe(photos, tmp_path) -> dict:
    """A recipe as api.run builds it, for the astronaut photo and an output in ``tmp_path``."""
    request = AnimateRequest.build(
        image=photos["astronaut"],
        prompt="slow push-in, é ✓",
        size=f"{W}x{H}",
        duration=1.0,
        fps=FPS,
        output=tmp_path / "out" / "clip.mp4",
        upscaler="owner/repo",
    )
    still = load_image(photos["astronaut"])
    return build(
        request=request,
        seed=7,
        plan=parse_prompt(request.prompt),
        shot_info={"depth": "heuristic"},
        size=(W, H),
        frame_count=N,
        timings={"load": 0.01234, "render_encode": 0.5},
        still=still,
        warnings=[f"photo: {photos['astronaut']} is small; upscaled"],
        analysis={"kind": "portrait"},
    )


def _clip(path: Path, metadata: dict[str, str] | None) -> Path:
    """A real tiny MP4 (a grey ramp that brightens) with the given container tags."""
    with VideoWriter(path, W, H, FPS, metadata=metadata) as out:
        for i in range(N):
            out.write(np.full((H, W, 3), 40 + 20 * i, np.uint8))
    return path


def test_build_has_the_documented_keys_and_values(recipe, photos):
    assert list(recipe) == [
        "stillmotion",
        "created",
        "engine",
        "engine_version",
        "prompt",
        "negative_prompt",
        "seed",
        "request",
        "source",
        "output",
        "plan",
        "analysis",
        "shot",
        "timings_s",
        "warnings",
    ]
    assert recipe["seed"] == recipe["request"]["seed"] == 7
    assert recipe["source"] == {"path": str(photos["astronaut"]), "size": [512, 512]}
    assert recipe["output"] == {
        "width": W,
        "height": H,
        "fps": FPS,
        "frames": N,
        "duration_s": 0.5,
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "color": "bt709",
        "crf": DEFAULT_CRF,
        "preset": DEFAULT_PRESET,
    }
    assert recipe["timings_s"] == {"load": 0.012, "render_encode": 0.5}
    assert recipe["plan"]["camera"], "the push-in is in the plan"
    json.dumps(recipe)  # JSON-ready


def test_build_embed_read_round_trip_through_the_mp4_tag(recipe, tmp_path):
    clip = _clip(tmp_path / "clip.mp4", embed(recipe))
    tags = probe(clip)["metadata"]
    assert tags["title"] == "slow push-in, é ✓"
    assert json.loads(tags["comment"]) == recipe
    assert read(clip) == recipe  # no sidecar: the tag alone carries it
    assert from_tags({"COMMENT": tags["comment"]}) == recipe  # WebM hands tags back upper-cased


def test_read_falls_back_to_the_sidecar_then_to_nothing(recipe, tmp_path):
    clip = _clip(tmp_path / "plain.mp4", None)
    assert read(clip) == {}
    write_json_atomic(sidecar_path(clip), recipe)
    assert sidecar_path(clip) == tmp_path / "plain.json"
    assert read(clip) == recipe
    assert read(tmp_path / "missing.gif") == {}
    assert from_tags({"comment": "not json"}) == {} and from_tags({"comment": "[1, 2]"}) == {}


def test_sidecar_naming(tmp_path):
    assert sidecar_path(tmp_path / "clip.mp4") == tmp_path / "clip.json"
    assert sidecar_path(tmp_path / "frames") == tmp_path / "frames.json"  # a PNG-frames folder
    # clip.mp4 → clip.gif in one folder: clip.json is the source's, so the GIF's is clip.gif.json
    assert sidecar_path(tmp_path / "clip.gif", source=tmp_path / "clip.mp4") == tmp_path / "clip.gif.json"
    assert sidecar_path(tmp_path / "other.gif", source=tmp_path / "clip.mp4") == tmp_path / "other.json"
    assert sidecar_path(tmp_path / "clip.mp4", source=tmp_path / "clip.mp4") == tmp_path / "clip.json"


def test_public_strips_every_path_of_this_machine(recipe, tmp_path, photos):
    recipe["finish"] = [{"step": "audio", "audio": "beep.wav"}]
    recipe["merged"] = [{"source": {"path": str(tmp_path / "deep" / "a.png")}, "request": {"mask": "rel/mask.png"}}]
    recipe["shot"]["model"] = str(tmp_path / "models" / "wan")
    before = json.dumps(recipe)
    shown = public(recipe)
    text = json.dumps(shown, ensure_ascii=False)
    for root in {str(tmp_path), str(photos["astronaut"].parent)}:
        assert root not in text
    assert shown["source"]["path"] == "astronaut.png"
    assert shown["request"]["image"] == "astronaut.png"
    assert shown["request"]["output"] == "clip.mp4"
    assert shown["request"]["upscaler"] == "owner/repo"  # a Hub name, not a path of this machine
    assert shown["merged"][0] == {"source": {"path": "a.png"}, "request": {"mask": "mask.png"}}
    assert shown["shot"]["model"] == "wan"
    assert shown["warnings"] == ["photo: astronaut.png is small; upscaled"]
    assert shown["prompt"] == recipe["prompt"] and shown["finish"] == recipe["finish"]
    assert json.dumps(recipe) == before  # the recipe itself is untouched
