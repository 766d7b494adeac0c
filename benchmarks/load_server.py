"""Load and abuse test of `stillmotion serve` on loopback.

Plain load (the default): N client threads submit tiny jobs for T seconds;
reports submitted / succeeded / failed / lost jobs, submit latency and
throughput.

    python benchmarks/load_server.py --clients 4 --seconds 20 --workers 2

Abuse (``--abuse``): a studio with per-person keys. N well-behaved keys
each submit a tiny job about once a second, first alone (phase A), then
again while one abusive key (phase B) floods submissions from 4 threads,
submits oversized jobs, opens hundreds of ``/events`` streams and sends
decompression-bomb PNGs (9000×9000, a few hundred KB) to ``/v1/analyze``.
It reports, per phase, the well-behaved keys' submit latency (median, p95),
jobs lost, throughput, the health check's latency, and what the abusive
key got back (status codes). The server runs with ``--max-work`` at 1080p ×
10 s × 30 fps, as a team's admin would set it, other limits at their
defaults. Target (issue 15): the well-behaved keys'
median submit latency within 2× of phase A, and nothing of theirs lost.

    python benchmarks/load_server.py --abuse --clients 3 --seconds 20 --workers 2

Starts its own server (fresh data folder) unless --url is given (plain load only).
"""

from __future__ import annotations

import argparse
import collections
import io
import os
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


def _bomb() -> bytes:
    """An all-zero 9000×9000 PNG: a few hundred KB on the wire, 243 MB of pixels decoded."""
    buf = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(data: Path, workers: int, extra: list[str], env: dict | None = None):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "stillmotion.cli", "serve", "--port", str(port), "--data", str(data)]
    cmd += ["--workers", str(workers), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    for _ in range(300):
        try:
            if httpx.get(url + "/v1/health", timeout=5).status_code in (200, 401):
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return proc, url


def _drain(c: httpx.Client, deadline_s: float = 300) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        counts = c.get("/v1/health").json()["jobs"]
        if counts["queued"] == 0 and counts["running"] == 0:
            return
        time.sleep(0.5)


def plain(args) -> None:
    proc, tmp = None, None
    url = args.url
    if url is None:
        tmp = tempfile.TemporaryDirectory()
        # All clients here are the one local user: let them queue.
        proc, url = _start_server(
            Path(tmp.name) / "data", args.workers, ["--max-queued-per-key", "100000", "--max-rate", "10000"]
        )
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
    with httpx.Client(base_url=url, timeout=30) as c:
        _drain(c)
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


# ---------------------------------------------------------------- abuse


class Phase:
    """What the well-behaved keys saw in one phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.ids: dict[str, list[str]] = collections.defaultdict(list)
        self.refused: list[str] = []
        self.health: list[float] = []
        self.lock = threading.Lock()


def _good_client(url: str, key: str, photo: bytes, stop_at: float, phase: Phase, seed: int) -> None:
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as c:
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            r = c.post(
                "/v1/jobs",
                files={"image": ("coffee.png", photo, "image/png")},
                data={"size": "128x86", "duration": "1", "fps": "8", "seed": str(seed)},
            )
            with phase.lock:
                phase.latencies.append(time.perf_counter() - t)
                if r.status_code == 201:
                    phase.ids[key].append(r.json()["id"])
                else:
                    phase.refused.append(f"{r.status_code} {r.text[:120]}")
            time.sleep(1.0)


def _health_probe(url: str, key: str, stop_at: float, phase: Phase) -> None:
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as c:
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            c.get("/v1/health")
            phase.health.append(time.perf_counter() - t)
            time.sleep(0.5)


def _abuser(url: str, key: str, photo: bytes, bomb: bytes, stop_at: float, codes: collections.Counter, lock) -> list:
    """Start the abusive key's threads; return them and the sockets it holds open."""
    auth = {"Authorization": f"Bearer {key}"}

    def count(what: str, code: int) -> None:
        with lock:
            codes[f"{what} {code}"] += 1

    def flood() -> None:
        with httpx.Client(base_url=url, timeout=60, headers=auth) as c:
            while time.monotonic() < stop_at:
                r = c.post(
                    "/v1/jobs",
                    files={"image": ("coffee.png", photo, "image/png")},
                    data={"size": "128x86", "duration": "1", "fps": "8"},
                )
                count("flood submit", r.status_code)

    def oversized() -> None:
        with httpx.Client(base_url=url, timeout=60, headers=auth) as c:
            while time.monotonic() < stop_at:
                r = c.post(
                    "/v1/jobs",
                    files={"image": ("coffee.png", photo, "image/png")},
                    data={"size": "4096x4096", "duration": "30", "fps": "60"},
                )
                count("oversized job", r.status_code)
                time.sleep(0.2)

    def bombs() -> None:
        with httpx.Client(base_url=url, timeout=120, headers=auth) as c:
            while time.monotonic() < stop_at:
                r = c.post("/v1/analyze", files={"image": ("bomb.png", bomb, "image/png")})
                count("9000×9000 analyze", r.status_code)

    def streams() -> None:
        # Hundreds of /events streams on one of its own jobs (a 720p 10 s one: it stays open
        # a while), held open with raw sockets.
        with httpx.Client(base_url=url, timeout=60, headers=auth) as c:
            r = c.post(
                "/v1/jobs",
                files={"image": ("coffee.png", photo, "image/png")},
                data={"size": "1280x720", "duration": "10", "fps": "24"},
            )
            if r.status_code != 201:
                count("stream setup job", r.status_code)
                return
            job = r.json()["id"]
        host, port = url.rsplit("/", 1)[1].split(":")
        for _ in range(300):
            if time.monotonic() >= stop_at:
                break
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(
                f"GET /v1/jobs/{job}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            head = s.recv(64).decode("latin-1", "replace")
            code = int(head.split()[1]) if head.startswith("HTTP/") else 0
            count("event stream", code)
            held.append(s)

    held: list[socket.socket] = []
    threads = [threading.Thread(target=flood) for _ in range(4)]
    threads += [threading.Thread(target=oversized), threading.Thread(target=streams)]
    threads += [threading.Thread(target=bombs) for _ in range(4)]
    for t in threads:
        t.start()
    return [threads, held]


def abuse(args) -> None:
    tmp = tempfile.TemporaryDirectory()
    data = Path(tmp.name) / "data"
    env = dict(os.environ)
    names = [f"user{k}" for k in range(args.clients)]
    keys = {}
    for name in [*names, "mallory", "ops"]:
        cmd = [sys.executable, "-m", "stillmotion.cli", "keys", "add", name, "--data", str(data), "-q"]
        if name == "ops":
            cmd.append("--admin")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        keys[name] = out.split()[0]
    # As a team's admin would run it: a work budget per job of 1080p × 10 s × 30 fps.
    proc, url = _start_server(data, args.workers, ["--max-work", str(1920 * 1080 * 300)], env)
    photo, bomb = _photo(), _bomb()
    phases = {"A: well-behaved keys alone": Phase(), "B: with the abusive key": Phase()}
    codes: collections.Counter = collections.Counter()
    lock = threading.Lock()
    try:
        for i, (label, phase) in enumerate(phases.items()):
            stop_at = time.monotonic() + args.seconds
            t0 = time.monotonic()
            threads = [
                threading.Thread(target=_good_client, args=(url, keys[n], photo, stop_at, phase, k))
                for k, n in enumerate(names)
            ]
            threads.append(threading.Thread(target=_health_probe, args=(url, keys["ops"], stop_at, phase)))
            abusive = _abuser(url, keys["mallory"], photo, bomb, stop_at, codes, lock) if i == 1 else None
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if abusive is not None:
                for t in abusive[0]:
                    t.join()
                for s in abusive[1]:
                    s.close()
            with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {keys['ops']}"}) as c:
                _drain(c)
                elapsed = time.monotonic() - t0
                statuses = [c.get(f"/v1/jobs/{j}").json()["status"] for ids in phase.ids.values() for j in ids]
            n = len(statuses)
            ok = statuses.count("succeeded")
            lost = n - ok - statuses.count("failed") - statuses.count("canceled")
            lat = phase.latencies
            print(f"## {label} ({args.clients} keys, {args.seconds:g} s, {args.workers} worker(s))")
            print(
                f"submitted {n} (+{len(phase.refused)} refused), succeeded {ok}, lost {lost}; "
                f"submit latency median {statistics.median(lat) * 1000:.0f} ms, "
                f"p95 {np.percentile(lat, 95) * 1000:.0f} ms; "
                f"health median {statistics.median(phase.health) * 1000:.0f} ms, "
                f"p95 {np.percentile(phase.health, 95) * 1000:.0f} ms; "
                f"{ok / elapsed:.2f} jobs/s over {elapsed:.1f} s"
            )
            if phase.refused:
                print("  well-behaved refusals:", collections.Counter(r[:3] for r in phase.refused))
        print("## what the abusive key got")
        for what, k in sorted(codes.items()):
            print(f"  {what}: {k}")
        a, b = (statistics.median(p.latencies) for p in phases.values())
        print(f"median submit latency B/A: {b / a:.2f}× (target ≤ 2×)")
    finally:
        proc.terminate()
        proc.wait(30)
        tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=None, help="an already running server (else one is started; plain load only)")
    ap.add_argument("--abuse", action="store_true", help="well-behaved keys with and without an abusive one")
    args = ap.parse_args()
    if args.abuse:
        abuse(args)
    else:
        plain(args)


if __name__ == "__main__":
    main()
