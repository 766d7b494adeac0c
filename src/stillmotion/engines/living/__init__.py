"""The ``living`` engine: depth-aware camera moves with parallax, on any CPU, offline.

Stages of one clip (:meth:`LivingEngine.prepare`, then :meth:`LivingShot.frames_yuv420`):

1. depth of the photo (the Scene's, classical or learned) and the subject;
2. the camera path from the plan's moves, aimed at the target;
3. framing: the largest view that keeps every frame inside the photo,
   searching the end view that reveals least;
4. the working image: the reachable part of the photo at the working
   scale, its disparity, the background plate (once);
5. element motion (water, sky, foliage, the brush's arrows) and portrait
   micro-motion in working-image space, composed into the renderer;
6. per frame: one backward warp (and the plate where the view reveals
   hidden background), streamed to the encoder.

Element motion (water, sky, foliage; ``flow.py``), the motion brush's
arrows (``brush.py``) and portrait micro-motion (``portrait.py``) compose
into the same per-frame warp.

The engine meets :mod:`stillmotion.engines.base`: ``prepare(job)`` reads the
job's :class:`~stillmotion.plan.prompt.MotionPlan`, size, frame count, fps,
seed and brush inputs; the Shot makes frames one by one (``progress ==
"frame"``), so the caller's loop reports progress and polls cancellation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from ...arrows import Arrow
from ...plan.elements import BACKGROUND_PHRASE
from ...scene.depth import guided_filter
from ..base import NO_HOOKS, YUV420, Engine, RenderHooks, RenderJob
from .brush import arrows_to_flow
from .camera import CameraPath, Geometry, Pose
from .flow import ARROW_TRAVEL_S, GRID, ElementField
from .framing import Framing, fit_framing, sample_bounds
from .parallax import FAR_DISPARITY, ParallaxRenderer, disparity_from_depth, pose_maps

if TYPE_CHECKING:  # annotations only
    from ...plan.prompt import MotionPlan
    from ...scene import Scene

__all__ = ["LivingEngine", "LivingShot"]

AIM_FRACTION = 0.7
"""How far a targeted move brings its target toward the centre: 0.7 of the way."""
MIN_WORK_SCALE = 1.3
"""Working pixels per output pixel, at least: oversampling against shimmer (see BENCHMARKS.md)."""
MAX_WORK_SCALE = 1.6
"""Working pixels per output pixel, at most (keeps push-ins sharp without huge frames)."""
AIM_START_BOX = 0.2
"""A target starts within ±0.2 of the frame size from the centre."""
SEARCH_STEPS = 5
SEARCH_SPAN = 0.03
"""End-view search: a SEARCH_STEPS² grid of lens shifts within ±SEARCH_SPAN of the frame width."""


@dataclass
class LivingShot:
    """A prepared clip: everything computed once, frames rendered on demand.

    Implements :class:`~stillmotion.engines.base.Shot` with ``progress == "frame"``.

    Attributes:
        renderer: the parallax renderer (elements and portrait motion composed in).
        path: the camera path.
        frame_count: number of frames.
        framing: where the view sits in the photo.
        photo_size: the photo's (width, height) in pixels.
        info: JSON-ready facts for the recipe and ``--explain``.
        warnings: notices for the user.
        fps: frames per second (element and portrait motion run in seconds).
    """

    renderer: ParallaxRenderer
    path: CameraPath
    frame_count: int
    framing: Framing
    photo_size: tuple[int, int]
    info: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fps: float = 24.0
    progress: Literal["frame"] = "frame"

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height) in pixels."""
        return self.renderer.size

    def poses(self) -> list[Pose]:
        return self.path.poses(self.frame_count)

    def frames(self) -> Iterator[np.ndarray]:
        """Render the frames one by one: uint8 H×W×3 RGB at the output size."""
        for i, pose in enumerate(self.poses()):
            yield self.renderer.render(pose, i / self.fps)

    def frames_yuv420(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[YUV420]:
        """Render the frames as BT.709 4:2:0 planes (y H×W, cbcr (H/2)×(W/2)×2, uint8),
        the encoder's own format: what the pipeline streams. Each frame is quick, so
        the hooks are not needed: the caller's loop reports and cancels between frames."""
        for i, pose in enumerate(self.poses()):
            yield self.renderer.render_yuv420(pose, i / self.fps)

    def describe(self) -> str:
        """Depth, framing and end-view search in words (the engine part of ``--explain``)."""
        info, (W, H), (Wp, Hp) = self.info, self.size, self.photo_size
        fr = info["framing"]
        lines = [
            f"Depth: {info['depth']}",
            f"Framing: the clip sees {fr['crop_fraction'] * 100:.0f}% of the widest {W}×{H} view of the "
            f"{Wp}×{Hp} photo ({fr['photo_pixels_per_output_pixel']:.2f} photo px per output px); "
            "no frame shows anything outside the photo",
        ]
        search = info.get("end_view_search")
        if search:
            lines.append(
                f"End view: chosen among {search['candidates']} candidates to reveal least "
                f"({search['revealed_fraction'] * 100:.1f}% of the last frame filled from behind foreground edges)"
            )
        return "\n".join(lines)


class LivingEngine(Engine):
    """The built-in CPU engine (see the module docstring)."""

    name = "living"

    def prepare(self, job: RenderJob) -> LivingShot:
        """Prepare a clip.

        Reads from ``job``: the scene; ``plan`` (required); ``size`` (output width,
        height in pixels, even numbers); ``frame_count`` (≥ 2); ``fps`` (element
        motion runs in seconds); ``seed`` (varies the move slightly: amplitude ±10 %,
        aim by up to 1.5 % of the frame, and the elements' phases, gusts and
        turbulence; the same seed gives the same clip); ``mask`` (limits element
        motion), ``freeze`` and ``arrows`` (the motion brush, photo pixels).

        Returns:
            The :class:`LivingShot`.

        Raises:
            ValueError: ``job.plan`` is None (the living engine renders a plan).
        """
        plan = job.plan
        if plan is None:
            raise ValueError("the living engine renders a MotionPlan: RenderJob.plan is None")
        scene, size, frame_count, fps, seed = job.scene, job.size, job.frame_count, job.fps, job.seed
        W, H = size
        Wp, Hp = scene.size
        rng = np.random.default_rng(seed)
        warnings: list[str] = []

        # 1. Depth and subject.
        depth = scene.depth
        dscale = depth.shape[1] / Wp  # depth pixels per photo pixel
        subject = scene.subject()
        moves = tuple(plan.camera)
        target = next((cm.target for cm in moves if cm.target is not None), None)
        focus = target or subject
        pivot_depth = _depth_at(depth, focus)
        pivot = float(disparity_from_depth(np.float32(pivot_depth)))
        geometry = Geometry.for_view(W, H, pivot)
        jitter = float(rng.uniform(0.9, 1.1))
        moves = tuple(type(cm)(cm.move, cm.amount * jitter, cm.target) for cm in moves)
        path = CameraPath(moves, geometry, loop=plan.loop)

        # 2. Desired centre: the photo's centre; on an axis the output aspect
        # crops, the subject (so a 9:16 crop of a landscape keeps the subject).
        widest = min(Wp / W, Hp / H)
        cx = Wp / 2 if Wp / W - widest < 1e-6 else focus[0] * Wp
        cy = Hp / 2 if Hp / H - widest < 1e-6 else focus[1] * Hp
        desired = (cx, cy)

        # 3. Aim at the target, then search the end view that reveals least.
        sample_poses = _subsample(path, frame_count)
        framing = fit_framing(sample_bounds(path, sample_poses, size), (Wp, Hp), size, desired)
        aim = (0.0, 0.0)
        if target is not None:
            path, framing, aim, desired = _aim_at_target(target, path, framing, desired, (Wp, Hp), size, frame_count)
        search = None
        if any(p.translates for p in sample_poses):
            path, framing, search = _search_end_view(scene, path, aim, size, frame_count, desired, rng)
        m = framing.photo_per_output

        # 4. Working image: the reachable region at `scale` working px per output px.
        max_mag = _max_magnification(path, _subsample(path, frame_count))
        scale = float(np.clip(max_mag, 1.0, MAX_WORK_SCALE))
        if m < 1.0:
            scale = 1.0
            warnings.append(
                f"the photo is smaller than the clip needs ({m:.2f} photo pixels per output pixel): "
                "it is upscaled and will look soft; use a larger photo or a smaller --resolution"
            )
        else:
            scale = min(scale, m)
        # Oversample the working image (one high-quality resize) so that the
        # per-frame bilinear remap never meets detail near its own Nyquist
        # limit: bilinear blurs sub-pixel phases unequally, which shows as
        # shimmer on fine texture in slow pans.
        scale = max(scale, MIN_WORK_SCALE)
        x0, y0, x1, y1 = framing.region((Wp, Hp))
        k = scale / m  # working px per photo px
        ww, wh = max(2, round((x1 - x0) * k)), max(2, round((y1 - y0) * k))
        crop = scene.rgb[y0:y1, x0:x1]
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LANCZOS4
        work = cv2.resize(crop, (ww, wh), interpolation=interp) if (ww, wh) != (x1 - x0, y1 - y0) else crop.copy()
        d0x, d0y, d1x, d1y = (round(v * dscale) for v in (x0, y0, x1, y1))
        d_crop = depth[d0y : max(d0y + 1, d1y), d0x : max(d0x + 1, d1x)]
        work_depth = cv2.resize(d_crop, (ww, wh), interpolation=cv2.INTER_LINEAR)
        # Re-snap the (smooth, lower-resolution) depth to the working image's
        # edges, so objects move as wholes and their silhouettes stay crisp.
        grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        radius = max(2, round(4 * ww / max(1, d_crop.shape[1])))
        work_depth = np.clip(guided_filter(grey, work_depth, radius, 4e-4), 0.0, 1.0)
        if plan.depth_of_field:
            work = _shallow_depth_of_field(work, work_depth, pivot_depth, scale)
        # cv2.resize maps pixel centres: work = (photo − x0 + ½)·k − ½.
        kx, ky = ww / (x1 - x0), wh / (y1 - y0)
        origin = ((framing.centre[0] - x0 + 0.5) * kx - 0.5, (framing.centre[1] - y0 + 0.5) * ky - 0.5)
        reach = _reach(path, sample_poses) * scale

        # 5. Element motion and portrait micro-motion in working-image space, then the renderer.
        elements = None
        if plan.elements or job.arrows:
            elements = _element_field(job, plan, (x0, y0, x1, y1), work, scale, k, warnings)
        portrait_info, portrait = None, None
        if plan.portrait is not None:
            portrait_info, portrait = _portrait(
                scene, plan, (x0, y0, x1, y1), (ww, wh), frame_count / fps, seed, warnings
            )
        renderer = ParallaxRenderer(
            work,
            disparity_from_depth(work_depth),
            size,
            geometry,
            scale,
            origin,
            reach_px=reach,
            elements=None if elements is None or elements.empty else elements,
            portrait=portrait,
        )

        info = {
            "depth": scene.depth_method,
            "regions": scene.regions_method,
            "subject": [round(subject[0], 4), round(subject[1], 4)],
            "pivot_disparity": round(pivot, 4),
            "aim_px": [round(float(aim[0]), 2), round(float(aim[1]), 2)],
            "end_view_shift_px": [round(float(path.aim[0]), 2), round(float(path.aim[1]), 2)],
            "end_view_search": search,
            "framing": {
                "photo_pixels_per_output_pixel": round(m, 4),
                "centre_px": [round(framing.centre[0], 2), round(framing.centre[1], 2)],
                "crop_fraction": round(framing.crop_fraction, 4),
            },
            "working_size": [ww, wh],
            "working_scale": round(scale, 4),
            "parallax_reach_px": round(reach, 2),
            "amplitude_jitter": round(jitter, 4),
            "portrait": portrait_info,
            "elements": None
            if elements is None
            else {
                "regions": {k: round(v, 4) for k, v in elements.present.items()},
                "flow_period_s": round(elements.period, 4),
                "arrows": len(job.arrows),
            },
        }
        return LivingShot(renderer, path, frame_count, framing, (Wp, Hp), info, warnings, fps=fps)


# --------------------------------------------------------------- helpers


def _aim_at_target(
    target: tuple[float, float],
    path: CameraPath,
    framing: Framing,
    desired: tuple[float, float],
    photo: tuple[int, int],
    size: tuple[int, int],
    frame_count: int,
) -> tuple[CameraPath, Framing, tuple[float, float], tuple[float, float]]:
    """Bring a targeted move's target toward the centre: returns (path, framing, aim, desired).

    ``target`` is (x, y) in fractions of the photo, ``desired`` the wanted view
    centre in photo pixels, ``aim`` the end view's shift in output pixels. The
    target starts within ±AIM_START_BOX of the frame size from the centre (so a
    push toward a face never starts on a cut-off head) and ends AIM_FRACTION of
    the way to the centre, as far as the photo allows.
    """
    (Wp, Hp), (W, H) = photo, size
    sample_poses = _subsample(path, frame_count)
    aim = (0.0, 0.0)
    for _ in range(2):
        m0 = framing.photo_per_output
        bx, by = AIM_START_BOX * m0 * W, AIM_START_BOX * m0 * H
        desired = (
            float(np.clip(desired[0], target[0] * Wp - bx, target[0] * Wp + bx)),
            float(np.clip(desired[1], target[1] * Hp - by, target[1] * Hp + by)),
        )
        framing = fit_framing(sample_bounds(path, sample_poses, size), (Wp, Hp), size, desired)
    for _ in range(2):  # the aim moves the framing, which moves the target's view position
        tvx = (target[0] * Wp - framing.centre[0]) / framing.photo_per_output
        tvy = (target[1] * Hp - framing.centre[1]) / framing.photo_per_output
        # At the end the target sits at mag·tv − shift; put it (1 − AIM_FRACTION)·tv from the centre.
        mag = _max_magnification(path.with_aim((0.0, 0.0)), [path.with_aim((0.0, 0.0)).pose(1.0)])
        aim = ((mag - 1.0 + AIM_FRACTION) * tvx, (mag - 1.0 + AIM_FRACTION) * tvy)
        # Aim no farther than the photo allows at this framing: the end
        # view (centre aim/mag, half-size W/2/mag) stays inside the photo,
        # rather than the whole clip zooming in to make room.
        m0, (c0x, c0y) = framing.photo_per_output, framing.centre
        lo_x, hi_x = mag * (-c0x / m0) + W / 2, mag * ((Wp - c0x) / m0) - W / 2
        lo_y, hi_y = mag * (-c0y / m0) + H / 2, mag * ((Hp - c0y) / m0) - H / 2
        aim = (
            float(np.clip(aim[0], min(0.0, lo_x), max(0.0, hi_x))),
            float(np.clip(aim[1], min(0.0, lo_y), max(0.0, hi_y))),
        )
        path = path.with_aim(aim)
        framing = fit_framing(sample_bounds(path, _subsample(path, frame_count), size), (Wp, Hp), size, desired)
    return path, framing, aim, desired


def _element_field(
    job: RenderJob,
    plan: MotionPlan,
    region: tuple[int, int, int, int],
    work: np.ndarray,
    scale: float,
    work_per_photo: float,
    warnings: list[str],
) -> ElementField:
    """The clip's element motion in working-image space.

    The plan's elements move in the photo's regions and the brush's ``--mask``,
    cut to ``region`` (x0, y0, x1, y1, photo pixels: the part of the photo the
    working image ``work`` (uint8 h×w×3) shows, at ``work_per_photo`` working px
    per photo px and ``scale`` working px per output px); ``--freeze`` stills
    them; the brush's arrows become a flow. Warns (into ``warnings``) about an
    element the prompt moves but the photo lacks.
    """
    scene, (W, _) = job.scene, job.size
    Wp, Hp = scene.size
    x0, y0, x1, y1 = region
    wh, ww = work.shape[:2]
    crop = (x0 / Wp, y0 / Hp, x1 / Wp, y1 / Hp)
    regions = {k: _crop_fraction(v, crop) for k, v in scene.regions.items()} if plan.elements else {}
    if job.mask is not None:
        regions["mask"] = _crop_fraction(job.mask, crop)
    freeze_crop = _crop_fraction(job.freeze, crop) if job.freeze is not None else None
    arrow_flow = None
    if job.arrows:
        grid = ElementField.grid_shape((wh, ww))
        shifted = [Arrow(a.x1 - x0, a.y1 - y0, a.x2 - x0, a.y2 - y0, a.speed) for a in job.arrows]
        arrow_flow = arrows_to_flow(
            shifted, grid, work_per_photo / GRID, mask=regions.get("mask"), freeze=freeze_crop
        ) * (GRID / ARROW_TRAVEL_S)  # an arrow's length is travelled in ARROW_TRAVEL_S at speed 1
    elements = ElementField(
        plan.elements,
        regions,
        (wh, ww),
        W,
        scale,
        job.frame_count / job.fps,
        job.seed,
        loop=plan.loop,
        rgb=work,
        freeze=freeze_crop,
        arrow_flow=arrow_flow,
    )
    for e in plan.elements:
        share = elements.present.get(e.element, 0.0)
        if share < 0.005 and e.phrase != BACKGROUND_PHRASE:
            warnings.append(
                f"the prompt moves {e.element} ('{e.phrase}'), but no {e.region} region was found in the photo: "
                "nothing moves for it; --show-regions OUT.png shows what was found; paint where it is with --mask PNG"
            )
    return elements


def _portrait(
    scene: Scene,
    plan,
    region: tuple[int, int, int, int],
    work_size: tuple[int, int],
    duration: float,
    seed: int,
    warnings: list[str],
):
    """The clip's PortraitField (or None) and a JSON summary; warns when it cannot do what was asked."""
    from dataclasses import replace as _replace

    from ...scene.landmarks import FaceLandmarks, landmarks_status, pseudo_landmarks
    from .portrait import PortraitField

    x0, y0, x1, y1 = region
    ww, wh = work_size
    kx, ky = ww / (x1 - x0), wh / (y1 - y0)
    motion = plan.portrait
    faces = scene.landmarks
    method = "Face Mesh landmarks (MediaPipe models on LiteRT)"
    if not faces:
        if not scene.faces:
            warnings.append(
                "the prompt asks for portrait motion, but no face was found in the photo: "
                "the rest of the plan still runs"
            )
            return {"faces": 0, "method": None}, None
        reason = landmarks_status() or "the landmark model did not confirm the faces"
        warnings.append(f"portrait motion without landmarks ({reason}): breathing and head sway only, no blinks")
        faces = [pseudo_landmarks(f) for f in scene.faces]
        motion = _replace(motion, blink=False, gaze=False, smile=False, head=motion.head or "sway")
        method = "face boxes (Haar cascades)"
    mapped = []
    for f in faces:
        pts = f.points.copy()
        pts[:, 0] = (pts[:, 0] - x0 + 0.5) * kx - 0.5
        pts[:, 1] = (pts[:, 1] - y0 + 0.5) * ky - 0.5
        pts[:, 2] *= kx
        iris = (
            None
            if f.iris is None
            else np.column_stack([(f.iris[:, 0] - x0 + 0.5) * kx - 0.5, (f.iris[:, 1] - y0 + 0.5) * ky - 0.5]).astype(
                np.float32
            )
        )
        mapped.append(FaceLandmarks(pts, f.score, iris, None if f.iris_radius is None else f.iris_radius * kx))
    person = scene.person
    person_w = None
    if person is not None:
        person_w = cv2.resize(person[y0:y1, x0:x1], (ww, wh), interpolation=cv2.INTER_LINEAR)
    field = PortraitField(mapped, person_w, (wh, ww), motion, duration, seed, loop=plan.loop)
    info = {
        "faces": len(mapped),
        "method": method,
        "person_mask": person is not None,
        "blinks_s": [[round(a, 3), round(b, 3)] for a, b in field.blinks],
        "motion": motion.words(),
    }
    return info, (None if field.empty else field)


def _crop_fraction(mask: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The part of a photo-wide mask (any resolution) inside box (x0, y0, x1, y1), as fractions."""
    h, w = mask.shape[:2]
    a, b = int(np.floor(box[0] * w)), int(np.ceil(box[2] * w))
    c, d = int(np.floor(box[1] * h)), int(np.ceil(box[3] * h))
    return mask[c : max(c + 1, d), a : max(a + 1, b)].astype(np.float32)


def _subsample(path: CameraPath, n: int, k: int = 33) -> list[Pose]:
    """At most ``k`` poses spread over the clip, the first and last included (for bounds)."""
    if n <= k:
        return path.poses(n)
    idx = np.unique(np.linspace(0, n - 1, k).round().astype(int))
    denom = n if path.loop else n - 1
    return [path.pose(int(i) / denom) for i in idx]


def _depth_at(depth: np.ndarray, xy: tuple[float, float], radius: float = 0.04) -> float:
    """Median depth in a window (± radius of the short side) around (x, y) fractions."""
    h, w = depth.shape
    r = max(1, round(radius * min(h, w)))
    cx, cy = round(xy[0] * (w - 1)), round(xy[1] * (h - 1))
    win = depth[max(0, cy - r) : cy + r + 1, max(0, cx - r) : cx + r + 1]
    return float(np.median(win)) if win.size else 0.5


def _max_magnification(path: CameraPath, poses: list[Pose]) -> float:
    """Largest magnification of the photo at the view centre over the path (near plane)."""
    xs = np.array([-8.0, 8.0, 0.0, 0.0])
    ys = np.array([0.0, 0.0, -8.0, 8.0])
    best = 1.0
    for pose in poses:
        px, py, dx, dy = pose_maps(pose, path.geometry, xs, ys, 1.0, (0.0, 0.0))
        for w in (FAR_DISPARITY, 1.0):
            sx, sy = px + w * dx, py + w * dy
            span = min(abs(sx[1] - sx[0]), abs(sy[3] - sy[2]))
            if span > 1e-6:
                best = max(best, 16.0 / float(span))
    return best


def _reach(path: CameraPath, poses: list[Pose]) -> float:
    """Widest parallax shift between the nearest and farthest plane over the path, output pixels."""
    W, H = path.geometry.width, path.geometry.height
    xs = np.array([0.0, -W / 2, W / 2, 0.0, 0.0, -W / 2, W / 2])
    ys = np.array([0.0, 0.0, 0.0, -H / 2, H / 2, -H / 2, H / 2])
    reach = 0.0
    for pose in poses:
        _, _, dx, dy = pose_maps(pose, path.geometry, xs, ys, 1.0, (0.0, 0.0))
        reach = max(reach, float(np.max(np.hypot(dx, dy))) * (1.0 - FAR_DISPARITY))
    return reach


def _search_end_view(scene, path, aim, size, frame_count, desired, rng):
    """Try a grid of end-view offsets; keep the one that reveals least, then crops least.

    Disocclusion is measured on a coarse probe render of the end pose (the
    share of pixels filled from the background plate).
    """
    W, H = size
    Wp, Hp = scene.size
    span = SEARCH_SPAN * W
    offsets = np.linspace(-span, span, SEARCH_STEPS)
    depth = scene.depth
    probe_side = 256
    ds = probe_side / max(Wp, Hp)  # probe px per photo px
    small = cv2.resize(scene.rgb, (max(2, round(Wp * ds)), max(2, round(Hp * ds))), interpolation=cv2.INTER_AREA)
    small_depth = cv2.resize(depth, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    gw, gh = 48, max(8, round(48 * H / W))
    gx = (np.arange(gw) + 0.5) * (W / gw) - W / 2
    gy = (np.arange(gh) + 0.5) * (H / gh) - H / 2
    xs, ys = np.meshgrid(gx, gy)
    probe = None
    best = None
    for oy in offsets:
        for ox in offsets:
            cand = path.with_aim((aim[0] + ox, aim[1] + oy))
            poses = _subsample(cand, frame_count, 17)
            framing = fit_framing(sample_bounds(cand, poses, size), (Wp, Hp), size, desired)
            m = framing.photo_per_output
            scale = m * ds
            if probe is None:
                probe = ParallaxRenderer(
                    small,
                    disparity_from_depth(small_depth),
                    size,
                    path.geometry,
                    scale,
                    (framing.centre[0] * ds, framing.centre[1] * ds),
                    reach_px=_reach(cand, poses) * scale * 1.5,
                    map_step=8,
                    colour=False,
                )
            probe.scale = scale
            probe.origin = (framing.centre[0] * ds, framing.centre[1] * ds)
            _, _, alpha, _, _ = probe.solve(poses[-1], xs, ys)
            revealed = float((alpha < 0.5).mean())
            off = math.hypot(ox, oy) / span
            cost = revealed * 4.0 + (1.0 - framing.crop_fraction) + 0.05 * off + 0.01 * rng.random()
            if best is None or cost < best[0]:
                best = (cost, cand, framing, revealed, (float(ox), float(oy)))
    cost, cand, framing, revealed, off = best
    # The search judged 17 poses; the frames between them (a loop's curve)
    # can reach a little farther, so the chosen path is framed on every frame.
    framing = fit_framing(sample_bounds(cand, cand.poses(frame_count), size), (Wp, Hp), size, desired)
    return (
        cand,
        framing,
        {
            "revealed_fraction": round(revealed, 4),
            "offset_px": [round(off[0], 2), round(off[1], 2)],
            "candidates": SEARCH_STEPS**2,
        },
    )


def _shallow_depth_of_field(rgb: np.ndarray, depth: np.ndarray, focus_depth: float, scale: float) -> np.ndarray:
    """Blur by distance from the focus depth (a static lens effect, applied once).

    The blur radius grows with |depth − focus| up to ~6 output pixels; the
    background side blurs, the subject stays sharp.
    """
    sigma = 4.0 * scale
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    mid = cv2.GaussianBlur(rgb, (0, 0), sigma / 2.5)
    dist = np.clip(np.abs(depth - focus_depth) / 0.35, 0.0, 1.0)
    dist = cv2.GaussianBlur(dist, (0, 0), 2.0)[..., None]
    a = np.clip(dist * 2.0, 0.0, 1.0)
    b = np.clip(dist * 2.0 - 1.0, 0.0, 1.0)
    out = rgb * (1 - a) + mid * a
    out = out * (1 - b) + blurred * b
    return (out + 0.5).astype(np.uint8)
