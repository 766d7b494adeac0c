"""Camera paths for the living engine: poses, moves, easing and loops.

The virtual camera is a pinhole looking at the photo, which is lifted to a
depth surface. Coordinates follow OpenCV: x right, y down, z forward.
Translations are in units of the *pivot distance* (the depth of the
subject, which stays put under orbits and dolly zooms); rotations are in
radians. A :class:`Pose` is the camera relative to the one that took the
photo; frame 0 of a non-looping move is always the identity pose, so the
first frame is the photo's own framing.

Directions are the camera's, as cinematographers use them: in a pan right
the camera turns right and the scene slides left across the frame; a tilt
up reveals what is above; a push-in (dolly in) moves the camera forward and
enlarges the subject, near things more than far ones; a zoom changes the
focal length and enlarges everything alike (no parallax).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ...plan.motion import CameraMove, Move

__all__ = ["CameraPath", "Geometry", "HFOV_DEG", "Pose", "ease_trapezoid", "move_pose", "rotation_matrix"]

HFOV_DEG = 50.0
"""Assumed horizontal field of view of the photo's camera (a normal lens), degrees."""


@dataclass(frozen=True)
class Pose:
    """The camera relative to the photo's camera.

    Attributes:
        yaw: turn right (+) or left (−), radians.
        pitch: tilt up (+) or down (−), radians.
        roll: clockwise (+) turn about the optical axis, radians.
        tx: move right (+), in pivot distances.
        ty: move down (+); a crane up is negative, in pivot distances.
        tz: move forward (+, dolly in), in pivot distances.
        zoom: focal length multiplier (> 0; 1 = the photo's lens).
        shift_x, shift_y: lens shift, output pixels: the view point that lands
            on the frame centre (a crop pan, used to aim at a target without
            the keystone a camera turn adds).
    """

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    tz: float = 0.0
    zoom: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0

    def __add__(self, other: Pose) -> Pose:
        """Compose two small pose deltas: angles and translations add, zooms multiply."""
        return Pose(
            self.yaw + other.yaw,
            self.pitch + other.pitch,
            self.roll + other.roll,
            self.tx + other.tx,
            self.ty + other.ty,
            self.tz + other.tz,
            self.zoom * other.zoom,
            self.shift_x + other.shift_x,
            self.shift_y + other.shift_y,
        )

    def scaled(self, u: float) -> Pose:
        """The pose a fraction ``u`` of the way from identity (zoom interpolated geometrically)."""
        return Pose(
            self.yaw * u,
            self.pitch * u,
            self.roll * u,
            self.tx * u,
            self.ty * u,
            self.tz * u,
            self.zoom**u,
            self.shift_x * u,
            self.shift_y * u,
        )

    @property
    def translates(self) -> bool:
        """True when the camera moves (and so shows parallax)."""
        return abs(self.tx) + abs(self.ty) + abs(self.tz) > 1e-9


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation (3×3 float64) for yaw right, pitch up and roll clockwise, radians."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return r_yaw @ r_pitch @ r_roll


def ease_trapezoid(t: np.ndarray | float, ramp: float = 0.25) -> np.ndarray:
    """Progress 0→1 with a trapezoidal speed profile: ease in, constant speed, ease out.

    Args:
        t: normalised time in [0, 1].
        ramp: fraction of the time spent accelerating (and decelerating), in (0, 0.5].

    Returns:
        float64 progress in [0, 1], with continuous velocity: how a camera
        operator starts and stops a move.
    """
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    a = float(np.clip(ramp, 1e-3, 0.5))
    vmax = 1.0 / (1.0 - a)
    up = 0.5 * vmax * t * t / a
    mid = vmax * (t - a / 2)
    down = 1.0 - 0.5 * vmax * (1.0 - t) ** 2 / a
    return np.where(t < a, up, np.where(t > 1.0 - a, down, mid))


@dataclass(frozen=True)
class Geometry:
    """What a move needs to know of the shot.

    Attributes:
        width, height: the view in output pixels.
        focal: focal length of the photo's camera in output pixels.
        pivot_disparity: disparity (1 / depth, pivot units) of the subject,
            in (0, 1]; the plane that orbits and dolly zooms hold still.
    """

    width: int
    height: int
    focal: float
    pivot_disparity: float

    @staticmethod
    def for_view(width: int, height: int, pivot_disparity: float) -> Geometry:
        focal = 0.5 * width / math.tan(math.radians(HFOV_DEG) / 2)
        return Geometry(width, height, focal, pivot_disparity)


# Amplitudes of a move at amount 1 over a 5 s clip: what a camera operator
# would call a clear but unhurried move.
PUSH_MAGNIFICATION = 1.15  # the subject grows 15 %
ZOOM_MAGNIFICATION = 1.15
PAN_FRACTION = 0.10  # the scene slides 10 % of the frame width
TILT_FRACTION = 0.12  # of the frame height
TRUCK_FRACTION = 0.08  # the nearest things slide 8 % of the frame width
CRANE_FRACTION = 0.08  # of the frame height
ORBIT_FRACTION = 0.06  # the nearest things swing 6 % of the width about the subject
ORBIT_MAX_DEG = 12.0
DOLLY_MIN_PIVOT = 0.5
DOLLY_ZOOM_MAGNIFICATION = 1.2
ROLL_DEG = 3.0
PAN_TRUCK_RATIO = 0.35  # pans and tilts carry a little translation, so near things move more


def move_pose(cm: CameraMove, u: float, g: Geometry) -> Pose:
    """The pose of one move at signed progress ``u`` (0 = start, 1 = full amplitude, −1 = opposite).

    Translations are sized on the *nearest* plane (disparity 1), so parallax
    stays bounded whatever the subject's depth: a truck moves the nearest
    things TRUCK_FRACTION of the frame. Zooms and dollies progress
    geometrically in ``u`` so the apparent growth rate is constant.
    """
    a, m, f = cm.amount, cm.move, g.focal
    # Dollies aimed at a far subject are sized as if it were at mid depth:
    # the subject then grows a little less, near things not absurdly more.
    wp = max(g.pivot_disparity, DOLLY_MIN_PIVOT)
    if m is Move.static:
        return Pose()
    if m in (Move.push_in, Move.pull_back):
        mag = PUSH_MAGNIFICATION ** (a * u * (1 if m is Move.push_in else -1))
        return Pose(tz=(1.0 - 1.0 / mag) / wp)
    if m in (Move.zoom_in, Move.zoom_out):
        return Pose(zoom=ZOOM_MAGNIFICATION ** (a * u * (1 if m is Move.zoom_in else -1)))
    if m in (Move.pan_left, Move.pan_right):
        yaw = math.atan(PAN_FRACTION * g.width / f) * a * u * (1 if m is Move.pan_right else -1)
        return Pose(yaw=yaw, tx=PAN_TRUCK_RATIO * yaw)
    if m in (Move.tilt_up, Move.tilt_down):
        pitch = math.atan(TILT_FRACTION * g.height / f) * a * u * (1 if m is Move.tilt_up else -1)
        return Pose(pitch=pitch, ty=-PAN_TRUCK_RATIO * pitch)
    if m in (Move.truck_left, Move.truck_right):
        return Pose(tx=TRUCK_FRACTION * g.width / f * a * u * (1 if m is Move.truck_right else -1))
    if m in (Move.crane_up, Move.crane_down):
        return Pose(ty=-CRANE_FRACTION * g.height / f * a * u * (1 if m is Move.crane_up else -1))
    if m in (Move.orbit_left, Move.orbit_right):
        # Near things swing ORBIT_FRACTION of the frame relative to the subject:
        # shift ≈ f·Zp·sin β·(1 − wp) with Zp = 1/wp.
        wo = min(max(g.pivot_disparity, 0.05), 0.95)
        zp = 1.0 / wo
        s = ORBIT_FRACTION * g.width * wo / (f * (1.0 - wo))
        beta = min(math.asin(min(1.0, s)), math.radians(ORBIT_MAX_DEG)) * a * u * (1 if m is Move.orbit_right else -1)
        return Pose(yaw=-beta, tx=zp * math.sin(beta), tz=zp * (1.0 - math.cos(beta)))
    if m in (Move.dolly_zoom_in, Move.dolly_zoom_out):
        mag = DOLLY_ZOOM_MAGNIFICATION ** (a * u * (1 if m is Move.dolly_zoom_in else -1))
        return Pose(tz=(1.0 - mag) / wp, zoom=mag)
    if m in (Move.roll_left, Move.roll_right):
        return Pose(roll=math.radians(ROLL_DEG) * a * u * (1 if m is Move.roll_right else -1))
    raise ValueError(f"unknown move {m!r}")


@dataclass(frozen=True)
class CameraPath:
    """A camera trajectory over a clip: the sum of the plan's moves.

    Non-looping paths ease from the identity pose (frame 0 is the photo's
    framing) to full amplitude with a trapezoidal speed profile. Looping
    paths go out and back along ``(1 − cos 2πt)/2``; orbits, pans, trucks
    and rolls swing to one side and the other along ``sin 2πt``; either
    way the last frame flows into the first.

    ``aim`` is a lens shift (x, y) in output pixels reached at the end: it
    brings a target toward the centre ("toward the face") and is where the
    framing search puts its end-view offset.
    """

    moves: tuple[CameraMove, ...]
    geometry: Geometry
    loop: bool = False
    ramp: float = 0.25
    aim: tuple[float, float] = (0.0, 0.0)

    def pose(self, t: float) -> Pose:
        """The pose at normalised time ``t`` in [0, 1] (for a loop, t = 1 equals t = 0)."""
        if self.loop:
            out_and_back = 0.5 * (1.0 - math.cos(2 * math.pi * t))
            swing = math.sin(2 * math.pi * t)
        else:
            out_and_back = swing = float(ease_trapezoid(t, self.ramp))
        pose = Pose(shift_x=self.aim[0] * out_and_back, shift_y=self.aim[1] * out_and_back)
        for cm in self.moves:
            u = swing if cm.move in _SWINGING else out_and_back
            pose = pose + move_pose(cm, u, self.geometry)
        return pose

    def poses(self, n: int) -> list[Pose]:
        """Poses of ``n`` frames. Loops sample t = i/n (frame n would equal frame 0);
        other paths t = i/(n−1), so the last frame reaches full amplitude."""
        if n < 1:
            raise ValueError(f"n must be ≥ 1, got {n}")
        if self.loop:
            return [self.pose(i / n) for i in range(n)]
        return [self.pose(i / max(1, n - 1)) for i in range(n)]

    def with_aim(self, aim: tuple[float, float]) -> CameraPath:
        return replace(self, aim=aim)


# In a loop these swing to one side and the other (an arc around the
# subject); every other move goes out and comes back.
_SWINGING = {Move.orbit_left, Move.orbit_right, Move.roll_left, Move.roll_right}
