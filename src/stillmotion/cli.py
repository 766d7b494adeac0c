"""The ``stillmotion`` command line: a thin adapter over :class:`AnimateRequest`.

Option help comes from the request model's field descriptions, so the CLI
and the Python API say the same thing. User errors print one line and
exit with the error's code (2 for bad input, 3 for an unavailable engine),
without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._version import __version__
from .errors import InputError, StillmotionError
from .request import AnimateRequest, Aspect, Preset, Resolution

app = typer.Typer(
    name="stillmotion",
    help="Turn one still photo and a motion prompt into a short video clip — offline, on a CPU.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_F = AnimateRequest.model_fields


def _help(name: str) -> str:
    return _F[name].description or ""


@app.command()
def animate(
    photo: Annotated[Path, typer.Argument(help="The photo to animate (JPEG, PNG, WebP, TIFF, BMP, GIF).", show_default=False)],
    prompt: Annotated[str, typer.Option("--prompt", "-p", help=_help("prompt"))] = "",
    negative_prompt: Annotated[str, typer.Option("--negative-prompt", "-n", help=_help("negative_prompt"))] = "",
    engine: Annotated[str, typer.Option(help=_help("engine"))] = "living",
    duration: Annotated[Optional[float], typer.Option(help=_help("duration") + " [default: 5]", show_default=False)] = None,
    fps: Annotated[float, typer.Option(help=_help("fps"))] = 24.0,
    size: Annotated[Optional[str], typer.Option(help=_help("size"), metavar="WxH")] = None,
    resolution: Annotated[Resolution, typer.Option(help=_help("resolution"))] = Resolution.p720,
    aspect: Annotated[Optional[Aspect], typer.Option(help=_help("aspect") + " [default: source]", show_default=False)] = None,
    motion_strength: Annotated[float, typer.Option(help=_help("motion_strength"), metavar="0..1")] = 0.5,
    consistency: Annotated[float, typer.Option(help=_help("consistency"), metavar="0..1")] = 0.5,
    seed: Annotated[Optional[int], typer.Option(help=_help("seed"))] = None,
    variations: Annotated[int, typer.Option(help=_help("variations"))] = 1,
    pick: Annotated[Optional[str], typer.Option(help=_help("pick"), metavar="best", show_default=False)] = None,
    loop: Annotated[Optional[bool], typer.Option("--loop/--no-loop", help=_help("loop"), show_default=False)] = None,
    preset: Annotated[Optional[Preset], typer.Option(help=_help("preset"), show_default=False)] = None,
    last_image: Annotated[Optional[Path], typer.Option(help=_help("last_image"))] = None,
    depth_model: Annotated[Optional[str], typer.Option(help=_help("depth_model"), metavar="NAME_OR_DIR")] = None,
    guidance_scale: Annotated[Optional[float], typer.Option(help=_help("guidance_scale"), show_default=False)] = None,
    steps: Annotated[Optional[int], typer.Option(help=_help("steps"), show_default=False)] = None,
    model_path: Annotated[Optional[Path], typer.Option(help=_help("model_path"), metavar="DIR", show_default=False)] = None,
    memory: Annotated[str, typer.Option(help=_help("memory"))] = "auto",
    interpolate: Annotated[Optional[float], typer.Option(help=_help("interpolate"), metavar="FPS", show_default=False)] = None,
    upscale: Annotated[Optional[int], typer.Option(help=_help("upscale"), metavar="N", show_default=False)] = None,
    upscaler: Annotated[Optional[str], typer.Option(help=_help("upscaler"), show_default=False)] = None,
    audio: Annotated[Optional[Path], typer.Option(help=_help("audio"), show_default=False)] = None,
    format: Annotated[Optional[str], typer.Option(help=_help("format"), show_default=False)] = None,
    crf: Annotated[Optional[int], typer.Option(help=_help("crf"), show_default=False)] = None,
    fast: Annotated[bool, typer.Option("--fast", help=_help("fast"))] = False,
    cache: Annotated[bool, typer.Option("--cache", help=_help("cache"))] = False,
    mask: Annotated[Optional[Path], typer.Option(help=_help("mask"), metavar="PNG")] = None,
    freeze: Annotated[Optional[Path], typer.Option(help=_help("freeze"), metavar="PNG")] = None,
    arrow: Annotated[
        Optional[list[str]], typer.Option("--arrow", help=_help("arrows") + " Repeatable.", metavar="X1,Y1,X2,Y2[:SPEED]")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print the motion plan in words before rendering.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors and the output path.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=_help("output"), metavar="OUT.mp4")] = None,
    engines: Annotated[Optional[str], typer.Option(help="Run the same photo and prompt through several engines (comma-separated) and write a side-by-side comparison.", show_default=False)] = None,
) -> None:
    """Animate PHOTO following the motion prompt; writes an MP4 and its recipe (.json)."""
    from .api import run
    from .request import AnimateRequest

    try:
        given = {k: v for k, v in {"duration": duration, "aspect": aspect, "loop": loop}.items() if v is not None}
        request = AnimateRequest.build(
            **given,
            preset=preset,
            image=photo,
            prompt=prompt,
            negative_prompt=negative_prompt,
            engine=engine,
            fps=fps,
            size=size,
            resolution=resolution,
            motion_strength=motion_strength,
            consistency=consistency,
            seed=seed,
            variations=variations,
            pick=pick,
            last_image=last_image,
            depth_model=depth_model,
            mask=mask,
            freeze=freeze,
            arrows=arrow or [],
            guidance_scale=guidance_scale,
            steps=steps,
            model_path=model_path,
            memory=memory,
            fast=fast,
            cache=cache,
            interpolate=interpolate,
            upscale=upscale,
            upscaler=upscaler,
            audio=audio,
            format=format,
            crf=crf,
            output=output,
        )
        if engines:
            _animate_engines(request, [e.strip() for e in engines.split(",") if e.strip()], explain, quiet)
            return
        clip = _run_with_progress(run, request, explain=explain, quiet=quiet)
    except StillmotionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("canceled: no clip was written", err=True)
        raise typer.Exit(130) from None

    if not quiet:
        for w in clip.warnings:
            typer.echo(f"warning: {w}", err=True)
    clips = clip.variations or [clip]
    for c in clips:
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
        typer.echo(str(clip.contact_sheet) if quiet else f"wrote contact sheet {clip.contact_sheet}")


def _animate_engines(request, names: list[str], explain: bool, quiet: bool) -> None:
    """One clip per engine (OUT_ENGINE.mp4), then OUT_compare.mp4 and its metrics table."""
    from .api import run
    from .compare import compare_clips, format_table

    if len(names) < 2:
        raise InputError("--engines needs at least two engine names, e.g. --engines living,wan2.2-ti2v-5b")
    base = request.output or Path.cwd() / f"{Path(request.image).stem}.mp4"
    paths = []
    for name in names:
        one = AnimateRequest.build(**{**request.model_dump(), "engine": name,
                                      "output": base.with_name(f"{base.stem}_{name}{base.suffix or '.mp4'}")})
        clip = _run_with_progress(run, one, explain=explain, quiet=quiet)
        paths.append(clip.path)
        typer.echo(str(clip.path) if quiet else f"wrote {clip.path} ({name})")
    grid, evaluations = compare_clips(paths, base.with_name(f"{base.stem}_compare.mp4"), labels=names,
                                      source=request.image, prompt=request.prompt)
    typer.echo(str(grid) if quiet else f"wrote {grid}\n" + format_table(names, evaluations))


def _run_with_progress(run, request, *, explain: bool, quiet: bool):
    def on_plan(text: str) -> None:
        if explain:
            typer.echo(text)

    if quiet or not sys.stderr.isatty():
        return run(request, on_plan=on_plan)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"), TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("render", total=None)

        def on_progress(done: int, total: int, _preview) -> None:
            bar.update(task, completed=done, total=total)

        return run(request, on_progress=on_progress, on_plan=on_plan)


@app.command()
def analyze(
    photo: Annotated[Path, typer.Argument(help="The photo to judge.", show_default=False)],
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="A motion prompt to coach.")] = None,
    negative_prompt: Annotated[str, typer.Option("--negative-prompt", "-n", help=_help("negative_prompt"))] = "",
    aspect: Annotated[Optional[Aspect], typer.Option(help="Target aspect, to price the crop.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (see stillmotion.analysis.REPORT_SCHEMA).")] = False,
) -> None:
    """Judge PHOTO (and a motion prompt) before animating: checks, expected result, advice."""
    import json as _json

    from .api import analyze as run_analyze

    try:
        report = run_analyze(photo, prompt, negative_prompt=negative_prompt,
                             aspect=None if aspect is None or aspect is Aspect.source else aspect.value)
    except StillmotionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    typer.echo(_json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if as_json else report.summary())


@app.command("eval")
def eval_cmd(
    clip: Annotated[Path, typer.Argument(help="The clip to judge.", show_default=False)],
    source: Annotated[Optional[Path], typer.Option(help="The photo the clip was made from (fidelity metrics).", metavar="PHOTO", show_default=False)] = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="The motion prompt (adherence metrics).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
) -> None:
    """Judge a finished clip: measured metrics, a 0..1 score and the camera move."""
    import json as _json

    from .evaluate import evaluate_clip

    try:
        ev = evaluate_clip(clip, source=source, prompt=prompt)
    except StillmotionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    typer.echo(_json.dumps(ev.to_dict(), indent=2, ensure_ascii=False) if as_json else ev.summary())


@app.command()
def compare(
    clips: Annotated[list[Path], typer.Argument(help="2 to 9 clips, in tile order.", show_default=False)],
    labels: Annotated[Optional[str], typer.Option(help="Comma-separated tile labels, one per clip (default: file names).", metavar="A,B,...", show_default=False)] = None,
    source: Annotated[Optional[Path], typer.Option(help="The photo the clips were made from (fidelity metrics).", metavar="PHOTO", show_default=False)] = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="The motion prompt (adherence metrics).", show_default=False)] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The grid video; its metrics table goes next to it as .json.")] = Path("compare.mp4"),
) -> None:
    """Play clips side by side (2) or in a grid (up to 9), in sync and labelled, and print their metrics table."""
    from .compare import compare_clips, format_table

    names = [x.strip() for x in labels.split(",")] if labels is not None else None
    try:
        out, evaluations = compare_clips(clips, output, labels=names, source=source, prompt=prompt)
    except StillmotionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    typer.echo(format_table(names or [c.name for c in clips], evaluations))
    typer.echo(f"wrote {out} and {out.with_suffix('.json').name}")


@app.command()
def engines() -> None:
    """List the engines, what they can do and whether they can run here (packages, GPU, weights)."""
    from .engines.registry import ENGINES

    gpu = _gpu_words()
    width = max(len(n) for n in ENGINES) + 2
    typer.echo(f"{'engine':<{width}} {'runs':<5} {'gpu':<5} {'weights':<9} {'end':<4} licence")
    for spec in ENGINES.values():
        ok, reason = spec.available()
        diffusion = spec.family != "living"
        weights = _weights_words(spec) if diffusion and ok else ("n/a" if not diffusion else "?")
        typer.echo(
            f"{spec.name:<{width}} {'yes' if ok else 'no':<5} {(gpu if diffusion else 'n/a'):<5} {weights:<9} "
            f"{'yes' if spec.end_frame else 'no':<4} {spec.licence}"
        )
        typer.echo(f"{'':<{width}} {spec.summary}" + ("" if ok else f" — {reason}"))
    if gpu == "none":
        typer.echo("No CUDA GPU here: diffusion engines would run on the CPU, far too slowly for real models.")


def _gpu_words() -> str:
    """'yes' with a CUDA GPU, 'none' without, '?' when torch is not installed (never imports it needlessly)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "?"
    import torch

    return "yes" if torch.cuda.is_available() else "none"


def _weights_words(spec) -> str:
    """'cached' when the model's weights are in the Hugging Face cache, else 'missing'."""
    try:
        from huggingface_hub import try_to_load_from_cache

        repo = spec.factory().card.repo_id
        found = try_to_load_from_cache(repo, "model_index.json")
        return "cached" if isinstance(found, str) else "missing"
    except Exception:
        return "?"


@app.command()
def download(
    engine: Annotated[str, typer.Argument(help="A diffusion engine name (see `stillmotion engines`).", show_default=False)],
) -> None:
    """Fetch a diffusion engine's weights into the Hugging Face cache (needs internet)."""
    from .engines.registry import ENGINES

    spec = ENGINES.get(engine)
    if spec is None or spec.family == "living":
        typer.echo(f"error: {engine!r} is not a diffusion engine: see `stillmotion engines`", err=True)
        raise typer.Exit(2)
    repo = spec.factory().card.repo_id
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo)
    except ImportError:
        typer.echo("error: downloading needs huggingface_hub: pip install 'stillmotion[diffusion]'", err=True)
        raise typer.Exit(3) from None
    except Exception as err:  # network, auth, disk: one line, no traceback
        typer.echo(f"error: could not download {repo} ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
                   "check the connection, or download on another machine and pass --model-path DIR", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"downloaded {repo} to {path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 7860,
    token: Annotated[Optional[str], typer.Option(help="Bearer token required on /v1 (or env STILLMOTION_TOKEN).", envvar="STILLMOTION_TOKEN", show_default=False)] = None,
    workers: Annotated[int, typer.Option(help="Worker processes rendering jobs in parallel.", min=0, max=64)] = 1,
    data: Annotated[Path, typer.Option(help="Data folder: jobs.db, inputs/, outputs/.")] = Path("stillmotion-data"),
) -> None:
    """Serve the HTTP job API (/v1, OpenAPI at /docs), the browser UI (/) and worker processes."""
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not token:
        typer.echo(f"error: --host {host} exposes the server beyond this machine: pass --token SECRET "
                   "(clients then send 'Authorization: Bearer SECRET')", err=True)
        raise typer.Exit(2)
    try:
        import uvicorn

        from .server.app import create_app
    except ImportError as err:
        typer.echo(f"error: the server needs its extra ({err.name} is missing): pip install 'stillmotion[server]'", err=True)
        raise typer.Exit(3) from None
    try:
        api = create_app(data, token=token or None, workers=workers, loopback_only=loopback and not token)
    except OSError as err:
        typer.echo(f"error: --data {data}: {err.strerror or err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"stillmotion {__version__}: serving http://{host}:{port}/ (API /v1, docs /docs), "
               f"{workers} worker(s), data {data.resolve()}")
    uvicorn.run(api, host=host, port=port, log_level="warning", access_log=False)


def _finish(step):
    """Run a finishing step: one line on error (exit code of the error), the output path on success."""
    try:
        out = step()
    except StillmotionError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
    typer.echo(f"wrote {out}")


@app.command()
def interpolate(
    clip: Annotated[Path, typer.Argument(help="The clip to interpolate.", show_default=False)],
    fps: Annotated[Optional[float], typer.Option(help="Target frame rate, e.g. 48 or 60.", show_default=False)] = None,
    factor: Annotated[Optional[int], typer.Option(help="Frame-rate multiplier, e.g. 2.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output path.", show_default=False)] = None,
) -> None:
    """Motion-compensated frame interpolation (optical flow both ways, occlusion-aware; no blending across cuts)."""
    from .post.interpolate import interpolate_file

    _finish(lambda: interpolate_file(clip, output, fps=fps, factor=factor))


@app.command()
def upscale(
    clip: Annotated[Path, typer.Argument(help="The clip to upscale.", show_default=False)],
    scale: Annotated[int, typer.Option(help="2 or 4.")] = 2,
    upscaler: Annotated[Optional[str], typer.Option(help="Super-resolution weights: a .pth/.safetensors file or a Hub name in the cache; default: classical Lanczos + sharpening.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output path.", show_default=False)] = None,
) -> None:
    """Upscale a clip ×2 or ×4 (learned via spandrel when weights are given, else classical), temporally stable."""
    from .post.upscale import upscale_file

    _finish(lambda: upscale_file(clip, output, scale=scale, upscaler=upscaler))


@app.command("loop")
def loop_cmd(
    clip: Annotated[Path, typer.Argument(help="The clip to make loop.", show_default=False)],
    mode: Annotated[str, typer.Option(help="crossfade, pingpong or seamless.")] = "seamless",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output path.", show_default=False)] = None,
) -> None:
    """Make any clip loop: crossfade, pingpong, or seamless (best loop point, motion-compensated blend)."""
    from .post.loop import loop_file

    _finish(lambda: loop_file(clip, output, mode=mode))


@app.command()
def merge(
    clips: Annotated[list[Path], typer.Argument(help="Clips to join, in order.", show_default=False)],
    transition: Annotated[str, typer.Option(help="cut, crossfade:SEC or fade:SEC.")] = "cut",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output path.", show_default=False)] = None,
) -> None:
    """Join clips of any sizes, fps and lengths into one (normalised to the first), keeping each part's recipe."""
    from .post.merge import merge_files

    _finish(lambda: merge_files(clips, output, transition=transition))


@app.command()
def export(
    clip: Annotated[Path, typer.Argument(help="The clip to convert.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output path; its extension picks the format unless --format is given.", show_default=False)],
    format: Annotated[Optional[str], typer.Option(help="mp4, h265, webm, webp, gif or png (a frame folder).", show_default=False)] = None,
    crf: Annotated[Optional[int], typer.Option(help="Quality (lower is better), for mp4/h265/webm.", show_default=False)] = None,
    audio: Annotated[Optional[Path], typer.Option(help="A sound file to lay under the clip (trimmed or looped, with fades; AAC).", show_default=False)] = None,
) -> None:
    """Convert a clip to another format (and add sound)."""
    from .post.formats import export_file

    _finish(lambda: export_file(clip, output, format=format, crf=crf, audio=audio))


@app.command()
def version() -> None:
    """Print the stillmotion version."""
    typer.echo(__version__)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
