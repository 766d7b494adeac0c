"""stillmotion: one still photo and a motion prompt become a short video clip.

>>> import stillmotion
>>> clip = stillmotion.animate("photo.jpg", "slow push-in toward the face")  # doctest: +SKIP

The pipeline (DESIGN.md): Load → Understand → Plan → Render → Finish.
``import stillmotion`` is cheap: the errors and ``__version__`` load with the
package; ``animate``, ``run``, ``analyze``, ``Clip``, ``Report`` and
``AnimateRequest`` load on first use (PEP 562), so numpy, OpenCV and PyAV
load only when one of them is asked for, and torch and transformers only
when a learned model is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import Canceled, EngineUnavailable, GenerationError, InputError, StillmotionError

if TYPE_CHECKING:
    from .analysis import Report
    from .api import Clip, analyze, animate, run
    from .request import AnimateRequest

__all__ = [
    "AnimateRequest",
    "Canceled",
    "Clip",
    "EngineUnavailable",
    "GenerationError",
    "InputError",
    "Report",
    "StillmotionError",
    "__version__",
    "analyze",
    "animate",
    "run",
]


def __getattr__(name: str) -> Any:
    """The heavy public names, imported on first access (PEP 562); then cached as plain globals."""
    value: Any
    if name in ("Clip", "analyze", "animate", "run"):
        from . import api

        value = getattr(api, name)
    elif name == "Report":
        from .analysis import Report as value
    elif name == "AnimateRequest":
        from .request import AnimateRequest as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
