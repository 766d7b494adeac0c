"""What the command line's modules share: the common flags and the way a command prints what it wrote.

:mod:`stillmotion.cli` (the front door and most commands) and :mod:`stillmotion.cli_request`
(the commands whose options come from the request model, built on first use) both use it.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from .errors import InputError

__all__ = ["AsJson", "Quiet", "print_report", "wrote"]

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors and the paths written.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def wrote(path: Path | str, quiet: bool, *, err: bool = False, what: str = "") -> None:
    """``wrote PATH`` (or just ``PATH`` when quiet)."""
    typer.echo(str(path) if quiet else f"wrote {what}{path}", err=err)


def _write_report(data: dict, output: Path) -> Path:
    from .video import write_json_atomic

    if output.suffix.lower() != ".json":
        raise InputError(f"-o {str(output)!r}: a report is JSON, name it like report.json")
    return write_json_atomic(output, data)


def print_report(data: dict, summary: Callable[[], str], *, as_json: bool, quiet: bool, output: Path | None) -> None:
    """Print a report (JSON or words, nothing when quiet) and write its JSON to ``output`` atomically."""
    if output is not None:
        written = _write_report(data, output)
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif not quiet:
        typer.echo(summary())
    if output is not None:
        wrote(written, quiet, err=as_json)  # stdout stays pure JSON with --json
