"""NVIDIA Cosmos-Predict2 Video2World through diffusers' ``Cosmos2VideoToWorldPipeline``.

A "world model": from one photo (the first latent frame) and a prompt it
continues the scene physically plausibly. Settings are the pipeline's defaults
(diffusers 0.42 ``pipeline_cosmos2_video2world.py``) for the default 2B
checkpoint (720p, 16 fps): 1280×704, 93 frames (5.8 s at 16 fps, the fps the
transformer is also conditioned on), 35 steps, guidance 7.0. Sides are
multiples of 16 (the pipeline refuses anything else: Wan VAE 8× spatial,
patch 2); frame counts 4n+1 (Wan VAE 4× temporal). The model was trained on
93-frame clips: shorter clips are allowed but are outside its training. When no
negative prompt is given the pipeline uses NVIDIA's default one.

**Safety guardrail (required).** The pipeline cannot run without a
``safety_checker``: built without one it constructs ``cosmos_guardrail``'s
``CosmosSafetyChecker`` (an ImportError when that package is missing), and
``__call__`` refuses a pipeline whose checker was set to None, citing the
licence. The guardrail rejects unsafe prompts (a ValueError before any step),
checks every generated video and **pixelates faces** in it — portraits come
out with blurred faces. A real user needs ``pip install cosmos_guardrail``
(it fetches its own models, NVIDIA's Cosmos-Guardrail1 with Llama-Guard-3-8B,
on first use: unverified whether that works offline). stillmotion never
disables it: under the NVIDIA Open Model License, bypassing or weakening a
guardrail ends your rights to the model. (The tests run a tiny pipeline whose
``safety_checker`` folder holds a pass-through stand-in, as diffusers' own
tests do; that is for untrained test weights only.)

**torchvision** is required: the Cosmos transformer resizes its padding mask
with torchvision when ``concat_padding_mask`` is set (as in NVIDIA's
checkpoints); without it diffusers fails mid-run with a NameError, so
:func:`prepare_pipeline` says so before any work.

**Licence**: NVIDIA Open Model License: commercial use allowed, outputs are
yours, rights end if the guardrail is bypassed.

**VRAM** (GB per memory mode): NVIDIA's model matrix gives 32.54 GB "required"
for the 2B Video2World model (its own inference, guardrail included); the
offload figures are estimates (T5-XXL encoder ≈ 9.5 GB in bf16, 2B transformer
≈ 4 GB; the guardrail is moved to the GPU for its checks whatever the mode, and
its Llama-Guard-3-8B alone is ≈ 16 GB in bf16): a guide, not a promise.
``--cache`` has no effect: diffusers' Cosmos transformer has no step caching.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ...errors import EngineUnavailable
from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs", "prepare_pipeline"]

CARDS = [
    ModelCard(
        name="cosmos-predict2-i2v",
        family="cosmos",
        pipeline="Cosmos2VideoToWorldPipeline",
        repo_id="nvidia/Cosmos-Predict2-2B-Video2World",
        native_size=(1280, 704),
        multiple=16,
        frame_rule=(4, 1),
        fps=16.0,
        max_frames=93,
        steps=35,
        guidance=7.0,
        licence="NVIDIA Open Model License",
        commercial="yes, with the safety guardrail on (disabling it ends the licence)",
        vram_gb={"full": 33.0, "model-offload": 20.0, "group-offload": 18.0, "sequential": 16.0},
        notes="physically plausible continuation of the photo, 720p at 16 fps; needs `pip install cosmos_guardrail` "
        "and torchvision; the guardrail pixelates faces; no end frame, no --cache",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``Cosmos2VideoToWorldPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    note = "no negative prompt given: Cosmos uses NVIDIA's default negative prompt"
    if not job.negative_prompt and job.guidance > 1.0:
        job.note(note)
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt or None,  # None: the pipeline's default
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "fps": round(job.fps),  # the transformer is conditioned on the frame rate
    }
    ignored = [
        "motion_strength: Cosmos-Predict2 has no motion-amount control (describe the motion in the prompt)",
        "consistency: Cosmos-Predict2 has no fidelity-to-photo control (the first frame is the photo)",
    ]
    if job.guidance <= 1.0 and job.negative_prompt:
        ignored.append(f"negative_prompt: guidance {job.guidance:g} ≤ 1 turns classifier-free guidance off")
    return kwargs, ignored


def prepare_pipeline(pipe: Any) -> None:
    """Refuse, in words, a checkpoint that needs torchvision where it is missing (diffusers would
    otherwise fail with a NameError in the first denoising step)."""
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    if getattr(config, "concat_padding_mask", False) and importlib.util.find_spec("torchvision") is None:
        raise EngineUnavailable(
            "cosmos-predict2-i2v needs torchvision (the Cosmos transformer resizes its padding mask with it): "
            "pip install torchvision (the build matching your torch)"
        )
