"""Comparing clips (grid video + metrics table), `stillmotion eval`, and `animate --pick best`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import stillmotion
from stillmotion.cli import app
from stillmotion.compare import _label_geometry, _tile_size, compare_clips, format_table, grid_shape
from stillmotion.errors import InputError
from stillmotion.evaluate import VERDICTS
from stillmotion.video import probe, read_video

runner = CliRunner()
PROMPT = "slow push-in"


@pytest.fixture(scope="module")
def clips(photos, tmp_path_factory):
    """Three short living clips of different sizes, fps and lengths."""
    d = tmp_path_factory.mktemp("cmp")
    a = stillmotion.animate(photos["coffee"], PROMPT, size="160x96", duration=1, fps=12, seed=1, output=d / "a.mp4")
    b = stillmotion.animate(photos["coffee"], "pan left", size="128x128", duration=2, fps=8, seed=1, output=d / "b.mp4")
    c = stillmotion.animate(photos["coffee"], "", size="96x160", duration=1, fps=10, seed=1, output=d / "c.mp4")
    return d, [a.path, b.path, c.path]


def test_grid_shapes():
    assert grid_shape(2) == (1, 2)
    assert grid_shape(3) == grid_shape(4) == (2, 2)
    assert grid_shape(5) == grid_shape(9) == (3, 3)
    for n in (1, 10):
        with pytest.raises(InputError):
            grid_shape(n)


def test_two_clips_side_by_side(clips, photos, tmp_path):
    _, (a, b, _c) = clips
    out, evals = compare_clips(
        [a, b], tmp_path / "g.mp4", labels=["first", "second"], source=photos["coffee"], prompt=PROMPT
    )
    tw, th = _tile_size([(160, 96), (128, 128)])
    assert (tw, th) == (160, 128)
    info = probe(out)
    assert (info["width"], info["height"]) == (2 * tw, th)
    assert info["fps"] == pytest.approx(12)
    assert info["frame_count"] == 24  # the longest clip (2 s) at the first clip's 12 fps
    # Labels: a dark box with light text at each tile's top-left corner; plain tiles differ there.
    frames = read_video(out).frames_thwc
    plain, _ = compare_clips([a, b], tmp_path / "p.mp4", labels=["", ""])
    plain_frames = read_video(plain).frames_thwc
    for j, text in enumerate(["first", "second"]):
        _, _, (x0, y0, x1, y1), _ = _label_geometry(text, tw, th)
        box = frames[5, y0:y1, j * tw + x0 : j * tw + x1].astype(int)
        assert np.median(box) < 70 and box.max() > 150
        other = plain_frames[5, y0:y1, j * tw + x0 : j * tw + x1].astype(int)
        assert np.abs(box - other).mean() > 10
    # Away from the labels the two renders agree (same synchronised frames).
    assert np.abs(frames[5, th // 2 :].astype(int) - plain_frames[5, th // 2 :].astype(int)).mean() < 3
    # The table: a score per clip, also written next to the video.
    assert len(evals) == 2 and all(0.0 <= e.score <= 1.0 for e in evals)
    table = json.loads(out.with_suffix(".json").read_text())
    assert [c["label"] for c in table["clips"]] == ["first", "second"]
    assert all(0.0 <= c["score"] <= 1.0 for c in table["clips"])
    text = format_table(["first", "second"], evals)
    assert text.splitlines()[2].split()[0] == "score"


def test_three_clips_make_a_2x2_grid(clips, tmp_path):
    _, paths = clips
    out, evals = compare_clips(paths, tmp_path / "g3.mp4")
    tw, th = _tile_size([(160, 96), (128, 128), (96, 160)])
    info = probe(out)
    assert (info["width"], info["height"]) == (2 * tw, 2 * th)
    assert len(evals) == 3
    last = read_video(out).frames_thwc[-1]
    assert last[th + th // 2 :, tw + tw // 2 :].max() < 40  # the empty fourth tile stays dark


def test_compare_cli(clips, tmp_path):
    _, (a, b, _c) = clips
    out = tmp_path / "cli.mp4"
    r = runner.invoke(app, ["compare", str(a), str(b), "--labels", "A,B", "-o", str(out)])
    assert r.exit_code == 0, r.output
    first = r.output.splitlines()[0].split()
    assert first == ["metric", "A", "B"]
    assert r.output.splitlines()[2].startswith("score")
    assert out.exists() and out.with_suffix(".json").exists()
    bad = runner.invoke(app, ["compare", str(a), str(b), "--labels", "only-one", "-o", str(tmp_path / "x.mp4")])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1 and "error:" in bad.output
    one = runner.invoke(app, ["compare", str(a), "-o", str(tmp_path / "y.mp4")])
    assert one.exit_code == 2


def test_eval_cli(clips, photos):
    _, (a, _b, _c) = clips
    r = runner.invoke(app, ["eval", str(a), "--source", str(photos["coffee"]), "--prompt", PROMPT])
    assert r.exit_code == 0, r.output
    assert r.output.strip()
    j = runner.invoke(app, ["eval", str(a), "--json"])
    assert j.exit_code == 0, j.output
    data = json.loads(j.output)
    assert 0.0 <= data["score"] <= 1.0
    missing = runner.invoke(app, ["eval", str(a.with_name("nope.mp4"))])
    assert missing.exit_code == 2 and "error:" in missing.output


def test_pick_best_ranks_variations(photos, tmp_path):
    out = tmp_path / "v.mp4"
    r = runner.invoke(
        app,
        [
            "animate",
            str(photos["coffee"]),
            "-p",
            PROMPT,
            "--size",
            "128x96",
            "--duration",
            "1",
            "--fps",
            "8",
            "--seed",
            "1",
            "--variations",
            "3",
            "--pick",
            "best",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    wrote = [line.split()[1] for line in r.output.splitlines() if line.startswith("wrote ") and "sheet" not in line]
    assert len(wrote) == 3
    recipes = [json.loads(open(p[:-4] + ".json").read()) for p in wrote]
    scores = [rec["evaluation"]["score"] for rec in recipes]
    assert [rec["evaluation"]["rank"] for rec in recipes] == [1, 2, 3]
    assert scores == sorted(scores, reverse=True)
    metrics = recipes[0]["evaluation"]["metrics"]  # one schema with the studio's: {name: {value, unit, verdict, …}}
    assert {"flicker", "drift", "camera_move"} <= set(metrics)
    assert all(isinstance(m["value"], (int, float)) and m["verdict"] in VERDICTS for m in metrics.values())
    assert [rec["evaluation"]["of"] for rec in recipes] == [3, 3, 3]
    bad = runner.invoke(app, ["animate", str(photos["coffee"]), "--pick", "worst", "-o", str(tmp_path / "w.mp4")])
    assert bad.exit_code == 2


def test_pick_best_api(photos, tmp_path):
    clip = stillmotion.animate(
        photos["coffee"],
        PROMPT,
        size="128x96",
        duration=1,
        fps=8,
        seed=3,
        variations=2,
        pick="best",
        output=tmp_path / "p.mp4",
    )
    ranked = clip.variations
    assert ranked[0] is clip
    assert ranked[0].recipe["evaluation"]["score"] >= ranked[1].recipe["evaluation"]["score"]
    side = json.loads(ranked[1].sidecar.read_text())
    assert side["evaluation"]["rank"] == 2


def test_animate_engines_compares_them_side_by_side(tmp_path, monkeypatch):
    """--engines runs the same photo and prompt through several engines and writes the grid."""
    import skimage.data as data
    from PIL import Image
    from typer.testing import CliRunner

    from stillmotion.cli import app
    from stillmotion.video import probe

    photo = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(photo)
    # Two living configurations are two engines as far as the comparison is concerned;
    # a diffusion engine needs weights, so the CLI must refuse one that has none, in one line.
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photo),
            "-p",
            "slow push-in",
            "--size",
            "192x128",
            "--duration",
            "1",
            "--fps",
            "8",
            "--engines",
            "living,living",
            "-o",
            str(tmp_path / "c.mp4"),
        ],
    )
    assert res.exit_code == 0, res.output
    grid = probe(tmp_path / "c_compare.mp4")
    assert grid["width"] >= 2 * 192 and grid["frame_count"] == 8
    assert "score" in res.output
    bad = CliRunner().invoke(app, ["animate", str(photo), "--engines", "living", "-o", str(tmp_path / "d.mp4")])
    assert bad.exit_code == 2 and "at least two" in bad.output
