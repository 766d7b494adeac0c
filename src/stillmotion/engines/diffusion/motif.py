"""Motif-Video 2B (Motif Technologies) image-to-video through diffusers' ``MotifVideoImage2VideoPipeline``.

A 2B rectified-flow transformer (12 dual-stream + 16 single-stream + 8 DDT
decoder layers) with a T5Gemma2 text encoder whose SigLIP vision tower also
embeds the photo, and the Wan2.1 VAE (8× spatial, 4× temporal). The photo is
the first latent frame (a mask channel marks it). Facts from the installed
pipeline and diffusers' ``motif_video.md``: 1280×736 at 24 fps, 121 frames, 50
steps; sides are multiples of 16 (VAE 8×, transformer patch 2); frame counts
4n+1 (the VAE's 4× temporal compression).

Guidance is not a call argument: the pipeline runs the ``guider`` component
saved with the weights (``guider/config.json``; diffusers' own tests use
``AdaptiveProjectedGuidance``), so ``--guidance-scale`` cannot change it here and
is reported as ignored; the card's 7.5 is the guider classes' default, not a
verified setting of the published weights.

Memory: only ``--memory full`` and ``model-offload`` work. diffusers' tests mark
group and sequential offload as failing for this pipeline (T5Gemma2's vision
tower cannot be offloaded block- or leaf-wise). VRAM figures, GB, are estimates:
the model card reports that all GGUF variants fit in 24 GB and save up to 2.7 GB
against bf16, so bf16 at 1280×736×121 peaks near 28 GB; model offload keeps one
component at a time on the GPU (the transformer's activations dominate).

Licence: *unverified*. A third-party FP8 re-upload of these weights is tagged
apache-2.0, which suggests Apache-2.0, but the original model card's licence
field was not confirmed here: read it before commercial use.
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "MOTIF_NEGATIVE_PROMPT", "call_kwargs"]

CARDS = [
    ModelCard(
        name="motif-video-i2v",
        family="motif",
        pipeline="MotifVideoImage2VideoPipeline",
        repo_id="Motif-Technologies/Motif-Video-2B",
        native_size=(1280, 736),
        multiple=16,  # Wan VAE 8× spatial, transformer patch 2
        frame_rule=(4, 1),
        fps=24.0,
        max_frames=121,
        steps=50,
        guidance=7.5,
        licence="Apache-2.0 (unverified)",
        commercial="yes if Apache-2.0 (unverified: read the model card)",
        vram_gb={"full": 28.0, "model-offload": 20.0},
        end_frame=False,
        notes=(
            "2B; guidance comes from the weights' guider (not --guidance-scale); "
            "--memory full or model-offload only (group/sequential offload unsupported); licence unverified"
        ),
    ),
]

# The negative prompt of diffusers' Motif-Video examples (motif_video.md and the pipeline's docstring).
MOTIF_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``MotifVideoImage2VideoPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    negative = job.negative_or(MOTIF_NEGATIVE_PROMPT, "Motif-Video's example negative prompt")
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": negative,
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
    }
    ignored = [
        "motion_strength: Motif-Video has no motion-amount control (describe the motion in the prompt)",
        "consistency: Motif-Video has no fidelity-to-photo control (the first frame is the photo)",
        f"guidance_scale {job.guidance:g}: Motif-Video's guidance is the guider saved with the weights "
        "(guider/config.json), not a call argument",
    ]
    return kwargs, ignored
