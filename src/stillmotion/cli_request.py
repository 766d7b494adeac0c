"""The commands whose options come from the request model: ``animate``, ``batch`` and ``analyze``.

``animate``'s options are generated from :data:`stillmotion.request.OPTIONS`
(the request model's fields): flag, metavar (the range or the choices),
default and help all come from the field, so a new field is a new option
with no edit here. The values reach :meth:`AnimateRequest.build` as typed,
and only the options given on the command line do, so a ``--preset`` fills
what was not given. ``batch`` takes the same options as the rows' defaults,
``analyze`` a few of them.

Importing this module imports the request model (pydantic's model machinery),
so :mod:`stillmotion.cli` imports it only when one of these commands is run or
its help is asked (:func:`command`); its root ``--help`` lists them from
:data:`stillmotion.cli.REQUEST_COMMANDS`.
"""

import contextlib
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.main import get_command_from_info

from .cli_common import Quiet, print_report, wrote
from .errors import InputError
from .request import HOSTED_CONCURRENCY, OPTIONS, AnimateRequest, Aspect

__all__ = ["command", "commands"]

commands = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
"""``animate``, ``batch`` and ``analyze``, built one at a time by :func:`command`."""


# ---------------------------------------------------------------- animate


def _request_parameters() -> list[inspect.Parameter]:
    """One typer option per :data:`OPTIONS` entry (all but the photo, which is the argument)."""
    params = []
    for o in OPTIONS:
        if o.name == "image":
            continue
        help_text = o.description
        bounds = () if o.minimum is None or o.maximum is None else (o.minimum, o.maximum)
        if bounds and o.range_text() not in o.metavar:  # the metavar names it (FPS): say the range
            help_text += f" Range: {o.range_text()}."
        if o.kind == "boolean":
            decls = [f"{o.flag}/--no-{o.flag[2:]}"] + ([o.short] if o.short else [])
            if o.nullable:  # unset means "the engine's default": neither flag given
                annotation: Any = Annotated[bool | None, typer.Option(*decls, help=help_text, show_default=False)]
                default: Any = None
            else:
                annotation = Annotated[bool, typer.Option(*decls, help=help_text)]
                default = bool(o.default)
        elif o.kind == "list":
            decls = [o.flag] + ([o.short] if o.short else [])
            annotation = Annotated[
                list[str] | None, typer.Option(*decls, help=help_text, metavar=o.metavar, show_default=False)
            ]
            default = None
        else:  # the raw text goes to the model, whose validation words every error the same way
            decls = [o.flag] + ([o.short] if o.short else [])
            shown = o.default not in (None, "")
            annotation = Annotated[
                str | None, typer.Option(*decls, help=help_text, metavar=o.metavar, show_default=shown)
            ]
            default = (f"{o.default:g}" if o.kind == "number" else str(o.default)) if shown else None
        params.append(inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return params


def _given(ctx: typer.Context, fields: dict[str, Any]) -> dict[str, Any]:
    """The options typed on the command line (or from the environment), not click's defaults."""
    given = {}
    for name, value in fields.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            given[name] = list(value) if isinstance(value, (list, tuple)) else value
    return given


def animate(
    ctx: typer.Context,
    photo: Annotated[
        Path,
        typer.Argument(
            help=next(o.description for o in OPTIONS if o.name == "image"), metavar="PHOTO", show_default=False
        ),
    ],
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the motion plan in words before rendering.")
    ] = False,
    quiet: Quiet = False,
    engines: Annotated[
        str | None,
        typer.Option(
            help="Run the same photo and prompt through several engines (comma-separated) and write a side-by-side "
            "comparison.",
            metavar="A,B,...",
            show_default=False,
        ),
    ] = None,
    recipe: Annotated[
        str | None,
        typer.Option(
            help="Take every setting from a recipe: a recipe .json, a clip stillmotion made, or a saved NAME "
            "(`stillmotion recipes list`); options given here win, the seed is new unless --same-seed.",
            metavar="FILE|CLIP|NAME",
            show_default=False,
        ),
    ] = None,
    same_seed: Annotated[bool, typer.Option("--same-seed", help="With --recipe: keep the recipe's seed too.")] = False,
    **fields: Any,
) -> None:
    """Animate PHOTO following the motion prompt; writes an MP4 and its recipe (.json)."""
    from .api import run

    given = _given(ctx, fields)
    if recipe is not None:
        from . import recipes

        settings, notice = recipes.settings(recipes.load(recipe), same_seed=same_seed)
        if notice and not quiet:
            typer.echo(f"note: {recipe}: {notice}", err=True)
        given = recipes.merge_options(settings, given)
    elif same_seed:
        raise InputError("--same-seed keeps a recipe's seed: give --recipe too (or --seed N)")
    request = AnimateRequest.build(image=photo, **given)
    try:
        if engines:
            _animate_engines(request, [e.strip() for e in engines.split(",") if e.strip()], explain, quiet)
            return
        clip = _run_with_progress(run, request, explain=explain, quiet=quiet)
    except KeyboardInterrupt:
        typer.echo("canceled: no clip was written", err=True)
        raise typer.Exit(130) from None

    if not quiet:
        for w in clip.warnings:
            typer.echo(f"warning: {w}", err=True)
    for c in clip.variations or [clip]:
        if quiet:
            typer.echo(str(c.path))
        else:
            ev = c.recipe.get("evaluation")
            ranked = f", rank {ev['rank']} score {ev['score']:.3f}" if ev else ""
            typer.echo(
                f"wrote {c.path} ({c.width}×{c.height}, {c.frame_count} frames at {c.fps:g} fps, seed {c.seed}, "
                f"{c.recipe['timings_s']['total']:.1f} s{ranked}) and {c.sidecar.name}"
            )
    if clip.contact_sheet is not None:
        wrote(clip.contact_sheet, quiet, what="contact sheet ")
    if clip.regions_picture is not None:
        wrote(clip.regions_picture, quiet, what="regions picture ")


_REQUEST_PARAMETERS = _request_parameters()  # built once: animate and batch share them
_own = inspect.signature(animate, eval_str=True)
animate.__signature__ = _own.replace(  # type: ignore[attr-defined]
    parameters=[p for p in _own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    + _REQUEST_PARAMETERS
)
commands.command()(animate)


def _animate_engines(request: AnimateRequest, names: list[str], explain: bool, quiet: bool) -> None:
    """One clip per engine (OUT_ENGINE.mp4), then OUT_compare.mp4 and its metrics table."""
    from .api import run
    from .compare import compare_clips, format_table

    if len(names) < 2:
        raise InputError("--engines needs at least two engine names, e.g. --engines living,wan2.2-ti2v-5b")
    base = request.output or Path.cwd() / f"{Path(request.image).stem}.mp4"
    paths, seconds, costs = [], [], []
    for name in names:
        one = AnimateRequest.build(
            **{
                **request.model_dump(),
                "engine": name,
                "output": base.with_name(f"{base.stem}_{name}{base.suffix or '.mp4'}"),
            }
        )
        clip = _run_with_progress(run, one, explain=explain, quiet=quiet)
        paths.append(clip.path)
        seconds.append(float(clip.recipe["timings_s"]["total"]))
        cost = (clip.recipe.get("shot") or {}).get("cost_estimate_usd")
        costs.append("local" if cost is None else f"${cost:.2f}")
        typer.echo(str(clip.path) if quiet else f"wrote {clip.path} ({name})")
    labels = [f"{n}, {s:.0f} s, {c}" for n, s, c in zip(names, seconds, costs)]  # ASCII: the label font
    grid, evaluations = compare_clips(
        paths, base.with_name(f"{base.stem}_compare.mp4"), labels=labels, source=request.image, prompt=request.prompt
    )
    extra = [("time [s]", [f"{s:.1f}" for s in seconds]), ("estimated cost", costs)]
    typer.echo(str(grid) if quiet else f"wrote {grid}\n" + format_table(names, evaluations, extra))


def _run_with_progress(run, request, *, explain: bool, quiet: bool):
    def on_plan(text: str) -> None:
        if explain:
            typer.echo(text)

    def on_notice(text: str) -> None:  # before a hosted job is paid for: where the photo goes, the cost
        if not quiet:
            typer.echo(f"note: {text}", err=True)

    if quiet or not sys.stderr.isatty():
        return run(request, on_plan=on_plan, on_notice=on_notice)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("render", total=None)

        def on_progress(done: int, total: int, _preview) -> None:
            bar.update(task, completed=done, total=total)

        return run(
            request, on_progress=on_progress, on_plan=on_plan, on_notice=lambda text: bar.console.print(f"note: {text}")
        )


# ---------------------------------------------------------------- batch


def batch(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(
            help="A manifest (.csv or .jsonl: a column image, any animate option as a column, an optional name) "
            "or a folder of photos.",
            metavar="MANIFEST|PHOTOS_DIR",
            show_default=False,
        ),
    ],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Folder for the clips, report.csv, report.json and index.html; or an fsspec URL "
            "(s3://bucket/path, gs://…: pip install s3fs or gcsfs) the clips are uploaded to.",
            metavar="DIR|URL",
            show_default=False,
        ),
    ],
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Rows rendered at once on this machine, each in its own process "
            "[default: 2 with 2+ cores and 3+ rows, else 1; measured in BENCHMARKS.md].",
            min=1,
            show_default=False,
        ),
    ] = None,
    hosted_concurrency: Annotated[
        int,
        typer.Option(help="Hosted-engine rows in flight at once (each only waits on its provider).", min=1),
    ] = HOSTED_CONCURRENCY,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            envvar="RAY_ADDRESS",
            help="Render on this Ray cluster (HOST:PORT of its head, or auto): each row a task, retried when a "
            "node dies; photos travel with the rows, clips come back to --out. pip install 'stillmotion[cluster]'.",
            metavar="ADDRESS",
            show_default=False,
        ),
    ] = None,
    gpus_per_row: Annotated[
        float,
        typer.Option(help="With --ray: GPUs each diffusion row asks for (0: any CPU node, tiny models only).", min=0),
    ] = 1.0,
    recipe: Annotated[
        str | None,
        typer.Option(
            "--recipe",
            help="Every row's settings from this recipe (.json, a clip, or a saved NAME) unless its own "
            "recipe column names another; the row's cells and the options given here win over it.",
            metavar="RECIPE",
            show_default=False,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Render the valid rows even when others are invalid.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per finished row.")] = False,
    quiet: Quiet = False,
    **fields: Any,
) -> None:
    """Animate every row of a manifest (or every photo of a folder) into --out; options give the defaults.

    Rows already done (their clip exists and its recipe matches) are not rendered again.
    """
    from .batch import read_folder, read_manifest, run_batch

    defaults = _given(ctx, fields)
    if recipe is not None:
        defaults["recipe"] = recipe
    read = read_folder if source.is_dir() else read_manifest
    address = ray or None
    rows, problems = read(source, out, defaults, cluster=address is not None)
    for row in rows:
        if row.notice and not (quiet or as_json):
            typer.echo(f"note: {source.name} {row.where}: {row.notice}", err=True)
    for p in problems:
        typer.echo(f"{'skipped' if skip_invalid else 'error'}: {source.name} {p}", err=True)
    if problems and not skip_invalid:
        typer.echo(
            f"error: {len(problems)} problem(s); nothing was rendered (--skip-invalid renders the rest)", err=True
        )
        raise typer.Exit(2)
    show_bar = not (quiet or as_json) and sys.stderr.isatty()
    t0 = time.monotonic()
    failures = 0

    def on_row(result: Any, done: int, total: int) -> None:
        nonlocal failures
        failures += result.status == "failed"
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False), file=rows_out)
        if show_bar:
            bar.update(task, completed=done, description=f"{failures} failed")
        elif not (quiet or as_json):
            rate = (time.monotonic() - t0) / done
            eta = f", ETA {rate * (total - done):.0f} s" if done < total else ""
            what = "done before" if result.resumed else result.status
            typer.echo(f"[{done}/{total}] {result.name}: {what} ({failures} failed{eta})", err=True)

    how: dict[str, Any] = {
        "concurrency": concurrency,
        "hosted_concurrency": hosted_concurrency,
        "ray_address": address,
        "gpus_per_row": gpus_per_row,
        "skipped": problems,
        "source": str(source),
    }
    # stdout holds the JSON lines alone: anything else printed meanwhile (Ray's "(raylet) …" notices
    # about nodes, from a thread of its own) goes to stderr.
    rows_out = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):
            if show_bar:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                with Progress(
                    TextColumn("rows"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    TextColumn("{task.description}"),
                ) as bar:
                    task = bar.add_task("0 failed", total=len(rows))
                    results = run_batch(rows, out, on_row=on_row, **how)
            else:
                results = run_batch(rows, out, on_row=on_row, **how)
    except KeyboardInterrupt:
        typer.echo(f"canceled: finished rows are in {out.rstrip('/')}/report.json; rerun to resume", err=True)
        raise typer.Exit(130) from None
    counts = {s: sum(r.status == s for r in results) for s in ("succeeded", "failed", "skipped")}
    if not (quiet or as_json):
        typer.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; wrote {out.rstrip('/')}/index.html", err=True)
    if counts["failed"]:
        raise typer.Exit(1)


_own_batch = inspect.signature(batch, eval_str=True)
batch.__signature__ = _own_batch.replace(  # type: ignore[attr-defined]
    parameters=[p for p in _own_batch.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    + [p for p in _REQUEST_PARAMETERS if p.name not in ("output", "show_regions")]
)
commands.command()(batch)


# ---------------------------------------------------------------- reports


def _help(name: str) -> str:
    return next(o.description for o in OPTIONS if o.name == name)


@commands.command()
def analyze(
    photo: Annotated[Path, typer.Argument(help="The photo to judge.", metavar="PHOTO", show_default=False)],
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help="A motion prompt to coach.", metavar="TEXT")
    ] = None,
    negative_prompt: Annotated[
        str, typer.Option("--negative-prompt", "-n", help=_help("negative_prompt"), metavar="TEXT")
    ] = "",
    aspect: Annotated[
        Aspect | None,
        typer.Option(
            help="Target aspect, to price the crop.", show_default=False, metavar="|".join(a.value for a in Aspect)
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (see stillmotion.analysis.REPORT_SCHEMA).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Also write the JSON report here.", metavar="REPORT.json", show_default=False
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Coach the prompt for this engine's own controls (what it would ignore or change).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(help="With --engine: the duration you will ask for, seconds.", metavar="S", show_default=False),
    ] = None,
    show_regions: Annotated[
        Path | None,
        typer.Option("--show-regions", help=_help("show_regions"), metavar="OUT.png", show_default=False),
    ] = None,
    depth_model: Annotated[
        str | None,
        typer.Option("--depth-model", help=_help("depth_model"), metavar="NAME|DIR|none", show_default=False),
    ] = None,
    scene_model: Annotated[
        str | None,
        typer.Option("--scene-model", help=_help("scene_model"), metavar="NAME|DIR|none", show_default=False),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Judge PHOTO (and a motion prompt) before animating: checks, expected result, regions found, advice."""
    from .api import analyze as run_analyze

    def on_notice(text: str) -> None:  # a learned layer picked from the Hugging Face cache
        if not quiet:
            typer.echo(f"note: {text}", err=True)

    coach_options: dict[str, Any] = {} if duration is None else {"duration": duration}
    report = run_analyze(
        photo,
        prompt,
        negative_prompt=negative_prompt,
        aspect=None if aspect is None or aspect is Aspect.source else aspect.value,
        engine=engine,
        depth_model=depth_model,
        scene_model=scene_model,
        show_regions=show_regions,
        on_notice=on_notice,
        **coach_options,
    )
    print_report(report.to_dict(), report.summary, as_json=as_json, quiet=quiet, output=output)
    if show_regions is not None:
        wrote(show_regions.expanduser(), quiet, err=as_json, what="regions picture ")


def command(name: str) -> typer.core.TyperCommand:
    """The click command ``name`` (``animate``, ``batch`` or ``analyze``), as ``stillmotion``'s own app builds it."""
    for info in commands.registered_commands:
        if info.callback is not None and info.callback.__name__ == name:
            built = get_command_from_info(
                info,
                pretty_exceptions_short=commands.pretty_exceptions_short,
                rich_markup_mode=commands.rich_markup_mode,
            )
            assert isinstance(built, typer.core.TyperCommand)
            return built
    raise KeyError(name)
