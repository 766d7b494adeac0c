"""Compare clips side by side: a synchronised grid video plus a metrics table.

:func:`compare_clips` lays 2 clips side by side, 3–4 in a 2×2 grid and up
to 9 in a 3×3 grid. Every tile has the same size; each clip is letterboxed
into it (never stretched) and labelled. All clips play in step: they are
resampled by timestamp to the first clip's fps and run for the longest
clip's duration (a shorter clip holds its last frame). Each clip is also
evaluated (:func:`stillmotion.evaluate.evaluate_clip`); the table is
returned and written next to the video as ``OUT.json``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from .errors import InputError
from .video import VideoWriter, iter_frames, probe, write_json_atomic

if TYPE_CHECKING:
    from .evaluate import Evaluation

__all__ = ["compare_clips", "format_table", "grid_shape"]

MAX_CLIPS = 9
MAX_TILE_SIDE = 640
"""Tiles are at most this many pixels on their longer side."""
BACKGROUND = (16, 16, 16)
LABEL_BOX = (0, 0, 0)
LABEL_TEXT = (240, 240, 240)


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) for ``n`` clips: 2 → 1×2, 3–4 → 2×2, 5–9 → 3×3."""
    if n < 2 or n > MAX_CLIPS:
        raise InputError(f"compare needs 2 to {MAX_CLIPS} clips, got {n}")
    if n == 2:
        return 1, 2
    if n <= 4:
        return 2, 2
    return 3, 3


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _tile_size(sizes: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The common tile: the largest width × the largest height, scaled down to fit MAX_TILE_SIDE."""
    w = max(s[0] for s in sizes)
    h = max(s[1] for s in sizes)
    k = min(1.0, MAX_TILE_SIDE / max(w, h))
    return _even(w * k), _even(h * k)


def _letterbox(frame: np.ndarray, tw: int, th: int) -> np.ndarray:
    """Fit ``frame`` into a tw×th tile keeping its aspect (bars on BACKGROUND)."""
    h, w = frame.shape[:2]
    k = min(tw / w, th / h)
    nw, nh = max(1, min(tw, round(w * k))), max(1, min(th, round(h * k)))
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    img = frame if (nw, nh) == (w, h) else cv2.resize(frame, (nw, nh), interpolation=interp)
    tile = np.empty((th, tw, 3), np.uint8)
    tile[:] = BACKGROUND
    x0, y0 = (tw - nw) // 2, (th - nh) // 2
    tile[y0 : y0 + nh, x0 : x0 + nw] = img
    return tile


def _label_geometry(text: str, tw: int, th: int) -> tuple[float, int, tuple[int, int, int, int], tuple[int, int]]:
    """Font scale, thickness, the dark box (x0, y0, x1, y1) and the text origin for a tile."""
    scale = max(0.35, min(1.0, tw / 640))
    thick = 1 if scale < 0.7 else 2
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(3, round(6 * scale))
    box = (0, 0, min(tw, w + 2 * pad), min(th, h + base + 2 * pad))
    return scale, thick, box, (pad, pad + h)


def _draw_label(tile: np.ndarray, text: str) -> None:
    if not text:
        return
    th, tw = tile.shape[:2]
    scale, thick, (x0, y0, x1, y1), org = _label_geometry(text, tw, th)
    cv2.rectangle(tile, (x0, y0), (x1 - 1, y1 - 1), LABEL_BOX, thickness=-1)
    cv2.putText(tile, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, LABEL_TEXT, thick, cv2.LINE_AA)


class _Resampler:
    """Frames of one clip at given timestamps (nearest earlier frame; holds the last)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.fps = fps
        self._it: Iterator[np.ndarray] = iter_frames(path)
        self._index = -1
        self._frame: np.ndarray | None = None
        self._done = False

    def at(self, t: float) -> np.ndarray:
        want = int(math.floor(t * self.fps + 1e-6))
        while self._index < want and not self._done:
            try:
                self._frame = next(self._it)
                self._index += 1
            except StopIteration:
                self._done = True
        if self._frame is None:
            raise InputError("a clip to compare has no frames")
        return self._frame

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


def compare_clips(
    paths: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    labels: Sequence[str] | None = None,
    source: str | os.PathLike[str] | None = None,
    prompt: str | None = None,
) -> tuple[Path, list[Evaluation]]:
    """Render a synchronised comparison video of 2–9 clips and evaluate each.

    Args:
        paths: the clips, in tile order (left to right, top to bottom).
        out: the grid video (.mp4); the metrics table goes to ``out`` with ``.json``.
        labels: one label per clip; default: the file names.
        source: the photo the clips were made from (for fidelity metrics), or None.
        prompt: the motion prompt (for prompt-adherence metrics), or None.

    Returns:
        (the grid video's path, one :class:`~stillmotion.evaluate.Evaluation` per clip).

    Raises:
        InputError: fewer than 2 or more than 9 clips, wrong label count, unreadable clip, bad output.
    """
    from .evaluate import evaluate_clip

    clips = [Path(p).expanduser() for p in paths]
    rows, cols = grid_shape(len(clips))
    out = Path(out).expanduser()
    if out.suffix.lower() != ".mp4":
        raise InputError(f"-o {out}: the comparison video must end in .mp4")
    if labels is None:
        labels = [c.name for c in clips]
    labels = [str(x) for x in labels]
    if len(labels) != len(clips):
        raise InputError(f"--labels gives {len(labels)} labels for {len(clips)} clips; give one per clip")
    for c in clips:
        if not c.is_file():
            raise InputError(f"clip {c} does not exist")
    infos = [probe(c) for c in clips]
    for c, info in zip(clips, infos):
        if not info["fps"] or not info["frame_count"]:
            raise InputError(f"clip {c} has no frames or no frame rate")

    evaluations = [evaluate_clip(c, source=source, prompt=prompt) for c in clips]

    fps = float(infos[0]["fps"])
    duration = max(i["frame_count"] / float(i["fps"]) for i in infos)
    n_out = max(1, int(round(duration * fps)))
    tw, th = _tile_size([(i["width"], i["height"]) for i in infos])
    W, H = cols * tw, rows * th
    samplers = [_Resampler(c, float(i["fps"])) for c, i in zip(clips, infos)]
    try:
        with VideoWriter(out, W, H, fps) as writer:
            canvas = np.empty((H, W, 3), np.uint8)
            for k in range(n_out):
                t = k / fps
                canvas[:] = BACKGROUND
                for j, (s, label) in enumerate(zip(samplers, labels)):
                    tile = _letterbox(s.at(t), tw, th)
                    _draw_label(tile, label)
                    row, col = divmod(j, cols)
                    canvas[row * th : (row + 1) * th, col * tw : (col + 1) * tw] = tile
                writer.write(canvas)
    finally:
        for s in samplers:
            s.close()

    write_json_atomic(out.with_suffix(".json"), table_dict(clips, labels, evaluations, out))
    return out, evaluations


def table_dict(
    clips: Sequence[Path], labels: Sequence[str], evaluations: Sequence[Evaluation], out: Path
) -> dict[str, Any]:
    """The metrics table as JSON-ready data."""
    return {
        "video": str(out),
        "clips": [
            {"label": label, "path": str(c), "score": e.score, "camera_move": e.camera_move, "evaluation": e.to_dict()}
            for c, label, e in zip(clips, labels, evaluations)
        ],
    }


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def format_table(
    labels: Sequence[str],
    evaluations: Sequence[Evaluation],
    extra: Sequence[tuple[str, Sequence[str]]] = (),
) -> str:
    """A plain-text table: one row per metric (score first, then the measured camera move, then the
    ``extra`` rows given, e.g. time and cost), one column per clip."""
    header = ["metric", *labels]
    rows: list[list[str]] = [
        ["score", *[f"{e.score:.3f}" for e in evaluations]],
        ["measured_move", *[str(e.camera_move) for e in evaluations]],
        *[[name, *cells] for name, cells in extra],
    ]
    names: list[str] = []
    units: dict[str, str] = {}
    for e in evaluations:
        for m in e.metrics:
            if m.name not in units:
                names.append(m.name)
                units[m.name] = m.unit or ""
    for name in names:
        cells = []
        for e in evaluations:
            found = next((m for m in e.metrics if m.name == name), None)
            cells.append("-" if found is None else _fmt(found.value) + (f" ({found.verdict})" if found.verdict else ""))
        rows.append([name + (f" [{units[name]}]" if units[name] else ""), *cells])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
