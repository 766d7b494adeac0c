"""stillmotion.analysis: the photo checks, the kind and the recommended prompts, on real photos.

Photos come from scikit-image, scikit-learn and the project's examples (CI
has them); the development photos in ../shared/photos are used only by the
tests marked as such, which skip when the folder is missing.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from stillmotion import analysis
from stillmotion.analysis import CHECK_NAMES, REPORT_SCHEMA, Check, Report, analyze_photo
from stillmotion.errors import InputError
from stillmotion.image import Still, load_image
from stillmotion.plan.prompt import parse_prompt
from stillmotion.scene import Scene

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def _still(rgb: np.ndarray, name: str) -> Still:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    return Still(rgb=rgb, path=Path(name), source_size=(rgb.shape[1], rgb.shape[0]))


@cache
def _rgb(name: str) -> np.ndarray:
    """A real photo by name, uint8 H×W×3 (read-only: copy before changing it)."""
    if name == "flower":  # a close-up flower against a blurred background
        from sklearn.datasets import load_sample_image

        rgb = load_sample_image("flower.jpg")
    elif name in ("astronaut", "china", "coffee"):
        rgb = load_image(EXAMPLES / f"{name}.jpg").rgb
    else:
        import skimage.data

        rgb = getattr(skimage.data, name)()
    rgb = np.ascontiguousarray(rgb)
    rgb.setflags(write=False)
    return rgb


@cache
def _report(name: str) -> Report:
    """The report of an unchanged photo, computed once for all tests."""
    return analyze_photo(_still(_rgb(name), f"{name}.png"))


def _text_image() -> np.ndarray:
    """Lines of rendered text on white, 1200×800 (a text-heavy graphic)."""
    im = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=28)
    for i in range(12):
        draw.text(
            (40, 40 + 60 * i), f"Line {i + 1}: the quick brown fox jumps over the lazy dog.", fill="black", font=font
        )
    return np.asarray(im)


def _validate(instance, schema: dict, where: str = "$") -> list[str]:
    """Errors of ``instance`` against the JSON Schema keywords REPORT_SCHEMA uses (jsonschema is not installed)."""
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    errors: list[str] = []
    wanted = schema.get("type")
    if wanted is not None:
        ok = False
        for t in [wanted] if isinstance(wanted, str) else wanted:
            if t == "integer":
                ok |= isinstance(instance, int) and not isinstance(instance, bool)
            elif t == "number":
                ok |= isinstance(instance, (int, float)) and not isinstance(instance, bool)
            else:
                ok |= isinstance(instance, types[t])
        if not ok:
            return [f"{where}: {instance!r} is not of type {wanted}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: {instance} < {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: {instance} > {schema['maximum']}")
    if isinstance(instance, str) and len(instance) < schema.get("minLength", 0):
        errors.append(f"{where}: shorter than {schema['minLength']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0) or len(instance) > schema.get("maxItems", len(instance)):
            errors.append(f"{where}: {len(instance)} items")
        for i, item in enumerate(instance):
            errors += _validate(item, schema.get("items", {}), f"{where}[{i}]")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", []) if k not in instance]
        extra = schema.get("additionalProperties", True)
        for k, v in instance.items():
            if k in props:
                errors += _validate(v, props[k], f"{where}.{k}")
            elif extra is False:
                errors.append(f"{where}: unexpected key {k!r}")
            elif isinstance(extra, dict):
                errors += _validate(v, extra, f"{where}.{k}")
    return errors


# ---------------------------------------------------------------- checks


def test_small_photo_is_flagged_and_a_large_one_is_not():
    small = cv2.resize(_rgb("astronaut"), (300, 300), interpolation=cv2.INTER_AREA)
    check = analyze_photo(_still(small, "small.png")).check("resolution")
    assert check.level == "warning" and check.value == "300×300" and "upscaled" in check.message
    assert _report("astronaut").check("resolution").level == "advice"  # 512×512: under 1024×576, over 480
    large = cv2.resize(_rgb("china"), (2000, 1334), interpolation=cv2.INTER_CUBIC)
    assert analyze_photo(_still(large, "large.png")).check("resolution").level == "ok"


def test_darkened_copy_is_flagged_dark():
    dark = (_rgb("astronaut").astype(np.float32) * 0.25).astype(np.uint8)
    check = analyze_photo(_still(dark, "dark.png")).check("exposure")
    assert check.level == "warning" and "too dark" in check.message
    assert check.value < 15  # mean brightness, % of white
    assert _report("astronaut").check("exposure").level in ("ok", "advice")


@pytest.mark.parametrize("name", ["astronaut", "china"])
def test_blurred_copy_is_soft_but_the_sharp_photo_is_not(name):
    blurred = cv2.GaussianBlur(_rgb(name), (0, 0), 3.0)
    soft = analyze_photo(_still(blurred, "blurred.png")).check("sharpness")
    assert soft.level == "warning" and "soft" in soft.message
    sharp = _report(name).check("sharpness")
    assert sharp.level == "ok" and sharp.value < soft.value / 2


def test_a_bokeh_close_up_is_not_soft():
    # flower.jpg: a sharp flower against a smoothly blurred background.
    assert _report("flower").check("sharpness").level == "ok"


def test_motion_blur_is_flagged():
    kernel = np.full((1, 15), 1 / 15, np.float32)  # a 15 px horizontal shake
    shaken = cv2.filter2D(_rgb("astronaut"), -1, kernel)
    check = analyze_photo(_still(shaken, "shaken.png")).check("sharpness")
    assert check.level == "warning" and "motion blur" in check.message


def test_heavy_noise_is_flagged():
    rng = np.random.default_rng(0)
    noisy = np.clip(_rgb("astronaut") + rng.normal(0, 14, _rgb("astronaut").shape), 0, 255).astype(np.uint8)
    assert analyze_photo(_still(noisy, "noisy.png")).check("noise").level == "warning"
    assert _report("astronaut").check("noise").level == "ok"


def test_quality_5_jpeg_is_blocky_and_quality_95_is_not(tmp_path):
    levels = {}
    for q in (5, 95):
        path = tmp_path / f"q{q}.jpg"
        Image.fromarray(_rgb("astronaut")).save(path, quality=q)
        levels[q] = analyze_photo(path).check("compression")
    assert levels[5].level == "warning" and "JPEG" in levels[5].message
    assert levels[95].level == "ok"
    assert levels[5].value > levels[95].value + 0.5


def test_crop_to_a_target_aspect_says_what_it_keeps():
    # china.jpg is 640×427 (3:2): a 9:16 crop keeps 9/16 / 1.5 = 37.5 % of the width.
    check = analyze_photo(_still(_rgb("china"), "china.png"), target_aspect="9:16").check("aspect")
    assert check.level == "warning" and "9:16 crop keeps 38% of the width" in check.message
    assert "3:2" in _report("china").check("aspect").message  # no target: the photo's own aspect and the closest


def test_a_badly_blurred_photo_is_unusable_and_a_blank_one_has_no_detail():
    very = analyze_photo(_still(cv2.GaussianBlur(_rgb("astronaut"), (0, 0), 12.0), "very.png")).check("sharpness")
    assert very.level == "unusable"
    blank = analyze_photo(_still(np.full((400, 600, 3), 128, np.uint8), "blank.png")).check("sharpness")
    assert blank.level == "warning" and "no detail" in blank.message


def test_a_black_frame_is_unusable():
    report = analyze_photo(_still(np.zeros((480, 640, 3), np.uint8), "black.png"))
    assert report.check("exposure").level == "unusable"
    assert not report.usable and report.expected == "Poor"
    assert _report("astronaut").usable


# ---------------------------------------------------------------- kind and expected result


def test_rendered_text_is_text_and_poor():
    report = analyze_photo(_still(_text_image(), "text.png"))
    assert report.kind == "text" and report.expected == "Poor"
    assert report.duration_s < 5


def test_many_faces_are_a_crowd():
    import skimage.data

    faces = skimage.data.lfw_subset()[:8]  # 25×25 face crops in [0, 1]
    tiles = [cv2.resize((f * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC) for f in faces]
    grid = np.vstack([np.hstack(tiles[:4]), np.hstack(tiles[4:])])
    report = analyze_photo(_still(np.stack([grid] * 3, axis=-1), "crowd.png"))
    assert report.kind == "crowd" and report.faces >= 5
    assert report.expected in ("Difficult", "Poor") and report.duration_s < 5


def test_astronaut_is_a_portrait_with_one_face():
    report = _report("astronaut")
    assert report.kind == "portrait" and report.faces == 1
    assert report.expected == "Very good"
    assert "face" in report.recommendations[0]


def test_china_is_a_landscape_with_sky_and_water():
    report = _report("china")
    assert report.kind == "landscape"
    assert {"sky", "water"} <= set(report.elements)
    assert any("clouds" in p for p in report.recommendations)


def test_coffee_is_a_product():
    report = _report("coffee")
    assert report.kind == "product"
    assert any("steam" in p for p in report.recommendations)


# ---------------------------------------------------------------- recommendations, JSON, summary


@pytest.mark.parametrize("name", ["astronaut", "china", "coffee", "flower", "chelsea"])
def test_every_recommendation_is_understood_in_full(name):
    report = _report(name)
    assert report.engine == "living" and report.recommendations
    for prompt in report.recommendations:
        plan = parse_prompt(prompt, face=(0.5, 0.3) if report.faces else None)
        assert not plan.unused, (prompt, plan.unused)
        assert not plan.conflicts, (prompt, plan.conflicts)
        assert plan.camera or plan.static or plan.elements or plan.portrait is not None, prompt


def test_report_json_validates_against_the_schema():
    for name in ("astronaut", "china", "coffee"):
        data = json.loads(json.dumps(_report(name).to_dict()))
        assert _validate(data, REPORT_SCHEMA) == [], name
        assert [c["name"] for c in data["checks"]] == list(CHECK_NAMES)
    # The validator is not vacuous: a broken report fails it.
    broken = copy.deepcopy(data)
    broken["kind"] = "selfie"
    del broken["usable"]
    broken["checks"][0]["level"] = "fine"
    assert len(_validate(broken, REPORT_SCHEMA)) == 3
    assert REPORT_SCHEMA["$schema"].endswith("2020-12/schema")


def test_summary_has_one_line_per_item():
    report = _report("china")
    lines = report.summary().splitlines()
    assert lines[0].startswith("china.png: 640×427, landscape")
    for c in report.checks:
        assert sum(line.split()[1:2] == [f"{c.name}:"] for line in lines) == 1
    assert sum(line.startswith("Try: ") for line in lines) == len(report.recommendations)


def test_a_given_scene_is_reused():
    rgb = _rgb("coffee")
    scene = Scene(rgb)
    report = analyze_photo(_still(rgb, "coffee.png"), scene=scene)
    assert {"faces", "depth", "regions"} <= set(vars(scene))  # the layers now live on the caller's Scene
    assert report.kind == _report("coffee").kind
    with pytest.raises(ValueError, match="scene"):
        analyze_photo(_still(rgb[:200], "cut.png"), scene=scene)
    with pytest.raises(ValueError, match="level"):
        Check("noise", "bad", 1.0, "", "x")
    with pytest.raises(InputError, match="target_aspect"):
        analyze_photo(_still(rgb, "coffee.png"), target_aspect="3:2")


def test_all_is_sorted_and_complete():
    assert analysis.__all__ == sorted(analysis.__all__)
    assert all(hasattr(analysis, name) for name in analysis.__all__)


def test_thresholds_are_one_frozen_documented_dataclass():
    import ast
    import dataclasses
    import inspect

    from stillmotion.analysis import THRESHOLDS, Thresholds

    with pytest.raises(dataclasses.FrozenInstanceError):
        THRESHOLDS.sharp_px = 2.0  # type: ignore[misc]
    assert THRESHOLDS == Thresholds() and THRESHOLDS.sharp_px < THRESHOLDS.soft_px < THRESHOLDS.blur_unusable_px
    # Every field carries a docstring (its unit and meaning) right below it.
    body = ast.parse(inspect.getsource(Thresholds)).body[0].body
    documented = {
        a.target.id
        for a, d in zip(body, body[1:])
        if isinstance(a, ast.AnnAssign) and isinstance(d, ast.Expr) and isinstance(d.value, ast.Constant)
    }
    assert documented == {f.name for f in dataclasses.fields(Thresholds)}
    assert not [n for n in dir(analysis) if n.isupper() and n not in analysis.__all__]  # no stray public constants


# ---------------------------------------------------------------- development photos (skipped in CI)

needs_shared = pytest.mark.skipif(not SHARED_PHOTOS.is_dir(), reason="../shared/photos is not available")


@needs_shared
@pytest.mark.parametrize("name", ["flower-bokeh.jpg", "ladybird-meadow.jpg"])
def test_shallow_depth_of_field_photos_are_not_soft(name):
    still = load_image(SHARED_PHOTOS / name)
    assert analyze_photo(still).check("sharpness").level == "ok"
    blurred = cv2.GaussianBlur(still.rgb, (0, 0), 3.0)
    assert analyze_photo(_still(blurred, name)).check("sharpness").level == "warning"


@needs_shared
def test_dune_sea_grass_is_an_excellent_landscape():
    report = analyze_photo(SHARED_PHOTOS / "dune-sea-grass.jpg")
    assert report.kind == "landscape" and report.expected == "Excellent"
    assert {"sky", "water", "vegetation"} <= set(report.elements)
