"""End-to-end benchmark: stillmotion's `living` engine against ffmpeg's zoompan.

A 5 s, 24 fps clip from a ~2560x1600 photo, decode + depth + render + encode,
wall time and peak RSS, measured side by side in one run against ffmpeg's
``zoompan`` filter making a same-size 2D Ken Burns clip with the same x264
preset and CRF. Every measured run is a fresh subprocess, so imports and peak
RSS belong to that run alone (peak RSS comes from ``os.wait4`` on that child).

Usage::

    python benchmarks/bench_animate.py [--repeats 3] [--photo PATH] [--markdown]

Runs are interleaved (stillmotion, CLI, zoompan, stillmotion, ...) so that
background load hits every contender alike. Medians are reported, with minima.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DURATION = 5.0
FPS = 24
SHARED_PHOTO = Path("/work/shared/photos/storm-clouds-road.jpg")
PHOTO_SIZE = (2560, 1600)
SIZES = {"480p": "854x480", "720p": "1280x720", "1080p": "1920x1080"}
PROMPT = "slow push-in"
PARALLAX_PROMPT = "orbit right"
ELEMENTS_PROMPT = "slow push-in, storm clouds drifting to the left, golden light shifting slowly"
"""Camera + two element regions (a flow in the sky, a relighting over the frame)."""
STAGES = ("load", "understand", "plan", "prepare", "render_encode", "total")
EXTRA = ("after_total", "animate_call", "import_s")  # measured by the child around the call
CHILD_ENV: dict[str, str] = dict(os.environ)
"""The measured processes' environment. ``main`` lets them cache byte code (in a temporary
``PYTHONPYCACHEPREFIX``, filled by the warm-up) even where the shell sets
``PYTHONDONTWRITEBYTECODE``: an installed package has its ``.pyc`` files, a source tree without
them would pay for compiling every module on each run."""


# ------------------------------------------------------------------ child mode


def child(photo: str, prompt: str, size: str, output: str) -> None:
    """Run one animate() call and print its recipe timings as JSON (one line)."""
    t0 = time.perf_counter()
    import stillmotion

    t1 = time.perf_counter()
    clip = stillmotion.animate(photo, prompt, size=size, duration=DURATION, fps=FPS, seed=1, output=output)
    t2 = time.perf_counter()
    # The recipe's total is taken before the encoder is flushed and the MP4 finalised
    # (x264's delayed frames, the faststart rewrite, the sidecar): record that tail too.
    timings = dict(clip.recipe["timings_s"], import_s=t1 - t0, animate_call=t2 - t1)
    timings["after_total"] = timings["animate_call"] - timings["total"]
    print(json.dumps({"timings": timings, "frames": clip.frame_count, "size": [clip.width, clip.height]}))


# ------------------------------------------------------------------ measuring


def measure(cmd: list[str], src: str | None = None) -> tuple[float, float, float, str]:
    """Run ``cmd`` in a fresh process (with ``src`` first on ``PYTHONPATH`` if given); return
    (wall s, peak RSS MB, CPU s (user+sys), stdout) of that process."""
    env = dict(CHILD_ENV)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
    return wall, rusage.ru_maxrss / 1024.0, rusage.ru_utime + rusage.ru_stime, stdout  # ru_maxrss: KiB on Linux


def stillmotion_cmd(photo: Path, prompt: str, size: str, out: Path) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), "--child", str(photo), prompt, size, str(out)]


def cli_cmd(photo: Path, prompt: str, size: str, out: Path) -> list[str]:
    exe = Path(sys.executable).with_name("stillmotion")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "stillmotion.cli"]
    return head + ["animate", str(photo), "-p", prompt, "--size", size, "-o", str(out), "-q", "--seed", "1"]


def zoompan_cmd(ffmpeg: str, photo: Path, size: str, out: Path, preset: str, crf: int) -> list[str]:
    frames = int(round(DURATION * FPS))
    vf = (
        f"zoompan=z='min(zoom+0.0012,1.15)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
        f":d={frames}:s={size}:fps={FPS},format=yuv420p"
    )
    return [
        ffmpeg, "-y", "-loglevel", "error", "-loop", "1", "-framerate", str(FPS), "-i", str(photo),
        "-vf", vf, "-frames:v", str(frames), "-c:v", "libx264", "-preset", preset, "-crf", str(crf), str(out),
    ]  # fmt: skip


def count_frames(path: Path) -> tuple[int, int, int]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.demux(s) if _.size)
        return n, s.codec_context.width, s.codec_context.height


# ------------------------------------------------------------------ the photo


def make_photo(tmp: Path) -> tuple[Path, str]:
    """A real photo at ~2560x1600: crop to 16:10, Lanczos upscale, JPEG q=92."""
    from PIL import Image

    if SHARED_PHOTO.exists():
        im, src = Image.open(SHARED_PHOTO).convert("RGB"), str(SHARED_PHOTO)
    else:
        from sklearn.datasets import load_sample_image

        im, src = Image.fromarray(load_sample_image("china.jpg")), "scikit-learn sample image china.jpg"
    w, h = im.size
    target = PHOTO_SIZE[0] / PHOTO_SIZE[1]
    if w / h > target:
        cw = round(h * target)
        im = im.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    else:
        ch = round(w / target)
        im = im.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    crop = im.size
    im = im.resize(PHOTO_SIZE, Image.LANCZOS)
    path = tmp / "photo_2560x1600.jpg"
    im.save(path, quality=92)
    how = (
        f"{src} ({w}x{h}) cropped to 16:10 ({crop[0]}x{crop[1]}), Lanczos-upscaled to "
        f"{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, saved as JPEG q=92 ({path.stat().st_size / 1e6:.2f} MB)"
    )
    return path, how


# ------------------------------------------------------------------ machine facts


def machine() -> dict[str, str]:
    facts: dict[str, str] = {}
    try:
        cpu = [
            l.split(":", 1)[1].strip()
            for l in Path("/proc/cpuinfo").read_text().splitlines()
            if l.startswith("model name")
        ]
        facts["cpu"] = cpu[0] if cpu else platform.processor()
    except OSError:
        facts["cpu"] = platform.processor() or "unknown"
    facts["cores"] = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        facts["ram"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        facts["ram"] = "unknown"
    facts["os"] = platform.platform()
    facts["python"] = platform.python_version()
    import av
    import cv2
    import numpy

    import stillmotion

    facts["stillmotion"] = getattr(stillmotion, "__version__", "?")
    try:  # which code was measured: the commit, and whether the tree had uncommitted changes
        repo = Path(__file__).resolve().parent.parent
        git = lambda *a: subprocess.run(
            ["git", "-C", str(repo), *a], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        rev, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "src")
        if rev:
            facts["stillmotion"] += f" (commit {rev}{', src/ with uncommitted changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        pass
    facts["numpy"], facts["opencv"], facts["av (PyAV)"] = numpy.__version__, cv2.__version__, av.__version__
    try:
        facts["load average (1/5/15 min, at start)"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    return facts


# ------------------------------------------------------------------ main


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="measured runs per configuration (default 3)")
    ap.add_argument("--photo", type=Path, help="use this photo instead of building the ~2560x1600 one")
    ap.add_argument("--markdown", action="store_true", help="print the results as markdown tables")
    ap.add_argument("--no-sweep", action="store_true", help="skip the 480p/1080p sweep and the orbit run")
    ap.add_argument(
        "--before-src",
        metavar="DIR",
        help="also run the 720p push-in and orbit with stillmotion from this source tree (e.g. another "
        "checkout's src), interleaved: the baseline of a change, in the same run",
    )
    ap.add_argument("--child", nargs=4, metavar=("PHOTO", "PROMPT", "SIZE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return

    import imageio_ffmpeg

    from stillmotion.video import DEFAULT_CRF, DEFAULT_PRESET

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    ff_version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    facts = machine()
    facts["ffmpeg"] = f"{ff_version} (imageio-ffmpeg {imageio_ffmpeg.__version__})"
    facts["x264 settings (both)"] = f"preset {DEFAULT_PRESET}, CRF {DEFAULT_CRF}, yuv420p"
    R = max(1, args.repeats)
    t_bench = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="bench_animate_"))
    CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    try:
        if args.photo:
            from PIL import Image

            photo = args.photo.resolve()
            with Image.open(photo) as im:
                how = f"{photo} ({im.size[0]}x{im.size[1]}), as given"
        else:
            photo, how = make_photo(tmp)

        def log(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        # warm-up (page cache for the photo, the venv's files and ffmpeg), not measured
        log("warm-up ...")
        measure(stillmotion_cmd(photo, PROMPT, SIZES["720p"], tmp / "warm.mp4"))
        if args.before_src:
            measure(stillmotion_cmd(photo, PROMPT, SIZES["720p"], tmp / "warm_b.mp4"), args.before_src)
        measure(cli_cmd(photo, PROMPT, SIZES["720p"], tmp / "warm_cli.mp4"))
        measure(zoompan_cmd(ffmpeg, photo, SIZES["720p"], tmp / "warm_z.mp4", DEFAULT_PRESET, DEFAULT_CRF))

        results: dict[str, dict[str, list]] = {}

        def record(key: str, wall: float, rss: float, cpu: float, timings: dict | None = None) -> None:
            r = results.setdefault(key, {"wall": [], "rss": [], "cpu": [], "timings": []})
            r["wall"].append(wall)
            r["rss"].append(rss)
            r["cpu"].append(cpu)
            if timings:
                r["timings"].append(timings)

        checked: dict[str, tuple] = {}

        def run_sm(key: str, prompt: str, size: str, src: str | None = None) -> None:
            out = tmp / f"{key}.mp4"
            wall, rss, cpu, stdout = measure(stillmotion_cmd(photo, prompt, size, out), src)
            info = json.loads(stdout.strip().splitlines()[-1])
            record(key, wall, rss, cpu, info["timings"])
            checked.setdefault(key, count_frames(out))
            log(
                f"  {key:<24} {wall:6.2f} s  {rss:7.1f} MB  cpu {cpu:5.2f} s  (recipe total {info['timings']['total']:.2f} s)"
            )

        def run_cli(key: str, size: str) -> None:
            out = tmp / f"{key}.mp4"
            wall, rss, cpu, _ = measure(cli_cmd(photo, PROMPT, size, out))
            record(key, wall, rss, cpu)
            checked.setdefault(key, count_frames(out))
            log(f"  {key:<24} {wall:6.2f} s  {rss:7.1f} MB  cpu {cpu:5.2f} s")

        def run_zp(key: str, size: str) -> None:
            out = tmp / f"{key}.mp4"
            wall, rss, cpu, _ = measure(zoompan_cmd(ffmpeg, photo, size, out, DEFAULT_PRESET, DEFAULT_CRF))
            record(key, wall, rss, cpu)
            checked.setdefault(key, count_frames(out))
            log(f"  {key:<24} {wall:6.2f} s  {rss:7.1f} MB  cpu {cpu:5.2f} s")

        for i in range(R):
            log(f"repeat {i + 1}/{R}")
            run_sm("sm 720p push-in", PROMPT, SIZES["720p"])
            run_zp("zoompan 720p", SIZES["720p"])
            run_cli("sm CLI 720p push-in", SIZES["720p"])
            run_sm("sm 720p push-in + elements", ELEMENTS_PROMPT, SIZES["720p"])
            if args.before_src:
                run_sm("before: sm 720p push-in", PROMPT, SIZES["720p"], args.before_src)
                run_sm("before: sm 720p orbit right", PARALLAX_PROMPT, SIZES["720p"], args.before_src)
            if not args.no_sweep:
                run_zp("zoompan 480p", SIZES["480p"])
                run_sm("sm 480p push-in", PROMPT, SIZES["480p"])
                run_zp("zoompan 1080p", SIZES["1080p"])
                run_sm("sm 1080p push-in", PROMPT, SIZES["1080p"])
                run_sm("sm 720p orbit right", PARALLAX_PROMPT, SIZES["720p"])
        bench_s = time.perf_counter() - t_bench
        facts["load average (1/5/15 min, at end)"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report(results, checked, facts, how, R, bench_s, args.markdown)


def report(results, checked, facts, how, R, bench_s, markdown) -> None:
    today = _dt.date.today().isoformat()
    sm, zp, cli = results["sm 720p push-in"], results["zoompan 720p"], results["sm CLI 720p push-in"]
    ratio = med(sm["wall"]) / med(zp["wall"])
    ratio_cli = med(cli["wall"]) / med(zp["wall"])
    # Contention-resistant views: best run against best run, and CPU time (work done) against CPU time.
    ratio_min = min(sm["wall"]) / min(zp["wall"])
    ratio_cpu = med(sm["cpu"]) / med(zp["cpu"])
    peak = max(max(r["rss"]) for k, r in results.items() if k.startswith("sm") and "720p" in k)

    def row(key: str) -> list[str]:
        r = results[key]
        n, w, h = checked[key]
        return [
            key, f"{w}x{h}, {n} fr", f"{med(r['wall']):.2f}", f"{min(r['wall']):.2f}", f"{med(r['wall']) / DURATION:.2f}",
            f"{med(r['wall']) / med(zp['wall']):.2f}" if "720p" in key else "",
            f"{max(r['rss']):.0f}", f"{med(r['cpu']):.2f}", f"{med(r['cpu']) / med(r['wall']):.2f}",
        ]  # fmt: skip

    head = ["run", "output", "wall median (s)", "wall min (s)", "x real time", "/ zoompan 720p", "peak RSS max (MB)",
            "CPU s (user+sys, median)", "cores busy (CPU/wall)"]  # fmt: skip
    rows = [row(k) for k in results]

    def vs(key: str, base: str = "zoompan 720p") -> float | None:
        a, b = results.get(key), results.get(base)
        return med(a["wall"]) / med(b["wall"]) if a and b else None

    # issue 19's targets (each needs its row: the sweep and the orbit run are skipped with --no-sweep)
    orbit, elements = vs("sm 720p orbit right"), vs("sm 720p push-in + elements")
    hd = vs("sm 1080p push-in", "zoompan 1080p")
    targets = [("720p push-in ≤ 1.0× zoompan (median wall)", ratio <= 1.0, f"{ratio:.2f}×")]
    if orbit is not None:
        targets.append(("720p orbit right ≤ 1.0× zoompan", orbit <= 1.0, f"{orbit:.2f}×"))
    if elements is not None:
        e_wall = med(results["sm 720p push-in + elements"]["wall"])
        targets.append(("720p + two element regions ≤ 1.15× zoompan", elements <= 1.15, f"{elements:.2f}×"))
        targets.append(("720p + two element regions faster than real time", e_wall <= DURATION, f"{e_wall:.2f} s"))
    if hd is not None:
        hd_rss = max(results["sm 1080p push-in"]["rss"])
        targets.append(("1080p push-in ≤ 1.0× zoompan 1080p", hd <= 1.0, f"{hd:.2f}×"))
        targets.append(("1080p peak RSS ≤ 1 GB", hd_rss <= 1024, f"{hd_rss:.0f} MB"))
    targets.append(("720p peak RSS ≤ 1 GB (worst run)", peak <= 1024, f"{peak:.0f} MB"))
    stage_rows = []
    for key in (k for k in results if results[k]["timings"]):
        ts = results[key]["timings"]
        m = {s: med([t[s] for t in ts]) for s in STAGES}
        m.update({s: med([t[s] for t in ts]) for s in EXTRA})
        stage_rows.append(
            [key] + [f"{m[s]:.3f}" for s in STAGES + EXTRA] + [f"{100 * m['render_encode'] / m['animate_call']:.0f}%"]
        )
    # The parent-measured wall includes interpreter start-up and imports; the recipe total does not.
    overhead = med(sm["wall"]) - med([t["animate_call"] for t in sm["timings"]])

    sweep = []
    for res in ("480p", "720p", "1080p"):
        a, b = results.get(f"sm {res} push-in"), results.get(f"zoompan {res}")
        if a and b:
            sweep.append([res, SIZES[res], f"{med(a['wall']):.2f}", f"{med(b['wall']):.2f}",
                          f"{med(a['wall']) / med(b['wall']):.2f}", f"{max(a['rss']):.0f}", f"{max(b['rss']):.0f}"])  # fmt: skip

    if markdown:

        def table(h, rs):
            return "\n".join(
                ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)] + ["| " + " | ".join(r) + " |" for r in rs]
            )

        print(f"## stillmotion vs ffmpeg zoompan — {today}\n")
        print(f"Photo: {how}.  \nClip: {DURATION:g} s, {FPS} fps; {R} repeats per row, interleaved; "
              f"each run a fresh process; peak RSS per process via `os.wait4`. Benchmark wall time {bench_s:.0f} s.\n")  # fmt: skip
        print("### Machine\n")
        print(table(["", ""], [[k, v] for k, v in facts.items()]) + "\n")
        print("### Results\n")
        print(table(head, rows) + "\n")
        print("### Targets (720p)\n")
        print(table(["target", "met", "measured"], [[t, "yes" if ok else "**no**", v] for t, ok, v in targets]))
        print(f"\nCLI (`stillmotion animate ...`, incl. start-up) / zoompan: {ratio_cli:.2f}× (medians). "
              f"Best run / best run: {ratio_min:.2f}× ({min(sm['wall']):.2f} s vs {min(zp['wall']):.2f} s). "
              f"CPU time (user+sys) stillmotion / zoompan: {ratio_cpu:.2f}×.\n")  # fmt: skip
        print("### Stage split (median of the recipe's `timings_s`, seconds; in-process)\n")
        print(
            table(
                ["run", *STAGES, "flush/finish after total", "animate() call", "import", "render_encode share of call"],
                stage_rows,
            )
        )
        print(
            f"\nInterpreter start-up + imports + exit (parent wall − animate() call, 720p push-in): {overhead:.2f} s.\n"
        )
        if sweep:
            print("### Resolution sweep (push-in vs zoompan, same output size)\n")
            print(
                table(
                    [
                        "res",
                        "size",
                        "stillmotion (s)",
                        "zoompan (s)",
                        "ratio",
                        "stillmotion RSS (MB)",
                        "zoompan RSS (MB)",
                    ],
                    sweep,
                )
            )
    else:
        print(f"photo: {how}")
        for k, v in facts.items():
            print(f"{k}: {v}")
        print()
        w = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
        for r in [head, *rows]:
            print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
        print()
        for t, ok, v in targets:
            print(f"{'MET ' if ok else 'MISS'}  {t}: {v}")
        print(f"CLI / zoompan: {ratio_cli:.2f}x; best/best {ratio_min:.2f}x; CPU-time ratio {ratio_cpu:.2f}x; "
              f"start-up+import+exit overhead {overhead:.2f} s")  # fmt: skip
        print("\nstages (median s): " + "  ".join(STAGES + EXTRA))
        for r in stage_rows:
            print("  " + "  ".join(r))
        if sweep:
            print("\nsweep: res size stillmotion_s zoompan_s ratio sm_rss_MB zp_rss_MB")
            for r in sweep:
                print("  " + "  ".join(r))


if __name__ == "__main__":
    main()
