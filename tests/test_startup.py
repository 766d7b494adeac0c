"""Start-up stays light (issue 19): ``import stillmotion`` and the command line's table of
commands and options load none of the heavy libraries, each in a fresh interpreter.

Not a timing test (timings are in ``benchmarks/bench_startup.py`` and BENCHMARKS.md): what
is checked is the cause of a slow start, a heavy module in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

HEAVY = ("cv2", "numpy", "av", "PIL", "torch", "transformers", "diffusers", "ray", "fastapi", "uvicorn", "rich")
"""Not one of these may be imported by ``import stillmotion`` or by building the CLI."""

_REPORT_AT_EXIT = (
    "import atexit, json, sys\n"
    f"atexit.register(lambda: print('\\n' + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules))))\n"
)


def _fresh(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _heavy_after(code: str, *args: str) -> list[str]:
    """The heavy modules loaded once ``code`` has run (reported at exit: click ends with SystemExit)."""
    proc = _fresh(_REPORT_AT_EXIT + code, *args)
    last = proc.stdout.rstrip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("["), f"no report (rc {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-2000:]}"
    return json.loads(last)


def test_import_stillmotion_loads_no_heavy_module():
    assert _heavy_after("import stillmotion") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["animate", "--help"],
        ["batch", "--help"],
        ["analyze", "--help"],
        ["serve", "--help"],
        ["keys", "--help"],
        ["recipes", "list", "--help"],
    ],
    ids=" ".join,
)
def test_cli_table_and_help_load_no_heavy_module(argv):
    """The console script's own path: import ``stillmotion.cli``, build the click app, print help."""
    code = "import sys\nfrom stillmotion.cli import main\nsys.argv[0] = 'stillmotion'\nmain()"
    assert _heavy_after(code, *argv) == []


_MODEL_MACHINERY = ("stillmotion.request", "stillmotion.cli_request", "pydantic.main", "pydantic.fields")


def _loaded_after(code: str, names: tuple[str, ...], *args: str) -> list[str]:
    """Which of ``names`` are in ``sys.modules`` once ``code`` has run (reported at exit)."""
    report = f"import atexit, json, sys\natexit.register(lambda: print('\\n' + json.dumps([m for m in {names!r} if m in sys.modules])))\n"
    proc = _fresh(report + code, *args)
    last = proc.stdout.rstrip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("["), f"no report (rc {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-2000:]}"
    return json.loads(last)


_CONSOLE = "import sys\nfrom stillmotion.cli import main\nsys.argv[0] = 'stillmotion'\nmain()"


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []], ids=lambda a: " ".join(a) or "(nothing)")
def test_root_help_and_version_skip_the_request_model(argv):
    """``stillmotion --help`` and ``--version`` list ``animate``, ``batch`` and ``analyze`` without building them:
    neither the request model nor pydantic's model machinery (~45 ms of a ~0.15 s start) is imported."""
    assert _loaded_after(_CONSOLE, _MODEL_MACHINERY, *argv) == []


@pytest.mark.parametrize(
    "argv",
    [["interpolate", "--help"], ["loop", "--help"], ["keys", "--help"], ["recipes", "list", "--help"]],
    ids=" ".join,
)
def test_other_commands_help_skips_the_request_model(argv):
    """A command that takes no request option never imports the request model (typer itself may load pydantic)."""
    assert _loaded_after(_CONSOLE, ("stillmotion.request", "stillmotion.cli_request"), *argv) == []


@pytest.mark.parametrize("command", ["animate", "batch", "analyze"])
def test_request_commands_are_built_when_asked(command):
    assert _loaded_after(_CONSOLE, ("stillmotion.request", "stillmotion.cli_request"), command, "--help") == [
        "stillmotion.request",
        "stillmotion.cli_request",
    ]


def test_building_the_app_loads_no_heavy_module():
    code = "import typer\nimport stillmotion.cli\ncommand = typer.main.get_command(stillmotion.cli.app)"
    assert _heavy_after(code) == []


def test_public_names_still_resolve_and_are_listed():
    code = (
        "import json, stillmotion\n"
        "names = ['animate', 'run', 'analyze', 'Clip', 'Report', 'AnimateRequest']\n"
        "listed = [n for n in names if n in dir(stillmotion)]\n"
        "from stillmotion.api import Clip, analyze, animate, run\n"
        "from stillmotion.analysis import Report\n"
        "from stillmotion.request import AnimateRequest\n"
        "same = [stillmotion.animate is animate, stillmotion.run is run, stillmotion.analyze is analyze,\n"
        "        stillmotion.Clip is Clip, stillmotion.Report is Report, stillmotion.AnimateRequest is AnimateRequest]\n"
        "print(json.dumps([listed, same, sorted(set(stillmotion.__all__) - set(dir(stillmotion)))]))"
    )
    proc = _fresh(code)
    assert proc.returncode == 0, proc.stderr
    listed, same, missing = json.loads(proc.stdout.splitlines()[-1])
    assert listed == ["animate", "run", "analyze", "Clip", "Report", "AnimateRequest"]
    assert all(same)
    assert missing == []


def test_unknown_attribute_is_an_attribute_error():
    import stillmotion

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stillmotion.nope  # noqa: B018
    assert not hasattr(stillmotion, "also_not_here")
    assert stillmotion.__version__ and stillmotion.InputError.exit_code == 2
