"""Shared helpers of the finishing steps: open a clip, carry its recipe, write the result.

Every finishing step reads a clip with :func:`open_clip`, takes the recipe the
clip carries with :func:`source_recipe` (see :mod:`stillmotion.recipe`), and
writes its output with :func:`write_clip`, which appends the step to
``recipe["finish"]``, stores the recipe in the MP4 tags (``title`` and
``comment``, :func:`stillmotion.recipe.embed`, as :func:`stillmotion.animate`
does) and in a ``.json`` sidecar, both atomically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .. import recipe as recipes
from .._atomic import write_json_atomic
from ..errors import InputError, StillmotionError
from ..video import DEFAULT_CRF, DEFAULT_PRESET, VideoWriter, iter_frames, iter_frames_yuv420, probe

__all__ = ["default_output", "one_line", "open_clip", "source_recipe", "write_clip"]


def one_line(err: BaseException) -> str:
    """An exception's message on one line (whitespace collapsed), or its type name when empty."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


def open_clip(
    path: str | os.PathLike[str], *, planes: bool = False
) -> tuple[dict[str, Any], Generator[Any, None, None]]:
    """Probe ``path`` and return ``(info, frames)``.

    Args:
        path: a video file PyAV can read.
        planes: yield BT.709 limited-range 4:2:0 planes ``(y, cbcr)``
            (:func:`stillmotion.video.iter_frames_yuv420`: a yuv420p BT.709 stream's
            own samples, no colour conversion) instead of RGB frames.

    Returns:
        ``info``: :func:`stillmotion.video.probe`'s dict (``width``, ``height``,
        ``fps``, ``frame_count``, ``metadata``…); ``frames``: a lazy iterator of
        uint8 H×W×3 RGB frames (one decoded frame in memory at a time; ``close()`` it when unused).

    Raises:
        InputError: the file is missing, not a video, unreadable, or has no frames (one line).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"'{p}' does not exist; check the path of the clip")
    if not p.is_file():
        raise InputError(f"'{p}' is not a file; give a video file such as clip.mp4")
    try:
        info = probe(p)
    except StillmotionError as err:
        raise InputError(f"'{p}' is not a video PyAV can read: {one_line(err)}") from err
    except Exception as err:  # PyAV raises several kinds on garbage input
        raise InputError(f"'{p}' is not a video PyAV can read: {one_line(err)}") from err
    if not info.get("width") or not info.get("height"):
        raise InputError(f"'{p}' is not a video PyAV can read: the video stream has no frame size")
    if not info.get("fps") or info["fps"] <= 0:
        raise InputError(f"'{p}' is not a video PyAV can read: the stream has no frame rate")
    if not info.get("frame_count"):
        raise InputError(f"'{p}' is not a video PyAV can read: it has no frames")
    return info, iter_frames_yuv420(p) if planes else iter_frames(p)


def source_recipe(src: str | os.PathLike[str], info: dict[str, Any]) -> dict[str, Any]:
    """The recipe the clip ``src`` carries (its tags, else its sidecar), as a new dict.

    Args:
        src: the clip a step reads.
        info: :func:`open_clip`'s dict for it (its ``metadata`` are the tags).

    Returns:
        The recipe, or ``{"source": {"path": src}}`` when the clip carries none,
        so an output made from a foreign clip still says where it came from.
    """
    recipe = recipes.read(src, metadata=info.get("metadata"))
    return recipe if recipe else {"source": {"path": str(src)}}


def default_output(src: str | os.PathLike[str], suffix: str, ext: str = ".mp4") -> Path:
    """``SRC_STEM-suffix.ext`` next to ``src``; never an existing file (adds ``-2``, ``-3``…)."""
    src = Path(src).expanduser()
    if ext and not ext.startswith("."):
        ext = "." + ext
    base = f"{src.stem}-{suffix}" if suffix else src.stem
    candidate = src.with_name(base + ext)
    n = 2
    while candidate.exists():
        candidate = src.with_name(f"{base}-{n}{ext}")
        n += 1
    return candidate


def write_clip(
    path: str | os.PathLike[str],
    frames_iter: Iterable[np.ndarray],
    width: int,
    height: int,
    fps: float,
    recipe: dict[str, Any],
    step: dict[str, Any],
    preset: str = DEFAULT_PRESET,
    crf: int = DEFAULT_CRF,
    x264_params: str | None = None,
) -> Path:
    """Encode ``frames_iter`` into ``path`` (atomically) with the recipe plus ``step``.

    The recipe gets ``recipe["finish"] = recipe.get("finish", []) + [step]``;
    the MP4 tags are ``title`` (the recipe's prompt) and ``comment`` (the recipe
    as JSON); the recipe also goes to ``path.with_suffix(".json")``.

    Args:
        path: the output ``.mp4``; its folder must exist.
        frames_iter: uint8 H×W×3 RGB frames of size ``width``×``height``, or
            4:2:0 planes ``(y, cbcr)`` (:meth:`~stillmotion.video.VideoWriter.write_yuv420`).
        width, height: even frame size in pixels.
        fps: output frame rate.
        recipe: the input's recipe (not modified).
        preset: libx264 preset (large outputs, such as upscales, use a faster one).
        step: this finishing step's description.
        x264_params: extra libx264 settings (``key=value:…``), or None.
        crf: libx264 constant rate factor, 0–51 (lower = better; steps that must
            not lose the input's quality, such as interpolation, pass a lower one).

    Returns:
        The final path.

    Raises:
        InputError: bad size/fps or output folder.
        GenerationError: encoding failed (no partial file is left).
    """
    recipe = dict(recipe)
    recipe["finish"] = list(recipe.get("finish") or []) + [step]
    writer = VideoWriter(path, width, height, fps, preset=preset, crf=crf, x264_params=x264_params)
    try:
        for frame in frames_iter:
            if isinstance(frame, tuple):
                writer.write_yuv420(*frame)
            else:
                writer.write(frame)
        out = writer.close(metadata=recipes.embed(recipe))
    except BaseException:
        writer.abort()
        raise
    write_json_atomic(recipes.sidecar_path(out), recipe)
    return out


CRF_MARGIN = 6
"""A finishing step re-encodes at the input's CRF minus this: about half the quantiser step, so the
frames it keeps barely change (issue 18: interpolation's kept frames 40.2 → 43.1 dB)."""
_X264_CRF = re.compile(rb"x264 - core .{0,2000}?crf=([0-9]+(?:\.[0-9]+)?)", re.DOTALL)


def input_crf(path: str | os.PathLike[str], limit: int = 4 << 20) -> float | None:
    """The constant rate factor the clip at ``path`` was encoded with, if x264 wrote it.

    x264 stores its settings as text (``x264 - core … crf=18.0 …``) in an SEI
    message of the first frame; the first ``limit`` bytes of the file are searched.

    Returns:
        The CRF (0–51), or None for other encoders, bitrate-controlled x264, or
        an unreadable file.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(limit)
    except OSError:
        return None
    m = _X264_CRF.search(head)
    if m is None:
        return None
    crf = float(m.group(1))
    return crf if 0.0 <= crf <= 51.0 else None


def finer_crf(path: str | os.PathLike[str]) -> int:
    """The CRF for re-encoding the clip at ``path``: its own minus :data:`CRF_MARGIN` (the default's
    when unknown), at least 0."""
    src_crf = input_crf(path)
    return max(0, round(DEFAULT_CRF if src_crf is None else src_crf) - CRF_MARGIN)
