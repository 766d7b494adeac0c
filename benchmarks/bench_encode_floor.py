"""Where a living clip's wall time goes: x264's own floor, and what each millisecond of
per-frame work on the other core costs once x264 is running (issue 19).

Renders the issue's clouds + light clip (5 s, 24 fps, 1280x720) once with
``stillmotion.animate``, decodes its 120 frames into memory as 4:2:0 planes, then
encodes them again in-process with stillmotion's own writer (libx264, the same preset
and CRF, ``VideoWriter.write_yuv420``), fed three ways, interleaved:

* ``x264 alone``: every frame is ready; the floor of any clip with these frames.
* ``producer N ms``: the frames come through :func:`stillmotion._prefetch.prefetch`
  from a worker thread that first spends N ms of CPU per frame in NumPy (GIL
  released) — the shape of the living engine's render + encode pipeline, with a
  render whose cost is known.
* ``sleep N ms``: the same producer, sleeping instead of computing: the cost of the
  frames arriving late, without competing for the cores.

Usage::

    python benchmarks/bench_encode_floor.py [--repeats 3] [--photo PATH] [--ms 0,10,20]

Prints wall (median, min) and CPU seconds (user + sys of this process) per
configuration, and the wall time each ms of producer CPU per frame adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_animate
from stillmotion._prefetch import prefetch
from stillmotion.video.writer import VideoWriter

Planes = tuple[np.ndarray, np.ndarray]


def decode_planes(path: Path) -> list[Planes]:
    """The clip's frames as (y H×W, cbcr (H/2)×(W/2)×2) uint8 planes, as the renderer hands them over."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            a = frame.to_ndarray(format="yuv420p")
            h, w = frame.height, frame.width
            u = a[h : h + h // 4].reshape(h // 2, w // 2)
            v = a[h + h // 4 :].reshape(h // 2, w // 2)
            frames.append((a[:h].copy(), np.dstack([u, v])))
    return frames


def burn(ms: float, scratch: np.ndarray) -> None:
    """Spend ``ms`` milliseconds of this thread's CPU time in NumPy (which releases the GIL)."""
    end = time.thread_time() + ms / 1000.0
    while time.thread_time() < end:
        np.sin(scratch)


def producer(frames: list[Planes], ms: float, sleep: bool) -> Iterator[Planes]:
    scratch = np.random.default_rng(0).random(100_000)
    for planes in frames:
        if ms > 0:
            time.sleep(ms / 1000.0) if sleep else burn(ms, scratch)
        yield planes


def encode(frames: list[Planes], out: Path, ms: float, sleep: bool) -> tuple[float, float]:
    """Encode ``frames`` to ``out``; return (wall s, CPU s of this process)."""
    h, w = frames[0][0].shape
    c0, t0 = os.times(), time.perf_counter()
    writer = VideoWriter(out, w, h, 24)
    source = prefetch(producer(frames, ms, sleep)) if ms > 0 else iter(frames)
    for y, cbcr in source:
        writer.write_yuv420(y, cbcr)
    writer.close()
    c1 = os.times()
    return time.perf_counter() - t0, (c1.user + c1.system) - (c0.user + c0.system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="measured runs per configuration (default 3)")
    ap.add_argument("--photo", type=Path, help="use this photo instead of building the ~2560x1600 one")
    ap.add_argument("--ms", default="0,10,20", help="producer CPU per frame to try, ms, comma-separated")
    args = ap.parse_args()
    costs = [float(x) for x in args.ms.split(",")]

    import stillmotion

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photo = args.photo or bench_animate.make_photo(tmp)[0]
        clip = stillmotion.animate(
            photo, bench_animate.ELEMENTS_PROMPT, size="1280x720", duration=5.0, fps=24, seed=1, output=tmp / "c.mp4"
        )
        frames = decode_planes(clip.path)
        configs = [("x264 alone", 0.0, False)]
        configs += [(f"producer {ms:g} ms", ms, False) for ms in costs if ms > 0]
        configs += [(f"sleep {ms:g} ms", ms, True) for ms in costs if ms > 0]
        results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in configs}
        for _name, ms, sleep in configs:  # warm-up
            encode(frames, tmp / "w.mp4", ms, sleep)
        for _ in range(args.repeats):
            for name, ms, sleep in configs:
                results[name].append(encode(frames, tmp / "w.mp4", ms, sleep))

    print(
        f"{len(frames)} frames of {clip.width}x{clip.height} ({bench_animate.ELEMENTS_PROMPT!r}), {os.cpu_count()} CPUs"
    )
    print(f"{'':20s} {'wall median':>12s} {'wall min':>9s} {'CPU s':>7s}")
    alone = statistics.median(w for w, _ in results["x264 alone"])
    for name, _, _ in configs:
        walls = [w for w, _ in results[name]]
        cpu = statistics.median(c for _, c in results[name])
        print(f"{name:20s} {statistics.median(walls):11.2f}s {min(walls):8.2f}s {cpu:7.2f}")
    for name, ms, sleep in configs:
        if ms > 0 and not sleep:
            extra = statistics.median(w for w, _ in results[name]) - alone
            print(f"{name}: +{extra:.2f} s over x264 alone, {extra / ms:.3f} s per ms of producer CPU a frame")


if __name__ == "__main__":
    main()
