"""The ``stillmotion`` command line: a thin adapter over :class:`AnimateRequest`.

``animate``, ``batch`` and ``analyze`` take their options from the request
model (:data:`stillmotion.request.OPTIONS`); they live in
:mod:`stillmotion.cli_request`, which this module imports only when one of
them is run or its help is asked, so ``stillmotion --help``, ``--version``
and the other commands start without pydantic's model machinery. The root
help lists them from :data:`REQUEST_COMMANDS`.

Every subcommand takes ``-q/--quiet``; those that write a file take
``-o/--output``; those that report take ``--json``. Every user error, from
a bad photo to ``--resolution 4k``, prints one line ``error: <flag>
<value> … <the fix>`` on stderr and exits with the error's code (2 for bad
input, 3 for an unavailable engine): no usage block, no traceback.
"""

import json
import os
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from typer.core import TyperArgument, TyperCommand, TyperGroup

from ._version import __version__
from .cli_common import AsJson, Quiet, print_report, wrote
from .errors import InputError, StillmotionError

__all__ = ["REQUEST_COMMANDS", "app", "main"]


# Click's exception classes, from the click that typer runs on (typer ≥0.20 vendors its own copy).
_UsageError: type[Exception] = typer.BadParameter.__bases__[0]
_ClickException: type[Exception] = _UsageError.__bases__[0]

REQUEST_COMMANDS = {
    "animate": "Animate PHOTO following the motion prompt; writes an MP4 and its recipe (.json).",
    "batch": "Animate every row of a manifest (or every photo of a folder) into --out; options give the defaults.\n\n"
    "Rows already done (their clip exists and its recipe matches) are not rendered again.",
    "analyze": "Judge PHOTO (and a motion prompt) before animating: checks, expected result, regions found, advice.",
}
"""The help of the commands in :mod:`stillmotion.cli_request`, in their order: what the root ``--help``
lists before they are built (``tests/test_cli.py`` checks it against the real commands)."""


class _Argument(TyperArgument):
    """A positional argument whose help shows its metavar (``CLIP...``), never a Python type (``<list[Path]>``)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _plain_arguments(command: Any) -> Any:
    """``command`` (and the commands of a group, ``keys add``) with its arguments' help in words (:class:`_Argument`)."""
    commands = [command]
    while commands:
        one = commands.pop()
        commands += getattr(one, "commands", {}).values()
        for param in one.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument  # same state, only the help line differs
    return command


class _StandIn(TyperCommand):
    """A command of :mod:`stillmotion.cli_request` before it is built: its name and help, for the root's listing."""


def _stand_in() -> None:
    raise AssertionError("a stand-in is never run: _Commands replaces it with the real command")


class _Commands(MutableMapping[str, Any]):
    """The root group's commands: a :class:`_StandIn` becomes the real command on its first look-up.

    While ``listing`` (the root help), a look-up answers with the stand-in itself, whose help is the real one's.
    """

    def __init__(self, commands: Mapping[str, Any]) -> None:
        self._commands = dict(commands)
        self.listing = False

    def __getitem__(self, name: str) -> Any:
        command = self._commands[name]
        if isinstance(command, _StandIn) and not self.listing:
            from .cli_request import command as build

            command = self._commands[name] = _plain_arguments(build(name))
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._commands[name] = command

    def __delitem__(self, name: str) -> None:
        del self._commands[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._commands)

    def __len__(self) -> int:
        return len(self._commands)

    def built(self) -> list[Any]:
        """The commands built so far (the stand-ins left out)."""
        return [c for c in self._commands.values() if not isinstance(c, _StandIn)]


class _FrontDoor(TyperGroup):
    """The ``stillmotion`` group: every user error ends as one ``error: …`` line on stderr.

    :class:`StillmotionError` exits with its own code; click's usage errors
    (an unknown option, a missing argument, a value its type refuses) exit 2.
    The commands of :mod:`stillmotion.cli_request` are built on first use (:class:`_Commands`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = _Commands(self.commands)
        self.commands = self._lazy
        for command in self._lazy.built():
            _plain_arguments(command)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._lazy.listing = True  # the listing needs each command's help only: build none
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._lazy.listing = False

    def main(  # type: ignore[override]  # click's own keywords pass through **extra
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except StillmotionError as err:
            typer.echo(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", err=True)
            sys.exit(err.exit_code)
        except _ClickException as err:
            if type(err).__name__ == "NoArgsIsHelpError":  # `stillmotion` alone: the help, as click prints it
                err.show()  # type: ignore[attr-defined]
            else:
                typer.echo(f"error: {_usage_line(err)}", err=True)
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        except typer.Abort:
            typer.echo("canceled", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


def _usage_line(err: Exception) -> str:
    """A click usage error as one line: ``--port 'abc' is not valid: use a whole number in 1..65535``."""
    param = getattr(err, "param", None)
    cause = err.__cause__
    if isinstance(err, typer.BadParameter) and param is not None and isinstance(cause, ValidationError):
        first = cause.errors()[0]
        return f"{_flag_of(param)} {first.get('input')!r} is not valid: use {_accepted(param, first)}"
    msg = " ".join(err.format_message().split()).rstrip(".")  # type: ignore[attr-defined]
    ctx = getattr(err, "ctx", None)
    sub = f" {ctx.info_name}" if ctx is not None and ctx.parent is not None else ""
    where = f"stillmotion{sub} --help"
    return f"{msg[:1].lower()}{msg[1:]}: see `{where}`"


def _flag_of(param: Any) -> str:
    long = [o for o in param.opts if o.startswith("--")]
    return long[0] if long and param.param_type_name == "option" else (param.metavar or param.name.upper())


def _accepted(param: Any, error: Mapping[str, Any]) -> str:
    """What a typer parameter accepts, in words: ``one of a, b``, ``a whole number in 1..65535``."""
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_choice:
        return "one of " + ", ".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    info = getattr(desc, "parameter_info", None)
    lo, hi = getattr(info, "min", None), getattr(info, "max", None)
    annotation = getattr(desc, "annotation", None)
    what = (
        "a whole number"
        if int in (annotation, *typing.get_args(annotation))
        else "a number"
        if float in (annotation, *typing.get_args(annotation))
        else None
    )
    if what is None:
        return str(error.get("msg", "a valid value")).removeprefix("Value error, ").rstrip(".")
    return f"{what} in {'' if lo is None else lo}..{'' if hi is None else hi}" if (lo, hi) != (None, None) else what


app = typer.Typer(
    name="stillmotion",
    cls=_FrontDoor,
    help="Turn one still photo and a motion prompt into a short video clip — offline, on a CPU.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_show_version),
    ] = None,
) -> None:
    """Turn one still photo and a motion prompt into a short video clip — offline, on a CPU."""


# ---------------------------------------------------------------- animate, batch, analyze: stillmotion.cli_request

for _name, _help_text in REQUEST_COMMANDS.items():
    app.command(_name, cls=_StandIn, help=_help_text)(_stand_in)


# ---------------------------------------------------------------- reports


@app.command("eval")
def eval_cmd(
    clip: Annotated[Path, typer.Argument(help="The clip to judge.", metavar="CLIP", show_default=False)],
    source: Annotated[
        Path | None,
        typer.Option(help="The photo the clip was made from (fidelity metrics).", metavar="PHOTO", show_default=False),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt",
            "-p",
            help="The motion prompt (adherence metrics); default: the recipe's.",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    recipe: Annotated[
        Path | None,
        typer.Option(
            help="The clip's recipe: its plan is what the clip is judged against "
            "(default: CLIP's .json sidecar when there is one).",
            metavar="RECIPE.json",
            show_default=False,
        ),
    ] = None,
    loop: Annotated[
        bool | None,
        typer.Option(
            "--loop/--no-loop",
            help="The clip was meant to loop: judge its loop seam (default: as the recipe or prompt says).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Also write the JSON evaluation here.", metavar="EVAL.json", show_default=False
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Judge a finished clip against what it was asked: measured metrics, a 0..1 score and the camera move.

    The JSON (--json) follows stillmotion.evaluate.EVALUATION_SCHEMA (its "schema" key names the version).
    """
    from .errors import InputError
    from .evaluate import evaluate_clip

    plan: dict[str, Any] | None = None
    sidecar = clip.with_suffix(".json")
    if recipe is not None or (sidecar.is_file() and sidecar != output):
        try:
            found = json.loads((recipe or sidecar).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            if recipe is not None:
                raise InputError(f"--recipe {recipe}: cannot read it as JSON ({err})") from err
            found = None  # a sidecar that is not a recipe: judge without it
        if isinstance(found, dict) and (recipe is not None or ("stillmotion" in found and "plan" in found)):
            plan = found
    if source is None and plan is not None:
        path = (plan.get("source") or {}).get("path")
        if isinstance(path, str) and Path(path).is_file():
            source = Path(path)
    ev = evaluate_clip(clip, source=source, prompt=prompt, recipe=plan, loop=loop)
    print_report(ev.to_dict(), ev.summary, as_json=as_json, quiet=quiet, output=output)


@app.command()
def compare(
    clips: Annotated[
        list[Path], typer.Argument(help="2 to 9 clips, in tile order.", metavar="CLIP", show_default=False)
    ],
    labels: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated tile labels, one per clip (default: file names).",
            metavar="A,B,...",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            help="The photo the clips were made from (fidelity metrics).", metavar="PHOTO", show_default=False
        ),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt", "-p", help="The motion prompt (adherence metrics).", metavar="TEXT", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="OUT.mp4",
            help="The grid video; its metrics table goes next to it as .json.",
        ),
    ] = Path("compare.mp4"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics table as JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Play clips side by side (2) or in a grid (up to 9), in sync and labelled, and print their metrics table."""
    from .compare import compare_clips, format_table, table_dict

    names = [x.strip() for x in labels.split(",")] if labels is not None else None
    out, evaluations = compare_clips(clips, output, labels=names, source=source, prompt=prompt)
    shown = names or [c.name for c in clips]
    if as_json:
        typer.echo(json.dumps(table_dict(clips, shown, evaluations, out), indent=2, ensure_ascii=False))
    elif not quiet:
        typer.echo(format_table(shown, evaluations))
    if quiet:
        typer.echo(str(out))
    else:
        typer.echo(f"wrote {out} and {out.with_suffix('.json').name}", err=as_json)


@app.command()
def engines(
    as_json: AsJson = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the names of the engines that are ready here.")
    ] = False,
) -> None:
    """List the engines, what they can do and whether each can run here: ready, or needs a package,
    a GPU, weights or a token — with the reason and the fix."""
    from .engines.registry import engine_rows

    rows = engine_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if quiet:
        for r in rows:
            if r["ready"]:
                typer.echo(r["name"])
        return
    width = max(len(r["name"]) for r in rows) + 2
    state = max(len(r["availability"]["label"]) for r in rows) + 2
    typer.echo(f"{'engine':<{width}} {'where':<7} {'status':<{state}} {'end':<4} {'sound':<6}licence")
    for r in rows:
        verdict = r["availability"]
        end = "yes" if r["capabilities"]["end_frame"] else "no"
        sound = "yes" if r["capabilities"]["audio"] else "no"
        typer.echo(
            f"{r['name']:<{width}} {r['runs_on']:<7} {verdict['label']:<{state}} {end:<4} {sound:<6}{r['licence']}"
        )
        typer.echo(f"{'':<{width}} {r['summary']}")
        if not r["ready"]:
            typer.echo(f"{'':<{width}} {verdict['label']}: {verdict['reason']}; fix: {verdict['fix']}")


# ---------------------------------------------------------------- setup: download, serve, version


@app.command()
def download(
    engine: Annotated[
        str,
        typer.Argument(
            help="A diffusion engine name (see `stillmotion engines`), or `depth` (Depth Anything V2 Small, "
            "Apache-2.0) or `scene-parser` (UperNet ConvNeXt-T on ADE20K, MIT): used by default once cached.",
            metavar="ENGINE|depth|scene-parser",
            show_default=False,
        ),
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the folder the weights are in.")] = False,
) -> None:
    """Fetch a diffusion engine's weights, or the learned depth or scene parser, into the HF cache (needs internet)."""
    from .engines.registry import ENGINES
    from .errors import EngineUnavailable
    from .scene.depth_model import DEFAULT_DEPTH_MODEL
    from .scene.hub import download as fetch
    from .scene.parser_model import DEFAULT_SCENE_MODEL

    scene_models = {"depth": DEFAULT_DEPTH_MODEL, "scene-parser": DEFAULT_SCENE_MODEL}
    if engine in scene_models:
        folder = fetch(scene_models[engine])
        typer.echo(str(folder) if quiet else f"downloaded {scene_models[engine]} to {folder}")
        return
    spec = ENGINES.get(engine)
    if spec is None or spec.family == "living":
        raise InputError(f"{engine!r} is not a diffusion engine, 'depth' or 'scene-parser': see `stillmotion engines`")
    repo = spec.factory().card.repo_id  # type: ignore[attr-defined]
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo)
    except ImportError:
        raise EngineUnavailable("downloading needs huggingface_hub: pip install 'stillmotion[diffusion]'") from None
    except Exception as err:  # network, auth, disk: one line, no traceback
        raise EngineUnavailable(
            f"could not download {repo} ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "check the connection, or download on another machine and pass --model-path DIR"
        ) from None
    typer.echo(str(path) if quiet else f"downloaded {repo} to {path}")


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind; anything but loopback needs a token or keys (`stillmotion keys add`).",
            metavar="ADDRESS",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535, metavar="1..65535")] = 7860,
    token: Annotated[
        str | None,
        typer.Option(
            help="Refused: `ps` would show it. Use env STILLMOTION_TOKEN or --token-file.",
            metavar="SECRET",
            show_default=False,
            hidden=True,
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the server token (≥16 characters), one admin caller next to the keys; "
            "or set env STILLMOTION_TOKEN.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes rendering local jobs in parallel (0: a queue only, no workers at all).",
            min=0,
            max=64,
            metavar="0..64",
        ),
    ] = 1,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Dispatch the jobs to this Ray cluster (HOST:PORT of its head): each worker keeps one job "
            "in flight there, so --workers is the number of jobs on the cluster at once. "
            "pip install 'stillmotion[cluster]'.",
            metavar="ADDRESS",
            show_default=False,
        ),
    ] = None,
    hosted_workers: Annotated[
        int,
        typer.Option(
            help="Worker processes for hosted-engine jobs (they only wait on the provider): their own limit.",
            min=0,
            max=64,
            metavar="0..64",
        ),
    ] = 2,
    max_queued_per_key: Annotated[
        int, typer.Option(help="Jobs a key may have waiting or running at once (429 beyond).", min=1, metavar="N")
    ] = 20,
    max_jobs_per_hour: Annotated[
        int | None,
        typer.Option(
            help="Jobs a key may submit per hour, for keys without their own limit (429 beyond); default: no limit.",
            min=1,
            metavar="N",
            show_default=False,
        ),
    ] = None,
    max_cost_per_day: Annotated[
        float | None,
        typer.Option(
            help="USD of hosted price estimates a key may spend in 24 hours, for keys without their own cap "
            "(402 beyond); default: no cap.",
            min=0,
            metavar="USD",
            show_default=False,
        ),
    ] = None,
    max_streams_per_key: Annotated[
        int, typer.Option(help="Open /events streams per key (429 beyond).", min=1, max=1000, metavar="N")
    ] = 8,
    data: Annotated[Path, typer.Option(help="Data folder: jobs.db, inputs/, outputs/.", metavar="DIR")] = Path(
        "stillmotion-data"
    ),
    max_pixels: Annotated[
        int,
        typer.Option(
            help="Largest photo decoded, width × height in pixels (checked from its header; 413 above).",
            min=1,
            max=100_000_000,
            metavar="PIXELS",
        ),
    ] = 40_000_000,
    max_decodes: Annotated[
        int,
        typer.Option(help="Photos decoded or analysed at once; more requests wait.", min=1, max=64, metavar="1..64"),
    ] = 2,
    max_work: Annotated[
        int | None,
        typer.Option(
            help="Largest job, output width × height × frames (default: the largest the job form allows).",
            min=1,
            metavar="PIXEL-FRAMES",
            show_default=False,
        ),
    ] = None,
    max_queued: Annotated[
        int, typer.Option(help="Jobs waiting in the queue, all clients together (429 above).", min=1, metavar="N")
    ] = 1000,
    max_streams: Annotated[
        int,
        typer.Option(help="Open /v1/jobs/{id}/events streams, all clients together (429 above).", min=1, metavar="N"),
    ] = 256,
    max_rate: Annotated[
        int,
        typer.Option(
            help="POST requests per second per key, on average (bursts of 4×; 429 with Retry-After above).",
            min=1,
            max=10_000,
            metavar="N",
        ),
    ] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Serve the HTTP job API (/v1, OpenAPI at /docs), the browser UI (/) and worker processes."""

    from .errors import EngineUnavailable

    if token is not None:
        raise InputError(
            "--token on the command line is visible to every user of this machine (ps): "
            "set STILLMOTION_TOKEN or pass --token-file PATH instead"
        )
    secret = _server_token(token_file, os.environ.get("STILLMOTION_TOKEN"))
    loopback = host in ("127.0.0.1", "localhost", "::1")
    try:
        import uvicorn

        from .server.app import create_app
        from .server.jobs import JobStore
        from .server.keys import KeyStore, Quotas
        from .server.limits import MAX_WORK_CEILING, Limits
    except ImportError as err:
        raise EngineUnavailable(
            f"the server needs its extra ({err.name} is missing): pip install 'stillmotion[server]'"
        ) from None
    if max_work is not None and max_work > MAX_WORK_CEILING:
        raise InputError(
            f"--max-work {max_work}: the largest job the form allows is {MAX_WORK_CEILING}; use at most that"
        )
    limits = Limits(
        max_pixels=max_pixels,
        max_decodes=max_decodes,
        max_work=MAX_WORK_CEILING if max_work is None else max_work,
        max_queued=max_queued,
        max_streams=max_streams,
        max_rate=max_rate,
    )
    os.umask(0o077)  # the data folder's files (database, photos, clips) are the owner's alone
    try:
        has_keys = KeyStore(JobStore(data)).any_active()
    except OSError as err:
        raise InputError(f"--data {data}: {err.strerror or err}") from None
    if not loopback and not secret and not has_keys:
        raise InputError(
            f"--host {host} exposes the server beyond this machine: add keys (stillmotion keys add NAME "
            f"--data {data}) or set a token (STILLMOTION_TOKEN or --token-file PATH)"
        )
    if ray:
        from .cluster import connect_check

        connect_check(ray)
    api = create_app(
        data,
        token=secret,
        workers=workers,
        ray_address=ray or None,
        hosted_workers=hosted_workers if workers > 0 else 0,
        loopback_only=loopback and not secret and not has_keys,
        limits=limits,
        quotas=Quotas(
            jobs_per_hour=max_jobs_per_hour,
            queued=max_queued_per_key,
            cost_per_day=max_cost_per_day,
            streams=max_streams_per_key,
        ),
    )
    if not quiet:
        typer.echo(
            f"stillmotion {__version__}: serving http://{host}:{port}/ (API /v1, docs /docs), "
            f"{workers} worker(s){f' dispatching to the Ray cluster at {ray}' if ray else ''}, data {data.resolve()}"
        )
    uvicorn.run(api, host=host, port=port, log_level="warning", access_log=False)


def _server_token(token_file: Path | None, env: str | None) -> str | None:
    """The server token from ``--token-file`` (first) or ``STILLMOTION_TOKEN``, checked: ≥16 characters."""
    from .server.keys import MIN_TOKEN_CHARS

    where, value = "STILLMOTION_TOKEN", env
    if token_file is not None:
        try:
            where, value = f"--token-file {token_file}", token_file.read_text().strip()
        except OSError as err:
            raise InputError(f"--token-file {token_file}: {err.strerror or err}") from None
    if not value:
        if token_file is not None:
            raise InputError(f"{where} is empty: write the token in it (e.g. openssl rand -hex 16 > {token_file})")
        return None
    if len(value) < MIN_TOKEN_CHARS:
        raise InputError(
            f"{where}: the token has {len(value)} characters, use at least {MIN_TOKEN_CHARS} "
            "(e.g. openssl rand -hex 16)"
        )
    return value


keys_app = typer.Typer(
    name="keys",
    help="Per-person API keys of the studio (`serve`): each sees only its own jobs, within its limits.",
    no_args_is_help=True,
)
app.add_typer(keys_app)

DataDir = Annotated[Path, typer.Option(help="The studio's data folder (the same as `serve --data`).", metavar="DIR")]


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who the key is for (letters, digits, _.@-).", metavar="NAME")],
    admin: Annotated[bool, typer.Option("--admin", help="Sees, cancels and downloads everyone's jobs.")] = False,
    max_jobs_per_hour: Annotated[
        int | None,
        typer.Option(help="Jobs per hour (default: the server's).", min=0, metavar="N", show_default=False),
    ] = None,
    max_cost_per_day: Annotated[
        float | None,
        typer.Option(
            help="USD of hosted price estimates per 24 hours (default: the server's).",
            min=0,
            metavar="USD",
            show_default=False,
        ),
    ] = None,
    data: DataDir = Path("stillmotion-data"),
    quiet: Quiet = False,
) -> None:
    """Make a key for NAME and print it once: only its hash is stored."""
    from .server.jobs import JobStore
    from .server.keys import KeyStore

    try:
        key = KeyStore(JobStore(data)).add(
            name, admin=admin, max_jobs_per_hour=max_jobs_per_hour, max_cost_per_day=max_cost_per_day
        )
    except ValueError as err:
        raise InputError(str(err)) from None
    typer.echo(key)
    if not quiet:
        typer.echo(
            f"the key of {name!r}{' (admin)' if admin else ''}: it is shown only this once; "
            "clients send it as 'Authorization: Bearer KEY'",
            err=True,
        )


@keys_app.command("list")
def keys_list(data: DataDir = Path("stillmotion-data"), as_json: AsJson = False, quiet: Quiet = False) -> None:
    """The keys (never the secrets): name, admin, limits, created, revoked (-q: the active names only)."""
    from .server.jobs import JobStore
    from .server.keys import KeyStore

    rows = KeyStore(JobStore(data)).rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if quiet:
        for r in rows:
            if not r["revoked_at"]:
                typer.echo(r["name"])
        return
    if not rows:
        typer.echo(f"no keys in {data}: stillmotion keys add NAME --data {data}")
        return
    for r in rows:
        jobs = "default" if r["max_jobs_per_hour"] is None else str(r["max_jobs_per_hour"])
        cost = "default" if r["max_cost_per_day"] is None else f"${r['max_cost_per_day']:g}"
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
        typer.echo(
            f"{r['name']:<20} {'admin' if r['admin'] else 'user':<5}  jobs/hour {jobs:<7}  cost/day {cost:<8}  "
            f"created {r['created_at']}  {state}"
        )


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="Whose key to revoke (its jobs stay).", metavar="NAME")],
    data: DataDir = Path("stillmotion-data"),
    quiet: Quiet = False,
) -> None:
    """Revoke NAME's key at once: its requests get 401 from then on."""
    from .server.jobs import JobStore
    from .server.keys import KeyStore

    if not KeyStore(JobStore(data)).revoke(name):
        raise InputError(f"{name!r} has no active key in {data}: see stillmotion keys list --data {data}")
    if not quiet:
        typer.echo(f"revoked the key of {name!r}")


# ---------------------------------------------------------------- recipes

recipes_app = typer.Typer(
    name="recipes",
    help="Named recipes in your config folder, to reuse with `animate PHOTO --recipe NAME`.",
    no_args_is_help=True,
)
app.add_typer(recipes_app)

RecipeName = Annotated[str, typer.Argument(help="The recipe's name (letters, digits, -_.).", metavar="NAME")]


@recipes_app.command("save")
def recipes_save(
    name: RecipeName,
    source: Annotated[
        str, typer.Argument(help="A clip stillmotion made, its recipe .json, or a saved NAME.", metavar="CLIP_OR_JSON")
    ],
    quiet: Quiet = False,
) -> None:
    """Save the recipe of CLIP_OR_JSON as NAME (file names only, never this machine's folders)."""
    from . import recipes

    wrote(recipes.save(name, source), quiet, what=f"recipe {name!r} to ")


@recipes_app.command("list")
def recipes_list(as_json: AsJson = False, quiet: Quiet = False) -> None:
    """The saved recipes: name, engine and prompt (-q: the names only)."""
    from . import recipes

    rows = recipes.names()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif quiet:
        for r in rows:
            typer.echo(r["name"])
    elif not rows:
        typer.echo(f"no saved recipes in {recipes.library_dir()}: stillmotion recipes save NAME CLIP")
    else:
        for r in rows:
            typer.echo(f"{r['name']:<20} {r['engine']:<10} {r['prompt']}")


@recipes_app.command("show")
def recipes_show(name: RecipeName, quiet: Quiet = False) -> None:
    """Print the saved recipe NAME as JSON (-q changes nothing: the JSON is the answer)."""
    from . import recipes

    typer.echo(json.dumps(recipes.load_saved(name), indent=2, ensure_ascii=False))


@recipes_app.command("delete")
def recipes_delete(name: RecipeName, quiet: Quiet = False) -> None:
    """Delete the saved recipe NAME."""
    from . import recipes

    path = recipes.delete(name)
    if not quiet:
        typer.echo(f"deleted recipe {name!r} ({path})")


@app.command()
def version(quiet: Quiet = False) -> None:
    """Print the stillmotion version."""
    typer.echo(__version__)


# ---------------------------------------------------------------- finishing a clip

Output = Annotated[Path | None, typer.Option("--output", "-o", help="Output path.", metavar="OUT", show_default=False)]


def _finish(step: Callable[[], Path], quiet: bool) -> None:
    """Run a finishing step and print the path it wrote."""
    wrote(step(), quiet)


@app.command()
def interpolate(
    clip: Annotated[Path, typer.Argument(help="The clip to interpolate.", metavar="CLIP", show_default=False)],
    fps: Annotated[
        float | None, typer.Option(help="Target frame rate, e.g. 48 or 60.", metavar="FPS", show_default=False)
    ] = None,
    factor: Annotated[
        int | None, typer.Option(help="Frame-rate multiplier, e.g. 2.", metavar="N", show_default=False)
    ] = None,
    output: Output = None,
    quiet: Quiet = False,
) -> None:
    """Motion-compensated frame interpolation (optical flow both ways, occlusion-aware; no blending across cuts)."""
    from .post.interpolate import interpolate_file

    _finish(lambda: interpolate_file(clip, output, fps=fps, factor=factor), quiet)


@app.command()
def upscale(
    clip: Annotated[Path, typer.Argument(help="The clip to upscale.", metavar="CLIP", show_default=False)],
    scale: Annotated[int, typer.Option(help="2 or 4.", metavar="2|4")] = 2,
    upscaler: Annotated[
        str | None,
        typer.Option(
            help="Super-resolution weights: a .pth/.safetensors file or a Hub "
            "name in the cache; default: classical Lanczos + sharpening.",
            metavar="WEIGHTS",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Upscale on Replicate instead: real-esrgan-video or topaz-video-upscale (uploads the clip; "
            "needs REPLICATE_API_TOKEN).",
            metavar="real-esrgan-video|topaz-video-upscale",
            show_default=False,
        ),
    ] = None,
    output: Output = None,
    quiet: Quiet = False,
) -> None:
    """Upscale a clip ×2 or ×4 (learned via spandrel when weights are given, else classical), temporally stable."""
    if engine is not None:
        from .post.hosted import upscale_remote

        _finish(lambda: upscale_remote(clip, output, engine=engine, scale=scale), quiet)
        return
    from .post.upscale import upscale_file

    _finish(lambda: upscale_file(clip, output, scale=scale, upscaler=upscaler), quiet)


@app.command()
def sound(
    clip: Annotated[Path, typer.Argument(help="The clip to give sound.", metavar="CLIP", show_default=False)],
    prompt: Annotated[
        str,
        typer.Option("--prompt", "-p", help="What should be heard, e.g. 'waves on a pebble beach'.", metavar="TEXT"),
    ] = "",
    negative_prompt: Annotated[
        str, typer.Option("--negative-prompt", "-n", help="What should not be heard.", metavar="TEXT")
    ] = "music",
    seed: Annotated[int | None, typer.Option(help="The model's seed.", metavar="N", show_default=False)] = None,
    output: Output = None,
    quiet: Quiet = False,
) -> None:
    """Generate sound that follows the clip's motion and a prompt (MMAudio on Replicate; uploads the clip)."""
    from .post.hosted import sound_file

    _finish(lambda: sound_file(clip, output, prompt=prompt, negative_prompt=negative_prompt, seed=seed), quiet)


@app.command("loop")
def loop_cmd(
    clip: Annotated[Path, typer.Argument(help="The clip to make loop.", metavar="CLIP", show_default=False)],
    mode: Annotated[
        str, typer.Option(help="crossfade, pingpong or seamless.", metavar="crossfade|pingpong|seamless")
    ] = "seamless",
    output: Output = None,
    quiet: Quiet = False,
) -> None:
    """Make any clip loop: crossfade, pingpong, or seamless (same length, self-crossfade around the wrap)."""
    from .post.loop import loop_file

    _finish(lambda: loop_file(clip, output, mode=mode), quiet)


@app.command()
def merge(
    clips: Annotated[list[Path], typer.Argument(help="Clips to join, in order.", metavar="CLIP", show_default=False)],
    transition: Annotated[
        str, typer.Option(help="cut, crossfade:SEC or fade:SEC.", metavar="cut|crossfade:SEC|fade:SEC")
    ] = "cut",
    output: Output = None,
    quiet: Quiet = False,
) -> None:
    """Join clips of any sizes, fps and lengths into one (normalised to the first), keeping each part's recipe."""
    from .post.merge import merge_files

    _finish(lambda: merge_files(clips, output, transition=transition), quiet)


@app.command()
def export(
    clip: Annotated[Path, typer.Argument(help="The clip to convert.", metavar="CLIP", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Output path; its extension picks the format unless --format is given.",
            metavar="OUT",
            show_default=False,
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            help="mp4, h265, webm, webp, gif or png (a frame folder).",
            metavar="mp4|h265|webm|webp|gif|png",
            show_default=False,
        ),
    ] = None,
    crf: Annotated[
        int | None,
        typer.Option(help="Quality (lower is better), for mp4/h265/webm.", metavar="0..63", show_default=False),
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(
            help="A sound file to lay under the clip (trimmed or looped, with fades; AAC).",
            metavar="SOUND",
            show_default=False,
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Convert a clip to another format (and add sound)."""
    from .post.formats import export_file

    _finish(lambda: export_file(clip, output, format=format, crf=crf, audio=audio), quiet)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
