"""Batch throughput: 24 rows of 3 s 480p living clips, here and on a two-node Ray cluster (issue 16).

Modes, in one run on one machine, each from a fresh output folder:

- **baseline**: the 24 requests through :func:`stillmotion.api.run`, one after another in
  one process (what 24 ``animate`` calls cost, without 24 interpreter starts);
- **local ×1**: ``stillmotion batch MANIFEST --out DIR`` (rows in a thread of the batch process);
- **local ×2**: the same with ``--concurrency 2`` (two spawned worker processes);
- **ray ×2**: ``--ray ADDRESS`` on a two-node cluster on 127.0.0.1 (a head and a second node,
  one CPU each, ``tests/ray_cluster.py``; started here unless ``--ray`` names one); its
  start-up (≈20 s) is not counted.

For each: wall time, clips per minute, the median render time of a row as the row measured
it (``seconds`` in report.json), the **overhead per row**: ``wall × workers / rows −
median render`` (the time a worker spent on a row beyond rendering it: dispatch, shipping the
photo, writing the clip back, the thumbnail), and the peak RSS of each process that
rendered (the batch process for ×1, each worker or Ray worker process otherwise; sampled
every 0.1 s with psutil).

    python benchmarks/bench_batch.py [--rows 24] [--ray ADDRESS] [--json OUT] [--markdown]

Photos: the development photos in ../shared/photos (16 real photos, 1.2–12 MP),
cycled to ``--rows``; each row its own name and seed; prompt "slow push-in", 854×480,
3 s at 24 fps.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "photos"
SETTINGS = {"size": "854x480", "duration": 3, "fps": 24, "prompt": "slow push-in"}


def manifest(folder: Path, rows: int) -> Path:
    photos = sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    lines = ["image,name,seed"]
    for i in range(rows):
        photo = photos[i % len(photos)]
        lines.append(f"{photo},{photo.stem}-{i},{i + 1}")
    path = folder / "manifest.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


class PeakRSS:
    """Peak resident memory per process, sampled every 0.1 s: the tree under ``root`` and
    every process whose command line starts with ``ray::`` (a Ray worker)."""

    def __init__(self, root: int) -> None:
        self.root, self.peaks, self._stop = root, {}, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            procs = []
            try:
                root = psutil.Process(self.root)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                pass
            for p in psutil.process_iter(["cmdline"]):
                cmd = p.info.get("cmdline") or []
                if cmd and cmd[0].startswith("ray::") and cmd[0] not in ("ray::IDLE",):
                    procs.append(p)
            for p in procs:
                try:
                    rss, name = p.memory_info().rss, " ".join(p.cmdline()[:3])
                except psutil.Error:
                    continue
                key = (p.pid, name[:60])
                self.peaks[key] = max(self.peaks.get(key, 0), rss)


def run_mode(name: str, cmd: list[str], out: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with PeakRSS(proc.pid) as rss:
        _, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}): {err.decode()[-2000:]}")
    report = json.loads((out / "report.json").read_text())["rows"]
    assert all(r["status"] == "succeeded" and not r["resumed"] for r in report), report
    renders = [r["seconds"] for r in report]
    workers = {r["node"] for r in report}
    return {
        "mode": name,
        "wall_s": wall,
        "renders": renders,
        "nodes": sorted(workers),
        "rss": rss.peaks,
    }


def summarise(result: dict, rows: int, parallel: int) -> dict:
    median = statistics.median(result["renders"])
    rss = result["rss"]
    # The processes that rendered: the biggest `parallel` of those sampled (the CLI parent that
    # only dispatches, and Ray's daemons, are smaller).
    renderers = sorted(rss.values(), reverse=True)[:parallel]
    return {
        "mode": result["mode"],
        "wall_s": round(result["wall_s"], 2),
        "clips_per_min": round(60 * rows / result["wall_s"], 2),
        "render_median_s": round(median, 3),
        "overhead_per_row_s": round(result["wall_s"] * parallel / rows - median, 3),
        "peak_rss_mib": [round(v / 2**20) for v in renderers],
        "nodes": result["nodes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=24)
    parser.add_argument("--ray", default=None, help="an existing cluster (default: start a two-node one)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smbench-"))
    m = manifest(work, args.rows)
    exe = [sys.executable, "-m", "stillmotion", "batch", str(m), "-q"]
    opts = ["--size", SETTINGS["size"], "--duration", str(SETTINGS["duration"]), "--fps", str(SETTINGS["fps"])]
    opts += ["-p", SETTINGS["prompt"]]
    results = []

    base_out = work / "baseline"
    code = (
        "import sys,json,time\n"
        "from stillmotion.batch import read_manifest\n"
        "from stillmotion.api import run\n"
        f"rows,p=read_manifest({str(m)!r},{str(base_out)!r},{SETTINGS!r})\n"
        f"import pathlib; pathlib.Path({str(base_out)!r}).mkdir()\n"
        "out=[]\n"
        "for r in rows:\n"
        "    t=time.perf_counter(); run(r.request); out.append(time.perf_counter()-t)\n"
        f"json.dump({{'rows':[{{'status':'succeeded','resumed':False,'seconds':s,'node':'here'}} for s in out]}},"
        f"open({str(base_out / 'report.json')!r},'w'))\n"
    )
    results.append(summarise(run_mode("baseline (api.run ×24)", [sys.executable, "-c", code], base_out), args.rows, 1))
    for name, extra, parallel in (("local ×1", [], 1), ("local ×2", ["--concurrency", "2"], 2)):
        out = work / name.replace(" ", "").replace("×", "x")
        results.append(summarise(run_mode(name, [*exe, "--out", str(out), *opts, *extra], out), args.rows, parallel))

    folder = None
    address = args.ray
    if address is None:
        sys.path.insert(0, str(ROOT / "tests"))
        import ray_cluster

        folder = Path(tempfile.mkdtemp(prefix="smray-"))
        address = ray_cluster.start(folder, nodes=2)
    try:
        out = work / "ray"
        results.append(
            summarise(
                run_mode("ray ×2 (two nodes)", [*exe, "--out", str(out), *opts, "--ray", address], out), args.rows, 2
            )
        )
    finally:
        if folder is not None:
            ray_cluster.stop(folder)
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)

    machine = (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, Python {platform.python_version()}"
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": args.rows, "results": results}, indent=2))
    if args.markdown:
        print(f"{args.rows} rows, {SETTINGS}; {machine}; {time.strftime('%Y-%m-%d')}\n")
        print("| mode | wall s | clips/min | render median s | overhead/row s | peak RSS per renderer MiB |")
        print("|---|---|---|---|---|---|")
        for r in results:
            rss = ", ".join(map(str, r["peak_rss_mib"]))
            print(
                f"| {r['mode']} | {r['wall_s']:.1f} | {r['clips_per_min']:.1f} | {r['render_median_s']:.2f} "
                f"| {r['overhead_per_row_s']:.2f} | {rss} |"
            )
    else:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
