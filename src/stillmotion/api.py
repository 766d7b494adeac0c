"""The pipeline as numbered stages: Load, Understand, Plan, Render, Finish.

:func:`animate` is the Python front door; the CLI calls :func:`run` with
the same :class:`~stillmotion.request.AnimateRequest`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from warnings import warn

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ._atomic import check_png_name, output_path
from ._prefetch import prefetch
from .analysis import THRESHOLDS, Report, analyze_photo
from .arrows import parse_arrow
from .engines.base import RemoteShot, RenderHooks, RenderJob, Shot, SoundShot, SubmissionLog
from .engines.registry import get_engine
from .errors import Canceled, GenerationError, InputError, StillmotionError
from .image import load_image, load_mask, output_size
from .plan.lint import Lint, lint_prompt
from .plan.prompt import parse_prompt
from .recipe import build as build_recipe
from .recipe import embed as embed_recipe
from .recipe import sidecar_path
from .request import AnimateRequest
from .scene import Scene
from .scene.depth_model import DEFAULT_DEPTH_MODEL
from .scene.hub import resolve_model
from .scene.overlay import render_regions
from .scene.parser_model import DEFAULT_SCENE_MODEL
from .video import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    VideoWriter,
    iter_frames,
    probe,
    remux,
    write_json_atomic,
    write_png_atomic,
    ycbcr709_to_rgb,
)

__all__ = ["Clip", "analyze", "animate", "run"]

ProgressFn = Callable[[int, int, "np.ndarray | None"], None]
"""``on_progress(done, total, preview)``: frames done of all frames of all variations;
``preview`` is the latest frame (uint8 H×W×3) every few frames, else None."""
StopFn = Callable[[], bool]
"""``should_stop()``: return True to cancel; the partial output is deleted."""

SHEET_THUMB_WIDTH = 320
REMOTE_CONCURRENCY = 4
"""Hosted variations in flight at once (``--variations N`` on a hosted engine)."""


@dataclass
class Clip:
    """A finished clip.

    Attributes:
        path: the MP4 file.
        sidecar: the recipe JSON next to it (``NAME.json``).
        width, height: frame size in pixels.
        fps: frames per second.
        frame_count: number of frames.
        seed: the seed that made it.
        recipe: everything needed to reproduce it (also in the MP4's ``comment`` tag).
        warnings: notices for the user (ignored options, soft upscales, …).
        plan_text: the motion plan in words (what ``--explain`` prints).
        variations: all clips of a ``variations > 1`` run, this one first.
        contact_sheet: PNG with frames of every variation, when there are several.
        regions_picture: the PNG of the regions found (``show_regions``), when asked for.
    """

    path: Path
    sidecar: Path
    width: int
    height: int
    fps: float
    frame_count: int
    seed: int
    recipe: dict
    warnings: list[str] = field(default_factory=list)
    plan_text: str = ""
    variations: list[Clip] = field(default_factory=list)
    contact_sheet: Path | None = None
    regions_picture: Path | None = None

    @property
    def duration_s(self) -> float:
        """Length in seconds: frame_count / fps."""
        return self.frame_count / self.fps


def animate(
    image: str | os.PathLike,
    prompt: str | None = None,
    *,
    recipe: str | os.PathLike | None = None,
    same_seed: bool = False,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    **options,
) -> Clip:
    """Turn a photo and a motion prompt into an MP4 clip.

    Args:
        image: the photo (JPEG, PNG, WebP, TIFF, BMP, GIF).
        prompt: the motion prompt, e.g. "slow push-in toward the face"; None: the
            recipe's, else none.
        recipe: take every setting from a recipe (a recipe .json, a clip stillmotion made,
            or a saved name, see :mod:`stillmotion.recipes`); ``prompt`` and ``**options``
            win over it. Fields this version no longer has are dropped with a
            ``UserWarning`` naming them.
        same_seed: with ``recipe``, keep its seed too (else a new one, unless ``seed`` is given).
        on_progress: called as ``on_progress(done, total, preview)`` while rendering.
        should_stop: polled between frames; return True to cancel.
        **options: any other :class:`~stillmotion.request.AnimateRequest` field:
            ``negative_prompt``, ``engine`` ("living"), ``duration`` (s, 1–30,
            default 5), ``fps`` (8–60, default 24), ``size`` ("WxH") or
            ``resolution`` ("480p" | "720p" | "1080p", default 720p) with
            ``aspect`` ("16:9" | "9:16" | "1:1" | "4:5" | "source"),
            ``motion_strength`` (0–1, default 0.5), ``seed``, ``variations``
            (1–16), ``loop``, ``depth_model`` and ``scene_model`` (a repo id or folder,
            ``"none"`` for the classical method; unset: the default checkpoint when it
            is in the Hugging Face cache, else classical), ``output`` (.mp4 path),
            ``show_regions`` (a .png path: the photo with the regions found drawn on it),
            ``refine`` (a diffusion engine that refines the living draft, see
            :mod:`stillmotion.engines.diffusion.refine`) with ``refine_strength`` (0–1, default 0.5).

    Returns:
        The :class:`Clip` (with ``variations`` and ``contact_sheet`` when
        ``variations > 1``).

    Raises:
        InputError: a bad photo, option or output path (nothing is written).
        EngineUnavailable: the engine cannot run here.
        GenerationError: rendering or encoding failed (nothing is left behind).
        Canceled: ``should_stop()`` returned True (nothing is left behind).

    Example:
        >>> clip = animate("examples/coffee.png", "slow push-in, shallow depth of field")  # doctest: +SKIP
        >>> clip.path, clip.frame_count
        (PosixPath('coffee.mp4'), 120)
    """
    given = options if prompt is None else {"prompt": prompt, **options}
    if recipe is not None:
        from . import recipes

        settings, notice = recipes.settings(recipes.load(recipe), same_seed=same_seed)
        if notice:
            warn(f"{os.fspath(recipe)}: {notice}", UserWarning, stacklevel=2)
        given = recipes.merge_options(settings, given)
    request = AnimateRequest.build(image=image, **given)
    return run(request, on_progress=on_progress, should_stop=should_stop)


def run(
    request: AnimateRequest,
    *,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    on_plan: Callable[[str], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    submissions: SubmissionLog | None = None,
) -> Clip:
    """Run one validated request through the five stages (see :func:`animate`).

    Args:
        request: the validated request.
        on_progress: progress callback, see :data:`ProgressFn`.
        should_stop: cancellation poll, see :data:`StopFn`.
        on_plan: receives the plan in words before rendering starts (``--explain``).
        on_notice: receives lines the user should see before the work goes on (a hosted
            engine's cost estimate before it is paid for, and where the photo is uploaded;
            a learned depth or scene model picked from the Hugging Face cache).
        submissions: where hosted engines record the jobs they submit, so that a run restarted
            after a crash resumes them (the studio's queue); None to keep no record.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    warnings: list[str] = []

    # 1. Load: decode the photo safely; decide the output size and paths.
    spec, engine = get_engine(request.engine)
    job_options = spec.job_options(request)
    if request.refine is not None:  # draft, then refine: the engine drafts, a diffusion pass refines
        from .engines.diffusion.refine import RefineEngine, RefineOptions

        engine = RefineEngine(engine, request.refine)  # one line naming those that can, before any work
        get_engine(request.refine)  # and it can run here
        job_options = RefineOptions.from_request(request)
        if request.loop:
            warnings.append("--loop with --refine: the draft loops; the refine pass may not keep the seam exact")
    elif request.refine_strength != AnimateRequest.model_fields["refine_strength"].default:
        warnings.append("--refine-strength is ignored: no --refine engine was given")
    still = load_image(request.image)
    warnings += list(still.warnings)
    W, H, size_notes = output_size(still.size, size=request.size, resolution=request.resolution, aspect=request.aspect)
    warnings += size_notes
    base_seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
    output = _output_path(request, still.path)
    seeds = [(base_seed + i) % 2**32 for i in range(request.variations)]
    finishing = any(v is not None for v in (request.interpolate, request.upscale, request.audio, request.format)) or (
        output.suffix.lower() not in (".mp4",)
    )
    finals = [output] if len(seeds) == 1 else [output.with_name(f"{output.stem}_seed{s}{output.suffix}") for s in seeds]
    # With finishing steps, the engine's clip is an intermediate next to the final one.
    paths = [f.with_name(f".{f.stem}.raw.mp4") for f in finals] if finishing else finals
    if request.last_image is not None and not spec.end_frame:
        warnings.append(f"--last-image is ignored: the {spec.name} engine does not take an end frame")
    if request.consistency != AnimateRequest.model_fields["consistency"].default and spec.family == "living":
        warnings.append("--consistency is ignored: the living engine always keeps the photo's own pixels")
    regions_png = _regions_png(request.show_regions) if request.show_regions is not None else None
    mask = load_mask(request.mask, still.size, flag="--mask") if request.mask is not None else None
    freeze = load_mask(request.freeze, still.size, flag="--freeze") if request.freeze is not None else None
    arrows = [parse_arrow(a) for a in request.arrows]
    # The end frame is decoded only for an engine that takes one (the others were warned above).
    last_image = load_image(request.last_image).rgb if request.last_image is not None and spec.end_frame else None
    timings["load"] = time.perf_counter() - t_start

    # 2. Understand: the photo's layers (computed lazily, once).
    t = time.perf_counter()
    depth_model, scene_model = _learned_layers(request.depth_model, request.scene_model, on_notice)
    scene = Scene(still.rgb, depth_model=depth_model, scene_model=scene_model)
    face = None
    if scene.faces:
        x, y, w, h = scene.faces[0]
        face = ((x + w / 2) / scene.size[0], (y + h / 2) / scene.size[1])
    subject = scene.subject()
    _ = scene.depth
    # The same checks as `stillmotion analyze`, first: warn, block only the unusable.
    target = None if request.aspect.value == "source" or request.size else request.aspect
    report = analyze_photo(still, target_aspect=target, scene=scene)
    if not report.usable:
        bad = next(c for c in report.checks if c.level == "unusable")
        raise InputError(f"photo {still.path.name!r} cannot be animated: {bad.message}")
    if report.check("resolution").level == "warning":  # says the same as the loader's small-photo notice, with advice
        warnings = [w for w in warnings if "upscaled" not in w]
    warnings += [f"photo: {c.message}" for c in report.checks if c.level == "warning"]
    timings["understand"] = time.perf_counter() - t

    # 3. Plan: prompt + negative prompt + options → MotionPlan, parsed once; the coach reads that plan.
    t = time.perf_counter()
    # Engines that read the raw prompt themselves (spec.takes_plan False) get engine-neutral
    # coaching, no MotionPlan in their job or recipe, and --explain in their own terms.
    takes_plan = spec.takes_plan
    plan = parse_prompt(
        request.prompt,
        request.negative_prompt,
        motion_strength=request.motion_strength,
        duration=request.duration,
        loop=request.loop,
        subject=subject,
        face=face,
    )
    report.prompt = lint_prompt(
        request.prompt,
        request.negative_prompt,
        elements=report.elements,
        faces=report.faces,
        kind=report.kind,
        plan=plan,
        takes_plan=takes_plan,
    )
    if spec.coach is not None:  # the engine's own controls: what it will ignore or change
        report.prompt.lints += [Lint("engine-control", level, message) for level, message in spec.coach(request)]
    warnings += [
        f"prompt: {lint.message}" + (f" — try: '{lint.suggestion}'" if lint.suggestion else "")
        for lint in report.prompt.lints
        if lint.level == "warning"
    ]
    plan_text = plan.explain() if takes_plan else f"Prompt: the {spec.name} engine reads the prompt itself, as written"
    timings["plan"] = time.perf_counter() - t

    # 4–5. Render each variation, streaming frames into the encoder; finish.
    n = request.frame_count
    total = n * len(seeds)
    clips: list[Clip] = []
    sheet_rows: list[list[np.ndarray]] = []
    done_before = 0
    # A "step" Shot (diffusion) reports its denoising steps and stops between them itself;
    # frames are counted, and cancellation polled, by the loop below for every engine.
    on_step = None if on_progress is None else (lambda step, steps: on_progress(step, steps, None))
    abort = threading.Event()  # set on a failure: concurrent hosted jobs cancel where they run

    def stop_all() -> bool:
        return abort.is_set() or (should_stop is not None and should_stop())

    hooks = RenderHooks(on_step=on_step, should_stop=stop_all, on_notice=on_notice, submissions=submissions)

    def prepare(seed: int) -> tuple[Shot, float]:
        t = time.perf_counter()
        job = RenderJob.from_request(
            request,
            scene,
            plan if takes_plan else None,
            size=(W, H),
            seed=seed,
            mask=mask,
            freeze=freeze,
            arrows=arrows,
            last_image=last_image,
            options=job_options,
        )
        return engine.prepare(job), time.perf_counter() - t

    # Hosted variations run on the provider at once (at most REMOTE_CONCURRENCY in flight);
    # the loop below collects them in seed order. Local engines render one after another.
    submitted: dict[int, tuple[Shot, float, Future[Path]]] = {}
    pool = ThreadPoolExecutor(max_workers=REMOTE_CONCURRENCY) if spec.runs_on == "hosted" and len(seeds) > 1 else None
    try:
        if pool is not None:
            for k, seed in enumerate(seeds):
                remote, t_k = prepare(seed)
                if isinstance(remote, RemoteShot):
                    submitted[k] = (remote, t_k, pool.submit(remote.fetch, hooks))
        for k, (seed, path) in enumerate(zip(seeds, paths)):
            if k in submitted:
                shot, t_prepare, future = submitted[k]
                future.result()  # raises what the fetch raised
            else:
                shot, t_prepare = prepare(seed)
            # Engines may snap size, frame count and fps to their model (and say so).
            (Wo, Ho), n_out, fps_out = shot.size, shot.frame_count, shot.fps
            if on_plan is not None and not clips:
                regions_line = report.regions_line() + "\n" if takes_plan else ""
                on_plan(plan_text + "\n" + regions_line + shot.describe())
            t = time.perf_counter()
            thumbs_at = {0, n_out // 3, (2 * n_out) // 3, n_out - 1}
            thumbs: list[np.ndarray] = []
            analysis = {
                "kind": report.kind,
                "expected": report.expected,
                "checks": {c.name: c.level for c in report.checks},
                "prompt_score": report.prompt.score,
            }
            if isinstance(shot, RemoteShot):
                # A hosted model's clip arrives encoded: keep its pixels and sound, remux it
                # with the recipe (fast start), written atomically like every clip.
                try:
                    fetched = shot.fetch(hooks)
                    got = probe(fetched)
                    (Wo, Ho), fps_out, frames_out = (got["width"], got["height"]), float(got["fps"]), got["frame_count"]
                    thumbs_at = {0, frames_out // 3, (2 * frames_out) // 3, frames_out - 1}
                    for i, decoded in enumerate(iter_frames(fetched)):
                        if i in thumbs_at:
                            thumbs.append(_thumb(decoded))
                    t_render = time.perf_counter() - t
                    clip_timings = dict(timings, prepare=t_prepare, render_encode=t_render)
                    clip_timings["total"] = time.perf_counter() - t_start
                    shot_warnings = list(shot.warnings)
                    recipe = build_recipe(
                        request=request,
                        seed=seed,
                        plan=plan if takes_plan else None,
                        shot_info=shot.info,
                        size=(Wo, Ho),
                        frame_count=frames_out,
                        timings=clip_timings,
                        warnings=warnings + shot_warnings,
                        still=still,
                        fps=fps_out,
                        analysis=analysis,
                        crf=DEFAULT_CRF,
                        preset=DEFAULT_PRESET,
                    )
                    recipe["output"].update(
                        codec=got["codec"], pix_fmt=got["pix_fmt"], crf=None, preset=None, audio=bool(got.get("audio"))
                    )
                    remux(fetched, path, metadata=embed_recipe(recipe))
                finally:
                    shot.cleanup()
                frames_written = frames_out
            else:
                writer = VideoWriter(path, Wo, Ho, fps_out, crf=DEFAULT_CRF, preset=DEFAULT_PRESET)
                with _AbortOnError(writer):
                    with contextlib.ExitStack() as stack:
                        frames = shot.frames_yuv420(hooks)
                        if shot.progress == "frame":  # quick frames: render the next while this one encodes
                            ahead = prefetch(frames)
                            stack.callback(ahead.close)  # stops the worker on cancel or error
                            frames = ahead
                        for i, (luma, cbcr) in enumerate(frames):
                            if should_stop is not None and should_stop():
                                raise Canceled("canceled: no clip was written")
                            writer.write_yuv420(luma, cbcr)
                            want_preview = on_progress is not None and i % 12 == 0
                            frame = ycbcr709_to_rgb(luma, cbcr) if want_preview else None
                            if i in thumbs_at:  # converted at thumbnail size: a 720p conversion is ~40 ms
                                thumbs.append(_thumb(frame) if frame is not None else _thumb_yuv420(luma, cbcr))
                            if on_progress is not None and shot.progress == "frame":
                                on_progress(done_before + i + 1, total, frame if want_preview else None)
                    writer.finish()  # flush x264 and finish the MP4, so the timing covers all encoding
                    # Engines may add notices while rendering (e.g. options a model ignored);
                    # one notice about a small photo is enough: keep the loader's if it gave one.
                    shot_warnings = [
                        w for w in shot.warnings if not ("upscaled" in w and any("upscaled" in x for x in warnings))
                    ]
                    t_render = time.perf_counter() - t
                    clip_timings = dict(timings, prepare=t_prepare, render_encode=t_render)
                    clip_timings["total"] = time.perf_counter() - t_start
                    recipe = build_recipe(
                        request=request,
                        seed=seed,
                        plan=plan if takes_plan else None,
                        shot_info=shot.info,
                        size=(Wo, Ho),
                        frame_count=writer.frames_written,
                        timings=clip_timings,
                        warnings=warnings + shot_warnings,
                        still=still,
                        fps=float(fps_out),
                        analysis=analysis,
                        crf=DEFAULT_CRF,
                        preset=DEFAULT_PRESET,
                    )
                    # A model that makes its own sound (LTX-2) hands it over as (samples, rate).
                    sound = shot.audio if isinstance(shot, SoundShot) else None
                    if sound is not None:
                        recipe["output"]["audio"] = True
                    writer.close(metadata=embed_recipe(recipe))
                frames_written = writer.frames_written
                if sound is not None:
                    from .post.audio import attach_audio

                    try:  # muxed under the clip as AAC, in sync, in place (the recipe tags are kept)
                        attach_audio(path, *sound)
                    except BaseException:
                        path.unlink(missing_ok=True)
                        raise
            sidecar = write_json_atomic(sidecar_path(path), recipe)
            done_before += n
            sheet_rows.append(thumbs)
            clips.append(
                Clip(
                    path,
                    sidecar,
                    Wo,
                    Ho,
                    float(fps_out),
                    frames_written,
                    seed,
                    recipe,
                    warnings + shot_warnings,
                    plan_text,
                )
            )
    except StillmotionError:
        abort.set()
        _remove_partial(clips)
        raise
    except (KeyboardInterrupt, MemoryError):
        abort.set()
        _remove_partial(clips)
        raise
    except Exception as err:  # an engine bug must not leave half a batch behind
        abort.set()
        _remove_partial(clips)
        raise GenerationError(f"rendering failed: {type(err).__name__}: {err}") from err
    finally:
        if pool is not None:  # wait for the others (after a failure they cancel on the provider)
            pool.shutdown(wait=True, cancel_futures=True)
            for remote, _, _ in submitted.values():
                if isinstance(remote, RemoteShot):
                    remote.cleanup()

    if finishing:
        try:
            clips = [_finish_clip(c, final, request) for c, final in zip(clips, finals)]
        except BaseException:
            _remove_partial(clips)
            raise
    sheet_seeds = list(seeds)
    if request.pick == "best" and len(clips) > 1:
        order = _rank_clips(clips, request)
        clips = [clips[i] for i in order]
        sheet_rows = [sheet_rows[i] for i in order]
        sheet_seeds = [seeds[i] for i in order]
    first = clips[0]
    if len(clips) > 1:
        first.variations = clips
        first.contact_sheet = write_png_atomic(
            output.with_name(f"{output.stem}_sheet.png"), _contact_sheet(sheet_rows, sheet_seeds)
        )
    if regions_png is not None:
        first.regions_picture = write_png_atomic(regions_png, _regions_picture(scene))
    return first


def _rank_clips(clips: list[Clip], request: AnimateRequest) -> list[int]:
    """``--pick best``: evaluate each finished clip, record its score and rank in its recipe
    (sidecar JSON and ``Clip.recipe``; the MP4's comment tag keeps the recipe as rendered)
    and return the clip indices, best first (ties keep the seed order)."""
    from .evaluate import evaluate_clip

    evals = [evaluate_clip(c.path, source=request.image, prompt=request.prompt, recipe=c.recipe) for c in clips]
    order = sorted(range(len(clips)), key=lambda i: -float(evals[i].score))
    for rank, i in enumerate(order, start=1):
        clip, ev = clips[i], evals[i]
        clip.recipe["evaluation"] = ev.to_dict(rank=rank, of=len(clips))
        if clip.sidecar.suffix == ".json":
            write_json_atomic(clip.sidecar, clip.recipe)
    return order


def analyze(
    image: str | os.PathLike,
    prompt: str | None = None,
    *,
    negative_prompt: str = "",
    aspect: str | None = None,
    engine: str | None = None,
    depth_model: str | None = None,
    scene_model: str | None = None,
    show_regions: str | os.PathLike | None = None,
    on_notice: Callable[[str], None] | None = None,
    **options: object,
) -> Report:
    """Judge a photo (and a motion prompt) before animating it.

    Args:
        image: the photo.
        prompt: a motion prompt to coach, or None.
        negative_prompt: the negative prompt, coached with it.
        aspect: a target aspect ("16:9", "9:16", "1:1", "4:5") to price the crop, or None.
        engine: coach for this engine (any name ``stillmotion engines`` lists): an engine that
            reads the raw prompt gets engine-neutral advice, and the engine's own controls are
            checked (``engine-control`` findings: what it would ignore or change); None: living.
        depth_model, scene_model: the learned layers, chosen as :func:`run` chooses them (a repo
            id or folder; ``"none"``: classical; None: the default checkpoint when it is in the
            Hugging Face cache, said through ``on_notice``), so analyze and animate see the same regions.
        show_regions: a ``.png`` path: also write the photo with the regions found drawn on it
            (:func:`stillmotion.scene.overlay.render_regions`), atomically; None: no picture.
        on_notice: receives a line when a learned default is picked from the cache.
        **options: other :class:`~stillmotion.request.AnimateRequest` fields the engine's coach
            reads (``duration``, ``last_image``, ``generate_audio`` …).

    Returns:
        The :class:`~stillmotion.analysis.Report`: checks with measured values, kind,
        expected result, regions found with their share of the frame, recommended prompts,
        and ``.prompt`` (the coaching) when a prompt was given. ``report.summary()`` is
        what ``stillmotion analyze`` prints.

    Raises:
        InputError: the photo cannot be read (see :func:`stillmotion.image.load_image`);
            ``show_regions`` does not end in ``.png`` or its folder is missing or not
            writable (checked before any work; nothing is written).

    Example:
        >>> print(analyze("examples/china.jpg", "make it move", show_regions="regions.png").summary())  # doctest: +SKIP
    """
    spec = None
    if engine is not None:
        from .engines.registry import find_spec

        spec = find_spec(engine)
        if spec is None:
            raise InputError(f"--engine {engine!r} is unknown: see `stillmotion engines` for the names")
    regions_png = _regions_png(show_regions) if show_regions is not None else None
    still = load_image(image)
    depth_name, scene_name = _learned_layers(depth_model, scene_model, on_notice)
    scene = Scene(still.rgb, depth_model=depth_name, scene_model=scene_name)
    report = analyze_photo(still, target_aspect=aspect, scene=scene)
    if prompt is not None:
        report.prompt = lint_prompt(
            prompt,
            negative_prompt,
            elements=report.elements,
            faces=report.faces,
            kind=report.kind,
            takes_plan=spec.takes_plan if spec is not None else True,
        )
        if spec is not None and spec.coach is not None:
            request = AnimateRequest.build(
                image=image, prompt=prompt, negative_prompt=negative_prompt, engine=engine, **options
            )
            report.prompt.lints += [Lint("engine-control", lvl, msg) for lvl, msg in spec.coach(request)]
    if regions_png is not None:
        write_png_atomic(regions_png, _regions_picture(scene))
    return report


# --------------------------------------------------------------- helpers


def _learned_layers(
    depth_option: str | None, scene_option: str | None, on_notice: Callable[[str], None] | None
) -> tuple[str | None, str | None]:
    """The depth and scene-parser checkpoints a Scene gets (None: classical), from their options.

    The model the user named, else a default found in the HF cache (said in a notice),
    else the classical method; "none" forces the classical one (see :func:`.scene.hub.resolve_model`).
    """
    depth_model, auto_depth = resolve_model(depth_option, DEFAULT_DEPTH_MODEL)
    scene_model, auto_scene = resolve_model(scene_option, DEFAULT_SCENE_MODEL)
    if auto_depth and on_notice is not None:
        on_notice(
            f"learned depth: {DEFAULT_DEPTH_MODEL} from the Hugging Face cache (Apache-2.0); "
            "--depth-model none for the classical cues"
        )
    if auto_scene and on_notice is not None:
        on_notice(
            f"sky, water and vegetation masks: scene parser {DEFAULT_SCENE_MODEL} from the Hugging Face "
            "cache (MIT); --scene-model none for the classical masks"
        )
    return depth_model, scene_model


def _regions_png(path: str | os.PathLike) -> Path:
    """``--show-regions``' file, checked before any work: a .png name in an existing, writable folder.

    Raises:
        InputError: not a .png name, the folder is missing or not writable, or the path is a folder.
    """
    final = output_path(check_png_name(path, "--show-regions"), "--show-regions")
    if not os.access(final.parent, os.W_OK):
        raise InputError(f"--show-regions {str(path)!r}: folder {final.parent} is not writable; choose another path")
    return final


def _regions_picture(scene: Scene) -> np.ndarray:
    """The photo with the Scene's regions, faces (and, with a face, the person) drawn: uint8 H×W×3 RGB."""
    return render_regions(
        scene.rgb,
        scene.regions,
        faces=scene.faces,
        person=scene.person if scene.faces else None,
        min_share=THRESHOLDS.element_min_share,
        title=f"regions: {scene.regions_method}",
    )


class _AbortOnError:
    """Abort the writer (delete its temp file) if the block raises."""

    def __init__(self, writer: VideoWriter) -> None:
        self.writer = writer

    def __enter__(self) -> VideoWriter:
        return self.writer

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.writer.abort()


def _remove_partial(clips: list[Clip]) -> None:
    """A failed variations run leaves nothing behind: remove the clips already finished."""
    for c in clips:
        for p in (c.path, c.sidecar):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


def _finish_clip(clip: Clip, final: Path, request: AnimateRequest) -> Clip:
    """Apply the finishing chain in order — interpolate, upscale, sound and format — and
    return the finished clip at ``final``; intermediates are deleted."""
    from .post.formats import export_file
    from .post.interpolate import interpolate_file
    from .post.upscale import upscale_file
    from .video import probe

    temps: list[Path] = []
    cur = clip.path
    try:
        if request.interpolate is not None:
            nxt = final.with_name(f".{final.stem}.interp.mp4")
            cur = interpolate_file(cur, nxt, fps=request.interpolate)
            temps.append(cur)
        if request.upscale is not None:
            nxt = final.with_name(f".{final.stem}.up.mp4")
            cur = upscale_file(cur, nxt, scale=request.upscale, upscaler=request.upscaler)
            temps.append(cur)
        fmt = request.format
        out = final
        if fmt is None and final.suffix.lower() == ".mp4" and request.audio is None:
            os.replace(cur, final)  # nothing to convert: the last step's clip is the result
            side = sidecar_path(cur)
            if side.exists():
                os.replace(side, sidecar_path(final))
            if cur in temps:
                temps.remove(cur)
            else:
                clip.path = final
        else:
            out = export_file(cur, final, format=fmt, crf=request.crf, audio=request.audio)
    finally:
        for t in [*temps, clip.path if clip.path != final else None, clip.sidecar]:
            if t is not None and t != final:
                for p in (t, sidecar_path(t)):
                    if p != sidecar_path(final) and p.exists():
                        p.unlink()
    out = Path(out)
    clip.path, clip.sidecar = out, sidecar_path(out) if out.suffix else out / "recipe.json"
    if out.suffix.lower() in (".mp4", ".webm"):
        info = probe(out)
        clip.width, clip.height = info["width"], info["height"]
        clip.fps, clip.frame_count = info["fps"], info["frame_count"]
    if clip.sidecar.exists():
        clip.recipe = json.loads(clip.sidecar.read_text())
    return clip


def _output_path(request: AnimateRequest, photo: Path) -> Path:
    """The requested output, or ``PHOTO_STEM.mp4`` in the current folder (never overwriting)."""
    if request.output is not None:
        out = Path(request.output).expanduser()
        if out.is_dir():
            raise InputError(f"-o {out} is a folder: give a file name such as {out / (photo.stem + '.mp4')}")
        if not out.parent.exists():
            raise InputError(f"-o {out}: folder {out.parent} does not exist; create it or choose another path")
        if not os.access(out.parent, os.W_OK):
            raise InputError(f"-o {out}: folder {out.parent} is not writable; choose another path")
        return out
    out = Path.cwd() / f"{photo.stem}.mp4"
    k = 2
    while out.exists():
        out = Path.cwd() / f"{photo.stem}-{k}.mp4"
        k += 1
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"the current folder {out.parent} is not writable: pass -o PATH.mp4 in a writable folder")
    return out


def _thumb(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    tw = SHEET_THUMB_WIDTH
    th = max(2, round(h * tw / w))
    return cv2.resize(frame, (tw, th), interpolation=cv2.INTER_AREA)


def _thumb_yuv420(luma: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    """:func:`_thumb` of a frame given as BT.709 4:2:0 planes, converted to RGB at thumbnail size."""
    small_y = _thumb(luma)
    size = (small_y.shape[1], small_y.shape[0])
    small_c = cv2.resize(cbcr, size, interpolation=cv2.INTER_AREA if cbcr.shape[1] > size[0] else cv2.INTER_LINEAR)
    return ycbcr709_to_rgb(small_y, small_c)


def _contact_sheet(rows: list[list[np.ndarray]], seeds: list[int]) -> np.ndarray:
    """One row per variation (frames at 0, ⅓, ⅔ and the end), labelled with its seed."""
    th, tw = rows[0][0].shape[:2]
    label_h, gap = 22, 6
    cols = max(len(r) for r in rows)
    sheet = Image.new("RGB", (cols * tw + (cols + 1) * gap, len(rows) * (th + label_h + gap) + gap), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for r, (thumbs, seed) in enumerate(zip(rows, seeds)):
        y = gap + r * (th + label_h + gap)
        draw.text((gap, y + 4), f"seed {seed}", fill=(230, 230, 230))
        for c, th_img in enumerate(thumbs):
            sheet.paste(Image.fromarray(th_img), (gap + c * (tw + gap), y + label_h))
    return np.asarray(sheet)
