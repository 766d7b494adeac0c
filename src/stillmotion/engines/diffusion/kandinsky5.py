"""Kandinsky 5.0 Video Pro image-to-video (Kandinsky Lab) through diffusers' ``Kandinsky5I2VPipeline``.

Settings are the pipeline's own defaults and its documented example
(diffusers 0.42 ``pipeline_kandinsky_i2v.py``): 768×512, 121 frames (the
"5s" checkpoint: 5 s at 24 fps, the rate the example exports at), 50 steps,
guidance 5.0. Sides are multiples of 16 (the pipeline refuses anything else:
HunyuanVideo VAE 8× spatial, transformer patch 2); frame counts 4n+1 (VAE 4×
temporal; the pipeline itself rounds other counts down).

The model is a 19B diffusion transformer conditioned on Qwen2.5-VL (7B) and
CLIP-L text embeddings; the photo is the first latent frame. When no negative
prompt is given (and guidance > 1) the pipeline uses its own default negative
prompt ("Static, 2D cartoon, …"); with guidance ≤ 1 there is no classifier-free
guidance, so a negative prompt has no effect.

**Licence**: *unverified* for this checkpoint. The sibling
``kandinskylab/Kandinsky-5.0-T2V-Lite-sft-10s`` card declares ``apache-2.0``
(its README front matter); the I2V Pro card could not be read here, so the
card says "Apache-2.0 (unverified)": read the model card before shipping.

**VRAM** (GB per memory mode): estimates, not published figures: the 19B
transformer is ≈ 38 GB in bf16 and the Qwen2.5-VL-7B text encoder ≈ 16 GB;
``full`` holds both plus activations at 768×512×121, ``model-offload`` one at a
time, ``group-offload``/``sequential`` stream the transformer's blocks (a guide,
not a promise).

Loading the real checkpoint's ``tokenizer`` (a ``Qwen2VLProcessor``) may need
torchvision in recent transformers (its video processor): unverified here.
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs"]

CARDS = [
    ModelCard(
        name="kandinsky-5-i2v",
        family="kandinsky5",
        pipeline="Kandinsky5I2VPipeline",
        repo_id="kandinskylab/Kandinsky-5.0-I2V-Pro-sft-5s-Diffusers",
        native_size=(768, 512),
        multiple=16,
        frame_rule=(4, 1),
        fps=24.0,
        max_frames=121,
        steps=50,
        guidance=5.0,
        licence="Apache-2.0 (unverified)",
        commercial="yes if Apache-2.0 (unverified: read the model card)",
        vram_gb={"full": 64.0, "model-offload": 44.0, "group-offload": 16.0, "sequential": 10.0},
        notes="19B Pro model, 768×512 at 24 fps, up to 5 s; no end frame (VRAM: estimates)",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``Kandinsky5I2VPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    ignored = [
        "motion_strength: Kandinsky 5 has no motion-amount control (describe the motion in the prompt)",
        "consistency: Kandinsky 5 has no fidelity-to-photo control (the first frame is the photo)",
    ]
    if job.guidance <= 1.0 and job.negative_prompt:
        ignored.append(f"negative_prompt: guidance {job.guidance:g} ≤ 1 turns classifier-free guidance off")
    note = "no negative prompt given: Kandinsky 5 uses its own default negative prompt"
    if not job.negative_prompt and job.guidance > 1.0:
        job.note(note)
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt or None,  # None: the pipeline's own default
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
    }
    return kwargs, ignored
