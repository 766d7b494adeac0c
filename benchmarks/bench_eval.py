"""Speed of `stillmotion eval` on a 5 s 720p clip (target: under 5 s on 2 cores).

Renders two 5 s 1280×720 24 fps clips with the living engine — a landscape
with clouds (china.jpg, or /work/shared/photos/storm-clouds-road.jpg when
present) and a portrait (scikit-image's astronaut) — then times
``evaluate_clip`` on each, with and without ``--source``/``--prompt``.
Baseline in the same run: decoding the clip alone (PyAV, every frame to RGB),
which no evaluation can beat.

    python benchmarks/bench_eval.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import skimage.data
    from PIL import Image

    import stillmotion
    from stillmotion.evaluate import evaluate_clip
    from stillmotion.video import iter_frames

    shared = Path(__file__).resolve().parents[2] / "shared" / "photos" / "storm-clouds-road.jpg"
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        if shared.exists():
            land = shared
        else:
            from sklearn.datasets import load_sample_image

            land = d / "china.png"
            Image.fromarray(load_sample_image("china.jpg")).save(land)
        face = d / "astronaut.png"
        Image.fromarray(skimage.data.astronaut()).save(face)
        cases = [
            ("landscape", land, "slow push-in, clouds drifting right"),
            ("portrait", face, "slow push-in, gentle breathing, blinks"),
        ]
        print(f"{'clip':<10} {'decode only':>12} {'eval':>8} {'eval + source + prompt':>24}  metrics")
        for name, photo, prompt in cases:
            clip = d / f"{name}.mp4"
            stillmotion.animate(photo, prompt, output=clip, size="1280x720", duration=5, fps=24, seed=1)
            dec = _median_time(lambda: sum(1 for _ in iter_frames(clip)), args.repeats)
            bare = _median_time(lambda: evaluate_clip(clip), args.repeats)
            full = _median_time(lambda: evaluate_clip(clip, source=photo, prompt=prompt), args.repeats)
            names = [m.name for m in evaluate_clip(clip, source=photo, prompt=prompt).metrics]
            print(f"{name:<10} {dec:>11.2f}s {bare:>7.2f}s {full:>23.2f}s  {', '.join(names)}")


if __name__ == "__main__":
    main()
