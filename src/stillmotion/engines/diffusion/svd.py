"""Stable Video Diffusion XT (Stability AI) through diffusers' ``StableVideoDiffusionPipeline``.

Settings are the pipeline's / model card's (the project's generative notes
§1.5): 1024×576, 25 frames at 7 fps, 25 steps, guidance ramped over the
frames from 1.0 to 3.0. Sides are multiples of 64 (VAE 8× spatial, then the
UNet halves the latent three times); any frame count from 2 to 25 (1n+1).

SVD takes **no text prompt**: its only controls are micro-conditionings,
mapped from stillmotion's options:

* ``--motion-strength`` 0..1 → ``motion_bucket_id`` 1..253, linearly, so the
  default 0.5 gives the model's default bucket 127 (more motion above).
* ``--consistency`` 0..1 → ``noise_aug_strength`` (noise added to the photo
  before encoding: less noise keeps the clip closer to the photo), piecewise
  linear 0 → 0.1, 0.5 → 0.02 (the model's default), 1 → 0.0.
* ``--guidance-scale`` → ``max_guidance_scale`` (the last frame's guidance;
  the first frame's stays at 1.0, the model's ``min_guidance_scale``).
* the clip plays at 7 fps, and the UNet is conditioned on it (``fps``).

The VAE decodes 8 frames at a time (``decode_chunk_size``), as the model
card's example, to bound memory.

**Licence**: ``stable-video-diffusion-nc-community``, non-commercial; for
commercial use Stability points to https://stability.ai/license (not
verified here).

VRAM figures are estimates, in GB per memory mode: diffusers ``svd.md``
reports "less than 8GB" with model offload, forward chunking and 2-frame VAE
chunks; the rest is extrapolated from the model size (1.5B UNet + ViT-H image
encoder in half precision) and the 8-frame decode chunks: a guide, not a promise.
"""

from __future__ import annotations

from .common import Generation, ModelCard, mapped_strength

__all__ = ["CARDS", "call_kwargs", "motion_bucket", "noise_aug"]

CARDS = [
    ModelCard(
        name="svd-xt",
        family="svd",
        pipeline="StableVideoDiffusionPipeline",
        repo_id="stabilityai/stable-video-diffusion-img2vid-xt",
        native_size=(1024, 576),
        multiple=64,
        frame_rule=(1, 1),
        fps=7.0,
        max_frames=25,
        steps=25,
        guidance=3.0,
        licence="stable-video-diffusion-nc-community",
        commercial="no (non-commercial)",
        vram_gb={"full": 18.0, "model-offload": 10.0, "group-offload": 8.0, "sequential": 6.0},
        text=False,
        notes="no text prompt: --motion-strength sets the motion bucket, --consistency the noise augmentation",
    ),
]

_MIN_GUIDANCE = 1.0
_DECODE_CHUNK = 8


def motion_bucket(motion_strength: float) -> int:
    """``motion_bucket_id`` for a 0..1 motion strength: 1..253, 127 at 0.5 (the model's default)."""
    return round(mapped_strength(motion_strength, 1, 253))


def noise_aug(consistency: float) -> float:
    """``noise_aug_strength`` for a 0..1 consistency: 0.1 at 0, 0.02 at 0.5 (the model's default), 0.0 at 1."""
    c = min(max(float(consistency), 0.0), 1.0)
    value = 0.1 + (0.02 - 0.1) * (c / 0.5) if c <= 0.5 else 0.02 * (1.0 - c) / 0.5
    return round(value, 4)


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``StableVideoDiffusionPipeline.__call__`` arguments for ``job``, and the options SVD cannot use."""
    ignored = []  # (a prompt is already reported by the framework: the card says text=False)
    if job.negative_prompt:
        ignored.append("negative_prompt: SVD takes no text")
    max_guidance = job.guidance
    if max_guidance < _MIN_GUIDANCE:
        max_guidance = _MIN_GUIDANCE
        note = f"guidance {job.guidance:g} → {_MIN_GUIDANCE:g} (SVD ramps guidance from {_MIN_GUIDANCE:g} up to it)"
        job.note(note)
    kwargs = {
        "image": job.image,
        "width": job.width,
        "height": job.height,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "min_guidance_scale": _MIN_GUIDANCE,
        "max_guidance_scale": max_guidance,
        "fps": round(job.fps),
        "motion_bucket_id": motion_bucket(job.motion_strength),
        "noise_aug_strength": noise_aug(job.consistency),
        "decode_chunk_size": min(_DECODE_CHUNK, job.frames),
    }
    return kwargs, ignored
