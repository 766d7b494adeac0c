"""Diffusion engines: the open image-to-video models through Hugging Face diffusers.

One module per family (``wan``, ``ltx``, ``cogvideox``, ``hunyuan``, ``svd``,
``skyreels``, ``framepack``, ``legacy``); each declares ``CARDS`` (its
:class:`~.common.ModelCard` list) and ``call_kwargs(card, job)``. They share
only :mod:`.common`. Importing this package imports neither torch nor
diffusers.
"""

from __future__ import annotations

import importlib

__all__ = ["FAMILIES", "cards"]

FAMILIES = ("wan", "ltx", "cogvideox", "hunyuan", "svd", "skyreels", "framepack", "legacy")


def cards():
    """(card, family module) for every family module present, in FAMILIES order."""
    out = []
    for fam in FAMILIES:
        try:
            mod = importlib.import_module(f"{__name__}.{fam}")
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{fam}":
                continue  # family not written yet
            raise
        out.extend((card, mod) for card in mod.CARDS)
    return out
