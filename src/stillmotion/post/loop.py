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
    Keeps all ``N`` frames and the clip's own speed. Around the wrap (the last
    ``K`` and the first ``K`` frames) each frame ``f[t]`` is crossfaded with the
    frame half a clip away, ``f[(t + N/2) mod N]``, whose motion runs on across
    the wrap; the weight of ``f[t]`` falls linearly to ≈ 0 at the wrap, so the
    last frame runs into the first like any other step, and ``f[K] … f[N−K−1]``
    are untouched. This is the crossfaded transition of video textures
    (Schödl et al., "Video Textures", SIGGRAPH 2000) with the clip itself
    shifted by half its length as the other sequence: no single cut can close
    a camera move that never returns, so the jump is spread into a dissolve
    (both layers keep moving; the cost is a double image while they mix). ``K``
    is the smallest window (from ¼ s up to ``N/3``) whose seam — the ratio
    :func:`stillmotion.evaluate.evaluate_clip` reports as ``loop_seam``, last →
    first frame difference over the median neighbouring-frame difference,
    taken here on greyscale copies 320 px wide — is at most 1 and whose largest step
    is at most 1.3 median steps (else ``N/3``). Three passes over the file;
    holds thumbnails, then ``2K`` frames (at most ``2N/3``).

Every mode is written at the input's CRF − 6 (:func:`~._io.finer_crf`) with
:func:`loop_x264_params`: a keyframe 2.5× finer than the other frames and the
last ½ s getting finer up to 4×, so that H.264 adds no pop of its own at the
wrap (the first frame is a keyframe, the last a P-frame whose noise does not
match it); see :data:`LOOP_X264` and :data:`WRAP_FINER`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from .. import recipe as recipes
from ..errors import InputError
from ..video import iter_frames
from ._io import default_output, finer_crf, open_clip, write_clip
from .interpolate import thumb, thumb_diff

__all__ = ["MODES", "loop_file"]

MODES = ("crossfade", "pingpong", "seamless")

LOOP_X264 = "ipratio=2.5:pbratio=1:mbtree=0:aq-mode=0"
"""x264 settings for a loop: P and B frames at one quantiser, the first frame (the keyframe) 2.5×
finer, no macroblock-tree or adaptive quantisation. With :data:`WRAP_FINER` on the last frames this
keeps H.264 from popping at the wrap: slow 24 fps living clips step 0.3–4 grey levels a frame, at
or below the codec's noise, and the keyframe's noise and the last P-frame's (whose skipped blocks
still carry what earlier frames left) do not match, so the file's last → first difference grew by
up to 0.3 grey levels over the frames' own. A fine keyframe and fine last frames shrink both."""

WRAP_FINER = 4.0
"""How much finer (x264 rate factor, ``zones=…,b=``) the last frame of a loop is coded. The frames
of the last ½ s get finer frame by frame, geometrically from 1 to this (a jump in quality pops
where it starts: every block left stale is refreshed at once). With :data:`LOOP_X264` and the
CRF of :func:`~._io.finer_crf`, the seam in the file of six slow 24 fps living loops fell from
1.01–1.61 to 0.90–1.06 typical steps for 1.2–1.7× the file size (BENCHMARKS.md, "Seamless
loops")."""


def loop_x264_params(frames: int, fps: float) -> str:
    """The ``x264-params`` for a loop of ``frames`` frames at ``fps``: :data:`LOOP_X264`, plus one
    zone a frame over the last ``round(fps/2)`` frames (at most ``frames/3``, at least one) whose
    rate factor grows geometrically to :data:`WRAP_FINER`."""
    ramp = max(1, min(round(fps / 2), frames // 3))
    zones = "/".join(
        f"{t},{t},b={WRAP_FINER ** ((i + 1) / ramp):.3g}" for i, t in enumerate(range(frames - ramp, frames))
    )
    return f"{LOOP_X264}:zones={zones}"


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


def _self_crossfade(frames: list[np.ndarray], k: int) -> list[np.ndarray]:
    """The seamless loop of the whole clip ``frames`` (float32 thumbnails) with window ``k`` (for planning)."""
    n = len(frames)
    return [_mix(frames[t], frames[(t + n // 2) % n], _own_weight(t, n, k)) for t in range(n)]


def _own_weight(t: int, n: int, k: int) -> float:
    """Weight of ``f[t]`` in output frame ``t``: 1 outside the wrap window, ``(d + ½)/k`` at ``d`` frames from it."""
    d = t if t < k else (n - 1 - t if t >= n - k else k)
    return min(1.0, (d + 0.5) / k)


def _mix(a: np.ndarray, b: np.ndarray, w_a: float) -> np.ndarray:
    if w_a >= 1.0:
        return a
    if a.dtype == np.uint8:
        return _blend(b, a, w_a)
    return w_a * a + (1.0 - w_a) * b


PLAN_WIDTH = 320
"""The seamless window is planned on greyscale copies this wide: the size
:func:`stillmotion.evaluate.evaluate_clip` measures ``loop_seam`` at (at 64 px a
256×170 china pan planned a seam of 0.97 that measured 1.22 in its frames)."""


def _seamless_plan(src: Path, fps: float) -> tuple[int, int, float, float]:
    """First pass: the decoded frame count ``N``, the window ``K``, and the seam and largest step it gives.

    Seam and step are in median steps of the loop, measured on thumbnails before encoding.
    """
    thumbs = [thumb(f, PLAN_WIDTH) for f in iter_frames(src)]
    n = len(thumbs)
    k_max = max(1, n // 3)
    best: tuple[int, int, float, float] | None = None
    for k in range(min(k_max, max(1, round(fps / 4))), k_max + 1):
        out = _self_crossfade(thumbs, k)
        out_steps = [thumb_diff(out[a], out[a + 1]) for a in range(n - 1)]
        med = max(float(np.median(out_steps)), 1e-3)
        best = (n, k, thumb_diff(out[-1], out[0]) / med, max(out_steps) / med)
        if best[2] <= 1.0 and best[3] <= 1.3:
            break
    assert best is not None
    return best


def _seamless(src: Path, n: int, k: int) -> Iterator[np.ndarray]:
    """Second and third passes: hold ``f[N/2 … N/2+K)`` (the head's partners), then stream, keeping the tail's."""
    half = n // 2
    head_partners: list[np.ndarray] = []
    for idx, frame in enumerate(iter_frames(src)):
        if idx >= half + k:
            break
        if idx >= half:
            head_partners.append(frame)
    tail_partners: list[np.ndarray] = []
    for t, frame in enumerate(iter_frames(src)):
        if t >= n:
            break
        if half - k <= t < half:
            tail_partners.append(frame)
        if t < k:
            partner = head_partners[t]
        elif t >= n - k:
            partner = tail_partners[t - (n - k)]
        else:
            yield frame
            continue
        yield _mix(frame, partner, _own_weight(t, n, k))


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
            whole clip in memory) or ``"seamless"`` (keeps every frame; three
            passes over the file, holds thumbnails then ``2K`` ≤ ``2N/3`` frames); see the
            module docstring.

    Returns:
        The output path; the recipe carries ``{"step": "loop", "mode", "frames", …}``;
        ``seamless`` adds ``blend_frames`` (``2K``), ``offset_frames`` (``N/2``) and
        ``planned_seam`` / ``planned_max_step`` (in median steps, on thumbnails before encoding).

    Raises:
        InputError: a missing or unreadable clip, an unknown mode, or a clip too
            short to loop (one line).
        GenerationError: decoding or encoding failed (no partial file is left).

    Example:
        >>> loop_file("clip.mp4", mode="seamless")  # doctest: +SKIP
        PosixPath('clip-loop.mp4')
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
        n, k, seam, max_step = _seamless_plan(src_path, fps)
        step.update(
            frames=n,
            blend_frames=2 * k,
            offset_frames=n // 2,
            planned_seam=round(seam, 3),
            planned_max_step=round(max_step, 3),
            method="self-crossfade around the wrap with the clip shifted by half its length (length kept)",
        )
        stream = _seamless(src_path, n, k)
    return write_clip(
        path,
        stream,
        w,
        h,
        fps,
        recipes.read(src_path, metadata=info.get("metadata")),
        step,
        crf=finer_crf(src_path),
        x264_params=loop_x264_params(int(step["frames"]), fps),
    )
