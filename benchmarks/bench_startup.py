"""Start-up time of ``import stillmotion`` and of the command line (issue 19; target ≤ 0.15 s).

Each measurement is a fresh process, timed from the parent (wall clock, the
interpreter's own start included): ``python -c pass``, ``import typer,
pydantic`` and typer with what a pydantic model's class needs
(``pydantic.main``, ``pydantic.fields``) as floors, then ``import
stillmotion``, ``stillmotion --version``, ``stillmotion --help`` and
``stillmotion animate --help``. The command line runs exactly as the console
script does (``from stillmotion.cli import main; main()``), so any source
tree can be measured: ``--before-src`` adds a second tree (e.g. main's
``src``), interleaved with this one in the same run. Min and median of
``--repeats`` processes per case (wall clock), and the least CPU time
(user + system) of the child, which other jobs on a shared machine disturb
less; ``--markdown`` prints a table.

Bytecode is cached as for an installed package (``.pyc`` files, written
under a temporary ``PYTHONPYCACHEPREFIX`` by one warm-up run per case, even
where ``PYTHONDONTWRITEBYTECODE`` is set), so compiling the sources is not
counted.

    python benchmarks/bench_startup.py [--repeats 15] [--before-src ../main/src] [--markdown]
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

HERE_SRC = Path(__file__).resolve().parents[1] / "src"

_CLI = "import sys; from stillmotion.cli import main; sys.argv[0] = 'stillmotion'; sys.exit(main())"

# (label, python's arguments, whether it runs stillmotion: measured once per tree)
CASES: list[tuple[str, list[str], bool]] = [
    ("python -c pass", ["-c", "pass"], False),
    ("import typer, pydantic", ["-c", "import typer, pydantic"], False),
    ("import typer + pydantic models", ["-c", "import typer, pydantic.main, pydantic.fields"], False),
    ("import stillmotion", ["-c", "import stillmotion"], True),
    ("stillmotion --version", ["-c", _CLI, "--version"], True),
    ("stillmotion --help", ["-c", _CLI, "--help"], True),
    ("stillmotion animate --help", ["-c", _CLI, "animate", "--help"], True),
]


def _time_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds seen from the parent, CPU seconds of the child: user + system)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    code = proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.communicate()[1].decode()
    if code != 0:
        raise SystemExit(f"{args!r} with PYTHONPATH={env['PYTHONPATH']} exited {code}:\n{stderr}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="fresh processes per case and tree (default 15)")
    ap.add_argument("--src", type=Path, default=HERE_SRC, help="the tree measured as 'after' (default: this src)")
    ap.add_argument("--before-src", type=Path, default=None, help="a second tree measured as 'before', interleaved")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()

    trees = [("after", args.src.resolve())]
    if args.before_src is not None:
        trees.insert(0, ("before", args.before_src.resolve()))
    with tempfile.TemporaryDirectory(prefix="bench-startup-pyc-") as pyc:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {tree: {**base, "PYTHONPATH": str(src), "PYTHONPYCACHEPREFIX": pyc} for tree, src in trees}
        for _label, argv, _needs in CASES:  # warm-up: .pyc files written, the file cache filled
            for tree, _src in trees:
                _time_once(argv, envs[tree])
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.repeats):  # interleaved, so that load from other jobs hits every case alike
            for label, argv, needs in CASES:
                for tree, _src in trees if needs else trees[:1]:
                    times.setdefault((label, tree if needs else "-"), []).append(_time_once(argv, envs[tree]))

    rows = []
    for label, _argv, needs in CASES:
        for tree in [t for t, _ in trees] if needs else ["-"]:
            wall = [w for w, _cpu in times[(label, tree)]]
            cpu = [c for _wall, c in times[(label, tree)]]
            rows.append((label, tree, min(wall), statistics.median(wall), min(cpu)))
    if args.markdown:
        print("| case | tree | wall min (s) | wall median (s) | CPU min (s) |\n|---|---|---|---|---|")
        for label, tree, lo, med, cpu_lo in rows:
            print(f"| `{label}` | {tree} | {lo:.3f} | {med:.3f} | {cpu_lo:.3f} |")
    else:
        where = ", ".join(f"{tree}: {src}" for tree, src in trees)
        print(f"python {sys.version.split()[0]}, {args.repeats} fresh processes per case; {where}")
        for label, tree, lo, med, cpu_lo in rows:
            print(f"{label:32s} {tree:7s} wall min {lo:.3f} s  median {med:.3f} s  CPU min {cpu_lo:.3f} s")


if __name__ == "__main__":
    main()
