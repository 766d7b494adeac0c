"""Element motion, measured: where things move, which way, loops, brush, freeze.

Real photos: scikit-learn's china.jpg (sky, lake, trees) and scikit-image's
coffee and astronaut. Motion is measured with optical flow on the decoded clip.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import stillmotion
from conftest import mean_flow
from stillmotion.cli import app
from stillmotion.image import load_image
from stillmotion.scene import Scene
from stillmotion.video import read_video

SIZE = "384x256"


def _clip(photo, prompt, tmp_path, name, **kw):
    opts = dict(size=SIZE, duration=2.0, fps=12, seed=3, output=tmp_path / f"{name}.mp4")
    opts.update(kw)
    clip = stillmotion.animate(photo, prompt, **opts)
    return clip, read_video(clip.path).frames_thwc.astype(np.uint8)


def _motion(frames, step=2) -> np.ndarray:
    """Mean flow magnitude per pixel over the clip (pixels per `step` frames)."""
    acc = np.zeros(frames.shape[1:3], np.float32)
    pairs = range(0, len(frames) - step, step)
    for i in pairs:
        f = mean_flow(frames[i], frames[i + step])
        acc += np.hypot(f[..., 0], f[..., 1])
    return acc / len(pairs)


def _mean_flow_vec(frames, mask, step=2) -> np.ndarray:
    acc = np.zeros(2)
    pairs = range(0, len(frames) - step, step)
    for i in pairs:
        f = mean_flow(frames[i], frames[i + step])
        acc += np.median(f[mask], axis=0)
    return acc / len(pairs)


def _region_in_view(clip, photo, kind) -> np.ndarray:
    """The Scene's region mask as seen in the (static-camera) frame."""
    still = load_image(photo)
    region = Scene(still.rgb).regions[kind]
    fr = clip.recipe["shot"]["framing"]
    m, (cx, cy) = fr["photo_pixels_per_output_pixel"], fr["centre_px"]
    W, H = clip.width, clip.height
    sx, sy = region.shape[1] / still.size[0], region.shape[0] / still.size[1]
    xs = (cx + m * (np.arange(W) - (W - 1) / 2)) * sx
    ys = (cy + m * (np.arange(H) - (H - 1) / 2)) * sy
    mx, my = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return cv2.remap(region, mx, my, cv2.INTER_LINEAR)


def test_water_moves_inside_its_region_and_nothing_else_does(photos, tmp_path):
    clip, frames = _clip(photos["china"], "static camera, water flowing to the left", tmp_path, "lake")
    water = _region_in_view(clip, photos["china"], "water")
    assert (water > 0.5).mean() > 0.05, "no lake found in china.jpg"
    motion = _motion(frames)
    inside = np.median(motion[water > 0.8])
    outside = np.median(motion[water < 0.05])
    assert inside > 0.3 and inside > 5 * outside, (inside, outside)
    vx, vy = _mean_flow_vec(frames, water > 0.8)
    assert vx < -0.1 and abs(vx) > abs(vy), (vx, vy)  # to the left


def test_clouds_drift_the_way_the_prompt_says(photos):
    """china.jpg's hazy sky has too little texture for optical flow to see, so the
    direction is read from the engine's own flow field over the sky region."""
    from stillmotion.engines.base import RenderJob
    from stillmotion.engines.living import LivingEngine
    from stillmotion.plan.prompt import parse_prompt

    scene = Scene(load_image(photos["china"]).rgb)
    for words, sign in (("clouds drifting to the right", 1), ("clouds drifting to the left", -1)):
        plan = parse_prompt(f"static camera, {words}")
        job = RenderJob(scene=scene, size=(384, 256), frame_count=24, fps=12.0, seed=1, plan=plan)
        shot = LivingEngine().prepare(job)
        field = shot.renderer.elements
        assert field is not None and shot.info["elements"]["regions"]["clouds"] > 0.1
        v = field.velocity
        moving = np.hypot(v[..., 0], v[..., 1]) > 1e-3
        assert np.median(v[..., 0][moving]) * sign > 0, words
        assert np.median(np.abs(v[..., 1][moving])) < np.median(np.abs(v[..., 0][moving]))


def test_foliage_sways_without_drifting(photos, tmp_path):
    clip, frames = _clip(
        photos["china"],
        "static camera, trees swaying in the wind",
        tmp_path,
        "trees",
        motion_strength=1.0,
        duration=4.0,
    )
    trees = _region_in_view(clip, photos["china"], "vegetation") > 0.8
    assert trees.mean() > 0.05
    motion = _motion(frames)
    assert np.median(motion[trees]) > 0.1
    # Oscillation: frames one sway period apart match better than frames half a period apart.
    drift = np.abs(mean_flow(frames[0], frames[-1])[trees]).mean()
    assert drift < np.percentile(motion[trees], 90) * 3, drift


def test_static_camera_background_only_has_no_global_motion(photos, tmp_path):
    clip, frames = _clip(photos["china"], "static camera, only the background elements in motion", tmp_path, "bg")
    assert clip.recipe["plan"]["camera"] == []
    assert {e["element"] for e in clip.recipe["plan"]["elements"]} >= {"clouds", "water", "foliage"}
    moving = sum(_region_in_view(clip, photos["china"], k) for k in ("sky", "water", "vegetation"))
    textured = sum(_region_in_view(clip, photos["china"], k) for k in ("water", "vegetation"))
    still = moving < 0.02
    assert still.mean() > 0.05, "the pagoda should stay still"
    motion = _motion(frames)
    assert np.median(motion[still]) < 0.15, np.median(motion[still])
    assert np.median(motion[textured > 0.8]) > 2 * np.median(motion[still]) + 0.05


def test_camera_and_elements_combine(photos, tmp_path):
    clip, frames = _clip(
        photos["china"], "slow pan right, water flowing to the left", tmp_path, "both", motion_strength=1.0
    )
    assert [c["move"] for c in clip.recipe["plan"]["camera"]] == ["pan-right"]
    assert [e["element"] for e in clip.recipe["plan"]["elements"]] == ["water"]
    flow = mean_flow(frames[0], frames[-1])
    assert np.median(flow[..., 0]) < -1.0  # the pan: the scene slides left
    # …and the water moves relative to the pagoda and trees: compare with a camera-only clip.
    _, cam_only = _clip(photos["china"], "slow pan right", tmp_path, "cam", motion_strength=1.0)
    diff = np.abs(frames.astype(int) - cam_only.astype(int)).mean(axis=(0, 3))
    h = diff.shape[0]
    assert diff[h // 2 :].mean() > 2 * diff[: h // 5].mean() + 0.2  # the lake differs, the sky hardly


def test_element_loop_closes(photos, tmp_path):
    _, frames = _clip(
        photos["china"],
        "static camera, waves, clouds drifting, trees swaying",
        tmp_path,
        "loop",
        loop=True,
        motion_strength=1.0,
    )
    f = frames.astype(np.int16)
    steps = [np.abs(f[i + 1] - f[i]).mean() for i in range(len(f) - 1)]
    seam = np.abs(f[0] - f[-1]).mean()
    assert max(steps) > 0.2
    assert seam <= 1.3 * np.median(steps) + 0.1, (seam, np.median(steps))


def test_arrow_drives_motion_along_itself(photos, tmp_path):
    # china.jpg is 640×427; the lake spans the middle right. An arrow to the right, no element words.
    clip, frames = _clip(photos["china"], "static camera", tmp_path, "arrow", arrows=["380,250,460,250:1.5"])
    fr = clip.recipe["shot"]["framing"]
    m, (cx, cy) = fr["photo_pixels_per_output_pixel"], fr["centre_px"]
    ax, ay = (420 - cx) / m + (clip.width - 1) / 2, (250 - cy) / m + (clip.height - 1) / 2
    near = np.zeros(frames.shape[1:3], bool)
    near[int(ay) - 10 : int(ay) + 10, int(ax) - 25 : int(ax) + 25] = True
    far = np.zeros_like(near)
    far[:40, :80] = True
    vx, vy = _mean_flow_vec(frames, near)
    assert vx > 0.2 and abs(vy) < abs(vx), (vx, vy)
    motion = _motion(frames)
    assert np.median(motion[far]) < 0.1


def test_freeze_mask_holds_still(photos, tmp_path):
    still = load_image(photos["china"])
    w, h = still.size
    freeze = np.zeros((h, w), np.uint8)
    freeze[:, :440] = 255  # the lake's left part never moves
    fpath = tmp_path / "freeze.png"
    Image.fromarray(freeze).save(fpath)
    clip, frames = _clip(
        photos["china"],
        "static camera, water flowing to the left, clouds drifting",
        tmp_path,
        "frz",
        freeze=fpath,
        size="384x256",
    )
    motion = _motion(frames)
    fr = clip.recipe["shot"]["framing"]
    split = int((440 - fr["centre_px"][0]) / fr["photo_pixels_per_output_pixel"] + (clip.width - 1) / 2)
    water = _region_in_view(clip, photos["china"], "water") > 0.5
    left = water.copy()
    left[:, split - 10 :] = False
    right = water.copy()
    right[:, : split + 10] = False
    assert left.sum() > 200 and right.sum() > 200
    assert np.median(motion[left]) < 0.08, np.median(motion[left])
    assert np.median(motion[right]) > 3 * np.median(motion[left]) + 0.1


def test_steam_wisps_rise_over_the_cup(photos, tmp_path):
    clip, frames = _clip(
        photos["coffee"], "steam rising from the cup, static camera", tmp_path, "steam", size="300x200"
    )
    steam = _region_in_view(clip, photos["coffee"], "steam")
    assert steam.max() > 0.5
    change = np.abs(frames.astype(int) - frames[0].astype(int)).mean(axis=(0, 3))
    assert change[steam > 0.5].mean() > 3 * change[steam < 0.01].mean() + 0.3


def test_missing_element_is_reported(photos, tmp_path):
    clip, _ = _clip(
        photos["coffee"], "waves rolling in, static camera", tmp_path, "nowater", size="300x200", duration=1.0
    )
    assert any("no water region was found" in w for w in clip.warnings)


def test_mask_of_the_wrong_size_is_one_clear_line(photos, tmp_path):
    bad = tmp_path / "m.png"
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(bad)
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photos["china"]),
            "-p",
            "water flowing",
            "--mask",
            str(bad),
            "--size",
            SIZE,
            "--duration",
            "1",
            "-o",
            str(tmp_path / "x.mp4"),
        ],
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "--mask" in res.output, res.output
    assert not (tmp_path / "x.mp4").exists()
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photos["china"]),
            "--freeze",
            str(tmp_path / "none.png"),
            "--size",
            SIZE,
            "--duration",
            "1",
            "-o",
            str(tmp_path / "x.mp4"),
        ],
    )
    assert res.exit_code == 2 and "--freeze" in res.output


def test_user_mask_moves_fabric_where_painted(photos, tmp_path):
    """Fabric has no automatic region: the user's mask says where it is."""
    still = load_image(photos["astronaut"])
    w, h = still.size
    mask = np.zeros((h, w), np.uint8)
    mask[300:500, 50:250] = 255  # the orange suit, lower left
    mpath = tmp_path / "suit.png"
    Image.fromarray(mask).save(mpath)
    _, frames = _clip(
        photos["astronaut"],
        "static camera, fabric rippling in the wind",
        tmp_path,
        "fabric",
        mask=mpath,
        size="256x256",
        motion_strength=1.0,
    )
    motion = _motion(frames)
    s = 256 / 512
    inside = motion[int(340 * s) : int(460 * s), int(90 * s) : int(210 * s)]
    outside = motion[: int(250 * s), :]
    assert np.median(inside) > 4 * np.median(outside) + 0.05, (np.median(inside), np.median(outside))


@pytest.mark.parametrize("seed", [1, 2])
def test_seeds_vary_element_phases(photos, tmp_path, seed):
    a = _clip(photos["china"], "static camera, waves", tmp_path, f"s{seed}", seed=seed, duration=1.0)[1]
    b = _clip(photos["china"], "static camera, waves", tmp_path, f"t{seed}", seed=seed + 10, duration=1.0)[1]
    c = _clip(photos["china"], "static camera, waves", tmp_path, f"u{seed}", seed=seed, duration=1.0)[1]
    assert np.array_equal(a, c)
    assert not np.array_equal(a[len(a) // 2], b[len(b) // 2])
