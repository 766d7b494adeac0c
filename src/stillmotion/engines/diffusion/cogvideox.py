"""CogVideoX-5B-I2V (THUDM / Zhipu AI) through diffusers' ``CogVideoXImageToVideoPipeline``.

Settings are the official ones (the project's generative notes §1.3; the
pipeline's example): 720×480, 49 frames at 8 fps (6 s), 50 steps, guidance
6.0 with ``use_dynamic_cfg=True``. Sides are multiples of 16 (VAE 8× spatial,
transformer patch 2); frame counts 8n+1 (VAE 4× temporal; CogVideoX 1.0 is
documented at 8N+1, N ≤ 6).

**Licence**: the 5B weights are under the custom "CogVideoX LICENSE"
(https://huggingface.co/THUDM/CogVideoX-5b/blob/main/LICENSE), reported as not
for commercial use: treat it as non-commercial until you have read it.

**Size and length.** The 5B-I2V transformer adds a *learned* position table
sized for 720×480×49 on top of its RoPE; diffusers refuses any other size with
it ("It is currently not possible to generate videos at a different
resolution…") and, for another frame count, silently swaps in sin-cos
positions the model never saw. The table is close to zero: removing it gives
near-identical videos (diffusers maintainer, huggingface/finetrainers#26; the
CogVideo authors: "this part can be removed; we have verified that the effect
is almost the same"). :func:`prepare_pipeline` therefore keeps the table at
the native size and length and leaves it out elsewhere (RoPE only), so any
size and length the rule allows runs; the recipe notes when a request is off
the trained 720×480×49, where quality is best.

VRAM figures, in GB per memory mode, are from diffusers ``cogvideox.md`` (33 GB
without offload, 19 GB with model offload, 11 GB adding VAE tiling, <4 GB
sequential); group offload has no published figure: 11 is an estimate.
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs", "prepare_pipeline"]

CARDS = [
    ModelCard(
        name="cogvideox-5b-i2v",
        family="cogvideox",
        pipeline="CogVideoXImageToVideoPipeline",
        repo_id="THUDM/CogVideoX-5b-I2V",
        native_size=(720, 480),
        multiple=16,
        frame_rule=(8, 1),
        fps=8.0,
        max_frames=49,
        steps=50,
        guidance=6.0,
        licence="CogVideoX LICENSE",
        commercial="no (non-commercial until you read the licence)",
        vram_gb={"full": 33.0, "model-offload": 19.0, "group-offload": 11.0, "sequential": 4.0},
        notes="best at exactly 720×480, 49 frames; not commercial-safe",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``CogVideoXImageToVideoPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    (nw, nh), trained = card.native_size, card.max_frames
    if (job.width, job.height, job.frames) != (nw, nh, trained):
        note = (
            f"{card.name} was trained at {nw}×{nh}, {trained} frames; {job.width}×{job.height}, {job.frames} "
            "frames runs without its learned position table (RoPE only): quality is best at the native size"
        )
        job.note(note)
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt,
        "width": job.width,
        "height": job.height,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "use_dynamic_cfg": True,
    }
    ignored = [
        "motion_strength: CogVideoX has no motion-amount control (describe the motion in the prompt)",
        "consistency: CogVideoX has no fidelity-to-photo control (the first frame is the photo)",
    ]
    return kwargs, ignored


def prepare_pipeline(pipe) -> None:
    """Use the learned position table only where it fits (native size and length); RoPE alone elsewhere."""
    pe = getattr(getattr(pipe, "transformer", None), "patch_embed", None)
    if pe is None or not getattr(pe, "use_learned_positional_embeddings", False):
        return
    if getattr(pe, "use_positional_embeddings", False):
        return  # sin-cos positions are the model's own: leave them alone

    def _learned_only_at_native(module, args):
        image_embeds = args[1] if len(args) > 1 else None
        if image_embeds is None:
            return None
        _, frames, _, height, width = image_embeds.shape
        module.use_learned_positional_embeddings = (
            height == module.sample_height
            and width == module.sample_width
            and (frames - 1) * module.temporal_compression_ratio + 1 == module.sample_frames
        )
        return None

    pe.register_forward_pre_hook(_learned_only_at_native)
