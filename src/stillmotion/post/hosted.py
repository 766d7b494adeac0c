"""Finishing on a hosted model: sound for a silent clip (MMAudio) and upscaling on the provider.

- :func:`sound_file`: ``zsxkib/mmaudio`` (MMAudio, Cheng et al. 2025) generates a sound
  track that follows the clip's motion and a text prompt, and returns the clip with it muxed in.
- :func:`upscale_remote`: ``lucataco/real-esrgan-video`` (Real-ESRGAN, Wang et al. 2021) or
  ``topazlabs/video-upscale`` upscale the clip on the provider.

Each uploads the clip to Replicate (``REPLICATE_API_TOKEN``), runs the model through
:class:`~stillmotion.engines.hosted.replicate.ReplicateProvider` (live-schema check,
backoff, polling, cancel on ``should_stop``), downloads the result, checks it decodes,
and writes it atomically with the clip's recipe plus this step (remuxed, not
re-encoded). Local merge and upscale stay the defaults.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import recipe as recipes
from .._atomic import write_json_atomic
from ..engines.hosted.replicate import ReplicateProvider, output_urls
from ..errors import EngineUnavailable, GenerationError, InputError
from ..video import iter_frames, probe, remux
from ._io import default_output, open_clip, source_recipe

__all__ = ["REMOTE_UPSCALERS", "SOUND_MODEL", "sound_file", "upscale_remote"]

SOUND_MODEL = "zsxkib/mmaudio"
"""MMAudio on Replicate: video (+ text) → the video with generated sound."""
REMOTE_UPSCALERS: dict[str, str] = {
    "real-esrgan-video": "lucataco/real-esrgan-video",
    "topaz-video-upscale": "topazlabs/video-upscale",
}
"""``stillmotion upscale --engine NAME``: the hosted upscalers and their Replicate models."""


def _never() -> bool:
    return False


def _run(
    model: str,
    src: Path,
    dst: Path,
    build: Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]],
    step: dict[str, Any],
    should_stop: Callable[[], bool],
) -> Path:
    """Upload ``src``, run ``model`` on it with the inputs ``build(properties, url, info)`` gives,
    and write the result to ``dst`` with the recipe plus ``step``."""
    info, frames = open_clip(src)
    frames.close()
    recipe = source_recipe(src, info)
    provider = ReplicateProvider.from_environment()
    schema = provider.input_schema(model)
    work = Path(tempfile.mkdtemp(prefix="stillmotion-hosted-"))
    try:
        url = provider.upload(src, "video/mp4")
        inputs = build(schema["properties"], url, info)
        unknown = sorted(set(inputs) - set(schema["properties"]))
        if unknown:
            raise EngineUnavailable(
                f"{model}: the live schema has no input {unknown[0]!r}; its inputs are "
                f"{', '.join(sorted(schema['properties']))}. The model changed: update stillmotion"
            )
        pid = str(provider.create(model, inputs)["id"])
        final = provider.wait(pid, should_stop=should_stop, on_poll=lambda state: None)
        got = provider.download(output_urls(final.get("output"))[0], work / "out.mp4")
        try:
            out_info = probe(got)
            next(iter_frames(got))
        except Exception as err:
            raise GenerationError(f"{model}: the output of prediction {pid} does not decode as video: {err}") from None
        recipe = dict(recipe)
        metrics = final.get("metrics") or {}
        recipe["finish"] = list(recipe.get("finish") or []) + [
            dict(
                step,
                provider="replicate",
                model=model,
                version=schema.get("version"),
                prediction_id=pid,
                inputs={k: ("<the clip>" if v == url else v) for k, v in inputs.items()},
                provider_timings_s={k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                output={
                    "width": out_info["width"],
                    "height": out_info["height"],
                    "fps": out_info["fps"],
                    "frames": out_info["frame_count"],
                    "audio": bool(out_info.get("audio")),
                },
            )
        ]
        out = remux(got, dst, metadata=recipes.embed(recipe))
        write_json_atomic(recipes.sidecar_path(out), recipe)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _output(src: Path, output: str | os.PathLike[str] | None, suffix: str) -> Path:
    out = Path(output).expanduser() if output is not None else default_output(src, suffix)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"-o {out}: hosted finishing writes an .mp4; use a name ending in .mp4")
    if not out.parent.is_dir():
        raise InputError(f"-o {out}: folder {out.parent} does not exist; create it or choose another path")
    return out


def sound_file(
    src: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    prompt: str,
    negative_prompt: str = "music",
    seed: int | None = None,
    should_stop: Callable[[], bool] = _never,
) -> Path:
    """Generate a sound track for ``src`` with MMAudio on Replicate and write the clip with it.

    Args:
        src: an MP4 clip (any engine's).
        output: the result (.mp4); default ``SRC_STEM-sound.mp4`` next to ``src``.
        prompt: what should be heard ("waves on a pebble beach, gulls far away"), ≤ 2000 characters.
        negative_prompt: what should not ("music" by default: MMAudio's own default).
        seed: the model's seed, or None for a random one.
        should_stop: polled while the job runs; True cancels it on Replicate.

    Returns:
        The written clip: the source's video (as the model returns it) with AAC sound, its recipe
        with a ``{"step": "sound", …}`` entry appended.

    Raises:
        InputError: not a readable clip, an empty prompt, a bad output path.
        EngineUnavailable: no token, or the model's live schema changed.
        GenerationError: the prediction failed (the provider's reason) or its output does not decode.
        Canceled: ``should_stop()`` returned True (canceled on Replicate; nothing written).
    """
    src = Path(src).expanduser()
    if not prompt.strip():
        raise InputError("--prompt is empty: say what should be heard, e.g. 'waves on a pebble beach'")
    if len(prompt) > 2000:
        raise InputError(f"--prompt is {len(prompt)} characters: use at most 2000")
    out = _output(src, output, "sound")

    def build(props: dict[str, Any], url: str, info: dict[str, Any]) -> dict[str, Any]:
        inputs: dict[str, Any] = {"video": url, "prompt": prompt, "negative_prompt": negative_prompt}
        if "duration" in props:
            hi = props["duration"].get("maximum")
            seconds = float(info["frame_count"]) / float(info["fps"])
            inputs["duration"] = round(min(seconds, float(hi)) if hi is not None else seconds, 2)
        if seed is not None and "seed" in props:
            inputs["seed"] = int(seed)
        return inputs

    step = {"step": "sound", "prompt": prompt, "negative_prompt": negative_prompt}
    return _run(SOUND_MODEL, src, out, build, step, should_stop)


def upscale_remote(
    src: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    engine: str,
    scale: int = 2,
    should_stop: Callable[[], bool] = _never,
) -> Path:
    """Upscale ``src`` on Replicate with a hosted upscaler (see :data:`REMOTE_UPSCALERS`).

    Args:
        src: an MP4 clip.
        output: the result (.mp4); default ``SRC_STEM-upNx.mp4`` next to ``src``.
        engine: ``real-esrgan-video`` or ``topaz-video-upscale``.
        scale: 2 or 4: the target is the nearest resolution the model offers to ``scale`` × the
            clip's short side (FHD / 2k / 4k, or 720p / 1080p / 4k).
        should_stop: polled while the job runs; True cancels it on Replicate.

    Raises:
        InputError: an unknown engine, a bad scale, not a readable clip, a bad output path.
        EngineUnavailable: no token, or the model's live schema changed.
        GenerationError: the prediction failed or its output does not decode.
        Canceled: ``should_stop()`` returned True.
    """
    src = Path(src).expanduser()
    if engine not in REMOTE_UPSCALERS:
        raise InputError(f"--engine {engine!r}: use one of {', '.join(REMOTE_UPSCALERS)} (or leave it out for local)")
    if scale not in (2, 4):
        raise InputError(f"--scale {scale}: use 2 or 4")
    model = REMOTE_UPSCALERS[engine]
    out = _output(src, output, f"up{scale}x")

    def build(props: dict[str, Any], url: str, info: dict[str, Any]) -> dict[str, Any]:
        short = min(int(info["width"]), int(info["height"])) * scale
        if engine == "real-esrgan-video":
            tiers = {"FHD": 1080, "2k": 1440, "4k": 2160}
            field_name, video_field = "resolution", "video_path"
        else:
            tiers = {"720p": 720, "1080p": 1080, "4k": 2160}
            field_name, video_field = "target_resolution", "video"
        offered = [str(v) for v in props.get(field_name, {}).get("enum", [])] or list(tiers)
        choice = min((t for t in offered if t in tiers), key=lambda t: abs(tiers[t] - short))
        return {video_field: url, field_name: choice}

    step = {"step": "upscale", "engine": engine, "scale": scale}
    return _run(model, src, out, build, step, should_stop)
