"""What every diffusion engine shares: model cards, weights, devices, memory modes, seeds, progress.

A family module (``wan.py``, ``ltx.py`` …) declares its :class:`ModelCard`
list and a ``call_kwargs(card, job)`` function that maps the common request
onto its pipeline's ``__call__``. :class:`DiffusionEngine` does the rest:

1. map the request honestly — duration → frames by the model's rule
   (``k·n + r``), size snapped to the model's multiple at the request's
   aspect, model defaults for steps and guidance — and log every change;
2. load the pipeline from ``--model-path DIR`` or the Hugging Face cache
   (``local_files_only``: never a download, never a hang), once per process;
3. apply the memory mode (full, model/group/sequential offload, VAE tiling);
4. run one generator per variation (the seed), report progress per step,
   stop between steps when asked;
5. hand the frames to stillmotion's encoder.

torch and diffusers are imported here lazily, only when an engine runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import Canceled, EngineUnavailable, GenerationError

__all__ = ["MEMORY_MODES", "DiffusionEngine", "DiffusionShot", "Job", "ModelCard", "diffusion_status"]

MEMORY_MODES = ("auto", "full", "model-offload", "group-offload", "sequential")


@dataclass(frozen=True)
class ModelCard:
    """A model behind an engine name.

    Attributes:
        name: engine name (a contract: ``--engine NAME``).
        family: module that runs it (``wan``, ``ltx`` …).
        pipeline: diffusers pipeline class name.
        repo_id: Hugging Face repo of the diffusers-format weights.
        native_size: (width, height) the model was trained at, pixels.
        multiple: width and height are multiples of this, pixels.
        frame_rule: (k, r): valid frame counts are ``k·n + r`` (Wan 4n+1, LTX 8n+1).
        fps: frames per second the model generates at.
        max_frames: most frames in one generation.
        steps: default ``num_inference_steps``.
        guidance: default guidance scale.
        licence: licence of the weights.
        commercial: "yes", "no" or a short condition.
        vram_gb: peak GPU memory estimate per memory mode, GB (from the model cards / notes).
        end_frame: takes a last image.
        text: takes a text prompt.
        deprecated: diffusers keeps it as deprecated (no more fixes).
        notes: one line shown by ``stillmotion engines``.
    """

    name: str
    family: str
    pipeline: str
    repo_id: str
    native_size: tuple[int, int]
    multiple: int
    frame_rule: tuple[int, int]
    fps: float
    max_frames: int
    steps: int
    guidance: float
    licence: str
    commercial: str
    vram_gb: dict = field(default_factory=dict)
    end_frame: bool = False
    text: bool = True
    deprecated: bool = False
    notes: str = ""


@dataclass
class Job:
    """One generation, after mapping the request onto the model (what ``call_kwargs`` sees)."""

    card: ModelCard
    image: "object"  # PIL.Image RGB, already at (width, height)
    width: int
    height: int
    frames: int
    fps: float
    prompt: str
    negative_prompt: str
    steps: int
    guidance: float
    seed: int
    motion_strength: float
    consistency: float
    last_image: "object | None" = None
    notes: list[str] = field(default_factory=list)


def diffusion_status() -> str | None:
    """None when torch and diffusers import, else the install hint."""
    try:
        import importlib.util

        missing = [m for m in ("torch", "diffusers", "transformers") if importlib.util.find_spec(m) is None]
    except Exception as err:  # a broken install
        return f"cannot inspect the Python environment ({err})"
    if missing:
        return f"needs {', '.join(missing)}: pip install 'stillmotion[diffusion]' (install torch for your GPU first)"
    return None


def snap_frames(card: ModelCard, wanted: int) -> int:
    """The valid frame count (k·n + r, ≤ max_frames) nearest ``wanted``."""
    k, r = card.frame_rule
    n = max(0, round((wanted - r) / k))
    frames = k * n + r
    while frames > card.max_frames and n > 0:
        n -= 1
        frames = k * n + r
    return max(frames, r if r > 0 else k)


def snap_size(card: ModelCard, width: int, height: int) -> tuple[int, int]:
    """(width, height) rounded to the model's multiple (at least one multiple)."""
    m = card.multiple
    return max(m, int(round(width / m)) * m), max(m, int(round(height / m)) * m)


_PIPELINES: dict[tuple, object] = {}


class DiffusionEngine:
    """An engine that runs one model card through its diffusers pipeline."""

    def __init__(self, card: ModelCard, family) -> None:
        self.card = card
        self.family = family  # the family module: call_kwargs(card, job) -> dict, optional prepare_pipeline(pipe)
        self.name = card.name

    # ------------------------------------------------------------------ plan

    def prepare(self, scene, plan, *, size, frame_count, seed, fps=24.0, request=None, **_ignored) -> "DiffusionShot":
        """Map the request onto the model; nothing heavy happens until frames are asked for."""
        from PIL import Image

        card = self.card
        notes: list[str] = []
        W, H = snap_size(card, *size)
        if (W, H) != tuple(size):
            notes.append(f"size {size[0]}×{size[1]} → {W}×{H} ({card.name} needs multiples of {card.multiple} px)")
        duration = frame_count / fps
        wanted = max(2, int(round(duration * card.fps)))
        frames = snap_frames(card, wanted)
        if frames != wanted:
            k, r = card.frame_rule
            notes.append(f"{wanted} frames → {frames} ({card.name} makes {k}n+{r} frames, at most {card.max_frames})")
        if abs(card.fps - fps) > 1e-6:
            notes.append(f"{card.name} generates at {card.fps:g} fps (asked {fps:g}): the clip plays at {card.fps:g} fps")
        steps = int(getattr(request, "steps", None) or card.steps)
        guidance = float(getattr(request, "guidance_scale", None) if getattr(request, "guidance_scale", None) is not None else card.guidance)
        # The photo, cropped to the output aspect around the subject, at the generation size.
        img = _fit(scene.rgb, W, H, scene.subject())
        last = None
        if request is not None and getattr(request, "last_image", None) is not None:
            from ...image import load_image

            if card.end_frame:
                last = Image.fromarray(_fit(load_image(request.last_image).rgb, W, H, (0.5, 0.5)))
            # else: api.run already warns "--last-image is ignored" (spec.end_frame is card.end_frame)
        prompt = getattr(request, "prompt", "") or ""
        if not card.text and prompt:
            notes.append(f"{card.name} takes no text prompt: the prompt is not used (motion comes from the model)")
        job = Job(
            card=card, image=Image.fromarray(img), width=W, height=H, frames=frames, fps=card.fps,
            prompt=prompt, negative_prompt=getattr(request, "negative_prompt", "") or "",
            steps=steps, guidance=guidance, seed=int(seed),
            motion_strength=float(getattr(request, "motion_strength", 0.5)),
            consistency=float(getattr(request, "consistency", 0.5)),
            last_image=last, notes=notes,
        )
        model_path = getattr(request, "model_path", None)
        memory = getattr(request, "memory", "auto") or "auto"
        fast, cache = bool(getattr(request, "fast", False)), bool(getattr(request, "cache", False))
        shot = DiffusionShot(self, job, model_path=model_path, memory=memory, fast=fast, cache=cache)
        return shot

    # ------------------------------------------------------------------ run

    def pipeline(self, model_path: str | os.PathLike | None, memory: str, fast: bool = False, cache: bool = False,
                 notes: list[str] | None = None):
        """The loaded pipeline (cached per process), on the best device, with the memory mode applied."""
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        key = (self.card.name, str(model_path or ""), device, memory, fast, cache)
        if key in _PIPELINES:
            return _PIPELINES[key], device
        import diffusers

        cls = getattr(diffusers, self.card.pipeline)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        source = str(model_path) if model_path else self.card.repo_id
        try:
            if model_path:
                if not Path(model_path).is_dir():
                    raise EngineUnavailable(
                        f"--model-path {model_path} is not a folder: pass a diffusers-format folder (with model_index.json)"
                    )
                pipe = cls.from_pretrained(source, dtype=dtype)
            else:
                pipe = cls.from_pretrained(source, dtype=dtype, local_files_only=True)
        except EngineUnavailable:
            raise
        except (OSError, ValueError) as err:
            raise EngineUnavailable(
                f"weights for {self.card.name} ({source}) are not available offline: "
                f"run `stillmotion download {self.card.name}` where there is internet, or pass --model-path DIR "
                f"(a diffusers-format folder) [{type(err).__name__}]"
                + (f"; {hint}" if (hint := getattr(self.family, "weights_hint", lambda card: None)(self.card)) else "")
            ) from None
        prepare = getattr(self.family, "prepare_pipeline", None)
        if prepare is not None:
            prepare(pipe)
        _apply_memory(pipe, device, memory, self.card)
        _apply_speedups(pipe, device, fast, cache, notes if notes is not None else [])
        pipe.set_progress_bar_config(disable=True)
        _PIPELINES[key] = pipe
        return pipe, device


class DiffusionShot:
    """A prepared generation; :meth:`frames_yuv420` runs it (frames are made all at once)."""

    def __init__(self, engine: DiffusionEngine, job: Job, model_path, memory: str, fast: bool = False,
                 cache: bool = False) -> None:
        self.fast, self.cache = fast, cache
        self.engine = engine
        self.job = job
        self.model_path = model_path
        self.memory = memory
        self.size = (job.width, job.height)
        self.frame_count = job.frames
        self.fps = job.fps
        self.warnings = list(job.notes)
        self.on_step: Callable[[int, int], None] | None = None
        self.should_stop: Callable[[], bool] | None = None
        c = job.card
        self.info = {
            "engine": c.name,
            "model": str(self.model_path or c.repo_id),
            "pipeline": c.pipeline,
            "licence": c.licence,
            "commercial_use": c.commercial,
            "num_inference_steps": job.steps,
            "guidance_scale": job.guidance,
            "frames": job.frames,
            "fps": job.fps,
            "size": [job.width, job.height],
            "memory": memory,
            "adjustments": job.notes,
        }

    def frames_rgb(self) -> np.ndarray:
        """Run the pipeline: uint8 T×H×W×3 RGB frames."""
        import torch

        pipe, device = self.engine.pipeline(self.model_path, self.memory, self.fast, self.cache, self.warnings)
        job = self.job
        kwargs = self.engine.family.call_kwargs(job.card, job)
        self.info["ignored"] = kwargs.pop("_ignored", [])
        self.warnings.extend(f"ignored by {job.card.name}: {item}" for item in self.info["ignored"])
        # The mapped controls, for the recipe: the scalar arguments only (no images, tensors or lists).
        self.info["call"] = {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, float, str))}
        gen_device = "cpu" if device != "cuda" else device
        generator = torch.Generator(device=gen_device).manual_seed(job.seed)
        total = job.steps

        def on_step_end(p, i, t, callback_kwargs):
            if self.should_stop is not None and self.should_stop():
                raise Canceled("canceled between denoising steps: no clip was written")
            if self.on_step is not None:
                self.on_step(i + 1, total)
            return callback_kwargs

        call = dict(kwargs, generator=generator, output_type="np")
        if "callback_on_step_end" in _call_params(pipe):
            call["callback_on_step_end"] = on_step_end
        try:
            with torch.inference_mode():
                out = pipe(**call)
        except (Canceled, EngineUnavailable):
            raise
        except torch.cuda.OutOfMemoryError as err:
            raise GenerationError(
                f"{job.card.name} ran out of GPU memory at {job.width}×{job.height}×{job.frames}: "
                "try --memory group-offload, a smaller --size or a shorter --duration"
            ) from err
        frames = out.frames[0] if hasattr(out, "frames") else out[0][0]
        arr = np.asarray(frames)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if arr.ndim == 4 and arr.shape[1] == 3 and arr.shape[-1] != 3:  # T×C×H×W → T×H×W×C
            arr = arr.transpose(0, 2, 3, 1)
        if arr.shape[1:3] != (job.height, job.width):
            import cv2

            arr = np.stack([cv2.resize(f, (job.width, job.height), interpolation=cv2.INTER_AREA) for f in arr])
        self.frame_count = len(arr)
        return np.ascontiguousarray(arr)

    def frames_yuv420(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The frames as BT.709 4:2:0 planes for the encoder (generated first, then streamed)."""
        import cv2

        from ...video import rgb_to_ycbcr709

        for rgb in self.frames_rgb():
            y, c = rgb_to_ycbcr709(rgb)
            yield y, cv2.resize(c, (c.shape[1] // 2, c.shape[0] // 2), interpolation=cv2.INTER_AREA)

    def frames(self) -> Iterator[np.ndarray]:
        yield from self.frames_rgb()


def _call_params(pipe) -> set[str]:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


def _apply_memory(pipe, device: str, memory: str, card: ModelCard) -> None:
    """Place the pipeline: full on the GPU, or one of diffusers' offload modes; VAE tiling when offloading."""
    if device != "cuda":
        pipe.to("cpu")
        return
    import torch

    if memory == "auto":
        free, _ = torch.cuda.mem_get_info()
        free_gb = free / 2**30
        need = card.vram_gb.get("full", 80.0)
        memory = "full" if free_gb > need * 1.1 else ("model-offload" if free_gb > card.vram_gb.get("model-offload", need) else "group-offload")
    if memory == "full":
        pipe.to("cuda")
    elif memory == "model-offload":
        pipe.enable_model_cpu_offload()
    elif memory == "group-offload":
        pipe.enable_group_offload(onload_device=torch.device("cuda"), offload_device=torch.device("cpu"),
                                  offload_type="leaf_level", use_stream=True)
    elif memory == "sequential":
        pipe.enable_sequential_cpu_offload()
    if memory != "full" and hasattr(getattr(pipe, "vae", None), "enable_tiling"):
        pipe.vae.enable_tiling()


def _apply_speedups(pipe, device: str, fast: bool, cache: bool, notes: list[str]) -> None:
    """--fast: the best attention backend and regional torch.compile (quality-neutral);
    --cache: FirstBlockCache step caching (faster, slightly lower quality). GPU only."""
    if not (fast or cache):
        return
    if device != "cuda":
        notes.append("--fast/--cache have no effect on the CPU (they are GPU speedups)")
        return
    model = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
    if fast and model is not None:
        for backend in ("flash", "_native_cudnn", "native"):
            try:
                model.set_attention_backend(backend)
                notes.append(f"--fast: attention backend {backend}")
                break
            except Exception:  # backend package missing or unsupported here
                continue
        if hasattr(model, "compile_repeated_blocks"):
            try:
                model.compile_repeated_blocks(fullgraph=True)
                notes.append("--fast: regional torch.compile of the repeated blocks")
            except Exception as err:
                notes.append(f"--fast: torch.compile unavailable ({type(err).__name__})")
    if cache and model is not None and hasattr(model, "enable_cache"):
        from diffusers import FirstBlockCacheConfig

        model.enable_cache(FirstBlockCacheConfig(threshold=0.05))
        notes.append("--cache: FirstBlockCache (threshold 0.05): faster, slightly less detail")


def _fit(rgb: np.ndarray, width: int, height: int, centre: tuple[float, float]) -> np.ndarray:
    """Crop ``rgb`` to width:height around ``centre`` (fractions), then resize (never stretch)."""
    import cv2

    h, w = rgb.shape[:2]
    target = width / height
    if w / h > target:
        cw, ch = int(round(h * target)), h
    else:
        cw, ch = w, int(round(w / target))
    x0 = int(np.clip(centre[0] * w - cw / 2, 0, w - cw))
    y0 = int(np.clip(centre[1] * h - ch / 2, 0, h - ch))
    crop = rgb[y0 : y0 + ch, x0 : x0 + cw]
    interp = cv2.INTER_AREA if cw > width else cv2.INTER_CUBIC
    return cv2.resize(crop, (width, height), interpolation=interp)


def mapped_strength(value: float, lo: float, hi: float) -> float:
    """Map a 0..1 option onto [lo, hi] (for controls such as SVD's motion bucket)."""
    return lo + (hi - lo) * float(np.clip(value, 0.0, 1.0))


def ceil_to(x: float, m: int) -> int:
    return int(math.ceil(x / m) * m)
