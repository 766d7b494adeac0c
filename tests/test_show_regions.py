"""Say what was seen: the regions picture (scene/overlay.py), ``--show-regions``, the report's regions
and the ``--explain`` line, on real photos (china.jpg has sky, water and vegetation; coffee has none)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from stillmotion.analysis import REPORT_SCHEMA, THRESHOLDS
from stillmotion.api import analyze
from stillmotion.errors import InputError
from stillmotion.plan.lint import lint_prompt
from stillmotion.scene import Scene
from stillmotion.scene.overlay import (
    MIN_SIDE,
    REGION_COLOURS,
    TINT,
    legend_entries,
    region_shares,
    render_regions,
)
from stillmotion.scene.regions import REGION_KINDS

FAST = ["--size", "256x170", "--duration", "1", "--fps", "8", "--seed", "1"]


@pytest.fixture(scope="module")
def china() -> Scene:
    from sklearn.datasets import load_sample_image

    return Scene(load_sample_image("china.jpg"))


def _sub(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=180
    )


# ---------------------------------------------------------------- the picture


def test_overlay_is_the_photo_over_a_legend_band_in_uint8(china):
    out = render_regions(china.rgb, china.regions, faces=china.faces)
    H, W = china.rgb.shape[:2]  # 427×640: drawn at its own size (between MIN_SIDE and max_side)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.shape[1] == W and out.shape[0] > H
    small = render_regions(china.rgb, china.regions, max_side=320)
    assert small.shape[1] == 320
    tiny = render_regions(cv2.resize(china.rgb, (160, 107)), china.regions)
    assert tiny.shape[1] == MIN_SIDE  # scaled up so the legend reads


def test_water_is_tinted_in_its_colour_where_the_water_mask_is(china):
    regions = china.regions
    assert region_shares(regions)["water"] > 0.05  # china.jpg's lake
    out = render_regions(china.rgb, regions)
    H, W = china.rgb.shape[:2]
    sized = {k: cv2.resize(v, (W, H), interpolation=cv2.INTER_LINEAR) for k, v in regions.items()}
    others = np.max([sized[k] for k in REGION_KINDS if k != "water"], axis=0)
    core = cv2.erode(((sized["water"] > 0.99) & (others < 0.01)).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert core.sum() > 1000
    # Undo the blend: out = photo·(1 − TINT) + colour·TINT where the mask is 1.
    colour = (out[:H][core].astype(np.float32) - (1 - TINT) * china.rgb[core]) / TINT
    assert np.abs(np.median(colour, axis=0) - REGION_COLOURS["water"]).max() < 4
    # Where no region is, the photo is untouched (away from outlines).
    none = cv2.erode((np.max(list(sized.values()), axis=0) < 1e-3).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert none.sum() > 500 and np.abs(out[:H][none].astype(int) - china.rgb[none]).max() <= 1


def test_the_legend_lists_every_kind_with_its_swatch_or_not_found(china):
    out = render_regions(china.rgb, china.regions, faces=[], min_share=THRESHOLDS.element_min_share)
    band = out[china.rgb.shape[0] :]
    texts = [text for _, text, _ in legend_entries(china.regions, faces=[])]
    shares = region_shares(china.regions)
    assert texts == [
        f"sky {100 * shares['sky']:.1f}%",
        f"water {100 * shares['water']:.1f}%",
        f"vegetation {100 * shares['vegetation']:.1f}%",
        "hair: not found",
        "steam: not found",
        "faces: not found",
    ]
    # The swatches of the kinds found are filled with their colour; hair and steam (not found) only outlined.
    for kind in REGION_KINDS:
        filled = (np.abs(band.astype(int) - REGION_COLOURS[kind]).max(axis=2) <= 2).sum()
        assert (filled > 150) == (kind in ("sky", "water", "vegetation")), (kind, filled)
    # The default "found" share is the analysis' element share, so picture and report agree.
    assert inspect.signature(render_regions).parameters["min_share"].default == THRESHOLDS.element_min_share


def test_face_boxes_are_outlined():
    import skimage.data

    scene = Scene(skimage.data.astronaut())
    assert scene.faces
    x, y, _, h = scene.faces[0]
    out = render_regions(scene.rgb, scene.regions, faces=scene.faces)
    edge = out[y + h // 2, max(0, x - 2) : x + 3]
    assert (np.abs(edge.astype(int) - (255, 235, 0)).max(axis=1) <= 2).any()


def test_bad_arguments_are_named():
    rgb = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(ValueError, match="rgb"):
        render_regions(rgb.astype(np.float32), {})
    with pytest.raises(ValueError, match="unknown kind 'lava'"):
        render_regions(rgb, {"lava": np.zeros((40, 60), np.float32)})
    with pytest.raises(ValueError, match="2-D"):
        render_regions(rgb, {"sky": np.zeros((40, 60, 1), np.float32)})


# ---------------------------------------------------------------- analyze


def test_analyze_reports_regions_and_writes_the_picture(tmp_path, photos):
    png = tmp_path / "regions.png"
    report = analyze(photos["china"], show_regions=png)
    assert report.regions_method.startswith("classical")  # the tests run on an empty HF cache
    assert set(report.regions) == set(REGION_KINDS) and report.regions["water"] > 0.05
    line = report.regions_line()
    assert "water 8%" in line and "not found: hair, steam" in line and report.regions_method in line
    assert line in report.summary()
    with Image.open(png) as im:
        assert im.format == "PNG" and im.mode == "RGB" and im.width == 640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regions.png"]


def test_analyze_refuses_a_bad_picture_path_and_writes_nothing(tmp_path, photos):
    with pytest.raises(InputError, match=r"--show-regions 'r\.jpg'.*PNG"):
        analyze(photos["china"], show_regions="r.jpg")
    with pytest.raises(InputError, match="does not exist"):
        analyze(photos["china"], show_regions=tmp_path / "nope" / "r.png")
    assert list(tmp_path.iterdir()) == []


def test_cli_analyze_show_regions_writes_a_png_and_json_carries_the_regions(tmp_path, photos):
    proc = _sub("analyze", str(photos["china"]), "--show-regions", "r.png", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["regions"]["water"] > 0.05 and data["regions"]["hair"] == 0.0
    assert data["regions_method"].startswith("classical")
    assert set(data["regions"]) <= set(REPORT_SCHEMA["properties"]["regions"]["properties"])
    assert "wrote regions picture r.png" in proc.stderr
    decoded = cv2.imread(str(tmp_path / "r.png"))
    assert decoded is not None and decoded.shape[1] == 640


@pytest.mark.parametrize("name", ["r.jpg", "missing/r.png"])
def test_cli_analyze_bad_picture_path_is_one_line_and_no_file(tmp_path, photos, name):
    proc = _sub("analyze", str(photos["china"]), "--show-regions", name, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --show-regions"), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- animate


def test_animate_explain_says_the_regions_and_show_regions_writes_the_picture(tmp_path, photos):
    proc = _sub(
        "animate",
        str(photos["china"]),
        "-p",
        "gentle ripples on the water",
        "--explain",
        *FAST,
        "-o",
        "lake.mp4",
        "--show-regions",
        "lake_regions.png",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Elements that can move"))
    assert "classical colour and texture cues" in line and "water 8%" in line
    assert "wrote regions picture" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake.json", "lake.mp4", "lake_regions.png"]
    with Image.open(tmp_path / "lake_regions.png") as im:
        assert im.format == "PNG"
    recipe = json.loads((tmp_path / "lake.json").read_text())
    assert recipe["request"]["show_regions"] == "lake_regions.png"


def test_animate_bad_picture_name_fails_before_rendering(tmp_path, photos):
    proc = _sub("animate", str(photos["coffee"]), *FAST, "-o", "c.mp4", "--show-regions", "c.gif", cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "error: --show-regions 'c.gif': that picture is written as a PNG; name it like regions.png"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_missing_region_points_at_show_regions_and_mask(tmp_path, photos):
    lint = next(x for x in lint_prompt("gentle ripples on the water", elements=["steam"], faces=0).lints)
    assert lint.code == "missing-element" and "--show-regions" in lint.message and "--mask" in lint.message
    no_face = lint_prompt("natural blinks", elements=["sky"], faces=0).lints[0]
    assert no_face.code == "missing-element" and "--show-regions" not in no_face.message  # a mask paints no face
    proc = _sub(
        "animate", str(photos["coffee"]), "-p", "gentle ripples on the water", *FAST, "-o", "c.mp4", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    engine = next(x for x in proc.stderr.splitlines() if "no water region was found" in x)
    assert "--show-regions" in engine and "--mask" in engine
