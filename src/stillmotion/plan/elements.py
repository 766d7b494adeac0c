"""Element motions of a prompt: water, clouds, mist, steam, foliage, fabric, hair, light.

Each element phrase ("waves rolling in from the right", "steam rising from
the mug", "grass swaying in the wind from the left", "golden light shifting
slowly") becomes an :class:`ElementMotion`: what moves, how (Eulerian flow,
oscillating sway, radial ripples or a relighting modulation), which way,
how fast, and which region of the photo it lives in.

>>> [e.element for e in parse_elements("waves rolling in from the right, clouds drifting")]
['water', 'clouds']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["BACKGROUND_PHRASE", "ElementMotion", "TOWARD_VIEWER", "direction_of", "parse_elements"]

BACKGROUND_PHRASE = "(background) only the background in motion"
"""The phrase of element motions added for "only the background in motion"."""


@dataclass(frozen=True)
class ElementMotion:
    """One element of the scene set in motion.

    Attributes:
        element: ``water``, ``clouds``, ``mist``, ``steam``, ``foliage``,
            ``fabric``, ``hair`` or ``light``.
        style: ``flow`` (constant Eulerian flow, looped by a two-phase
            blend), ``sway`` (oscillation about rest: foliage, fabric, hair),
            ``ripple`` (rings spreading from a centre) or ``relight`` (a
            brightness modulation, not a warp).
        direction: unit vector (x, y) in image coordinates (x right, y down)
            the element moves toward.
        speed: amplitude multiplier (speed words × motion strength; 1 = normal).
        phrase: the clause it came from.
        region: the region it moves in: a key of the Scene's regions
            (``water``, ``sky``, ``vegetation``, ``hair``, ``steam``), ``image``
            (everywhere) or ``mask`` (only the user's --mask).
    """

    element: str
    style: str
    direction: tuple[float, float]
    speed: float
    phrase: str
    region: str

    def words(self) -> str:
        """The motion in plain words, for --explain."""
        dx, dy = self.direction
        if self.style == "relight":
            how = "shifting (a brightness modulation, no warp)"
        elif self.style == "ripple":
            how = "ripples spreading outward"
        else:
            verb = {"flow": "flowing", "sway": "swaying"}[self.style]
            how = f"{verb} toward {_compass(dx, dy)}"
        return f"{self.element} {how} — speed ×{self.speed:.2f}, in the {self.region} region"


# element → (pattern, style, default direction, region)
_RULES: list[tuple[str, str, str, tuple[float, float], str]] = [
    (
        "water",
        r"\bripple[sd]?\b|\brippling\b|\bsplash\w*\b|\bdroplets?\b|\bconcentric\b",
        "ripple",
        (0.0, 0.0),
        "water",
    ),
    ("water", r"\bwaterfalls?\b|\bcascad\w*", "flow", (0.0, 1.0), "water"),
    (
        "water",
        r"\bwater\b|\bwaves?\b|\bocean\b(?!\s+breeze)|\bsea\b(?!\s+breeze)|\blake\b|\bpond\b|\briver\b|\bstream\b|\btide\b|\bsurf\b|\breflections?\b|\bshimmer\w*\b|\bcurrent\b",
        "flow",
        (1.0, 0.0),
        "water",
    ),
    ("clouds", r"\bclouds?\b|\bcloudy\b|\bsky\b|\bskies\b|\bstorm\s+clouds\b", "flow", (1.0, 0.0), "sky"),
    ("mist", r"\bmist\w*\b|\bfog\w*\b|\bhaze\b|\bhazy\b", "flow", (1.0, 0.0), "sky"),
    ("steam", r"\bsteam\w*\b|\bsmoke\w*\b|\bvapou?r\b|\bfumes?\b", "flow", (0.0, -1.0), "steam"),
    (
        "foliage",
        r"\bgrass\w*\b|\bleaves\b|\bleaf\b|\btrees?\b|\bfoliage\b|\bbranch\w*\b|\bflowers?\b|\bpetals?\b|\bplants?\b|\bwheat\b|\breeds?\b|\bstems?\b|\bbushes\b|\bmeadow\b",
        "sway",
        (1.0, 0.0),
        "vegetation",
    ),
    (
        "fabric",
        r"\bfabric\b|\bflags?\b|\bcloth\w*\b|\bcurtains?\b|\bdress\b|\bscarf\b|\bbanner\b|\bsails?\b|\bveil\b",
        "sway",
        (1.0, 0.0),
        "mask",
    ),
    ("hair", r"\bhair\b", "sway", (1.0, 0.0), "hair"),
    (
        "light",
        r"\blight\b|\bsunlight\b|\bsunbeams?\b|\brays\b|\bgolden\s+hour\b|\bdappled\b|\bglow\w*\b|\bshadows?\b",
        "relight",
        (1.0, 0.0),
        "image",
    ),
]

_MOVING = r"(?:drift\w*|flow\w*|mov\w*|roll\w*|blow\w*|sway\w*|sweep\w*|stream\w*|run\w*|pass\w*|slid\w*|glid\w*)\s+(?:slowly\s+|gently\s+|softly\s+|quickly\s+)?"
_DIRECTIONS = [
    (
        re.compile(
            rf"\b{_MOVING}right\b|\bfrom\s+(?:the\s+)?left\b|\b(?:to|toward|towards)\s+(?:the\s+)?right\b|\brightward\w*\b|\bleft\s+to\s+right\b"
        ),
        (1.0, 0.0),
    ),
    (
        re.compile(
            rf"\b{_MOVING}left\b|\bfrom\s+(?:the\s+)?right\b|\b(?:to|toward|towards)\s+(?:the\s+)?left\b|\bleftward\w*\b|\bright\s+to\s+left\b"
        ),
        (-1.0, 0.0),
    ),
    (re.compile(r"\bris(?:e|es|ing)\b|\bupward\w*\b|\bascend\w*\b|\bfrom\s+(?:the\s+)?bottom\b|\bup\b"), (0.0, -1.0)),
    (
        re.compile(r"\bfall(?:s|ing)?\b|\bdownward\w*\b|\bdescend\w*\b|\bfrom\s+(?:the\s+)?top\b|\bpour\w*\b|\bdown\b"),
        (0.0, 1.0),
    ),
]
TOWARD_VIEWER = re.compile(
    r"\brolling\s+in\b|\broll\s+in\b|\bcoming\s+in\b|\btoward\w*\s+(?:the\s+)?(?:camera|viewer|shore|beach)\b|"
    r"\bonto\s+the\s+(?:shore|beach)\b"
)
"""Waves "rolling in" come toward the viewer: water then flows down the frame as well."""
_SPEEDS = [
    (re.compile(r"\b(?:very|extremely)\s+(?:slow\w*|gentl\w*|subtl\w*|soft\w*)\b|\bbarely\b|\bfaint\w*\b"), 0.4),
    (
        re.compile(
            r"\b(?:very|extremely)\s+(?:fast|quick\w*|strong\w*)\b|\bstorm\w*\b|\bgust\w*\b|\braging\b|\bturbulent\b"
        ),
        2.0,
    ),
    (
        re.compile(
            r"\bslow\w*\b|\bgentl\w*\b|\bsubtl\w*\b|\bsoft\w*\b|\bslight\w*\b|\bcalm\w*\b|\blazy\b|\blazily\b|\bdelicate\w*\b|\blight\s+breeze\b|\bbreeze\b"
        ),
        0.6,
    ),
    (
        re.compile(
            r"\bfast\b|\bquick\w*\b|\brapid\w*\b|\bstrong\w*\b|\bdramatic\w*\b|\bwild\w*\b|\bcrashing\b|\bbillowing\b|\bwindy\b"
        ),
        1.6,
    ),
]


def parse_elements(clause: str, *, motion_strength: float = 0.5) -> list[ElementMotion]:
    """The element motions named in one clause of a prompt.

    Args:
        clause: lower-case prompt clause, e.g. "waves rolling in from the right".
        motion_strength: 0..1; scales every element's speed (0.5 = normal).

    Returns:
        One :class:`ElementMotion` per element named (an element counts once);
        empty when the clause names none.
    """
    out: list[ElementMotion] = []
    seen: set[str] = set()
    direction = direction_of(clause)
    speed = _speed_of(clause) * 2.0 * float(motion_strength)
    for element, pattern, style, default_dir, region in _RULES:
        if element in seen or not re.search(pattern, clause):
            continue
        seen.add(element)
        d = default_dir
        if style in ("flow", "sway") and direction is not None:
            d = direction
        if element == "water" and style == "flow" and TOWARD_VIEWER.search(clause):
            # Waves "rolling in" come toward the viewer (down the frame) as well.
            d = _unit(d[0], d[1] + 0.6) if d != (0.0, 1.0) else d
        if element == "light" and re.search(r"\bdappled\b|\bthrough\s+(?:the\s+)?(?:leaves|trees|branches)\b", clause):
            region = "vegetation"
        out.append(ElementMotion(element, style, d, speed, clause, region))
    return out


def direction_of(clause: str) -> tuple[float, float] | None:
    """The direction a clause's words give, as a unit (x, y) in image coordinates, or None when none is said.

    >>> direction_of("clouds drifting from the left"), direction_of("steam rising"), direction_of("waves")
    ((1.0, 0.0), (0.0, -1.0), None)
    """
    for pattern, d in _DIRECTIONS:
        if pattern.search(clause):
            return d
    return None


def _speed_of(clause: str) -> float:
    for pattern, factor in _SPEEDS:
        if pattern.search(clause):
            return factor
    return 1.0


def _unit(x: float, y: float) -> tuple[float, float]:
    n = math.hypot(x, y) or 1.0
    return (x / n, y / n)


def _compass(dx: float, dy: float) -> str:
    if abs(dx) < 1e-6 and abs(dy) < 1e-6:
        return "nowhere"
    angle = math.degrees(math.atan2(-dy, dx)) % 360  # 0 = right, 90 = up
    names = [
        "the right",
        "the upper right",
        "the top",
        "the upper left",
        "the left",
        "the lower left",
        "the bottom",
        "the lower right",
    ]
    return names[int((angle + 22.5) // 45) % 8]
