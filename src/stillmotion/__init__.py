"""stillmotion: one still photo and a motion prompt become a short video clip.

>>> import stillmotion
>>> clip = stillmotion.animate("photo.jpg", "slow push-in toward the face")  # doctest: +SKIP

The pipeline (DESIGN.md): Load → Understand → Plan → Render → Finish.
``import stillmotion`` is cheap: torch and transformers load only when a
learned depth model is asked for.
"""

from ._version import __version__
from .analysis import Report
from .api import Clip, analyze, animate, run
from .errors import Canceled, EngineUnavailable, GenerationError, InputError, StillmotionError
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
