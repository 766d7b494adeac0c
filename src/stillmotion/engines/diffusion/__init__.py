"""Diffusion engines: the open image-to-video models through Hugging Face diffusers.

One module per family (``wan``, ``ltx``, ``cogvideox``, ``hunyuan``,
``hunyuan15``, ``svd``, ``skyreels``, ``framepack``, ``legacy``, ``sana_video``,
``kandinsky5``, ``cosmos``, ``motif``, ``ltx2``); each declares ``CARDS`` (its
:class:`~.common.ModelCard` list) and ``call_kwargs(card, generation) ->
(kwargs, ignored)``, optionally ``prepare_pipeline(pipe)``,
``weights_hint(card)`` and, for a model that makes sound,
``audio_track(pipe, output)``. They share only :mod:`.common`. :func:`specs`
turns every card into an :class:`~stillmotion.engines.base.EngineSpec` for the
registry. Importing this package imports neither torch nor diffusers.
"""

from __future__ import annotations

import importlib
from functools import partial
from types import ModuleType

from ..base import EngineSpec
from .common import DiffusionEngine, DiffusionOptions, ModelCard, availability
from .refine import ROUTES as REFINE_ROUTES

__all__ = ["FAMILIES", "cards", "specs"]

FAMILIES = (
    "wan",
    "ltx",
    "cogvideox",
    "hunyuan",
    "hunyuan15",
    "svd",
    "skyreels",
    "framepack",
    "legacy",
    "sana_video",
    "kandinsky5",
    "cosmos",
    "motif",
    "ltx2",
)


def cards() -> list[tuple[ModelCard, ModuleType]]:
    """(card, family module) for every family module present, in FAMILIES order."""
    out: list[tuple[ModelCard, ModuleType]] = []
    for fam in FAMILIES:
        try:
            mod = importlib.import_module(f"{__name__}.{fam}")
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{fam}":
                continue  # family not written yet
            raise
        out.extend((card, mod) for card in mod.CARDS)
    return out


def _rule(frame_rule: tuple[int, int]) -> str:
    """A frame rule in words: (4, 1) → ``4n+1``; (1, 0) → ``any count``."""
    k, r = frame_rule
    return "any count" if k == 1 else f"{k}n+{r}" if r else f"{k}n"


def specs() -> list[EngineSpec]:
    """One :class:`EngineSpec` per model card, in FAMILIES order."""
    out: list[EngineSpec] = []
    for card, module in cards():
        vram = ", ".join(f"{k} {v:g} GB" for k, v in card.vram_gb.items())
        out.append(
            EngineSpec(
                name=card.name,
                family=card.family,
                summary=f"{card.pipeline} ({card.repo_id}), {card.native_size[0]}×{card.native_size[1]}, "
                f"{card.fps:g} fps, ≤{card.max_frames} frames ({_rule(card.frame_rule)})"
                + (" — deprecated in diffusers" if card.deprecated else "")
                + (f"; {card.notes}" if card.notes else "")
                + (f"; refines living drafts (--refine {card.name})" if card.name in REFINE_ROUTES else ""),
                runs_on="gpu",
                takes_plan=False,  # the model reads the prompt text itself
                camera_control=False,
                loop=False,
                end_frame=card.end_frame,
                audio=card.audio,
                max_duration_s=card.max_frames / card.fps,
                needs=f"GPU (VRAM ≈ {vram}), torch + diffusers, weights",
                licence=f"{card.licence} (commercial: {card.commercial})",
                factory=partial(DiffusionEngine, card, module),
                options=DiffusionOptions.from_request,
                check=partial(availability, card, module),
                native_size=card.native_size,
                size_multiple=card.multiple,
                native_fps=card.fps,
                refine=card.name in REFINE_ROUTES,
            )
        )
    return out
