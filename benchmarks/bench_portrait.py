"""Portrait micro-motion cost: a 5 s 720p portrait clip, camera only vs camera + blink + breathing.

Runs each configuration in a fresh process, interleaved, ``--repeats`` times,
and prints median wall time, peak RSS and the ratio. The photo is
scikit-image's astronaut (512×512, upscaled to the 720×720 output).

    python benchmarks/bench_portrait.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "camera only": "slow push-in",
    "camera + blink + breathing": "slow push-in, natural blinks, breathing",
    "camera + portrait + hair": "slow push-in, portrait comes to life, hair moving in a soft breeze",
}


def run(photo: Path, prompt: str, out: Path) -> tuple[float, float]:
    cmd = [
        sys.executable,
        "-m",
        "stillmotion.cli",
        "animate",
        str(photo),
        "-p",
        prompt,
        "--resolution",
        "720p",
        "--duration",
        "5",
        "--fps",
        "24",
        "--seed",
        "1",
        "-q",
        "-o",
        str(out),
    ]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"{prompt!r} failed: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import skimage.data
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        photo = Path(d) / "astronaut.png"
        Image.fromarray(skimage.data.astronaut()).save(photo)
        res = {k: ([], []) for k in CONFIGS}
        run(photo, CONFIGS["camera only"], Path(d) / "warm.mp4")
        for _ in range(args.repeats):
            for name, prompt in CONFIGS.items():
                wall, rss = run(photo, prompt, Path(d) / "o.mp4")
                res[name][0].append(wall)
                res[name][1].append(rss)
    base = statistics.median(res["camera only"][0])
    print("| run | wall median (s) | vs camera only | × real time | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, (walls, rss) in res.items():
        w = statistics.median(walls)
        print(f"| {name} | {w:.2f} | {w / base:.2f}× | {w / 5:.2f} | {max(rss):.0f} |")


if __name__ == "__main__":
    main()
