"""Motion-compensated frame interpolation: DIS optical flow both ways, occlusion-aware.

For each pair of neighbouring source frames ``a`` (time 0) and ``b`` (time 1)
the dense flows ``F01`` and ``F10`` are computed with OpenCV's DIS optical
flow (Kroeger et al., *Fast Optical Flow using Dense Inverse Search*, ECCV
2016; preset FAST, on the luma, at full resolution up to ``FLOW_WIDTH``
pixels wide, above that at that width and upsampled). A frame at time ``t`` is
made by backward-warping both neighbours with the flows from ``t`` (the
quadratic approximation of Jiang et al., *Super SloMo*, CVPR 2018)::

    F_t0 = −(1−t)·t·F01 + t²·F10
    F_t1 = (1−t)²·F01 − t·(1−t)·F10

and blending them with weights ``(1−t)·V0`` and ``t·V1``, where ``V0`` is the
visibility of a pixel of ``a`` in ``b`` from the forward-backward consistency
check ``|F01(x) + F10(x + F01(x))|² ≤ 0.01·(|F01|² + |F10|²) + 0.5`` (Sundaram
et al., ECCV 2010; the same the other way): where one side is occluded, the
other is trusted. Luma (or RGB) is warped bicubic, so the warp does not blur
fine texture; 4:2:0 chroma bilinear.

:func:`interpolate_file` works on the stream's own 4:2:0 planes
(:func:`stillmotion.video.iter_frames_yuv420` in,
:meth:`~stillmotion.video.VideoWriter.write_yuv420` out): no RGB round trip,
whose chroma resampling alone cost 2–3 dB of PSNR at these qualities. Kept
frames (output times that fall on a source frame) are the decoded input planes
themselves, never re-warped; the output is encoded ``CRF_MARGIN`` CRF steps
finer than the input (read from x264's settings in the input stream, or
``DEFAULT_CRF`` when absent). The flows of the next pair are computed on a
worker thread while the current pair is warped and encoded.

Scene cuts (a mean absolute difference of small greyscale thumbnails far above
the clip's running median) are not interpolated across: the nearer frame is
repeated instead. Output frame ``k`` sits at time ``k / out_fps`` exactly, so
non-integer ratios (24 → 60, 12 → 30) work; the output lasts as long as the
input. Streaming: three source frames (and two pairs' flows) in memory at a time.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .. import recipe as recipes
from ..errors import InputError
from ._encode import fps_fraction
from ._io import default_output, finer_crf, input_crf, open_clip, write_clip

__all__ = [
    "FlowPair",
    "input_crf",
    "interpolate_file",
    "interpolate_frames",
    "interpolate_pair",
    "is_cut",
    "thumb",
    "thumb_diff",
]

METHOD = "DIS optical flow (fast), bidirectional, occlusion-aware, bicubic luma warp"
THUMB_WIDTH = 64
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_FAST
FLOW_WIDTH = 320
"""Flow is computed at most this wide, then upsampled: motion in living clips is smooth. With DIS FAST
at 320 px the benchmark clips lost 0.07 dB against DIS MEDIUM at 480 px for a quarter less CPU time
at 720p (BENCHMARKS.md)."""


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _grid(h: int, w: int) -> np.ndarray:
    """Pixel positions of an h×w image, float32 h×w×2 (x, y)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.merge([xs, ys])


def _remap(img: np.ndarray, grid: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """``img`` sampled at ``grid + flow`` (float32 h×w×2 pixel positions and offsets; ``flow`` is overwritten)."""
    # map2 None: map1 holds (x, y) pairs (OpenCV's documented form; the stubs lack it)
    return cv2.remap(img, cv2.add(grid, flow, dst=flow), None, interpolation, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]


def _visibility(f_ab: np.ndarray, f_ba: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """1 where a pixel of A is seen again in B (forward-backward consistent, lands inside), else 0."""
    h, w = f_ab.shape[:2]
    to = cv2.add(grid, f_ab)
    f_ba_w = cv2.remap(f_ba, to, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
    err = cv2.magnitude(*cv2.split(cv2.add(f_ab, f_ba_w))) ** 2
    bound = 0.01 * (cv2.magnitude(*cv2.split(f_ab)) ** 2 + cv2.magnitude(*cv2.split(f_ba_w)) ** 2) + 0.5
    tx, ty = to[..., 0], to[..., 1]
    inside = (tx >= -0.5) & (tx <= w - 0.5) & (ty >= -0.5) & (ty <= h - 0.5)
    vis = ((err <= bound) & inside).astype(np.float32)
    return cv2.blur(vis, (3, 3))


YUV = tuple[np.ndarray, np.ndarray]
"""A frame as BT.709 limited-range planes ``(y, cbcr)``: uint8 H×W luma and uint8 h×w×2 chroma
(h×w = H×W for 4:4:4, H/2×W/2 for 4:2:0), as :mod:`stillmotion.color` and
:meth:`stillmotion.video.VideoWriter.write_yuv420` lay them out."""


class FlowPair:
    """Two neighbouring frames with their flows and visibility maps, computed once.

    Call :meth:`at` for as many times ``t`` in (0, 1) as needed. RGB frames are
    warped bicubic as they are; :data:`YUV` planes are warped as planes, luma
    bicubic and chroma bilinear at its own resolution (4:2:0 chroma is a quarter
    of the pixels, and H.264 keeps little of its detail), so frames decoded as
    planes are re-encoded with no colour conversion either way.

    Args:
        a, b: the frames at times 0 and 1, both uint8 H×W×3 RGB or both
            :data:`YUV` planes ``(y, cbcr)``; :meth:`at` returns the same layout.
        dis: an optional ``cv2.DISOpticalFlow`` to reuse (``DIS_PRESET``; the
            greyscale or luma is downscaled to at most ``FLOW_WIDTH`` wide first).

    Raises:
        InputError: the frames differ in layout or shape, or are neither H×W×3 uint8 nor ``(y, cbcr)``.
    """

    def __init__(self, a: np.ndarray | YUV, b: np.ndarray | YUV, dis: Any = None) -> None:
        pa, pb = _planes(a), _planes(b)
        if [p.shape for p in pa] != [p.shape for p in pb]:
            raise InputError(f"interpolation needs two frames of one size, got {_shape(a)} and {_shape(b)}")
        self.a, self.b = a, b
        self._pa, self._pb = pa, pb
        h, w = pa[0].shape[:2]
        dis = dis if dis is not None else cv2.DISOpticalFlow.create(DIS_PRESET)
        g0, g1 = (a[0], b[0]) if isinstance(a, tuple) else (_grey(a), _grey(b))  # type: ignore[arg-type]
        if w > FLOW_WIDTH:
            k = w / FLOW_WIDTH
            size = (max(int(round(w / k)), 8), max(int(round(h / k)), 8))
            g0 = cv2.resize(g0, size, interpolation=cv2.INTER_AREA)
            g1 = cv2.resize(g1, size, interpolation=cv2.INTER_AREA)
        # Flows, visibility and the blend weights stay at flow resolution (motion is
        # smooth); only the final warp maps are upsampled, in each plane's own pixels.
        self.f01 = dis.calc(g0, g1, None).astype(np.float32)  # low-res pixels
        self.f10 = dis.calc(g1, g0, None).astype(np.float32)
        lh, lw = g0.shape[:2]
        self._low = _grid(lh, lw)
        self.v0 = _visibility(self.f01, self.f10, self._low)  # pixel of a seen in b
        self.v1 = _visibility(self.f10, self.f01, self._low)  # pixel of b seen in a
        # per plane: (size, flow scale low-res → plane pixels, pixel grid, interpolation).
        # Bicubic for RGB and luma: bilinear resampling low-passes texture by up to a pixel's
        # worth, which costs more than any flow error at the sub-pixel motions of slow moves.
        self._planes = []
        for i, p in enumerate(pa):
            ph, pw = p.shape[:2]
            interpolation = cv2.INTER_CUBIC if i == 0 else cv2.INTER_LINEAR
            self._planes.append(((pw, ph), np.array([pw / lw, ph / lh], np.float32), _grid(ph, pw), interpolation))

    def at(self, t: float) -> Any:
        """The frame at time ``t`` (0 → ``a``, 1 → ``b``), in the layout ``a`` and ``b`` came in."""
        t = float(t)
        if t <= 0.0 or t >= 1.0:
            f = self.a if t <= 0.0 else self.b
            return tuple(p.copy() for p in f) if isinstance(f, tuple) else f.copy()
        ft0 = -(1 - t) * t * self.f01 + t * t * self.f10
        ft1 = (1 - t) ** 2 * self.f01 - t * (1 - t) * self.f10
        vis0 = _remap(self.v0, self._low, ft0.copy())
        vis1 = _remap(self.v1, self._low, ft1.copy())
        k0 = (1 - t) * (vis0 + 1e-3)
        k1 = t * (vis1 + 1e-3)
        wgt = (k0 / (k0 + k1)).astype(np.float32)
        out = []
        for pa, pb, (size, scale, grid, interpolation) in zip(self._pa, self._pb, self._planes):

            def up(f: np.ndarray, size: tuple[int, int] = size) -> np.ndarray:
                return f if size == f.shape[1::-1] else cv2.resize(f, size, interpolation=cv2.INTER_LINEAR)

            w0 = _remap(pa, grid, up(ft0 * scale), interpolation)
            w1 = _remap(pb, grid, up(ft1 * scale), interpolation)
            wf = up(wgt)
            if pa.ndim == 3:
                wf = cv2.merge([wf] * pa.shape[2])
            # blend in float, then round half up (cv2.addWeighted's rounding would put the many
            # exact halves of a t = 0.5 blend on either side: 0.4 dB worse on the benchmark clips)
            mix = cv2.add(cv2.multiply(w0, wf, dtype=cv2.CV_32F), cv2.multiply(w1, 1.0 - wf, dtype=cv2.CV_32F))
            out.append(cv2.convertScaleAbs(mix, alpha=1.0, beta=0.003))  # rounds; values are ≥ 0
        return tuple(out) if isinstance(self.a, tuple) else out[0]


def _planes(frame: Any) -> list[np.ndarray]:
    if isinstance(frame, tuple) and len(frame) == 2:
        y, c = frame
        if y.ndim == 2 and c.ndim == 3 and c.shape[2] == 2 and y.dtype == c.dtype == np.uint8:
            return [y, c]
    elif isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8:
        return [frame]
    raise InputError(f"interpolation needs uint8 H×W×3 RGB frames or (y, cbcr) planes, got {_shape(frame)}")


def _shape(frame: Any) -> Any:
    return tuple(p.shape for p in frame) if isinstance(frame, tuple) else getattr(frame, "shape", type(frame).__name__)


def interpolate_pair(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Motion-compensated frame between ``a`` (t = 0) and ``b`` (t = 1).

    Args:
        a, b: uint8 H×W×3 RGB frames of one size.
        t: time in [0, 1].

    Returns:
        uint8 H×W×3 RGB. Use :class:`FlowPair` to get several times from one pair.
    """
    if not 0.0 <= float(t) <= 1.0:
        raise InputError(f"t must be in [0, 1], got {t!r}")
    return FlowPair(a, b).at(t)


def thumb(frame: np.ndarray | YUV, width: int = THUMB_WIDTH) -> np.ndarray:
    """A small greyscale copy for cheap frame comparisons: float32, at most ``width`` pixels wide, 0–255.

    ``frame``: uint8 H×W×3 RGB, or :data:`YUV` planes (their luma, stretched from 16–235 to 0–255).
    """
    grey = frame[0] if isinstance(frame, tuple) else _grey(frame)
    h, w = grey.shape[:2]
    tw = min(width, w)
    th = max(1, round(h * tw / w))
    small = cv2.resize(grey, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small - 16.0) * np.float32(255.0 / 219.0) if isinstance(frame, tuple) else small


def thumb_diff(ta: np.ndarray, tb: np.ndarray) -> float:
    """Mean absolute difference of two :func:`thumb` images, in grey levels (0–255)."""
    return float(np.mean(np.abs(ta - tb)))


def is_cut(diff: float, history: list[float]) -> bool:
    """Whether a thumbnail difference (0–255 scale) is a scene cut given the clip's earlier ones."""
    if diff > 60.0:
        return True
    if len(history) < 2:
        return diff > 30.0
    typical = float(np.median(history[-48:]))
    return diff > max(4.0 * typical, 10.0)


def interpolate_frames(frames: Iterable[Any], src_fps: float, out_fps: float) -> Iterator[Any]:
    """Stream the frames of a clip retimed from ``src_fps`` to ``out_fps`` by interpolation.

    Output frame ``k`` is at time ``k / out_fps``, i.e. at source position
    ``s = k · src_fps / out_fps``: the source frame itself when ``s`` is a whole
    number, the motion-compensated frame between ``floor(s)`` and ``floor(s) + 1``
    otherwise, or a copy of the nearer one across a scene cut. The output
    has ``round(N · out_fps / src_fps)`` frames for N source frames (the same
    duration); positions past the last source frame repeat it. Three source
    frames and two :class:`FlowPair` are in memory at a time (the next pair's
    flows are computed on a worker thread).

    Args:
        frames: uint8 H×W×3 RGB frames, or :data:`YUV` planes ``(y, cbcr)`` (4:2:0 as
            decoded: what :func:`interpolate_file` streams); the output has the same layout.
        src_fps, out_fps: frame rates, frames per second.
    """
    ratio = fps_fraction(src_fps) / fps_fraction(out_fps)
    dis = cv2.DISOpticalFlow.create(DIS_PRESET)
    # Flow runs one pair ahead on a worker thread (OpenCV and the encoder release the GIL):
    # the flows of pair n + 1 are computed while pair n is warped and encoded.
    it = iter(frames)
    try:
        last = next(it)
    except StopIteration:
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="stillmotion-flow")
    ahead: deque[tuple[int, Any, Any, bool, Future[FlowPair] | None]] = deque()
    n = 1  # source frames seen
    try:
        for idx, (prev, cur, cut) in enumerate(_neighbours(last, it)):
            inner = any(k * ratio != idx for k in _outputs(idx, ratio))  # a time strictly between the two
            fut = pool.submit(FlowPair, prev, cur, dis) if inner and not cut else None
            ahead.append((idx, prev, cur, cut, fut))
            last, n = cur, idx + 2
            if len(ahead) > 1:
                yield from _between(*ahead.popleft(), ratio)
        while ahead:
            yield from _between(*ahead.popleft(), ratio)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for _ in range(math.ceil((n - 1) / ratio), round(n / ratio)):  # positions past the last source frame
        yield last


def _neighbours(prev: Any, it: Iterator[Any]) -> Iterator[tuple[Any, Any, bool]]:
    """``(frame i, frame i + 1, whether a scene cut lies between them)`` for the frames ``prev, *it``."""
    prev_thumb = thumb(prev)
    history: list[float] = []
    for cur in it:
        cur_thumb = thumb(cur)
        diff = thumb_diff(prev_thumb, cur_thumb)
        cut = is_cut(diff, history)
        if not cut:
            history.append(diff)
        yield prev, cur, cut
        prev, prev_thumb = cur, cur_thumb


def _outputs(idx: int, ratio: Fraction) -> range:
    """The output frames ``k`` whose source position ``k · ratio`` lies in [idx, idx + 1)."""
    return range(math.ceil(idx / ratio), math.ceil((idx + 1) / ratio))


def _between(idx: int, a: Any, b: Any, cut: bool, pair: Future[FlowPair] | None, ratio: Fraction) -> Iterator[Any]:
    """The output frames between source frames ``idx`` (``a``) and ``idx + 1`` (``b``)."""
    for k in _outputs(idx, ratio):
        t = k * ratio - idx
        if t == 0:
            yield a
        elif cut or pair is None:
            yield a if t < Fraction(1, 2) else b
        else:
            yield pair.result().at(float(t))


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, np.number)):
        raise InputError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise InputError(f"{name} must be finite, got {value!r}")
    return float(value)


def _target_fps(src_fps: float, fps: Any, factor: Any) -> float:
    if (fps is None) == (factor is None):
        raise InputError("give exactly one of --fps (target frame rate) or --factor (an integer multiplier ≥ 2)")
    if factor is not None:
        f = _check_number("factor", factor)
        if f != int(f) or f < 2:
            raise InputError(f"factor must be an integer ≥ 2 (e.g. 2 doubles the frame rate), got {factor!r}")
        return src_fps * int(f)
    target = _check_number("fps", fps)
    if target <= src_fps + 1e-6:
        raise InputError(
            f"fps must be higher than the clip's {src_fps:g} fps to interpolate, got {fps!r}; "
            "give e.g. --fps 60 or --factor 2"
        )
    if target > 480:
        raise InputError(f"fps must be at most 480, got {fps!r}")
    return target


def interpolate_file(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    fps: float | None = None,
    factor: int | None = None,
) -> Path:
    """Raise a clip's frame rate by motion-compensated interpolation (streaming).

    Args:
        src: the input clip.
        out: the output ``.mp4``; default ``SRC-interpolated.mp4`` next to ``src``
            (never overwriting: ``-2``, ``-3``… are added).
        fps: the target frame rate, above the clip's; or
        factor: an integer multiplier ≥ 2 (exactly one of ``fps`` and ``factor``).

    Returns:
        The output path; its recipe (tags and ``.json`` sidecar) is the input's
        plus ``{"step": "interpolate", "from_fps", "to_fps", "method", "crf"}``.
        Kept frames are the decoded input; the H.264 output is encoded at the
        input's CRF minus ``CRF_MARGIN`` (``DEFAULT_CRF`` minus it when unknown).

    Raises:
        InputError: a missing or unreadable clip, or a bad ``fps``/``factor`` (one line).
        GenerationError: decoding or encoding failed (no partial file is left).
    """
    info, frames = open_clip(src, planes=True)
    src_fps = float(info["fps"])
    try:
        target = _target_fps(src_fps, fps, factor)
    except BaseException:
        frames.close()
        raise
    w, h = int(info["width"]) // 2 * 2, int(info["height"]) // 2 * 2
    if (w, h) != (info["width"], info["height"]):
        frames = ((y[:h, :w], c[: h // 2, : w // 2]) for y, c in frames)
    path = Path(out).expanduser() if out is not None else default_output(src, "interpolated")
    recipe = recipes.read(src, metadata=info.get("metadata"))
    crf = finer_crf(src)
    step: dict[str, Any] = {
        "step": "interpolate",
        "from_fps": round(src_fps, 6),
        "to_fps": round(target, 6),
        "method": METHOD,
        "crf": crf,
    }
    if factor is not None:
        step["factor"] = int(factor)
    return write_clip(path, interpolate_frames(frames, src_fps, target), w, h, target, recipe, step, crf=crf)
