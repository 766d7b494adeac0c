"""Portrait micro-motion cost: a 5 s 720p portrait clip, camera only vs camera + blink + breathing.

Runs each configuration in a fresh process, interleaved, ``--repeats`` times,
and prints median wall time, peak RSS and the ratio. The photo is
scikit-image's astronaut (512×512, upscaled to the 720×720 output).

    python benchmarks/bench_portrait.py [--repeats 3]

``--faces`` times face detection instead, in process, at 12 MP: Haar cascades
against BlazeFace (+ Face Mesh confirmation) on a portrait (astronaut) and a
photo without a face (china.jpg), each Lanczos-upscaled to 4000×3000; median
of ``--repeats`` calls after one warm-up call (model loading, reported apart).

    python benchmarks/bench_portrait.py --faces [--repeats 10]
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


def bench_faces(repeats: int) -> None:
    import numpy as np
    import skimage.data
    from PIL import Image
    from sklearn.datasets import load_sample_image

    from stillmotion.scene.faces import detect_faces, face_method

    big = lambda a: np.asarray(Image.fromarray(a).resize((4000, 3000), Image.LANCZOS))
    photos = {
        "astronaut (1 face)": big(skimage.data.astronaut()),
        "china (no face)": big(load_sample_image("china.jpg")),
    }
    print(f"4000×3000 (12 MP), {os.cpu_count()} CPUs, median of {repeats} calls after a warm-up call")
    print("| photo | method | faces | first call (s) | median (s) |")
    print("|---|---|---|---|---|")
    for name, rgb in photos.items():
        for off in ("1", ""):
            os.environ["STILLMOTION_NO_LANDMARKS"] = off
            t = time.perf_counter()
            found = detect_faces(rgb)
            first = time.perf_counter() - t
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                detect_faces(rgb)
                times.append(time.perf_counter() - t)
            print(f"| {name} | {face_method()} | {len(found)} | {first:.3f} | {statistics.median(times):.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--faces", action="store_true", help="time face detection at 12 MP instead")
    args = ap.parse_args()
    if args.faces:
        bench_faces(args.repeats)
        return
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
