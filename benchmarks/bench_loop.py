"""Seamless loops (issue 18): seam, length and motion of ``loop --mode seamless`` on living clips.

Makes one living clip per development photo and camera move (480×320, 3 s,
24 fps, seed 1, at the default ``motion_strength`` 0.5 and at 1.0), loops it
with :func:`stillmotion.post.loop.loop_file` and reports, per clip:

* ``frames``: source → loop frame count;
* ``seam``: :func:`stillmotion.evaluate.evaluate_clip`'s ``loop_seam`` on the
  loop file (last → first frame grey difference / median neighbouring-frame
  difference, at 320 px); it includes H.264's pop at the wrap, where the first
  frame is an I-frame and the last the least-referenced P-frame;
* ``planned``: the seam the loop planned on its frames before encoding
  (greyscale thumbnails; the recipe's ``planned_seam``; "–" where the recipe
  has none);
* ``max step``: largest neighbouring-frame difference / median (a jump);
* ``motion``: median step of the loop / median step of the source (≈ 1: the
  motion is kept, 0: frozen);
* ``kB``: size of the loop file.

Run with ``PYTHONPATH=src`` for this checkout (for a "before" figure, point
``PYTHONPATH`` at another checkout). Photos default to ``../shared/photos``.

    python benchmarks/bench_loop.py [--photos DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import stillmotion
from stillmotion.evaluate import evaluate_clip
from stillmotion.post.loop import loop_file
from stillmotion.video import read_video

CLIPS = [
    ("storm-clouds-road.jpg", "slow pan right"),
    ("forest-stream.jpg", "slow push-in"),
    ("fig-bowl-product.jpg", "slow orbit"),
]


def _grey_steps(frames: np.ndarray) -> list[float]:
    # the judge's size and luma (evaluate_clip, max_side 320)
    h, w = frames.shape[1:3]
    s = 320 / max(h, w)
    g = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        for f in frames
    ]
    g32 = [x.astype(np.float32) for x in g]
    return [float(np.abs(g32[k + 1] - g32[k]).mean()) for k in range(len(g32) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--photos", type=Path, default=Path("../shared/photos"), help="development photos (default ../shared/photos)"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-loop-"))
    print("| photo, move | strength | frames | seam | planned | max step | motion | kB | loop s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for photo, prompt in CLIPS:
        for strength in (0.5, 1.0):
            stem = f"{Path(photo).stem}-{strength}"
            clip = stillmotion.animate(
                args.photos / photo,
                prompt,
                size="480x320",
                duration=3,
                fps=24,
                seed=1,
                motion_strength=strength,
                output=out / f"{stem}.mp4",
            ).path
            t = time.perf_counter()
            looped = loop_file(clip, out / f"{stem}-loop.mp4", mode="seamless")
            dt = time.perf_counter() - t
            src = read_video(clip).frames_thwc
            lp = read_video(looped).frames_thwc
            seam = evaluate_clip(looped).metric("loop_seam").value
            n = len(lp)
            planned = json.loads(looped.with_suffix(".json").read_text())["finish"][-1].get("planned_seam")
            planned_txt = "–" if planned is None else f"{planned:.2f}"
            steps = _grey_steps(lp)
            med = float(np.median(steps))
            motion = med / float(np.median(_grey_steps(src)))
            print(
                f"| {Path(photo).stem}, {prompt} | {strength} | {len(src)} → {n} | {seam:.2f} | {planned_txt} "
                f"| {max(steps) / med:.2f} | {motion:.2f} | {looped.stat().st_size / 1e3:.0f} | {dt:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
