"""Draft, then refine (``--refine``): the living draft refined by a video-to-video diffusion pass.

Run on a tiny random LTX-Video pipeline (tests/tiny_pipelines.py): it checks the plumbing —
the draft rendered on the model's grid, the refine pass's call, progress and cancellation in
both stages, the recipe, the errors — and, at strength 0, that the draft goes through
unchanged. Whether a real model keeps the draft's motion at a given strength can only be
measured with real weights: a random model's output is noise.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import ltx, refine
from stillmotion.errors import Canceled, InputError
from stillmotion.video import read_video
from tiny_pipelines import tiny_ltx

PROMPT = "slow push in toward the face"
# 64×64 at 25 fps for 1 s is already on LTX's grid (multiple 32, 8n+1 = 25 frames at 25 fps):
# the draft of a refine run and a plain living clip of the same request are the same frames.
ON_GRID = {"size": "64x64", "duration": 1, "fps": 25, "seed": 3}


@pytest.fixture(scope="module")
def ltx_dir(tmp_path_factory):
    """The tiny ``ltx-video`` weights, saved as its image-to-video pipeline (the refine pass loads
    the same folder into LTXConditionPipeline, as it does with the real 0.9.5 weights)."""
    import warnings

    root = tmp_path_factory.mktemp("tiny_refine") / "ltx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiny_ltx("LTXImageToVideoPipeline").save_pretrained(root)
    return root


def _cli(*args: str):
    from typer.testing import CliRunner

    from stillmotion.cli import app

    return CliRunner().invoke(app, ["animate", *args])


def test_refine_end_to_end(ltx_dir, photos, tmp_path):
    seen: list[tuple[int, int]] = []
    out = tmp_path / "refined.mp4"
    clip = stillmotion.animate(
        photos["astronaut"],
        PROMPT,
        refine="ltx-video",
        refine_strength=0.5,
        model_path=ltx_dir,
        size="100x64",
        duration=1,
        fps=24,
        steps=2,
        seed=1,
        output=out,
        on_progress=lambda i, n, _: seen.append((i, n)),
    )
    video = read_video(out)
    t, h, w, _ = video.frames_thwc.shape
    # 100×64 → 96×64 (multiples of 32); 1 s at LTX's 25 fps → 25 frames (8n+1), played at 25 fps.
    assert (w, h) == (96, 64) == (clip.width, clip.height)
    assert t == 25 == clip.frame_count and video.fps == pytest.approx(25.0)
    # Progress: the draft's 25 frames, then the 2 refine steps.
    assert seen == [(i, 27) for i in range(1, 28)]

    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["engine"] == "living" and recipe["plan"] and recipe["plan"]["camera"]  # the draft's plan
    assert recipe["request"]["refine"] == "ltx-video" and recipe["request"]["refine_strength"] == 0.5
    block = recipe["shot"]["refine"]
    assert block["engine"] == "ltx-video" and block["pipeline"] == "LTXConditionPipeline"
    assert block["model"] == str(ltx_dir) and block["strength"] == 0.5
    assert block["num_inference_steps"] == 2 and block["guidance_scale"] == 3.0
    assert block["frames"] == 25 and block["size"] == [96, 64] and block["fps"] == 25.0
    assert block["timesteps"] == [500.0, 250.0] and block["call"]["num_frames"] == 25
    assert "100×64 → 96×64" in " ".join(block["adjustments"])
    assert recipe["shot"]["depth"]  # the living draft's own facts stay in the shot
    assert any(w.startswith("refine:") and "generates at 25" in w for w in clip.warnings)


def test_strength_zero_is_the_draft_unchanged(ltx_dir, photos, tmp_path):
    """Strength 0 keeps the draft: the clip's frames are the living clip's of the same seed."""
    draft = stillmotion.animate(photos["china"], PROMPT, output=tmp_path / "living.mp4", **ON_GRID)
    kept = stillmotion.animate(
        photos["china"],
        PROMPT,
        refine="ltx-video",
        refine_strength=0,
        model_path=ltx_dir,
        output=tmp_path / "kept.mp4",
        **ON_GRID,
    )
    a, b = read_video(draft.path).frames_thwc, read_video(kept.path).frames_thwc
    assert a.shape == b.shape == (25, 64, 64, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2  # libx264 is not bit-exact
    assert not np.all(a == a[:1])  # the draft moves
    assert any("the clip is the draft unchanged" in w for w in kept.warnings)
    assert kept.recipe["shot"]["refine"]["strength"] == 0


def test_cli_refine_explains_both_stages(ltx_dir, photos, tmp_path):
    out = tmp_path / "cli.mp4"
    res = _cli(
        str(photos["coffee"]),
        "-p",
        PROMPT,
        "--refine",
        "ltx-video",
        "--refine-strength",
        "1",
        "--model-path",
        str(ltx_dir),
        "--size",
        "64x64",
        "--duration",
        "1",
        "--steps",
        "2",
        "--explain",
        "-o",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert "Draft: the living engine, 64×64, 25 frames at 25 fps" in res.output
    assert "Refine: ltx-video (LTXConditionPipeline" in res.output and "strength 1" in res.output
    assert read_video(out).frames_thwc.shape[:3] == (25, 64, 64)
    assert "timesteps" not in json.loads(out.with_suffix(".json").read_text())["shot"]["refine"]  # the model's own


@pytest.mark.parametrize(
    "args,words",
    [
        (["--refine", "wan2.2-ti2v-5b"], "'wan2.2-ti2v-5b': that engine cannot refine a draft"),
        (["--refine", "nope"], "'nope': that engine cannot refine"),
        (["--refine", "ltx-video", "--engine", "ltx-video-distilled"], "--refine drafts with the living engine"),
    ],
    ids=["wan", "unknown", "draft-not-living"],
)
def test_an_engine_that_cannot_refine_is_one_line_exit_2(photos, tmp_path, args, words):
    out = tmp_path / "no.mp4"
    res = _cli(str(photos["coffee"]), "-p", "steam", *args, "--size", "64x64", "-o", str(out))
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], res.output
    if "cannot refine" in words:
        assert "engines that can: ltx-video, ltx-video-distilled" in lines[0]
    assert not out.exists()


def test_cancel_during_refine_leaves_no_file(ltx_dir, photos, tmp_path):
    seen: list[tuple[int, int]] = []
    out = tmp_path / "canceled.mp4"
    with pytest.raises(Canceled):
        stillmotion.animate(
            photos["coffee"],
            PROMPT,
            refine="ltx-video",
            refine_strength=1.0,
            model_path=ltx_dir,
            steps=2,
            output=out,
            on_progress=lambda i, n, _: seen.append((i, n)),
            should_stop=lambda: len(seen) > 25,  # the draft's 25 frames are done: stop in the refine pass
            **ON_GRID,
        )
    assert seen[-1] == (26, 27)  # stopped after the first of the two refine steps
    assert not list(tmp_path.iterdir())


def test_cancel_during_the_draft(photos, tmp_path):
    seen: list[tuple[int, int]] = []
    with pytest.raises(Canceled):
        stillmotion.animate(
            photos["coffee"],
            PROMPT,
            refine="ltx-video",
            refine_strength=0.5,
            output=tmp_path / "c.mp4",
            on_progress=lambda i, n, _: seen.append((i, n)),
            should_stop=lambda: len(seen) >= 3,
            **ON_GRID,
        )
    assert len(seen) == 3 and not list(tmp_path.iterdir())  # no model was loaded, no file written


def test_which_engines_refine_is_declared_and_shown():
    from stillmotion.engines.registry import ENGINES

    can = [n for n, s in ENGINES.items() if s.capabilities()["refine"]]
    assert can == list(refine.ROUTES) == ["ltx-video", "ltx-video-distilled"]
    assert "refines living drafts (--refine ltx-video)" in ENGINES["ltx-video"].summary
    with pytest.raises(InputError, match="engines that can: ltx-video, ltx-video-distilled"):
        refine.check_refine("living", "svd-xt")


def test_refine_call_conditions_the_draft_and_the_first_frame():
    from PIL import Image

    from stillmotion.engines.diffusion.common import Generation

    card = next(c for c in ltx.CARDS if c.name == "ltx-video-distilled")
    img = Image.new("RGB", (64, 64))
    gen = Generation(card, img, 64, 64, 9, 30.0, "p", "", 5, 1.0, 0, 0.5, 0.5, draft=[img] * 9, draft_strength=0.25)
    kw, ignored = refine.call_kwargs(card, gen)
    assert [(c.strength, c.frame_index, c.video is not None) for c in kw["conditions"]] == [
        (0.75, 0, True),  # the draft, noised to level 0.25
        (1.0, 0, False),  # frame 0: the photo as the draft frames it, kept
    ]
    assert kw["timesteps"] == [250.0, 200.0, 150.0, 100.0, 50.0] and "image" not in kw and ignored == []
    assert not any("distilled schedule" in n for n in gen.notes)  # replaced by the refine schedule, not said wrongly
