"""Make any clip loop: crossfade, pingpong or seamless.

``crossfade``
    The last ~0.5 s fades into the first ~0.5 s; the output is shorter by the
    overlap ``K`` and plays ``f[K] … f[N−K−1]`` then ``K`` blends of
    ``f[N−K+m]`` into ``f[m]``, so the last output frame (≈ ``f[K−1]``) runs
    on into the first (``f[K]``). Streaming: holds the first ``K`` frames only.
``pingpong``
    Forward then backward without repeating the end frames: ``2N − 2`` frames.
    Needs the whole clip in memory (decoded once).
``seamless``
    Finds the loop ``[i, j)`` with ``j − i ≥ N/2`` whose end frame ``f[j]`` is
    closest to its start ``f[i]`` (mean absolute difference of small greyscale
    thumbnails: the size of the jump back; a first pass holds only the
    thumbnails), trims the clip to it
    and morphs the last few frames toward ``f[i]`` with motion-compensated
    interpolation (:class:`~stillmotion.post.interpolate.FlowPair`), so the
    jump back to the start is spread over them. Two passes over the file;
    the second holds ``f[i]`` and one other frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from .. import recipe as recipes
from ..errors import InputError
from ..video import iter_frames
from ._io import default_output, open_clip, write_clip
from .interpolate import FlowPair, thumb, thumb_diff

__all__ = ["MODES", "loop_file"]

MODES = ("crossfade", "pingpong", "seamless")


def _blend(a: np.ndarray, b: np.ndarray, w_b: float) -> np.ndarray:
    return cv2.addWeighted(a, 1.0 - w_b, b, w_b, 0.0)


def _crossfade(frames: Iterator[np.ndarray], n: int, k: int) -> Iterator[np.ndarray]:
    head: list[np.ndarray] = []
    for idx, frame in enumerate(frames):
        if idx < k:
            head.append(frame)
        elif idx < n - k:
            yield frame
        else:
            m = idx - (n - k)
            if m < len(head):
                # m = 0 is mostly the tail (continues f[N−K−1]); m = K−1 mostly f[K−1] (runs into f[K]).
                yield _blend(frame, head[m], (m + 1) / (k + 1))


def _pingpong(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    clip = list(frames)
    yield from clip
    yield from clip[-2:0:-1]


def _seamless_plan(src: Path, n: int, fps: float) -> tuple[int, int, int]:
    """First pass: choose (i, j, blend length) from greyscale thumbnails."""
    thumbs = [thumb(f) for f in iter_frames(src)]
    n = len(thumbs)
    steps = [thumb_diff(thumbs[a], thumbs[a + 1]) for a in range(n - 1)]
    typical = max(float(np.median(steps)), 1e-3)
    min_len = max(2, math.ceil(n / 2))
    best: tuple[float, int, int] | None = None
    for i in range(n):
        for j in range(i + min_len, n):
            cost = thumb_diff(thumbs[i], thumbs[j])
            # prefer longer loops slightly when costs tie
            key = cost - 1e-4 * (j - i)
            if best is None or key < best[0]:
                best = (key, i, j)
    assert best is not None
    _, i, j = best
    cost = thumb_diff(thumbs[i], thumbs[j])
    # spread the jump f[j] → f[i] so each blended step is about one typical step
    blend = math.ceil(1.5 * cost / typical)
    blend = max(2, min(blend, round(fps), (2 * (j - i)) // 3))
    return i, j, blend


def _seamless(src: Path, i: int, j: int, blend: int) -> Iterator[np.ndarray]:
    start: np.ndarray | None = None
    for idx, frame in enumerate(iter_frames(src)):
        if idx < i:
            continue
        if idx >= j:
            break
        if idx == i:
            start = frame
        assert start is not None
        m = idx - (j - blend)  # 0 … blend−1 in the tail
        if m < 0:
            yield frame
        else:
            yield FlowPair(frame, start).at((m + 1) / (blend + 1))


def loop_file(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    mode: str = "seamless",
) -> Path:
    """Make a clip loop.

    Args:
        src: the input clip.
        out: the output ``.mp4``; default ``SRC-loop.mp4`` next to ``src``
            (never overwriting).
        mode: ``"crossfade"`` (streams, holds ~0.5 s), ``"pingpong"`` (holds the
            whole clip in memory) or ``"seamless"`` (two passes over the file,
            holds thumbnails then two frames); see the module docstring.

    Returns:
        The output path; the recipe carries ``{"step": "loop", "mode", …}``.

    Raises:
        InputError: a missing or unreadable clip, an unknown mode, or a clip too
            short to loop (one line).
        GenerationError: decoding or encoding failed (no partial file is left).
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    info, frames = open_clip(src)
    src_path = Path(src).expanduser()
    n, fps = int(info["frame_count"]), float(info["fps"])
    w, h = int(info["width"]), int(info["height"])
    if n < 4:
        frames.close()
        raise InputError(f"'{src_path}' has {n} frames; a loop needs at least 4")
    if (w % 2) or (h % 2):
        frames.close()
        raise InputError(f"'{src_path}' is {w}×{h}; loops need an even frame size")
    path = Path(out).expanduser() if out is not None else default_output(src_path, "loop")
    step: dict = {"step": "loop", "mode": mode, "source_frames": n}
    if mode == "crossfade":
        k = max(1, min(round(0.5 * fps), n // 3))
        step.update(overlap_frames=k, frames=n - k)
        stream: Iterator[np.ndarray] = _crossfade(frames, n, k)
    elif mode == "pingpong":
        step.update(frames=2 * n - 2)
        stream = _pingpong(frames)
    else:
        frames.close()
        i, j, blend = _seamless_plan(src_path, n, fps)
        step.update(
            start=i,
            end=j,
            blend_frames=blend,
            frames=j - i,
            method="best loop point, DIS optical flow morph toward the start",
        )
        stream = _seamless(src_path, i, j, blend)
    return write_clip(path, stream, w, h, fps, recipes.read(src_path, metadata=info.get("metadata")), step)
