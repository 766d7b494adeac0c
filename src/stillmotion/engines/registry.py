"""Engine registry: a name → an :class:`EngineSpec` with capabilities and an availability check.

``stillmotion engines`` prints this table; :func:`get_engine` is how the
pipeline finds an engine and fails with the reason when it cannot run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import EngineUnavailable, InputError

__all__ = ["ENGINES", "EngineSpec", "get_engine"]


@dataclass(frozen=True)
class EngineSpec:
    """What an engine is, can do and needs.

    Attributes:
        name: the engine's name (a contract: ``--engine NAME``).
        family: ``living`` (built in) or a model family.
        summary: one line for the table.
        camera_control: takes explicit camera moves from the prompt.
        loop: can make seamless loops.
        end_frame: takes a last image.
        max_duration_s: longest clip, seconds.
        needs: packages, weights or hardware, in words.
        licence: licence of the engine's weights ("n/a" when none).
        factory: builds the engine object.
        check: returns None when the engine can run here, else the reason.
    """

    name: str
    family: str
    summary: str
    camera_control: bool
    loop: bool
    end_frame: bool
    max_duration_s: float
    needs: str
    licence: str
    factory: Callable[[], object]
    check: Callable[[], str | None] = field(default=lambda: None)

    def available(self) -> tuple[bool, str]:
        """(True, "ready") or (False, the reason and the fix)."""
        reason = self.check()
        return (reason is None, reason or "ready")


def _living():
    from .living import LivingEngine

    return LivingEngine()


ENGINES: dict[str, EngineSpec] = {
    "living": EngineSpec(
        name="living",
        family="living",
        summary="built-in CPU engine: depth-aware camera moves with parallax, offline, no download",
        camera_control=True,
        loop=True,
        end_frame=False,
        max_duration_s=30.0,
        needs="nothing (numpy, OpenCV)",
        licence="Apache-2.0 (no weights)",
        factory=_living,
    ),
}


def _diffusion_specs() -> dict[str, EngineSpec]:
    from .diffusion import cards
    from .diffusion.common import DiffusionEngine, diffusion_status

    specs = {}
    for card, module in cards():
        vram = ", ".join(f"{k} {v:g} GB" for k, v in card.vram_gb.items())
        specs[card.name] = EngineSpec(
            name=card.name,
            family=card.family,
            summary=f"{card.pipeline} ({card.repo_id}), {card.native_size[0]}×{card.native_size[1]}, "
                    f"{card.fps:g} fps, ≤{card.max_frames} frames" + (" — deprecated in diffusers" if card.deprecated else "")
                    + (f"; {card.notes}" if card.notes else ""),
            camera_control=False,
            loop=False,
            end_frame=card.end_frame,
            max_duration_s=card.max_frames / card.fps,
            needs=f"GPU (VRAM ≈ {vram}), torch + diffusers, weights",
            licence=f"{card.licence} (commercial: {card.commercial})",
            factory=lambda c=card, m=module: DiffusionEngine(c, m),
            check=diffusion_status,
        )
    return specs


ENGINES.update(_diffusion_specs())


def get_engine(name: str) -> tuple[EngineSpec, object]:
    """The spec and a ready engine object for ``name``.

    Raises:
        InputError: no engine has that name.
        EngineUnavailable: the engine exists but cannot run here (the reason says why).
    """
    spec = ENGINES.get(name)
    if spec is None:
        raise InputError(f"--engine {name!r} is unknown: use one of {', '.join(sorted(ENGINES))} (see `stillmotion engines`)")
    ok, reason = spec.available()
    if not ok:
        raise EngineUnavailable(f"engine {name!r} cannot run here: {reason}")
    return spec, spec.factory()
