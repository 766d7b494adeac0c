"""A real Ray cluster on 127.0.0.1 for the scale-out tests: a head and worker nodes, one CPU each.

Each node is started by ``ray start`` in its own session (its own process group), with its
own temporary folder, and stopped by signalling that group: by its own process ids, never
``ray stop`` (which would stop every Ray on the machine).

    python tests/ray_cluster.py start DIR [--nodes 2]   # prints the head's address
    python tests/ray_cluster.py stop DIR

``DIR/address`` holds the head's ``HOST:PORT``; ``DIR/pgids`` one process-group id a line.
``.ci/run`` starts one before the tests and stops it after them; the tests find it through
``STILLMOTION_TEST_RAY`` (= DIR), and start their own when that is unset.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
OBJECT_STORE_BYTES = 150 * 1024**2


def _ray_bin() -> str:
    return str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _start(folder: Path, name: str, args: list[str]) -> int:
    temp = folder / name
    temp.mkdir(parents=True, exist_ok=True)
    cmd = [
        _ray_bin(),
        "start",
        f"--node-ip-address={HOST}",
        "--num-cpus=1",
        "--num-gpus=0",
        f"--object-store-memory={OBJECT_STORE_BYTES}",
        f"--temp-dir={temp}",
        "--disable-usage-stats",
        *args,
    ]
    log = (folder / f"{name}.log").open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with (folder / "pgids").open("a") as f:  # before waiting: a failed start is still stopped
        f.write(f"{proc.pid} {name}\n")
    if proc.wait(timeout=120) != 0:
        raise RuntimeError(f"ray start {name} failed: see {folder / (name + '.log')}")
    return proc.pid


def start(folder: Path, nodes: int = 2) -> str:
    """Start a head and ``nodes - 1`` worker nodes; return the head's ``HOST:PORT`` once all are alive."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    _start(folder, "head", ["--head", f"--port={port}", "--include-dashboard=false"])
    address = f"{HOST}:{port}"
    (folder / "address").write_text(address)
    for i in range(1, nodes):
        add_node(folder, f"node{i}")
    wait_nodes(address, nodes)
    return address


def add_node(folder: Path, name: str) -> int:
    """Start one more worker node joined to the head in ``folder``; return its process-group id."""
    address = (folder / "address").read_text().strip()
    return _start(folder, name, [f"--address={address}"])


def wait_nodes(address: str, nodes: int, timeout_s: float = 90.0) -> None:
    """Wait until ``nodes`` nodes are alive (``ray status`` as a separate process: no driver left behind)."""
    deadline = time.monotonic() + timeout_s
    while True:
        out = subprocess.run(
            [_ray_bin(), "status", f"--address={address}"], capture_output=True, text=True, timeout=60
        ).stdout
        active = out.split("Active:", 1)[-1].split("Pending:", 1)[0] if "Active:" in out else ""
        if sum(1 for line in active.splitlines() if "node_" in line) >= nodes:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Ray cluster at {address} did not reach {nodes} nodes:\n{out}")
        time.sleep(1.0)


def groups(folder: Path) -> dict[str, int]:
    """Node name → process-group id, from ``DIR/pgids`` (the latest of a name wins)."""
    found: dict[str, int] = {}
    path = folder / "pgids"
    for line in path.read_text().splitlines() if path.exists() else []:
        pgid, name = line.split()
        found[name] = int(pgid)
    return found


def processes(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in the group ``pgid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            group = int(stat.rsplit(")", 1)[1].split()[2])
            if group == pgid:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append((int(entry.name), cmd))
        except (OSError, ValueError, IndexError):
            continue
    return found


def kill_raylet(folder: Path) -> int:
    """SIGKILL the raylet of the latest worker node still running (it dies as a machine would);
    return its pid."""
    for name, pgid in reversed(list(groups(folder).items())):
        if name == "head":
            continue
        for pid, cmd in processes(pgid):
            if "/raylet/raylet " in cmd or cmd.endswith("/raylet/raylet"):
                os.kill(pid, signal.SIGKILL)
                return pid
    raise RuntimeError(f"no worker node of the cluster in {folder} has a raylet running")


def stop(folder: Path, grace_s: float = 5.0) -> None:
    """SIGTERM every recorded process group, then SIGKILL what is left after ``grace_s``."""
    pgids = (
        [int(line.split()[0]) for line in (folder / "pgids").read_text().splitlines()]
        if (folder / "pgids").exists()
        else []
    )
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(processes(g) for g in pgids):
        time.sleep(0.2)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="python tests/ray_cluster.py")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--nodes", type=int, default=2)
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.folder.resolve(), args.nodes))
    else:
        stop(args.folder.resolve())


if __name__ == "__main__":
    main()
