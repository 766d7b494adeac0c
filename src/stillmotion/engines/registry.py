"""Engine registry: a name → an :class:`~.base.EngineSpec` (capabilities, licence, availability).

``stillmotion engines`` (and ``--json``), the studio's engine picker
(``GET /v1/engines``) and :func:`stillmotion.api.run` all read this table:
:func:`engine_rows` for the listings, :func:`get_engine` to run one. Each
family contributes its specs in one place below; the contract the engines
meet is :mod:`stillmotion.engines.base`.
"""

from __future__ import annotations

from typing import Any

from ..errors import EngineUnavailable, InputError
from .base import Availability, Engine, EngineSpec
from .diffusion import specs as diffusion_specs
from .hosted import dynamic_spec as hosted_dynamic_spec
from .hosted import specs as hosted_specs

__all__ = ["ENGINES", "EngineSpec", "engine_rows", "find_spec", "get_engine"]


def _living() -> Engine:
    from .living import LivingEngine

    return LivingEngine()


def _living_ready() -> Availability:
    return Availability("ready", "runs on this CPU, offline (numpy, OpenCV; no weights)")


_LIVING = EngineSpec(
    name="living",
    family="living",
    summary="built-in CPU engine: depth-aware camera moves with parallax, offline, no download",
    runs_on="cpu",
    takes_plan=True,
    camera_control=True,
    loop=True,
    end_frame=False,
    max_duration_s=30.0,
    needs="nothing (numpy, OpenCV)",
    licence="Apache-2.0 (no weights)",
    factory=_living,
    check=_living_ready,
)

ENGINES: dict[str, EngineSpec] = {spec.name: spec for spec in [_LIVING, *diffusion_specs(), *hosted_specs()]}
"""Every engine by name, in table order: the built-in living engine, then each family's ``specs()``
(a new family adds its own to this line)."""


def find_spec(name: str) -> EngineSpec | None:
    """The spec for ``name`` or one of its aliases (any letter case: ``kling-v2.1`` or ``Kling v2.1``,
    or ``replicate:OWNER/NAME``), or None; checks nothing."""
    key = name.strip().lower()
    return (
        ENGINES.get(key)
        or next((s for s in ENGINES.values() if key in s.aliases), None)
        or hosted_dynamic_spec(key)  # replicate:OWNER/NAME, any model on Replicate
    )


def get_engine(name: str) -> tuple[EngineSpec, Engine]:
    """The spec and a fresh engine object for ``name`` (see :func:`find_spec`).

    Raises:
        InputError: no engine has that name.
        EngineUnavailable: the engine exists but cannot run here (a package or a
            token is missing; the message gives the reason and the fix).
    """
    spec = find_spec(name)
    if spec is None:
        raise InputError(
            f"--engine {name!r} is unknown: use one of {', '.join(sorted(ENGINES))} (see `stillmotion engines`)"
        )
    verdict = spec.availability()
    if not verdict.runnable:
        raise EngineUnavailable(f"engine {spec.name!r} cannot run here: {verdict.reason}; {verdict.fix}")
    return spec, spec.factory()


def engine_rows() -> list[dict[str, Any]]:
    """Every engine as a JSON-ready row, in table order: ``name``, ``family``, ``summary``,
    ``runs_on``, ``takes_plan``, ``capabilities`` (see :meth:`EngineSpec.capabilities`),
    ``needs``, ``licence``, ``availability`` (see :meth:`Availability.to_dict`), checked now,
    and from that verdict ``ready`` (True only for ``ready``) and ``reason`` (None when ready,
    else "reason; fix"): the one shape of ``stillmotion engines --json``, ``GET /v1/engines``
    and the engines of ``GET /v1/options``."""
    rows = []
    for spec in ENGINES.values():
        verdict = spec.availability()
        ready = verdict.state == "ready"
        rows.append(
            {
                "name": spec.name,
                "family": spec.family,
                "summary": spec.summary,
                "runs_on": spec.runs_on,
                "takes_plan": spec.takes_plan,
                "capabilities": spec.capabilities(),
                "needs": spec.needs,
                "licence": spec.licence,
                "availability": verdict.to_dict(),
                "ready": ready,
                "reason": None if ready else f"{verdict.reason}; {verdict.fix}",
            }
        )
    return rows
