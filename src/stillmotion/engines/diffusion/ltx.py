"""LTX-Video 0.9.x (Lightricks) through diffusers' LTX pipelines.

Two engines (the project's generative notes §1.2; diffusers ``ltx_video.md``):

* ``ltx-video``: the 2B 0.9.5 model (OpenRail-M, commercial use allowed)
  through ``LTXImageToVideoPipeline`` (first frame), 768×512 at 25 fps,
  50 steps, guidance 3.0.
* ``ltx-video-distilled``: the 13B 0.9.8 distilled model through
  ``LTXConditionPipeline`` (the pipeline diffusers documents for 0.9.5+; the
  photo is its frame-0 condition, ``image=`` ≡ ``conditions=[LTXVideoCondition
  (image=…)]``), 1216×704 at 30 fps, 8 steps on the official distilled
  schedule, guidance 1.0 (guidance-distilled: no classifier-free guidance, so
  no negative prompt). Its weights are under the "LTXV Open Weights License"
  (2025-05-05): read it before commercial use.

Both: sides are multiples of 32 (VAE 32× spatial), frame counts 8n+1 (VAE 8×
temporal), at most 161 frames. Both VAEs are timestep-aware (0.9.1+), so the
decode uses ``decode_timestep=0.05`` and ``decode_noise_scale=0.025``, and the
condition pipeline ``image_cond_noise_scale=0.025`` (diffusers' advice for
0.9.1+). VRAM figures are estimates, in GB per memory mode, from the model
sizes (2B / 13B transformer + T5-XXL encoder in bf16) and the notes' "~10 GB"
for the 13B with fp8 layerwise casting and group offload: a guide, not a
promise.
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "DISTILLED_TIMESTEPS", "LTX_NEGATIVE_PROMPT", "call_kwargs", "negative_prompt"]


def _card(**overrides) -> ModelCard:
    """An LTX card: what both LTX-Video cards share, then the card's own fields."""
    shared = {"family": "ltx", "multiple": 32, "frame_rule": (8, 1), "max_frames": 161}
    return ModelCard(**{**shared, **overrides})


CARDS = [
    _card(
        name="ltx-video",
        pipeline="LTXImageToVideoPipeline",
        repo_id="Lightricks/LTX-Video-0.9.5",
        native_size=(768, 512),
        fps=25.0,
        steps=50,
        guidance=3.0,
        licence="OpenRail-M",
        commercial="yes (2B 0.9.5 OpenRail-M)",
        vram_gb={"full": 16.0, "model-offload": 10.0, "group-offload": 6.0, "sequential": 4.0},
        notes="2B, fast",
    ),
    _card(
        name="ltx-video-distilled",
        pipeline="LTXConditionPipeline",
        repo_id="Lightricks/LTX-Video-0.9.8-13B-distilled",
        native_size=(1216, 704),
        fps=30.0,
        steps=8,
        guidance=1.0,
        licence="LTXV Open Weights License",
        commercial="conditional: read the licence",
        vram_gb={"full": 40.0, "model-offload": 28.0, "group-offload": 14.0, "sequential": 8.0},
        notes="13B distilled draft: 8 steps, no guidance (negative prompt unused)",
    ),
]

# LTX-Video's own default negative prompt (its inference script and diffusers' examples).
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"

# The official first-pass schedule of the 0.9.7/0.9.8 distilled models (diffusers ltx_video.md), for 8 steps.
DISTILLED_TIMESTEPS = [1000, 993, 987, 981, 975, 909, 725, 0.03]

# Timestep-aware VAE (0.9.1+): decode from a slightly noised latent; condition-noise for LTXConditionPipeline.
_DECODE_TIMESTEP = 0.05
_DECODE_NOISE_SCALE = 0.025
_IMAGE_COND_NOISE_SCALE = 0.025


def negative_prompt(card: ModelCard, job: Generation, ignored: list[str]) -> str:
    """The negative prompt an LTX model (LTX-Video, LTX-2) gets: none at guidance ≤ 1 (no
    classifier-free guidance; a typed one goes to ``ignored``), else the typed one or
    :data:`LTX_NEGATIVE_PROMPT` (said in the notes)."""
    if job.guidance <= 1.0:
        if job.negative_prompt:
            ignored.append(
                f"negative_prompt: {card.name} runs at guidance {job.guidance:g} (no classifier-free guidance)"
            )
        return ""
    return job.negative_or(LTX_NEGATIVE_PROMPT, "LTX-Video's default negative prompt")


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """The LTX pipeline's ``__call__`` arguments for ``job``, and the options LTX cannot use."""
    ignored = [
        "motion_strength: LTX-Video has no motion-amount control (describe the motion in the prompt)",
        "consistency: LTX-Video has no fidelity-to-photo control (the first frame is the photo)",
    ]
    negative = negative_prompt(card, job, ignored)
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": negative,
        "width": job.width,
        "height": job.height,
        "num_frames": job.frames,
        "frame_rate": round(job.fps),
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "decode_timestep": _DECODE_TIMESTEP,
        "decode_noise_scale": _DECODE_NOISE_SCALE,
    }
    if card.pipeline == "LTXConditionPipeline":
        kwargs["image_cond_noise_scale"] = _IMAGE_COND_NOISE_SCALE
        if job.steps == len(DISTILLED_TIMESTEPS):
            kwargs["timesteps"] = list(DISTILLED_TIMESTEPS)
        else:
            note = (
                f"{job.steps} steps: the official distilled schedule has {len(DISTILLED_TIMESTEPS)}, "
                "so the pipeline's own schedule is used"
            )
            job.note(note)
    return kwargs, ignored
