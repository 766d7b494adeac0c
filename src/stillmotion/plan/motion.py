"""The Plan stage's motion vocabulary: camera moves and portrait micro-motion, as words.

These types say *what* the plan asks for; they hold no rendering. The
living engine turns them into camera paths (``engines/living/camera.py``)
and displacement fields (``engines/living/portrait.py``): engines import
this module, never the reverse.

Directions are the camera's, as cinematographers use them: in a pan right
the camera turns right and the scene slides left across the frame; a tilt
up reveals what is above; a push-in (dolly in) moves the camera forward and
enlarges the subject, near things more than far ones; a zoom changes the
focal length and enlarges everything alike (no parallax).

>>> Move("pan-left").words
'pan left: the camera turns left, the scene slides right'
>>> CameraMove(Move.push_in, 0.6, speed="slow").amount
0.6
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CameraMove", "Move", "PortraitMotion", "SPEED_WORDS"]

SPEED_WORDS = ("very slow", "slow", "gentle", "normal", "fast", "very fast")
"""The speed words a plan records per camera move (``gentle`` is the default move's)."""


class Move(str, Enum):
    """The camera moves of the field's vocabulary (direction included)."""

    static = "static"
    push_in = "push-in"
    pull_back = "pull-back"
    zoom_in = "zoom-in"
    zoom_out = "zoom-out"
    pan_left = "pan-left"
    pan_right = "pan-right"
    tilt_up = "tilt-up"
    tilt_down = "tilt-down"
    truck_left = "truck-left"
    truck_right = "truck-right"
    orbit_left = "orbit-left"
    orbit_right = "orbit-right"
    crane_up = "crane-up"
    crane_down = "crane-down"
    dolly_zoom_in = "dolly-zoom-in"
    dolly_zoom_out = "dolly-zoom-out"
    roll_left = "roll-left"
    roll_right = "roll-right"

    @property
    def words(self) -> str:
        """How the move is said in plain words (for ``--explain``)."""
        return _WORDS[self]


_WORDS = {
    Move.static: "static camera (locked off)",
    Move.push_in: "push-in (dolly forward): the subject grows, near things more than far",
    Move.pull_back: "pull-back (dolly out): the view widens around the subject",
    Move.zoom_in: "zoom in (longer focal length, no parallax)",
    Move.zoom_out: "zoom out (shorter focal length, no parallax)",
    Move.pan_left: "pan left: the camera turns left, the scene slides right",
    Move.pan_right: "pan right: the camera turns right, the scene slides left",
    Move.tilt_up: "tilt up: the camera tips up, revealing what is above",
    Move.tilt_down: "tilt down: the camera tips down, revealing what is below",
    Move.truck_left: "truck left: the camera slides left, near things pass faster",
    Move.truck_right: "truck right: the camera slides right, near things pass faster",
    Move.orbit_left: "orbit left: the camera arcs left around the subject",
    Move.orbit_right: "orbit right: the camera arcs right around the subject",
    Move.crane_up: "crane up: the camera rises, the scene sinks, near things faster",
    Move.crane_down: "crane down: the camera lowers, the scene rises, near things faster",
    Move.dolly_zoom_in: "dolly zoom (vertigo): the camera pulls back while zooming in; the subject holds, "
    "the background looms",
    Move.dolly_zoom_out: "dolly zoom (reverse): the camera pushes in while zooming out; the subject holds, "
    "the background falls away",
    Move.roll_left: "roll left (counter-clockwise dutch turn)",
    Move.roll_right: "roll right (clockwise dutch turn)",
}


@dataclass(frozen=True)
class CameraMove:
    """One move of the plan with its amplitude.

    Attributes:
        move: which move.
        amount: amplitude multiplier (1 = a normal, noticeable move over 5 s);
            speed words and ``motion_strength`` set it.
        target: where the move aims, as (x, y) fractions of the photo
            (0..1), e.g. the face for "toward the face"; None = no target.
        speed: the speed word of the prompt that set the amplitude
            (one of :data:`SPEED_WORDS`; ``"normal"`` when none was said).

    Raises:
        ValueError: ``speed`` is not one of :data:`SPEED_WORDS`.
    """

    move: Move
    amount: float = 1.0
    target: tuple[float, float] | None = None
    speed: str = "normal"

    def __post_init__(self) -> None:
        if self.speed not in SPEED_WORDS:
            raise ValueError(f"speed must be one of {', '.join(SPEED_WORDS)}, got {self.speed!r}")


@dataclass(frozen=True)
class PortraitMotion:
    """Which micro-motions a portrait gets, and how strong (1 = natural).

    Attributes:
        blink: natural blinks every few seconds.
        breathe: slow breathing (shoulders and chest rise and fall).
        head: ``"sway"``, ``"turn"``, ``"tilt"``, ``"nod"`` or None (no head motion).
        gaze: small gaze shifts (saccades).
        smile: a soft smile.
        strength: amplitude multiplier in [0, 2] (1 = natural).
    """

    blink: bool = True
    breathe: bool = True
    head: str | None = "sway"  # "sway" | "turn" | "tilt" | "nod" | None
    gaze: bool = False
    smile: bool = False
    strength: float = 1.0

    def words(self) -> str:
        """The motion in plain words, for ``--explain``."""
        parts = []
        if self.blink:
            parts.append("natural blinks every few seconds")
        if self.breathe:
            parts.append("slow breathing (shoulders and chest)")
        if self.head:
            parts.append(
                {
                    "sway": "subtle head sway",
                    "turn": "a slight head turn",
                    "tilt": "a slight head tilt",
                    "nod": "a slight nod",
                }[self.head]
            )
        if self.gaze:
            parts.append("small gaze shifts")
        if self.smile:
            parts.append("a soft smile")
        return ", ".join(parts) + f" — strength ×{self.strength:.2f}"
