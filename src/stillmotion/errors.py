"""The stillmotion exception tree.

Every error a user can cause or fix is a :class:`StillmotionError`; its
message names the argument or resource and the fix, in one line. The CLI
prints that line (no traceback) and exits with the class's ``exit_code``::

    StillmotionError            exit 1
    ├── InputError              exit 2  bad photo, parameter or output path
    ├── EngineUnavailable       exit 3  missing package, weights or GPU
    ├── GenerationError         exit 1  the engine failed while rendering
    └── Canceled                exit 130  stopped by the user or a should_stop() callback
"""

from __future__ import annotations

__all__ = ["Canceled", "EngineUnavailable", "GenerationError", "InputError", "StillmotionError"]


class StillmotionError(Exception):
    """Base of every stillmotion error; ``str(err)`` is one line for the user."""

    exit_code: int = 1


class InputError(StillmotionError, ValueError):
    """A bad photo, parameter or output path (CLI exit code 2)."""

    exit_code = 2


class EngineUnavailable(StillmotionError):
    """The engine cannot run here: a package, weights or a GPU is missing (exit code 3)."""

    exit_code = 3


class GenerationError(StillmotionError):
    """The engine failed while rendering or encoding (exit code 1)."""

    exit_code = 1


class Canceled(StillmotionError):
    """The run was stopped by the user or a ``should_stop()`` callback (exit code 130)."""

    exit_code = 130
