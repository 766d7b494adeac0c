"""HunyuanVideo-I2V (Tencent) through diffusers' ``HunyuanVideoImageToVideoPipeline``.

Settings are the official ones (the project's generative notes §1.4):
1280×720, at most 129 frames (about 5 s), 50 steps. Sides are multiples of
16 (the pipeline refuses anything else); frame counts 4n+1 (VAE 4× temporal).
The clip plays at 24 fps, the rate HunyuanVideo's 129 frames ≈ 5 s are
counted at (diffusers' example happens to export at 15 fps).

**Guidance.** The I2V transformer of ``hunyuanvideo-community/HunyuanVideo-I2V``
is guidance-distilled: ``guidance_scale`` is *embedded* guidance (one forward
pass per step), 6.0 as upstream's ``embedded-cfg`` and the pipeline's example;
``true_cfg_scale`` stays at the pipeline's 1.0, so a negative prompt has no
effect and is reported as ignored. The older ``-I2V-33ch`` checkpoint
(``image_condition_type="latent_concat"``, upstream advises guidance 1.0) also
loads through ``--model-path``; diffusers drops its first 4 decoded frames, so
the clip is 4 frames shorter than the recipe's ``frames``.

Motion amount is not exposed: upstream's knob is the scheduler's flow shift
(7.0 with ``--i2v-stability``, 17.0 for more motion), which is part of the
checkpoint's scheduler config; describe the motion in the prompt.

**Licence**: Tencent Hunyuan Community License: **not valid in the EU, the UK
or South Korea**; services above 100M monthly active users need a separate
licence from Tencent (LICENSE.txt l. 3, 17, 30); otherwise commercial use is
allowed.

VRAM: upstream reports a **60 GB peak at 720p** (80 GB recommended) without
offload; there is no published figure per offload mode, so only ``full`` is
given (``--memory auto`` then falls back to group offload on smaller GPUs).
"""

from __future__ import annotations

from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs"]

CARDS = [
    ModelCard(
        name="hunyuanvideo-i2v",
        family="hunyuan",
        pipeline="HunyuanVideoImageToVideoPipeline",
        repo_id="hunyuanvideo-community/HunyuanVideo-I2V",
        native_size=(1280, 720),
        multiple=16,
        frame_rule=(4, 1),
        fps=24.0,
        max_frames=129,
        steps=50,
        guidance=6.0,
        licence="Tencent Hunyuan Community License",
        commercial="yes except EU/UK/South Korea; >100M MAU needs a licence",
        vram_gb={"full": 60.0},
        notes="13B; embedded guidance (negative prompt unused); licence excludes EU/UK/South Korea",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``HunyuanVideoImageToVideoPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    ignored = [
        "motion_strength: HunyuanVideo-I2V has no motion-amount control (describe the motion in the prompt)",
        "consistency: HunyuanVideo-I2V has no fidelity-to-photo control (the first frame is the photo)",
    ]
    if job.negative_prompt:
        ignored.append(f"negative_prompt: {card.name} uses embedded guidance (true CFG off), so it has no effect")
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "true_cfg_scale": 1.0,
    }
    return kwargs, ignored
