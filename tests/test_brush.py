"""The motion brush: arrows, masks and freeze masks become a dense, smooth, masked flow field."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stillmotion.arrows import Arrow, parse_arrow
from stillmotion.cli import app
from stillmotion.engines.living.brush import arrows_to_flow
from stillmotion.errors import InputError
from stillmotion.image import load_mask
from stillmotion.request import AnimateRequest

H, W = 180, 320


# ---------------------------------------------------------------- parse_arrow


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1,2,3,4", Arrow(1, 2, 3, 4, 1.0)),
        ("100.5, 200 ,160,200:1.5", Arrow(100.5, 200, 160, 200, 1.5)),
        ("0,0,-10,5:10", Arrow(0, 0, -10, 5, 10)),
        ("1e2,0,0,0:.5", Arrow(100, 0, 0, 0, 0.5)),
    ],
)
def test_parse_arrow_reads_points_and_speed(text, expected):
    assert parse_arrow(text) == expected


@pytest.mark.parametrize(
    "text,needle",
    [
        ("1,2", "x1,y1,x2,y2"),
        ("1,2,3,4,5", "x1,y1,x2,y2"),
        ("a,b,c,d", "x1,y1,x2,y2"),
        ("1,2,3,4:", "x1,y1,x2,y2"),
        ("1,2,3,4:fast", "x1,y1,x2,y2"),
        ("", "x1,y1,x2,y2"),
        ("5,5,5,5", "zero length"),
        ("1,2,3,4:0", "speed 0"),
        ("1,2,3,4:-1", "speed -1"),
        ("1,2,3,4:11", "at most 10"),
        ("1e999,0,0,0", "finite"),
    ],
)
def test_parse_arrow_rejects_bad_text_in_one_line(text, needle):
    with pytest.raises(InputError) as info:
        parse_arrow(text)
    msg = str(info.value)
    assert msg.startswith("--arrow") and needle in msg.lower() and "\n" not in msg


def test_arrow_round_trips_through_its_text_and_checks_itself():
    a = Arrow(10, 20.5, 30, 40, speed=2)
    assert a.text == "10,20.5,30,40:2" and parse_arrow(a.text) == a
    assert a.velocity(scale=0.5) == (20.0, 19.5)  # (end − start) × speed 2 × scale 0.5
    with pytest.raises(InputError, match="zero length"):
        Arrow(3, 3, 3, 3)


def test_request_validates_and_dumps_arrows_as_text():
    r = AnimateRequest.build(image="p.png", arrows=["10,20,30,40:2", Arrow(1, 2, 3, 4)], mask="m.png")
    dumped = r.model_dump(mode="json")
    assert dumped["arrows"] == ["10,20,30,40:2", "1,2,3,4"]
    assert dumped["mask"] == "m.png" and dumped["freeze"] is None
    assert AnimateRequest.build(image="p.png").arrows == []
    with pytest.raises(InputError) as info:
        AnimateRequest.build(image="p.png", arrows=["1,2,3,4", "1,2"])
    assert str(info.value).startswith("--arrow '1,2' is not")
    with pytest.raises(InputError, match=r"^--freeze 5 is not a file path"):
        AnimateRequest.build(image="p.png", freeze=5)


def test_cli_bad_arrow_exits_2_with_one_line(tmp_path):
    import skimage.data

    photo = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(photo)
    result = CliRunner().invoke(app, ["animate", str(photo), "--arrow", "10,10,50,10", "--arrow", "1,2"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--arrow '1,2'" in lines[0] and "Traceback" not in result.output
    assert not list(tmp_path.glob("*.mp4"))


# ---------------------------------------------------------------- load_mask


def _save(tmp_path: Path, name: str, arr: np.ndarray, mode: str | None = None) -> Path:
    p = tmp_path / name
    Image.fromarray(arr, mode).save(p)
    return p


def test_load_mask_reads_white_as_one_at_the_photo_size(tmp_path):
    a = np.zeros((48, 64), np.uint8)
    a[:, 32:] = 255
    a[:, 20:24] = 128  # a mid-grey band stays partial
    m = load_mask(_save(tmp_path, "m.png", a), (64, 48))
    assert m.shape == (48, 64) and m.dtype == np.float32
    assert m[:, 32:].min() == 1.0 and m[:, :20].max() == 0.0
    assert 0.3 < m[0, 21] < 0.7


def test_load_mask_rgb_jpeg_uses_luminance_and_thresholds_noise(tmp_path):
    a = np.full((48, 64, 3), 6, np.uint8)  # near black, as JPEG noise leaves it
    a[10:30, 10:40] = (250, 252, 248)
    p = tmp_path / "m.jpg"
    Image.fromarray(a).save(p, quality=95)
    m = load_mask(p, (64, 48))
    assert m[0:5, 45:].max() == 0.0 and m[15:25, 15:35].min() > 0.99


def test_load_mask_reads_alpha_of_a_transparent_layer(tmp_path):
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = 255  # one paint colour everywhere: the alpha is the mask
    rgba[20:40, 5:30, 3] = 255
    m = load_mask(_save(tmp_path, "a.png", rgba, "RGBA"), (64, 48))
    assert m[20:40, 5:30].min() == 1.0 and m[:18].max() == 0.0 and m[:, 32:].max() == 0.0


def test_load_mask_wrong_size_names_both_sizes(tmp_path):
    p = _save(tmp_path, "m.png", np.full((48, 64), 255, np.uint8))
    with pytest.raises(InputError) as info:
        load_mask(p, (128, 96))
    msg = str(info.value)
    assert msg.startswith("--mask '") and "64×48" in msg and "128×96" in msg and "photo's size" in msg


@pytest.mark.parametrize("flag", ["--mask", "--freeze"])
@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda d: d / "missing.png", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "notes.png", b"not an image at all"), "not a supported image"),
        (lambda d: _write(d / "empty.png", b""), "empty"),
    ],
)
def test_load_mask_bad_files_are_one_line_input_errors(tmp_path, flag, make, needle):
    with pytest.raises(InputError) as info:
        load_mask(make(tmp_path), (64, 48), flag=flag)
    msg = str(info.value)
    assert msg.startswith(flag + " '") and needle in msg and "\n" not in msg


def test_load_mask_truncated_file_is_an_input_error(tmp_path):
    rng = np.random.default_rng(0)
    p = _save(tmp_path, "m.png", (rng.random((96, 128)) * 255).astype(np.uint8))
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(InputError, match=r"^--mask '.*' is truncated or corrupt"):
        load_mask(p, (128, 96))


def test_all_black_mask_is_an_error_but_all_black_freeze_is_nothing_frozen(tmp_path):
    p = _save(tmp_path, "black.png", np.zeros((48, 64), np.uint8))
    with pytest.raises(InputError, match="all black: nothing would move"):
        load_mask(p, (64, 48))
    f = load_mask(p, (64, 48), flag="--freeze")
    assert f.shape == (48, 64) and not f.any()
    white = _save(tmp_path, "white.png", np.full((48, 64), 255, np.uint8))
    with pytest.raises(InputError, match=r"^--freeze .* all white"):
        load_mask(white, (64, 48), flag="--freeze")


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


# ---------------------------------------------------------------- arrows_to_flow


def test_flow_has_the_grid_shape_and_is_float32():
    flow = arrows_to_flow([Arrow(10, 10, 50, 10)], (H, W), 1.0)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32 and np.isfinite(flow).all()
    assert not arrows_to_flow([], (H, W), 1.0).any()


def test_one_arrow_right_moves_right_by_its_length_times_speed():
    # Photo 640×360 at half size: the arrow is 60 grid pixels long, speed 1.5.
    flow = arrows_to_flow([parse_arrow("200,180,320,180:1.5")], (H, W), 0.5)
    dx, dy = flow[90, 100:160].T
    assert (dx > 0).all() and np.abs(dy).max() < 0.01 * dx.min()
    np.testing.assert_allclose(dx, 60 * 1.5, rtol=0.02)


def test_without_a_mask_motion_fades_away_from_the_arrow():
    flow = arrows_to_flow([Arrow(20, 20, 50, 20)], (H, W), 1.0)
    speed = np.linalg.norm(flow, axis=2)
    assert speed[20, 35] == pytest.approx(30, rel=0.02)
    assert speed[170, 310] < 0.01 * 30  # far corner
    assert speed[20, 50 + 45] < speed[20, 50 + 20] < speed[20, 50]  # decreasing with distance


def test_opposite_arrows_left_and_right_give_opposite_flows():
    flow = arrows_to_flow([Arrow(40, 90, 80, 90), Arrow(280, 90, 240, 90)], (H, W), 1.0)
    left, right = flow[60:120, 30:90, 0], flow[60:120, 230:290, 0]
    assert left.min() > 5 and right.max() < -5
    assert flow[90, 60, 0] == pytest.approx(-flow[90, 260, 0], rel=0.01)


def test_flow_is_smooth_without_kinks():
    arrows = [Arrow(40, 40, 100, 60), Arrow(250, 140, 200, 100, 2), Arrow(160, 20, 170, 90)]
    flow = arrows_to_flow(arrows, (H, W), 1.0)
    peak = np.abs(flow).max()
    # Second differences of a smooth field at pixel spacing are a tiny fraction of its range.
    for axis in (0, 1):
        assert np.abs(np.diff(flow, n=2, axis=axis)).max() < 0.01 * peak


def test_flow_is_zero_inside_freeze_and_ramps_back_outside():
    freeze = np.zeros((H * 2, W * 2), np.float32)  # photo-sized, resized to the grid
    freeze[:, 200:] = 1.0  # frozen: grid columns 100 and right
    flow = arrows_to_flow([Arrow(40, 180, 400, 180)], (H, W), 0.5, freeze=freeze)
    speed = np.linalg.norm(flow, axis=2)
    assert speed[:, 100:].max() < 1e-6
    assert speed[90, 40] == pytest.approx(180, rel=0.02)  # well away from the freeze: untouched
    ramp = speed[90, 85:100]
    assert (np.diff(ramp) <= 1e-3).all() and ramp[0] > ramp[-1]  # smooth transition toward the edge


def test_with_a_mask_flow_is_zero_outside_and_fills_inside():
    mask = np.zeros((H, W), np.float32)
    mask[100:, :] = 1.0  # bottom part moves
    flow = arrows_to_flow([Arrow(20, 140, 60, 140)], (H, W), 1.0, mask=mask)
    speed = np.linalg.norm(flow, axis=2)
    assert speed[:100].max() == 0.0
    # The mask, not distance, bounds the motion: the far side of the mask moves at the arrow's speed.
    assert speed[150, 300] == pytest.approx(40, rel=0.02) and (flow[130:, :, 0] > 0).all()


def test_bad_grid_arguments_are_value_errors():
    a = [Arrow(1, 1, 5, 1)]
    with pytest.raises(ValueError, match="shape"):
        arrows_to_flow(a, (0, 10), 1.0)
    with pytest.raises(ValueError, match="scale"):
        arrows_to_flow(a, (10, 10), 0.0)
    with pytest.raises(ValueError, match="mask"):
        arrows_to_flow(a, (10, 10), 1.0, mask=np.ones((10, 10, 3)))


def test_flow_is_fast_on_a_320x180_grid_with_10_arrows():
    rng = np.random.default_rng(1)
    arrows = [
        Arrow(*rng.uniform(0, 1280, 1), *rng.uniform(0, 720, 1), *rng.uniform(0, 1280, 1), *rng.uniform(0, 720, 1))
        for _ in range(10)
    ]
    freeze = np.zeros((720, 1280), np.float32)
    freeze[:200, :300] = 1
    arrows_to_flow(arrows, (H, W), 0.25, freeze=freeze)  # warm-up
    t0 = time.perf_counter()
    for _ in range(5):
        arrows_to_flow(arrows, (H, W), 0.25, freeze=freeze)
    assert (time.perf_counter() - t0) / 5 < 0.030
