"""Join clips of any sizes, frame rates and lengths into one, keeping each part's recipe.

Normalisation (to the *first* clip)
    Size: every other clip is scaled to **cover** the first clip's frame
    (uniform scale, no stretching) and centre-cropped — no black bars, at the
    cost of trimming the edges of a clip with another aspect ratio. Lanczos
    when enlarging, area averaging when shrinking.
    Frame rate: frames are resampled by timestamp to the first clip's fps
    (output frame *j* shows the source frame on screen at the middle of its
    interval, ``floor((j + ½) · fps_src / fps_out)``): frames are repeated or
    dropped, never blended, so motion stays sharp; a clip keeps its duration
    (``round(n · fps_out / fps_src)`` frames).

Transitions
    ``cut`` — the clips follow each other.
    ``crossfade:SEC`` — the last ``n = round(SEC · fps)`` frames of a clip
    and the first ``n`` of the next overlap and dissolve: frame *k* of the
    overlap is ``(1 − a)·A + a·B`` with ``a = (k + 1) / (n + 1)``, so every
    overlap frame is a true blend.
    ``fade:SEC`` — fade through black over the same ``n`` overlapping frames:
    the first half fades A out to black, the second half fades B in.
    With either, the total duration is the sum of the parts minus one
    transition per join; each clip must be long enough for its transitions.

Streaming: a clip is decoded frame by frame; only the ``n`` tail frames of
the previous clip are held (nothing for ``cut``).

Recipe: ``{"stillmotion": VERSION, "merged": [recipe of each part…],
"finish": [{"step": "merge", "transition": …, "parts": [...]}]}``.
"""

from __future__ import annotations

import math
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .. import recipe as recipes
from .._version import __version__
from ..errors import InputError
from ._io import default_output, open_clip, write_clip

__all__ = ["fit_frame", "merge_files", "parse_transition", "reject_still_image", "resample_indices"]

# Decoders of still-image formats that FFmpeg also opens as one-frame "videos".
_STILL_CODECS = frozenset(
    {"png", "apng", "mjpeg", "jpeg2000", "jpegls", "bmp", "tiff", "webp", "libwebp", "pgm", "ppm", "pam", "qoi"}
)


def reject_still_image(info: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Raise InputError when ``open_clip`` opened a photo (a one-frame image file) rather than a clip."""
    if info.get("codec") in _STILL_CODECS and int(info.get("frame_count") or 0) <= 1:
        raise InputError(
            f"'{Path(path).name}' is a still image, not a clip; animate it first (stillmotion animate PHOTO PROMPT)"
        )


_TRANSITION = re.compile(r"^\s*(crossfade|fade)\s*:\s*([0-9]*\.?[0-9]+)\s*(?:s|sec)?\s*$", re.IGNORECASE)


def parse_transition(transition: str) -> tuple[str, float]:
    """Parse ``"cut"``, ``"crossfade:SEC"`` or ``"fade:SEC"`` into ``(kind, seconds)``.

    Raises:
        InputError: anything else, or a duration that is not > 0 (one line).
    """
    if not isinstance(transition, str):
        raise InputError(f"transition must be text such as 'cut', 'crossfade:0.5' or 'fade:1', got {transition!r}")
    if transition.strip().lower() in ("cut", ""):
        return "cut", 0.0
    m = _TRANSITION.match(transition)
    if not m:
        raise InputError(
            f"transition must be 'cut', 'crossfade:SEC' or 'fade:SEC' (e.g. crossfade:0.5), got {transition!r}"
        )
    seconds = float(m.group(2))
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"the {m.group(1).lower()} duration must be > 0 seconds, got {m.group(2)!r}")
    return m.group(1).lower(), seconds


def fit_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``frame`` to cover ``width``×``height`` (no stretching) and centre-crop to it."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LANCZOS4
    scaled = cv2.resize(frame, (nw, nh), interpolation=interp)
    x0, y0 = (nw - width) // 2, (nh - height) // 2
    return np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])


def resample_indices(n_src: int, fps_src: float, fps_out: float) -> list[int]:
    """Source frame index for each output frame when retiming ``n_src`` frames to ``fps_out``."""
    if abs(fps_src - fps_out) < 1e-6:
        return list(range(n_src))
    n_out = max(1, round(n_src * fps_out / fps_src))
    return [min(n_src - 1, int(math.floor((j + 0.5) * fps_src / fps_out))) for j in range(n_out)]


def _retimed(frames: Iterator[np.ndarray], indices: list[int], width: int, height: int) -> Iterator[np.ndarray]:
    """Yield ``frames[i]`` for each ``i`` in ``indices`` (non-decreasing), fitted to the size; streaming."""
    want = iter(indices)
    nxt = next(want, None)
    last = None
    for i, frame in enumerate(frames):
        if nxt is None:
            break
        if nxt < i:  # should not happen with non-decreasing indices
            continue
        if nxt == i:
            fitted = fit_frame(frame, width, height)
            while nxt == i:
                yield fitted
                nxt = next(want, None)
        last = frame
    # The container counted more frames than decoded: hold the last one.
    if nxt is not None and last is not None:
        fitted = fit_frame(last, width, height)
        while nxt is not None:
            yield fitted
            nxt = next(want, None)


def _blend(a: np.ndarray, b: np.ndarray, kind: str, k: int, n: int) -> np.ndarray:
    t = (k + 1) / (n + 1)
    if kind == "crossfade":
        wa, wb = 1.0 - t, t
    else:  # fade through black: A out over the first half, B in over the second
        wa, wb = max(0.0, 1.0 - 2.0 * t), max(0.0, 2.0 * t - 1.0)
    out = a.astype(np.float32) * wa + b.astype(np.float32) * wb
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def merge_files(
    srcs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None = None,
    *,
    transition: str = "cut",
) -> Path:
    """Join ``srcs`` (≥ 2 clips, in order) into ``out``, normalised to the first clip's size and fps.

    Args:
        srcs: the clips.
        out: the output ``.mp4``; ``None`` for ``FIRST_STEM-merged.mp4`` next to the first clip.
        transition: ``"cut"``, ``"crossfade:SEC"`` or ``"fade:SEC"`` (fade through black).

    Returns:
        The output path.

    Raises:
        InputError: fewer than two clips, a clip that is not a video, a bad
            transition, a clip too short for its transitions, or a bad output path.
        GenerationError: encoding failed.
    """
    if isinstance(srcs, (str, os.PathLike)) or len(srcs) < 2:
        raise InputError("merge needs at least two clips; give them in order, e.g. a.mp4 b.mp4")
    kind, seconds = parse_transition(transition)
    infos = []
    for src in srcs:
        info, frames = open_clip(src)
        frames.close()  # not started: nothing was opened yet
        reject_still_image(info, src)
        infos.append(info)
    width, height, fps = int(infos[0]["width"]), int(infos[0]["height"]), float(infos[0]["fps"])
    indices = [resample_indices(int(i["frame_count"]), float(i["fps"]), fps) for i in infos]
    counts = [len(ix) for ix in indices]
    n = 0 if kind == "cut" else max(1, round(seconds * fps))
    for i, count in enumerate(counts):
        need = n * ((i > 0) + (i < len(counts) - 1))
        if count < need:
            raise InputError(
                f"clip {Path(srcs[i]).name} has {count} frames at {fps:g} fps but the {kind} needs {need}; "
                f"use a shorter transition (at most {min(counts) / fps / 2:.2f}s) or 'cut'"
            )

    def merged() -> Iterator[np.ndarray]:
        tail: deque[np.ndarray] = deque()
        last = len(srcs) - 1
        for i, src in enumerate(srcs):
            _, frames = open_clip(src)
            stream = _retimed(frames, indices[i], width, height)
            pending = list(tail)
            tail = deque()
            keep = n if i < last else 0
            seen = 0
            for k, frame in enumerate(stream):
                seen = k + 1
                if k < len(pending):
                    yield _blend(pending[k], frame, kind, k, len(pending))
                    continue
                if keep:
                    tail.append(frame)
                    if len(tail) > keep:
                        yield tail.popleft()
                else:
                    yield frame
            yield from pending[seen:]  # only if the clip ended early
        yield from tail

    total = sum(counts) - n * (len(srcs) - 1)
    parts = [
        {
            "path": Path(src).name,
            "width": int(info["width"]),
            "height": int(info["height"]),
            "fps": float(info["fps"]),
            "frames": int(info["frame_count"]),
            "frames_out": count,
        }
        for src, info, count in zip(srcs, infos, counts)
    ]
    step: dict[str, Any] = {
        "step": "merge",
        "transition": "cut" if kind == "cut" else f"{kind}:{seconds:g}",
        "transition_frames": n,
        "fit": "cover+centre-crop",
        "retime": "nearest-timestamp (repeat/drop)",
        "frames": total,
        "parts": parts,
    }
    recipe = {
        "stillmotion": __version__,
        "merged": [recipes.read(src, metadata=info.get("metadata")) for src, info in zip(srcs, infos)],
    }
    dest = Path(out).expanduser() if out is not None else default_output(srcs[0], "merged")
    return write_clip(dest, merged(), width, height, fps, recipe, step)
