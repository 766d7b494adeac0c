"""Render: engines turn a :class:`~.base.RenderJob` (a Scene, a size, a MotionPlan or the raw
prompt, options) into frames.

- :mod:`.base`: the contract every engine meets (``Engine.prepare(job) -> Shot``) and the
  :class:`~.base.EngineSpec` / :class:`~.base.Availability` that describe it;
- :mod:`.registry`: the table of engines by name (:data:`~.registry.ENGINES`,
  :func:`~.registry.get_engine`, :func:`~.registry.engine_rows`);
- one folder per family: ``living/`` (built in, CPU) and ``diffusion/`` (diffusers models).
"""

from .base import Availability, Engine, EngineSpec, RenderHooks, RenderJob, Shot
from .registry import ENGINES, engine_rows, get_engine

__all__ = [
    "Availability",
    "ENGINES",
    "Engine",
    "EngineSpec",
    "RenderHooks",
    "RenderJob",
    "Shot",
    "engine_rows",
    "get_engine",
]
