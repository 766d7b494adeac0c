"""Frame interpolation against plain blending and ffmpeg's ``minterpolate`` (issue 18).

Renders living clips of development photos with different camera moves (a
pan, a push-in, an orbit; 640×400, 24 fps), keeps every ``factor``-th frame
(``factor`` 2: 24 → 12 fps; 4: 24 → 6 fps), encodes that as the input clip and
rebuilds the full rate with

- ``stillmotion``: :func:`stillmotion.post.interpolate.interpolate_file` (the
  whole step, decoding and encoding included), from the source tree this script
  imports; ``--before-src DIR`` adds the same step from another source tree
  (e.g. ``main``'s ``src``) in the same run;
- ``blend``: the linear mix of the two neighbouring input frames (no motion);
- ``minterpolate``: ffmpeg's ``minterpolate=fps=F:mi_mode=mci:mc_mode=aobmc:me_mode=bidir``
  (imageio-ffmpeg's binary), read back as raw RGB (no second encode).

It reports PSNR (dB, RGB) on the held-out frames against the decoded full-rate
clip, both for the frames before encoding and for the output file (the
baselines' frames go through the same libx264 encoder, at the CRF stillmotion
chose, so every file pays the same encoding); SSIM (scikit-image, greyscale)
of the file's held-out frames; PSNR of the file's kept frames against the
decoded input (what re-encoding costs); and the wall time of each method
(stillmotion: the whole ``interpolate_file``, decoding and encoding included;
baselines: making the frames, without encoding).

    python benchmarks/bench_interp.py [--factors 2 4] [--before-src ../main/src] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# the development photos sit next to the checkout (../shared/photos); a worktree is one level deeper
PHOTOS = next(
    (p / "shared" / "photos" for p in Path(__file__).resolve().parents if (p / "shared" / "photos").is_dir()),
    Path("shared/photos"),
)
CASES = [
    ("pan", "beach-bridge.jpg", "slow pan right"),
    ("push-in", "forest-stream.jpg", "slow push-in"),
    ("orbit", "fig-bowl-product.jpg", "slow orbit"),
]

_RUN_STILLMOTION = """
import sys, time
import numpy as np
from stillmotion.post.interpolate import interpolate_file, interpolate_frames
from stillmotion.video import read_video
t = time.perf_counter()
interpolate_file(sys.argv[1], sys.argv[2], factor=int(sys.argv[3]))
sec = time.perf_counter() - t
src = read_video(sys.argv[1])
np.save(sys.argv[4], np.stack(list(interpolate_frames(src.frames_thwc, src.fps, src.fps * int(sys.argv[3])))))
print(sec)
"""


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (99 when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two uint8 RGB images, on greyscale (scikit-image, Wang et al. 2004)."""
    import cv2
    from skimage.metrics import structural_similarity

    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
    return float(structural_similarity(ga, gb, data_range=255))


def stillmotion_run(src: Path, out: Path, raw: Path, factor: int, pythonpath: str | None) -> float:
    """Run interpolate_file (→ ``out``, timed) and interpolate_frames (→ ``raw`` .npy) in a fresh
    interpreter with ``pythonpath`` first; returns the seconds of interpolate_file."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run(
        [sys.executable, "-c", _RUN_STILLMOTION, str(src), str(out), str(factor), str(raw)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(res.stdout.strip().splitlines()[-1])


def minterpolate(src: Path, fps: float, w: int, h: int, n: int) -> tuple[np.ndarray, float]:
    """ffmpeg minterpolate (mci, aobmc, bidir) to ``fps``, as uint8 n×H×W×3 RGB, and its seconds."""
    import imageio_ffmpeg

    vf = f"minterpolate=fps={fps:g}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(src), "-vf", vf]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    t = time.perf_counter()
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    sec = time.perf_counter() - t
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    if len(frames) < n:  # minterpolate stops at the last input frame: repeat it
        frames = np.concatenate([frames, np.repeat(frames[-1:], n - len(frames), 0)])
    return frames[:n], sec


def blend(kept: np.ndarray, factor: int, n: int) -> tuple[np.ndarray, float]:
    """Linear mix of the neighbouring kept frames, n×H×W×3 uint8, and its seconds."""
    t = time.perf_counter()
    out = np.empty((n, *kept.shape[1:]), np.uint8)
    for i in range(n):
        k, r = divmod(i, factor)
        if r == 0 or k + 1 >= len(kept):
            out[i] = kept[min(k, len(kept) - 1)]
        else:
            s = r / factor
            out[i] = ((1 - s) * kept[k].astype(np.float32) + s * kept[k + 1] + 0.5).astype(np.uint8)
    return out, time.perf_counter() - t


def encoded(frames: np.ndarray, path: Path, fps: float, crf: float) -> np.ndarray:
    """``frames`` after a libx264 round trip at ``crf`` (stillmotion's VideoWriter), uint8 T×H×W×3."""
    from stillmotion.video import VideoWriter, read_video

    with VideoWriter(path, frames.shape[2], frames.shape[1], fps, crf=crf) as wr:
        for f in frames:
            wr.write(f)
    return read_video(path).frames_thwc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factors", type=int, nargs="+", default=[2])
    ap.add_argument("--size", default="640x400")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--before-src", help="also run stillmotion from this source tree (e.g. ../main/src)")
    ap.add_argument("--workdir", help="keep the clips here (default: a temporary folder)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    import stillmotion
    from stillmotion.video import VideoWriter, read_video

    here_src = str(Path(stillmotion.__file__).resolve().parents[1])
    impls = [("stillmotion", here_src)]
    if args.before_src:
        impls.insert(0, ("stillmotion (before)", str(Path(args.before_src).resolve())))
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(args.workdir or tmp)
        d.mkdir(parents=True, exist_ok=True)
        for name, photo, prompt in CASES:
            clip = d / f"{name}.mp4"
            if not clip.exists():
                stillmotion.animate(
                    PHOTOS / photo, prompt, size=args.size, duration=args.duration, fps=args.fps, seed=1, output=clip
                )
            full = read_video(clip).frames_thwc
            h, w = full.shape[1:3]
            for factor in args.factors:
                n_kept = (len(full) - 1) // factor + 1
                n = (n_kept - 1) * factor + 1  # frames from the first kept to the last kept
                src = d / f"{name}-x{factor}-in.mp4"
                with VideoWriter(src, w, h, args.fps / factor) as wr:
                    for f in full[:n:factor]:
                        wr.write(f)
                kept = read_video(src).frames_thwc
                truth = full[:n]
                held = [i for i in range(n) if i % factor]
                results = []  # (label, frames before encoding, frames of the output file, seconds)
                crf = 0.0
                for label, path in impls:
                    tag = label.split()[-1].strip("()")
                    out, raw = d / f"{name}-x{factor}-{tag}.mp4", d / f"{name}-x{factor}-{tag}.npy"
                    sec = stillmotion_run(src, out, raw, factor, path)
                    results.append((label, np.load(raw)[:n], read_video(out).frames_thwc[:n], sec))
                    crf = json.loads(out.with_suffix(".json").read_text())["finish"][-1].get("crf", 18.0)
                # the baselines' outputs go through the same encoder at the CRF stillmotion chose
                for label, (frames, sec) in (
                    ("blend", blend(kept, factor, n)),
                    ("minterpolate", minterpolate(src, args.fps, w, h, n)),
                ):
                    results.append(
                        (label, frames, encoded(frames, d / f"{name}-x{factor}-{label}.mp4", args.fps, crf), sec)
                    )
                for label, frames, filed, sec in results:
                    p_raw = float(np.mean([psnr(frames[i], truth[i]) for i in held]))
                    p_held = float(np.mean([psnr(filed[i], truth[i]) for i in held]))
                    s_held = float(np.mean([ssim(filed[i], truth[i]) for i in held]))
                    p_kept = float(np.mean([psnr(filed[i * factor], kept[i]) for i in range(n_kept)]))
                    rows.append((name, photo, factor, label, p_raw, p_held, s_held, p_kept, sec))
                    print(
                        f"{name:8} x{factor} {label:22} frames {p_raw:6.2f} dB  file {p_held:6.2f} dB  "
                        f"SSIM {s_held:.4f}  kept {p_kept:6.2f} dB  {sec:6.2f} s",
                        file=sys.stderr,
                    )

    labels = list(dict.fromkeys(r[3] for r in rows))
    head = ["clip", "photo", "×", "method", "held-out PSNR, frames (dB)", "held-out PSNR, file (dB)"]
    head += ["held-out SSIM, file", "kept PSNR, file (dB)", "time (s)"]
    table = [list(r) for r in rows]
    for factor in args.factors:
        for label in labels:
            sel = [r for r in rows if r[2] == factor and r[3] == label]
            table.append(["**mean**", "", factor, label, *(float(np.mean([r[k] for r in sel])) for k in range(4, 9))])
    fmt = ["{}", "{}", "{}", "{}", "{:.2f}", "{:.2f}", "{:.4f}", "{:.2f}", "{:.2f}"]
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("| --- | --- | --- | --- |" + " ---: |" * 5)
    for r in table:
        cells = [f.format(v) for f, v in zip(fmt, r)]
        print("| " + " | ".join(cells) + " |" if args.markdown else "\t".join(cells))


if __name__ == "__main__":
    main()
