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

- ``blend``: ffmpeg's ``minterpolate=fps=F:mi_mode=blend``, the linear mix of
  the two neighbouring input frames (no motion);
- ``minterpolate``: ffmpeg's ``minterpolate=fps=F:mi_mode=mci:mc_mode=aobmc:me_mode=bidir``
  (imageio-ffmpeg's binary).

It reports PSNR (dB, RGB) on the held-out frames against the decoded full-rate
clip, both for the frames before encoding (ffmpeg's filters read back as raw
RGB; stillmotion's :func:`~stillmotion.post.interpolate.interpolate_frames` on
the decoded RGB frames) and for the output file: each tool makes its file as a
user would, ffmpeg with ``-c:v libx264 -preset medium`` at the CRF stillmotion
chose, in its own native 4:2:0 YUV, so every file pays the same encoding; SSIM
(scikit-image, greyscale) of the file's held-out frames; PSNR of the file's
kept frames against the decoded input (what re-encoding costs); and the wall
time of making the file (decode, interpolation, encode) for every method.

``--speed`` adds the speed check: a 5 s 1280×720 24 fps living pan doubled to
48 fps by each method (file to file), as a multiple of the clip's duration.

    python benchmarks/bench_interp.py [--factors 2 4] [--before-src ../main/src] [--speed] [--markdown]
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
if sys.argv[4]:
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


def stillmotion_run(src: Path, out: Path, raw: Path | None, factor: int, pythonpath: str | None) -> float:
    """Run interpolate_file (→ ``out``, timed) and interpolate_frames (→ ``raw`` .npy, unless None) in a
    fresh interpreter with ``pythonpath`` first; returns the seconds of interpolate_file."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run(
        [sys.executable, "-c", _RUN_STILLMOTION, str(src), str(out), str(factor), str(raw or "")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(res.stdout.strip().splitlines()[-1])


FILTERS = {
    "blend": "minterpolate=fps={fps:g}:mi_mode=blend",
    "minterpolate": "minterpolate=fps={fps:g}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir",
}


def ffmpeg_frames(method: str, src: Path, fps: float, w: int, h: int, n: int) -> np.ndarray:
    """ffmpeg's ``method`` filter retiming ``src`` to ``fps``, read back as uint8 n×H×W×3 RGB (no encode)."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(src), "-vf", FILTERS[method].format(fps=fps)]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    return pad(np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3), n)


def ffmpeg_file(method: str, src: Path, out: Path, fps: float, crf: float) -> float:
    """ffmpeg's ``method`` filter retiming ``src`` to ``fps`` into ``out`` (libx264 medium at ``crf``,
    yuv420p, as a user would run it); returns the wall seconds."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-vf", FILTERS[method].format(fps=fps)]
    cmd += ["-c:v", "libx264", "-preset", "medium", "-crf", f"{crf:g}", "-pix_fmt", "yuv420p", str(out)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def pad(frames: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` frames; minterpolate stops at the last input frame, so that one is repeated."""
    if len(frames) < n:
        frames = np.concatenate([frames, np.repeat(frames[-1:], n - len(frames), 0)])
    return frames[:n]


def speed(d: Path, impls: list[tuple[str, str]]) -> list[tuple[str, float]]:
    """(method, seconds) doubling a 5 s 1280×720 24 fps living pan, file to file, each method once."""
    import stillmotion

    clip = d / "speed-720p.mp4"
    if not clip.exists():
        stillmotion.animate(
            PHOTOS / CASES[0][1], CASES[0][2], size="1280x720", duration=5.0, fps=24, seed=1, output=clip
        )
    rows = []
    crf = 12.0
    for label, path in impls:
        tag = label.split()[-1].strip("()")
        out = d / f"speed-{tag}.mp4"
        rows.append((label, stillmotion_run(clip, out, None, 2, path)))
        crf = json.loads(out.with_suffix(".json").read_text())["finish"][-1].get("crf", crf)
    for method in FILTERS:
        rows.append((method, ffmpeg_file(method, clip, d / f"speed-{method}.mp4", 48, crf)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factors", type=int, nargs="+", default=[2])
    ap.add_argument("--size", default="640x400")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--before-src", help="also run stillmotion from this source tree (e.g. ../main/src)")
    ap.add_argument("--workdir", help="keep the clips here (default: a temporary folder)")
    ap.add_argument("--speed", action="store_true", help="also time a 5 s 720p pan doubled to 48 fps")
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
                    results.append((label, np.load(raw)[:n], pad(read_video(out).frames_thwc, n), sec))
                    crf = json.loads(out.with_suffix(".json").read_text())["finish"][-1].get("crf", 18.0)
                # the baselines make their files as a user would: ffmpeg, libx264 at the CRF stillmotion chose
                for label in FILTERS:
                    out = d / f"{name}-x{factor}-{label}.mp4"
                    sec = ffmpeg_file(label, src, out, args.fps, crf)
                    frames = ffmpeg_frames(label, src, args.fps, w, h, n)
                    results.append((label, frames, pad(read_video(out).frames_thwc, n), sec))
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
        timed = speed(d, impls) if args.speed else []

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
    if timed:
        print()
        print("| 5 s 1280×720 24 fps pan, ×2 to 48 fps | wall (s) | × real time |" if args.markdown else "")
        if args.markdown:
            print("| --- | ---: | ---: |")
        for label, sec in timed:
            print(
                f"| {label} | {sec:.2f} | {sec / 5.0:.2f} |"
                if args.markdown
                else f"{label}\t{sec:.2f}\t{sec / 5.0:.2f}"
            )


if __name__ == "__main__":
    main()
