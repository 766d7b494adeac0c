"""Load test of `stillmotion serve` on loopback: N client threads submit tiny jobs for T seconds.

Starts its own server (fresh data folder) unless --url is given, then reports
submitted / succeeded / failed / lost jobs, submit latency and throughput.

    python benchmarks/load_server.py --clients 4 --seconds 20 --workers 2
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image


def _photo() -> bytes:
    try:
        import skimage.data

        arr = skimage.data.coffee()
    except ImportError:
        arr = (np.random.default_rng(0).random((400, 600, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=None, help="an already running server (else one is started)")
    args = ap.parse_args()

    proc, tmp = None, None
    url = args.url
    if url is None:
        tmp = tempfile.TemporaryDirectory()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stillmotion.cli",
                "serve",
                "--port",
                str(port),
                "--data",
                str(Path(tmp.name) / "data"),
                "--workers",
                str(args.workers),
                "--max-queued-per-key",  # every client here is the one local caller: measure the queue, not the quota
                "1000000",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                if httpx.get(url + "/v1/engines", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
    photo = _photo()
    ids: list[str] = []
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            while time.monotonic() < stop_at:
                t = time.perf_counter()
                r = c.post(
                    "/v1/jobs",
                    files={"image": ("coffee.png", photo, "image/png")},
                    data={"size": "128x86", "duration": "1", "fps": "8", "seed": str(k)},
                )
                with lock:
                    latencies.append(time.perf_counter() - t)
                    if r.status_code == 201:
                        ids.append(r.json()["id"])
                    else:
                        errors.append(f"{r.status_code} {r.text[:100]}")
                time.sleep(0.05)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Let the queue drain, then count.
    with httpx.Client(base_url=url, timeout=30) as c:
        drain_deadline = time.monotonic() + 300
        while time.monotonic() < drain_deadline:
            counts = c.get("/v1/health").json()["jobs"]
            if counts["queued"] == 0 and counts["running"] == 0:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        statuses = [c.get(f"/v1/jobs/{i}").json()["status"] for i in ids]
    ok = statuses.count("succeeded")
    failed = statuses.count("failed")
    lost = len(ids) - ok - failed - statuses.count("canceled")
    print(f"clients {args.clients}, {args.seconds:g} s of submitting, {args.workers} worker(s)")
    print(f"submitted {len(ids)} (+{len(errors)} refused), succeeded {ok}, failed {failed}, lost {lost}")
    if latencies:
        print(
            f"submit latency: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {np.percentile(latencies, 95) * 1000:.0f} ms"
        )
    print(f"throughput: {ok / elapsed:.2f} jobs/s finished over {elapsed:.1f} s (submit + drain)")
    if errors:
        print("first refusal:", errors[0])
    if proc is not None:
        proc.terminate()
        proc.wait(20)
        tmp.cleanup()


if __name__ == "__main__":
    main()
