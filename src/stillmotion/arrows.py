"""Motion-brush arrows: "the point X1,Y1 moves to X2,Y2 in one second", in photo pixels.

The ``--arrow X1,Y1,X2,Y2[:SPEED]`` option (repeatable) of the motion brush,
as in Motionleap's displacement arrows (notes/living-photo.md §1.1). This
module only reads and checks arrows; the living engine densifies them into
a flow field (:func:`stillmotion.engines.living.brush.arrows_to_flow`).

>>> parse_arrow("100,200,160,200:1.5").velocity()
(90.0, 0.0)
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from .errors import InputError

__all__ = ["Arrow", "MAX_SPEED", "parse_arrow"]

MAX_SPEED = 10.0
"""Largest arrow speed multiplier."""

_ARROW_FORM = "X1,Y1,X2,Y2[:SPEED]"
_ARROW_EXAMPLE = "write it like 100,200,160,200 or 100,200,160,200:1.5 (photo pixels)"
_NUM = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_ARROW_RE = re.compile(rf"^{_NUM},{_NUM},{_NUM},{_NUM}(?::{_NUM})?$")


@dataclass(frozen=True)
class Arrow:
    """One motion-brush arrow, in photo pixels (after EXIF orientation).

    The point (x1, y1) moves towards (x2, y2): the arrow's length is the
    displacement per second, times ``speed``.

    Attributes:
        x1, y1: Start, photo pixels (pixel centres at integers).
        x2, y2: End, photo pixels; differs from the start.
        speed: Multiplier of the arrow's length per second, in (0, 10].

    Raises:
        InputError: zero length, a coordinate that is not finite, or a speed
            outside (0, 10].

    >>> Arrow(100, 200, 160, 200).velocity(scale=0.5)
    (30.0, 0.0)
    """

    x1: float
    y1: float
    x2: float
    y2: float
    speed: float = 1.0

    def __post_init__(self) -> None:
        _check_arrow(self.x1, self.y1, self.x2, self.y2, self.speed, shown=None)

    @property
    def text(self) -> str:
        """The arrow as the CLI writes it, ``"X1,Y1,X2,Y2"`` or ``"X1,Y1,X2,Y2:SPEED"``."""
        return _arrow_text(self.x1, self.y1, self.x2, self.y2, self.speed)

    def velocity(self, scale: float = 1.0) -> tuple[float, float]:
        """(dx, dy) in grid pixels per second, for a grid of ``scale`` grid pixels per photo pixel."""
        k = self.speed * scale
        return float((self.x2 - self.x1) * k), float((self.y2 - self.y1) * k)


def parse_arrow(text: str) -> Arrow:
    """Parse ``"X1,Y1,X2,Y2"`` or ``"X1,Y1,X2,Y2:SPEED"`` (photo pixels) into an :class:`Arrow`.

    Raises:
        InputError: not four numbers with an optional ``:SPEED``, zero
            length, or a speed outside (0, 10]; one line naming ``--arrow``.

    >>> parse_arrow("100,200,160,200:1.5")
    Arrow(x1=100.0, y1=200.0, x2=160.0, y2=200.0, speed=1.5)
    """
    m = _ARROW_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise InputError(f"--arrow {text!r} is not {_ARROW_FORM}: {_ARROW_EXAMPLE}")
    x1, y1, x2, y2 = (float(g) for g in m.groups()[:4])
    speed = 1.0 if m.group(5) is None else float(m.group(5))
    _check_arrow(x1, y1, x2, y2, speed, shown=text)
    return Arrow(x1, y1, x2, y2, speed)


def _check_arrow(x1: float, y1: float, x2: float, y2: float, speed: float, *, shown: str | None) -> None:
    """Raise the one-line InputError for a bad arrow; ``shown`` is the user's text, if any."""
    values = (x1, y1, x2, y2, speed)
    if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in values):
        raise InputError(
            f"--arrow {shown or values!r}: every coordinate and the speed must be finite numbers; {_ARROW_EXAMPLE}"
        )
    shown = _arrow_text(x1, y1, x2, y2, speed) if shown is None else shown
    if x1 == x2 and y1 == y2:
        raise InputError(
            f"--arrow {shown!r} has zero length: make the end point differ from the start "
            "(the arrow's length is how far that point moves in one second)"
        )
    if not 0 < speed <= MAX_SPEED:
        raise InputError(
            f"--arrow {shown!r} has speed {speed:g}: use a speed above 0 and at most {MAX_SPEED:g} "
            "(1 = the arrow's length per second)"
        )


def _arrow_text(x1: float, y1: float, x2: float, y2: float, speed: float) -> str:
    xy = f"{x1:g},{y1:g},{x2:g},{y2:g}"
    return xy if speed == 1 else f"{xy}:{speed:g}"
