"""Speed of `stillmotion analyze` on a 12-megapixel photo (target: under 1 s on 2 cores).

Each run is a fresh process (the CLI with --json, Python start-up included),
and the in-process time of `stillmotion.analyze()` is reported beside it.
The photo: a real photo upscaled to 4000×3000 (Lanczos, JPEG q=92) —
/work/shared/photos/storm-clouds-road.jpg if present, else scikit-learn's china.jpg.

    python benchmarks/bench_analyze.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from PIL import Image

    shared = Path(__file__).resolve().parents[2] / "shared" / "photos" / "storm-clouds-road.jpg"
    if shared.exists():
        src = Image.open(shared).convert("RGB")
    else:
        from sklearn.datasets import load_sample_image

        src = Image.fromarray(load_sample_image("china.jpg"))
    with tempfile.TemporaryDirectory() as d:
        photo = Path(d) / "12mp.jpg"
        src.resize((4000, 3000), Image.LANCZOS).save(photo, quality=92)
        code = (
            "import sys, time, json; t = time.perf_counter(); import stillmotion; t1 = time.perf_counter(); "
            "r = stillmotion.analyze(sys.argv[1], 'make it move'); t2 = time.perf_counter(); "
            "print(json.dumps({'import': t1 - t, 'analyze': t2 - t1, 'stages': r.timings_s}))"
        )
        walls, inproc, stages = [], [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code, str(photo)], capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t)
            info = json.loads(out.stdout.strip().splitlines()[-1])
            inproc.append(info["analyze"])
            stages.append(info["stages"])
    print(f"photo: {src.size[0]}×{src.size[1]} upscaled to 4000×3000 (12 MP)")
    print(f"analyze() in process: median {statistics.median(inproc):.2f} s (min {min(inproc):.2f} s)")
    print(f"whole process (start-up, import, analyze): median {statistics.median(walls):.2f} s")
    keys = stages[0].keys()
    print("stages (median s): " + ", ".join(f"{k} {statistics.median(s[k] for s in stages):.3f}" for k in keys))


if __name__ == "__main__":
    main()
