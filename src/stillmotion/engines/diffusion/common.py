"""What every diffusion engine shares: model cards, weights, devices, memory modes, seeds, progress.

A family module (``wan.py``, ``ltx.py`` …) declares its :class:`ModelCard`
list and a ``call_kwargs(card, generation) -> (kwargs, ignored)`` function
that maps a :class:`Generation` onto its pipeline's ``__call__`` and lists
the options the model cannot use. :class:`DiffusionEngine` does the rest:

1. map the :class:`~stillmotion.engines.base.RenderJob` honestly — duration →
   frames by the model's rule (``k·n + r``), size snapped to the model's
   multiple at the job's aspect, model defaults for steps and guidance — and
   log every change;
2. load the pipeline from ``--model-path DIR`` or the Hugging Face cache
   (``local_files_only``: never a download, never a hang), once per process;
3. apply the memory mode (full, model/group/sequential offload, VAE tiling);
4. run one generator per variation (the seed), report progress per step,
   stop between steps when asked;
5. hand the frames to stillmotion's encoder.

torch and diffusers are imported here lazily, only when an engine runs.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...errors import Canceled, EngineUnavailable, GenerationError
from ...image import crop_to_aspect
from ...request import MemoryMode
from ..base import NO_HOOKS, YUV420, Availability, Engine, RenderHooks, RenderJob

if TYPE_CHECKING:
    from ...request import AnimateRequest

__all__ = [
    "DiffusionOptions",
    "DiffusionEngine",
    "DiffusionShot",
    "Generation",
    "ModelCard",
    "availability",
    "mapped_strength",
    "snap_frames",
    "snap_size",
    "without_ftfy",
]


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
        audio: makes its own sound track (the family's ``audio_track(pipe, output)`` returns it).
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
    audio: bool = False
    notes: str = ""


@dataclass
class Generation:
    """One generation, after mapping the job onto the model (what ``call_kwargs`` sees).

    Attributes:
        card: the model card.
        image: the photo as a PIL RGB image, cropped to the output aspect at (width, height).
        width, height: generation size in pixels (multiples of ``card.multiple``).
        frames: frames to generate (a valid ``card.frame_rule`` count).
        fps: the model's frame rate.
        prompt, negative_prompt: the prompt texts as typed.
        steps: ``num_inference_steps``.
        guidance: guidance scale.
        seed: the generator's seed.
        motion_strength, consistency: the 0..1 options, for families that map them.
        last_image: the end frame as a PIL RGB image at (width, height), or None.
        notes: adjustments said to the user (``call_kwargs`` may add its own).
        draft: a refine pass's input video (``frames`` PIL RGB images at (width, height)), or None.
        draft_strength: how much a refine pass may change ``draft``, 0..1 (see ``refine.py``).
    """

    card: ModelCard
    image: Any  # PIL.Image.Image (PIL is imported lazily)
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
    last_image: Any = None  # PIL.Image.Image | None
    notes: list[str] = field(default_factory=list)
    draft: Any = None  # list[PIL.Image.Image] | None
    draft_strength: float = 0.0

    def note(self, text: str) -> None:
        """Say ``text`` to the user once (it goes to the recipe's ``shot.adjustments``)."""
        if text not in self.notes:
            self.notes.append(text)

    def negative_or(self, default: str, what: str) -> str:
        """The negative prompt as typed, else ``default`` with the note "no negative prompt given:
        using ``what``" (a model's own default negative prompt, e.g. Wan's official one)."""
        if self.negative_prompt:
            return self.negative_prompt
        self.note(f"no negative prompt given: using {what}")
        return default


_PACKAGES = ("torch", "diffusers", "transformers")
_INSTALL = "pip install 'stillmotion[diffusion]' (install torch for your GPU first)"


def availability(card: ModelCard, family: ModuleType | None = None) -> Availability:
    """The engine's verdict here, offline and cheap: the packages, then a CUDA GPU, then the
    weights in the Hugging Face cache (``model_index.json`` of ``card.repo_id``).

    Without a GPU the engine still runs (on the CPU: only tiny models finish); without cached
    weights it still runs from ``--model-path DIR``: both verdicts are runnable.
    """
    missing = [m for m in _PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        return Availability("needs-package", f"{', '.join(missing)} not installed", _INSTALL)
    hint = _weights_hint(card, family)
    cached = hint is None and _weights_cached(card.repo_id)
    if not _cuda_available():
        return Availability(
            "needs-gpu",
            "no CUDA GPU here: it would run on the CPU, far too slowly for real models"
            + ("" if cached else " (and its weights are not in the Hugging Face cache)"),
            f"run it on a machine with an NVIDIA GPU{_vram_words(card)}",
        )
    if not cached:
        return Availability(
            "needs-weights",
            f"weights for {card.name} ({card.repo_id}) are not in the Hugging Face cache",
            hint or f"run `stillmotion download {card.name}` where there is internet, or pass --model-path DIR",
        )
    return Availability("ready", f"runs on the GPU with the cached weights of {card.repo_id}")


def _vram_words(card: ModelCard) -> str:
    """ ": at least ≈6 GB VRAM (--memory sequential), 24 GB for all of it on the GPU" from the card's estimates."""
    if not card.vram_gb:
        return ""
    mode, low = min(card.vram_gb.items(), key=lambda kv: kv[1])
    full = card.vram_gb.get("full")
    return f": at least ≈{low:g} GB VRAM (--memory {mode})" + (
        f", {full:g} GB for all of it on the GPU" if full is not None and mode != "full" else ""
    )


@functools.lru_cache(maxsize=1)
def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _weights_cached(repo_id: str) -> bool:
    """True when the repo's pipeline index is in the Hugging Face cache (a file lookup, no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(repo_id, "model_index.json"), str)


def _weights_hint(card: ModelCard, family: ModuleType | None) -> str | None:
    """The family's note for weights that no single repo holds (an assembled --model-path folder), or None."""
    hint = getattr(family, "weights_hint", None)
    return hint(card) if hint is not None else None


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
    return max(m, round(width / m) * m), max(m, round(height / m) * m)


_PIPELINES: dict[tuple, Any] = {}


def _request_default(name: str) -> Any:
    """The default of an AnimateRequest field (the one place option defaults are written)."""
    from ...request import AnimateRequest

    return AnimateRequest.model_fields[name].get_default(call_default_factory=True)


@dataclass(frozen=True)
class DiffusionOptions:
    """The diffusion engines' own options; defaults are AnimateRequest's.

    Attributes:
        steps: ``num_inference_steps``, or None for the model's default.
        guidance_scale: guidance scale, or None for the model's default.
        model_path: a diffusers-format model folder, or None for the Hugging Face cache.
        memory: GPU memory mode (:data:`MemoryMode`).
        fast: quality-neutral GPU speedups (attention backend, regional torch.compile).
        cache: step caching (FirstBlockCache): faster, slightly lower quality.
        motion_strength: amount of motion in [0, 1], for models with such a control.
        consistency: faithfulness to the photo in [0, 1], for models with such a control.
    """

    steps: int | None = field(default_factory=partial(_request_default, "steps"))
    guidance_scale: float | None = field(default_factory=partial(_request_default, "guidance_scale"))
    model_path: Path | None = field(default_factory=partial(_request_default, "model_path"))
    memory: MemoryMode = field(default_factory=partial(_request_default, "memory"))
    fast: bool = field(default_factory=partial(_request_default, "fast"))
    cache: bool = field(default_factory=partial(_request_default, "cache"))
    motion_strength: float = field(default_factory=partial(_request_default, "motion_strength"))
    consistency: float = field(default_factory=partial(_request_default, "consistency"))

    @classmethod
    def from_request(cls, request: AnimateRequest) -> DiffusionOptions:
        """The options of a validated request."""
        return cls(
            steps=request.steps,
            guidance_scale=request.guidance_scale,
            model_path=request.model_path,
            memory=request.memory,
            fast=request.fast,
            cache=request.cache,
            motion_strength=request.motion_strength,
            consistency=request.consistency,
        )


class DiffusionEngine(Engine):
    """An engine that runs one model card through its diffusers pipeline.

    Args:
        card: the model.
        family: the family module: ``call_kwargs(card, generation) -> (kwargs, ignored)``,
            optional ``prepare_pipeline(pipe)`` and ``weights_hint(card)``.
        pipeline: the diffusers pipeline class to load the card's weights into, when not
            ``card.pipeline`` (a refine pass loads them into its video-to-video pipeline).
    """

    def __init__(self, card: ModelCard, family: ModuleType, pipeline: str | None = None) -> None:
        self.card = card
        self.family = family
        self.name = card.name
        self.pipeline_class = pipeline or card.pipeline

    # ------------------------------------------------------------------ plan

    def prepare(self, job: RenderJob) -> DiffusionShot:
        """Map the job onto the model; nothing heavy happens until frames are asked for."""
        from PIL import Image

        card = self.card
        options = job.options if job.options is not None else DiffusionOptions()
        if not isinstance(options, DiffusionOptions):
            raise TypeError(f"RenderJob.options for {card.name} must be DiffusionOptions, got {type(options).__name__}")
        notes: list[str] = []
        W, H = snap_size(card, *job.size)
        if (W, H) != tuple(job.size):
            notes.append(
                f"size {job.size[0]}×{job.size[1]} → {W}×{H} ({card.name} needs multiples of {card.multiple} px)"
            )
        duration = job.frame_count / job.fps
        wanted = max(2, round(duration * card.fps))
        frames = snap_frames(card, wanted)
        if frames != wanted:
            k, r = card.frame_rule
            notes.append(f"{wanted} frames → {frames} ({card.name} makes {k}n+{r} frames, at most {card.max_frames})")
        if abs(card.fps - job.fps) > 1e-6:
            notes.append(
                f"{card.name} generates at {card.fps:g} fps (asked {job.fps:g}): the clip plays at {card.fps:g} fps"
            )
        steps = int(options.steps or card.steps)
        guidance = float(options.guidance_scale if options.guidance_scale is not None else card.guidance)
        # The photo, cropped to the output aspect around the subject, at the generation size.
        img = crop_to_aspect(job.scene.rgb, W, H, job.scene.subject())
        last = None
        if card.end_frame and job.last_image is not None:
            last = Image.fromarray(crop_to_aspect(job.last_image, W, H, (0.5, 0.5)))
        # else: api.run already warns "--last-image is ignored" (spec.end_frame is card.end_frame)
        if not card.text and job.prompt:
            notes.append(f"{card.name} takes no text prompt: the prompt is not used (motion comes from the model)")
        generation = Generation(
            card=card,
            image=Image.fromarray(img),
            width=W,
            height=H,
            frames=frames,
            fps=card.fps,
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            steps=steps,
            guidance=guidance,
            seed=int(job.seed),
            motion_strength=float(options.motion_strength),
            consistency=float(options.consistency),
            last_image=last,
            notes=notes,
        )
        return DiffusionShot(self, generation, options)

    # ------------------------------------------------------------------ run

    def pipeline(self, options: DiffusionOptions, notes: list[str]) -> tuple[Any, str]:
        """The loaded pipeline (cached per process) and its device, with the memory mode applied.

        Raises:
            EngineUnavailable: ``--model-path`` is not a folder, or the weights are not available offline.
        """
        import torch

        model_path, memory, fast, cache = options.model_path, options.memory, options.fast, options.cache
        device = "cuda" if torch.cuda.is_available() else "cpu"
        key = (self.card.name, self.pipeline_class, str(model_path or ""), device, memory, fast, cache)
        if key in _PIPELINES:
            return _PIPELINES[key], device
        import diffusers

        cls = getattr(diffusers, self.pipeline_class)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        source = str(model_path) if model_path else self.card.repo_id
        try:
            if model_path:
                if not Path(model_path).is_dir():
                    raise EngineUnavailable(
                        f"--model-path {model_path} is not a folder: "
                        "pass a diffusers-format folder (with model_index.json)"
                    )
                pipe = cls.from_pretrained(source, dtype=dtype)
            else:
                pipe = cls.from_pretrained(source, dtype=dtype, local_files_only=True)
        except EngineUnavailable:
            raise
        except (OSError, ValueError) as err:
            hint = _weights_hint(self.card, self.family)
            raise EngineUnavailable(
                f"weights for {self.card.name} ({source}) are not available offline: "
                f"run `stillmotion download {self.card.name}` where there is internet, or pass --model-path DIR "
                f"(a diffusers-format folder) [{type(err).__name__}]" + (f"; {hint}" if hint else "")
            ) from None
        prepare = getattr(self.family, "prepare_pipeline", None)
        if prepare is not None:
            prepare(pipe)
        _apply_memory(pipe, device, memory, self.card)
        _apply_speedups(pipe, device, fast, cache, notes)
        pipe.set_progress_bar_config(disable=True)
        _PIPELINES[key] = pipe
        return pipe, device


class DiffusionShot:
    """A prepared generation; :meth:`frames_yuv420` runs it (frames are made all at once).

    Implements :class:`~stillmotion.engines.base.SoundShot` with ``progress == "step"``:
    it reports each denoising step and polls for cancellation between steps.

    Attributes:
        audio: the sound the model made with the frames, ``(samples, rate)``: float32 C×N
            in [-1, 1] and Hz, set after generating by the family's optional
            ``audio_track(pipe, output)`` hook; None for a silent model. The caller muxes it
            under the clip (:func:`stillmotion.post.audio.attach_audio`).
    """

    progress: Literal["step"] = "step"
    audio: tuple[np.ndarray, int] | None = None

    def __init__(self, engine: DiffusionEngine, generation: Generation, options: DiffusionOptions) -> None:
        self.engine = engine
        self.generation = generation
        self.options = options
        self.size = (generation.width, generation.height)
        self.frame_count = generation.frames
        self.fps = generation.fps
        self.warnings = list(generation.notes)
        c = generation.card
        self.info: dict[str, Any] = {
            "engine": c.name,
            "model": str(options.model_path or c.repo_id),
            "pipeline": engine.pipeline_class,
            "licence": c.licence,
            "commercial_use": c.commercial,
            "num_inference_steps": generation.steps,
            "guidance_scale": generation.guidance,
            "frames": generation.frames,
            "fps": generation.fps,
            "size": [generation.width, generation.height],
            "memory": options.memory,
            "adjustments": generation.notes,
        }

    def describe(self) -> str:
        """The model, its steps and guidance, every adjustment made to the request, and its licence."""
        info = self.info
        adj = "; ".join(info["adjustments"]) or "none"
        return (
            f"Engine: {info['engine']} ({info['pipeline']}, {info['model']}), "
            f"{info['num_inference_steps']} steps, guidance {info['guidance_scale']}; adjustments: {adj}; "
            f"licence: {info['licence']} (commercial: {info['commercial_use']})"
        )

    def frames_rgb(self, hooks: RenderHooks = NO_HOOKS) -> np.ndarray:
        """Run the pipeline: uint8 T×H×W×3 RGB frames.

        Raises:
            Canceled: ``hooks.should_stop()`` returned True between two steps.
            GenerationError: the GPU ran out of memory.
            EngineUnavailable: the weights cannot be loaded (see :meth:`DiffusionEngine.pipeline`).
        """
        import torch

        pipe, device = self.engine.pipeline(self.options, self.warnings)
        gen = self.generation
        kwargs, ignored = self.engine.family.call_kwargs(gen.card, gen)
        self.info["ignored"] = ignored
        self.warnings.extend(f"ignored by {gen.card.name}: {item}" for item in ignored)
        # The mapped controls, for the recipe: the scalar arguments only (no images, tensors or lists).
        self.info["call"] = {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, float, str))}
        gen_device = "cpu" if device != "cuda" else device
        generator = torch.Generator(device=gen_device).manual_seed(gen.seed)
        total = gen.steps

        def on_step_end(p, i, t, callback_kwargs):
            if hooks.stopped():
                raise Canceled("canceled between denoising steps: no clip was written")
            hooks.step(i + 1, total)
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
                f"{gen.card.name} ran out of GPU memory at {gen.width}×{gen.height}×{gen.frames}: "
                "try --memory group-offload, a smaller --size or a shorter --duration"
            ) from err
        frames = out.frames[0] if hasattr(out, "frames") else out[0][0]
        audio_track = getattr(self.engine.family, "audio_track", None)
        if audio_track is not None:
            self.audio = audio_track(pipe, out)
        arr = np.asarray(frames)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if arr.ndim == 4 and arr.shape[1] == 3 and arr.shape[-1] != 3:  # T×C×H×W → T×H×W×C
            arr = arr.transpose(0, 2, 3, 1)
        if arr.shape[1:3] != (gen.height, gen.width):
            import cv2

            arr = np.stack([cv2.resize(f, (gen.width, gen.height), interpolation=cv2.INTER_AREA) for f in arr])
        self.frame_count = len(arr)
        return np.ascontiguousarray(arr)

    def frames_yuv420(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[YUV420]:
        """The frames as BT.709 4:2:0 planes for the encoder (generated first, then streamed)."""
        from ...color import rgb_to_yuv420

        for rgb in self.frames_rgb(hooks):
            yield rgb_to_yuv420(rgb)

    def frames(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[np.ndarray]:
        """The frames as uint8 H×W×3 RGB (generated first, then streamed)."""
        yield from self.frames_rgb(hooks)


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
        if free_gb > need * 1.1:
            memory = "full"
        elif free_gb > card.vram_gb.get("model-offload", need):
            memory = "model-offload"
        else:
            memory = "group-offload"
    if memory == "full":
        pipe.to("cuda")
    elif memory == "model-offload":
        pipe.enable_model_cpu_offload()
    elif memory == "group-offload":
        pipe.enable_group_offload(
            onload_device=torch.device("cuda"),
            offload_device=torch.device("cpu"),
            offload_type="leaf_level",
            use_stream=True,
        )
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


def without_ftfy(pipe: Any) -> None:
    """Give a pipeline module whose prompt cleaning calls ``ftfy.fix_text`` (Wan's ``basic_clean``,
    copied by SkyReels-V2) a no-op stand-in when ``ftfy`` is not installed: ftfy only repairs
    mojibake, and without it every call fails with a NameError."""
    import sys
    import types

    mod = sys.modules.get(type(pipe).__module__)
    if mod is not None and "basic_clean" in vars(mod) and "ftfy" not in vars(mod):
        mod.ftfy = types.SimpleNamespace(fix_text=lambda text: text)


def mapped_strength(value: float, lo: float, hi: float) -> float:
    """Map a 0..1 option onto [lo, hi] (for controls such as SVD's motion bucket)."""
    return lo + (hi - lo) * float(np.clip(value, 0.0, 1.0))
