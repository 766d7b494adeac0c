"""FramePack (lllyasviel) through diffusers' ``HunyuanVideoFramepackPipeline``: long clips, section by section.

FramePack is a 13B HunyuanVideo transformer fine-tuned for next-frame-section
prediction (the project's generative notes §1.9, §4): each section denoises
``latent_window_size`` = 9 latent frames against a compressed history, so
memory does not grow with the clip's length. Settings are the pipeline's
example: 30 steps, distilled guidance 9.0, 30 fps, ``last_image`` for an end
frame, ``sampling_type="inverted_anti_drifting"`` (the ``FramePackI2V_HY``
checkpoint; the F1 checkpoint ``lllyasviel/FramePack_F1_I2V_HY_20250503``
needs ``"vanilla"`` and is not an engine here). The native size is FramePack's
640 bucket (its app snaps photos to ``find_nearest_bucket(H, W, resolution=640)``,
e.g. 640×640 or 832×480 class sizes); sides are multiples of 16.

**Frame rule.** Each section adds 4·9 = 36 frames; the decoded clip has
``36·S + 1`` frames for ``S`` sections (checked against the pipeline's code:
the first section decodes 9 latents (+1 for the photo when it is the only
one) to 33–37 frames, each further one blends 33 overlapping frames and adds
36). The pipeline is asked for ``S·33`` frames, which is what makes it run
exactly ``S`` sections (it computes ``ceil(num_frames / 33)``). So the card's
rule is 36n+1, at most 1801 frames (60 s at 30 fps; FramePack's README
advertises one-minute clips).

**Weights: an assembled folder** (``--model-path DIR``). No Hub repo holds a
complete diffusers FramePack pipeline: it is the HunyuanVideo base (text
encoders, VAE, scheduler), the FramePack transformer and FLUX Redux's SigLIP
image encoder. Assemble it once, where there is internet, as the pipeline's
own example does, and save it::

    import torch
    from diffusers import HunyuanVideoFramepackPipeline, HunyuanVideoFramepackTransformer3DModel
    from transformers import SiglipImageProcessor, SiglipVisionModel

    transformer = HunyuanVideoFramepackTransformer3DModel.from_pretrained(
        "lllyasviel/FramePackI2V_HY", torch_dtype=torch.bfloat16)
    feature_extractor = SiglipImageProcessor.from_pretrained(
        "lllyasviel/flux_redux_bfl", subfolder="feature_extractor")
    image_encoder = SiglipVisionModel.from_pretrained(
        "lllyasviel/flux_redux_bfl", subfolder="image_encoder", torch_dtype=torch.bfloat16)
    pipe = HunyuanVideoFramepackPipeline.from_pretrained(
        "hunyuanvideo-community/HunyuanVideo", transformer=transformer,
        feature_extractor=feature_extractor, image_encoder=image_encoder, torch_dtype=torch.bfloat16)
    pipe.save_pretrained("framepack-diffusers")

then ``stillmotion animate photo.jpg --engine framepack --model-path
framepack-diffusers``. The card's ``repo_id`` is the FramePack transformer
(``stillmotion download framepack`` fetches only that part).

Progress: the pipeline restarts its step counter for every section, so
progress runs 1..steps once per section.

**Licence**: FramePack is Apache-2.0 (lllyasviel/FramePack); the transformer
is fine-tuned from HunyuanVideo and the folder's VAE and text encoders *are*
HunyuanVideo's, under the Tencent Hunyuan Community License (not valid in
the EU, UK, South Korea; >100M MAU needs a licence). Treat the assembled
model as bound by those terms (not verified for the FramePack transformer).

VRAM: FramePack's own app runs in 6 GB with its own offloader, which
diffusers does not use. With diffusers the weights alone are ~44 GB in bf16
(13B transformer, 8B Llama text encoder); 60 GB for ``full`` is an estimate
(HunyuanVideo-I2V's published 720p peak), not a measurement.
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "LATENT_WINDOW", "call_kwargs", "sections", "weights_hint"]

LATENT_WINDOW = 9  # latent frames per section: the released checkpoints' value (and the pipeline's default)
_TEMPORAL = 4  # HunyuanVideo VAE: 4 frames per latent frame
_SECTION_FRAMES = _TEMPORAL * LATENT_WINDOW  # 36 new frames per section
_WINDOW_FRAMES = (LATENT_WINDOW - 1) * _TEMPORAL + 1  # 33: the pipeline's ``window_num_frames``

CARDS = [
    ModelCard(
        name="framepack",
        family="framepack",
        pipeline="HunyuanVideoFramepackPipeline",
        repo_id="lllyasviel/FramePackI2V_HY",
        native_size=(640, 640),
        multiple=16,
        frame_rule=(_SECTION_FRAMES, 1),
        fps=30.0,
        max_frames=50 * _SECTION_FRAMES + 1,
        steps=30,
        guidance=9.0,
        licence="Apache-2.0 (FramePack); base HunyuanVideo parts: Tencent Hunyuan Community License",
        commercial="yes under the Tencent terms: not in EU/UK/South Korea; >100M MAU needs a licence (not verified)",
        vram_gb={"full": 60.0},
        end_frame=True,
        notes="long clips (36n+1 frames at 30 fps, up to 60 s); needs --model-path: a folder assembled from "
        "hunyuanvideo-community/HunyuanVideo + lllyasviel/FramePackI2V_HY + lllyasviel/flux_redux_bfl",
    ),
]


def sections(frames: int) -> int:
    """How many 36-frame sections make ``frames`` (a 36n+1 count)."""
    return max(1, (int(frames) - 1) // _SECTION_FRAMES)


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``HunyuanVideoFramepackPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    ignored = [
        "motion_strength: FramePack has no motion-amount control (describe the motion in the prompt)",
        "consistency: FramePack has no fidelity-to-photo control (the first frame is the photo)",
    ]
    if job.negative_prompt:
        ignored.append(f"negative_prompt: {card.name} uses distilled guidance (true CFG off), so it has no effect")
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "height": job.height,
        "width": job.width,
        # S sections ⇔ num_frames in (33(S-1), 33S]: the decoded clip then has 36·S + 1 frames.
        "num_frames": sections(job.frames) * _WINDOW_FRAMES,
        "latent_window_size": LATENT_WINDOW,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "true_cfg_scale": 1.0,
        "sampling_type": "inverted_anti_drifting",
    }
    if job.last_image is not None:
        kwargs["last_image"] = job.last_image
    return kwargs, ignored


def weights_hint(card: ModelCard) -> str:
    """Added to the missing-weights error: the download alone is not a loadable pipeline."""
    return (
        "FramePack has no single diffusers repo: `stillmotion download` fetches only the transformer; "
        "assemble a folder from hunyuanvideo-community/HunyuanVideo + lllyasviel/FramePackI2V_HY + "
        "lllyasviel/flux_redux_bfl (see stillmotion.engines.diffusion.framepack) and pass it with --model-path"
    )
