"""The living engine's camera moves, measured on real photos with optical flow.

Every move of the vocabulary is rendered end to end (prompt → MP4), decoded,
and its global motion measured (Farnebäck flow) against what a
cinematographer means by the move.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import stillmotion
from conftest import mean_flow, psnr
from stillmotion.image import load_image
from stillmotion.plan.motion import Move
from stillmotion.scene import Scene
from stillmotion.video import read_video

SIZE = "384x256"


def _render(photo, prompt, tmp_path, name, **kw):
    opts = dict(size=SIZE, duration=1.0, fps=12, seed=7, motion_strength=0.8, output=tmp_path / f"{name}.mp4")
    opts.update(kw)
    clip = stillmotion.animate(photo, prompt, **opts)
    return clip, read_video(clip.path).frames_thwc


def _view_of(photo_map: np.ndarray, clip, photo_size) -> np.ndarray:
    """A per-photo-pixel map (any resolution) as seen in frame 0 (the identity view)."""
    fr = clip.recipe["shot"]["framing"]
    m = fr["photo_pixels_per_output_pixel"]
    cx, cy = fr["centre_px"]
    W, H = clip.width, clip.height
    sx = photo_map.shape[1] / photo_size[0]
    sy = photo_map.shape[0] / photo_size[1]
    xs = (cx + m * (np.arange(W) - (W - 1) / 2)) * sx
    ys = (cy + m * (np.arange(H) - (H - 1) / 2)) * sy
    mx, my = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return cv2.remap(photo_map.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _divergence(flow: np.ndarray) -> float:
    """Mean outward flow along the position vector from the frame centre (px), > 0 = expansion."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    rx, ry = xs - (w - 1) / 2, ys - (h - 1) / 2
    r = np.hypot(rx, ry) + 1e-6
    return float(np.mean((flow[..., 0] * rx + flow[..., 1] * ry) / r))


def _curl(flow: np.ndarray) -> float:
    """Mean rotational flow about the centre, image coords (y down): > 0 = clockwise on screen."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    rx, ry = xs - (w - 1) / 2, ys - (h - 1) / 2
    r = np.hypot(rx, ry) + 1e-6
    return float(np.mean((rx * flow[..., 1] - ry * flow[..., 0]) / r))


# (prompt, check on the flow from the first to the last frame)
TRANSLATIONS = [
    ("pan right", lambda dx, dy: dx < -3 and abs(dx) > 2 * abs(dy)),  # camera turns right: scene slides left
    ("pan from right to left", lambda dx, dy: dx > 3 and abs(dx) > 2 * abs(dy)),
    ("tilt up", lambda dx, dy: dy > 3 and abs(dy) > 2 * abs(dx)),  # reveals what is above: scene slides down
    ("tilt down", lambda dx, dy: dy < -3 and abs(dy) > 2 * abs(dx)),
    ("truck right", lambda dx, dy: dx < -1 and abs(dx) > 2 * abs(dy)),
    ("truck left", lambda dx, dy: dx > 1 and abs(dx) > 2 * abs(dy)),
    ("crane up", lambda dx, dy: dy > 1 and abs(dy) > 2 * abs(dx)),  # camera rises: scene sinks
    ("crane down", lambda dx, dy: dy < -1 and abs(dy) > 2 * abs(dx)),
]


@pytest.mark.parametrize("prompt,check", TRANSLATIONS, ids=[t[0] for t in TRANSLATIONS])
def test_lateral_moves_go_the_cinematographers_way(photos, tmp_path, prompt, check):
    _clip, frames = _render(photos["china"], prompt, tmp_path, prompt.replace(" ", "_"))
    flow = mean_flow(frames[0], frames[-1])
    dx, dy = float(np.median(flow[..., 0])), float(np.median(flow[..., 1]))
    assert check(dx, dy), f"{prompt}: median flow dx={dx:.2f}, dy={dy:.2f}"


@pytest.mark.parametrize(
    "prompt,sign",
    [("slow push-in", 1), ("pull back", -1), ("zoom in", 1), ("zoom out", -1)],
)
def test_push_pull_and_zoom_scale_the_view(photos, tmp_path, prompt, sign):
    _clip, frames = _render(photos["china"], prompt, tmp_path, prompt.replace(" ", "_"))
    div = _divergence(mean_flow(frames[0], frames[-1]))
    assert div * sign > 1.0, f"{prompt}: divergence {div:.2f}"


def test_push_in_is_parallax_and_zoom_is_not(photos, motorcycle_disparity, tmp_path):
    """A dolly enlarges near things more than far ones; a zoom enlarges all alike."""
    still = load_image(photos["motorcycle"])
    ratios = {}
    for prompt in ("push in", "zoom in"):
        clip, frames = _render(photos["motorcycle"], prompt, tmp_path, prompt.replace(" ", "_"), size="384x256")
        flow = mean_flow(frames[0], frames[-1])
        gt = np.where(np.isfinite(motorcycle_disparity), motorcycle_disparity, 0)
        disp = _view_of(gt, clip, still.size)
        h, w = disp.shape
        ys, xs = np.mgrid[0:h, 0:w]
        r = np.hypot(xs - (w - 1) / 2, ys - (h - 1) / 2) + 1e-6
        radial = (flow[..., 0] * (xs - (w - 1) / 2) + flow[..., 1] * (ys - (h - 1) / 2)) / r
        scale = radial / r  # relative magnification rate, independent of distance from the centre
        ok = (disp > 0) & (r > 0.15 * w)
        near = ok & (disp >= np.percentile(disp[ok], 75))
        far = ok & (disp <= np.percentile(disp[ok], 25))
        ratios[prompt] = float(np.median(scale[near]) / np.median(scale[far]))
    assert ratios["push in"] > 1.2, ratios
    assert ratios["push in"] > ratios["zoom in"] + 0.1, ratios
    assert 0.8 < ratios["zoom in"] < 1.25, ratios


def test_pan_moves_near_things_more_than_far(photos, motorcycle_disparity, tmp_path):
    """Parallax, judged against Middlebury's ground-truth disparity."""
    still = load_image(photos["motorcycle"])
    clip, frames = _render(photos["motorcycle"], "truck left", tmp_path, "truck")
    flow = mean_flow(frames[0], frames[-1])
    gt = np.where(np.isfinite(motorcycle_disparity), motorcycle_disparity, 0)
    disp = _view_of(gt, clip, still.size)
    ok = disp > 0
    near = ok & (disp >= np.percentile(disp[ok], 80))
    far = ok & (disp <= np.percentile(disp[ok], 20))
    near_dx, far_dx = float(np.median(flow[..., 0][near])), float(np.median(flow[..., 0][far]))
    assert near_dx > 0 and far_dx >= 0, (near_dx, far_dx)
    assert near_dx > 1.3 * far_dx + 0.3, f"near {near_dx:.2f} px vs far {far_dx:.2f} px"


@pytest.mark.parametrize("prompt,sign", [("orbit right around the subject", 1), ("orbit left", -1)])
def test_orbit_swings_near_and_far_opposite_ways(photos, tmp_path, prompt, sign):
    """Orbit right: the camera arcs right around the subject; what is behind the
    subject slides right relative to what is in front of it."""
    still = load_image(photos["motorcycle"])
    clip, frames = _render(photos["motorcycle"], prompt, tmp_path, "orbit", motion_strength=1.0)
    depth = _view_of(Scene(still.rgb).depth, clip, still.size)
    flow = mean_flow(frames[0], frames[-1])
    near = depth >= np.percentile(depth, 75)
    far = depth <= np.percentile(depth, 25)
    rel = float(np.median(flow[..., 0][far]) - np.median(flow[..., 0][near]))
    assert rel * sign > 0.5, f"{prompt}: far − near dx = {rel:.2f} px"


@pytest.mark.parametrize(
    "prompt,move,sign", [("dolly zoom", Move.dolly_zoom_in, 1), ("reverse dolly zoom", Move.dolly_zoom_out, -1)]
)
def test_dolly_zoom_holds_the_subject_and_moves_the_background(photos, tmp_path, prompt, move, sign):
    """Vertigo: the far background grows relative to the near subject; the reverse shrinks it."""
    still = load_image(photos["motorcycle"])
    clip, frames = _render(photos["motorcycle"], prompt, tmp_path, "vertigo", motion_strength=1.0)
    assert clip.recipe["plan"]["camera"][0]["move"] == move.value
    depth = _view_of(Scene(still.rgb).depth, clip, still.size)
    flow = mean_flow(frames[0], frames[-1])
    far = depth <= np.percentile(depth, 30)
    near = depth >= np.percentile(depth, 70)
    h, w = depth.shape
    ys, xs = np.mgrid[0:h, 0:w]
    rx, ry = xs - (w - 1) / 2, ys - (h - 1) / 2
    r = np.hypot(rx, ry) + 1e-6
    rate = (flow[..., 0] * rx + flow[..., 1] * ry) / (r * r)
    diff = float(np.median(rate[far]) - np.median(rate[near]))
    assert diff * sign > 0.005, diff


@pytest.mark.parametrize("prompt,sign", [("camera rolls clockwise", -1), ("dutch angle counter-clockwise", 1)])
def test_roll_rotates_the_view(photos, tmp_path, prompt, sign):
    """Rolling the camera clockwise turns the picture counter-clockwise on screen."""
    _clip, frames = _render(photos["china"], prompt, tmp_path, "roll", motion_strength=1.0)
    curl = _curl(mean_flow(frames[0], frames[-1]))
    assert curl * sign > 0.5, f"{prompt}: curl {curl:.2f}"


def test_static_camera_holds_still(photos, tmp_path):
    clip, frames = _render(photos["china"], "static camera", tmp_path, "static")
    assert clip.recipe["plan"]["camera"] == []
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() < 1.0


def test_motion_strength_scales_the_amplitude(photos, tmp_path):
    amps = []
    for s in (0.25, 0.5, 1.0):
        _, frames = _render(photos["china"], "pan right", tmp_path, f"pan{s}", motion_strength=s)
        amps.append(-float(np.median(mean_flow(frames[0], frames[-1])[..., 0])))
    assert 0 < amps[0] < amps[1] < amps[2], amps
    assert amps[2] / amps[0] > 2.5, amps


def test_moves_ease_in_and_out(photos, tmp_path):
    """Speed ramps up, holds, and ramps down: the first and last steps are slower than the middle."""
    _, frames = _render(photos["china"], "pan right", tmp_path, "ease", duration=2.0, fps=12)
    steps = [float(np.median(mean_flow(frames[i], frames[i + 1])[..., 0])) for i in range(len(frames) - 1)]
    mid = np.median(np.abs(steps[len(steps) // 3 : 2 * len(steps) // 3]))
    assert abs(steps[0]) < 0.5 * mid and abs(steps[-1]) < 0.5 * mid, steps
    # Constant speed in the middle third: no step more than 20 % off the median.
    middle = np.abs(steps[len(steps) // 3 : 2 * len(steps) // 3])
    assert np.all(np.abs(middle - mid) < 0.2 * mid + 0.05), steps


def test_first_frame_is_the_source_framing(photos, tmp_path):
    clip, frames = _render(photos["china"], "slow push-in", tmp_path, "first", size="384x256")
    still = load_image(photos["china"])
    fr = clip.recipe["shot"]["framing"]
    m = fr["photo_pixels_per_output_pixel"]
    cx, cy = fr["centre_px"]
    W, H = clip.width, clip.height
    # The photo sampled at frame 0's pixel centres (pre-blurred against aliasing).
    xs = cx + m * (np.arange(W) - (W - 1) / 2)
    ys = cy + m * (np.arange(H) - (H - 1) / 2)
    mx, my = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    expected = cv2.remap(cv2.GaussianBlur(still.rgb, (0, 0), 0.5 * m), mx, my, cv2.INTER_LINEAR)
    value = psnr(frames[0], expected)
    assert value > 28.0, f"PSNR {value:.1f} dB"


def test_toward_the_face_aims_at_the_face(photos, tmp_path):
    """A push-in "toward the face" brings the astronaut's face toward the centre."""
    clip, frames = _render(
        photos["astronaut"], "subtle zoom toward the face", tmp_path, "face", size="256x256", motion_strength=1.0
    )
    scene = Scene(load_image(photos["astronaut"]).rgb)
    x, y, w, h = scene.faces[0]
    assert clip.recipe["plan"]["target_word"] == "face"
    fr = clip.recipe["shot"]["framing"]
    m = fr["photo_pixels_per_output_pixel"]
    cx, cy = fr["centre_px"]
    fx = (x + w / 2 - cx) / m  # face centre in frame-0 pixels from the centre
    fy = (y + h / 2 - cy) / m
    flow = mean_flow(frames[0], frames[-1])
    fi = int(np.clip(fy + 128, 0, 255)), int(np.clip(fx + 128, 0, 255))
    moved = flow[fi[0], fi[1]]
    # The face's own flow points back toward the centre.
    assert moved[0] * fx + moved[1] * fy < 0, (moved, fx, fy)
