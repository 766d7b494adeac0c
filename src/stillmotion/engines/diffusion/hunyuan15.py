"""HunyuanVideo 1.5 (Tencent, 8.3B) through diffusers' ``HunyuanVideo15ImageToVideoPipeline``.

HunyuanVideo 1.5 brings HunyuanVideo's quality to consumer GPUs: an 8.3B DiT
with a 16×-spatial, 4×-temporal VAE, Qwen2.5-VL and byT5 text encoders and a
SigLIP image encoder. Settings are the pipeline's and the model card's: 720p
(1280×720), 121 frames at 24 fps (about 5 s), 50 steps. Frame counts are 4n+1;
sides are multiples of 16.

**What the pipeline decides itself.** Its ``__call__`` takes no size: it picks
the bucket nearest the photo's aspect at the checkpoint's trained resolution
(``transformer.config.target_size``) and crops the photo to it. stillmotion
crops the photo to the asked aspect first, so the bucket matches it; frames
that come back at another size are resized to the asked one (said in the
warnings). It has no ``guidance_scale`` argument either (the scale lives in
the checkpoint's ``guider``) and no ``callback_on_step_end``:
:func:`prepare_pipeline` gives the loaded pipeline both, by a subclass whose
``__call__`` sets the guider's scale for the call and reports each scheduler
step, so progress and cancellation work between steps as for every other
engine. Guidance 6.0 is assumed to be the 720p I2V checkpoint's (its guider
config was not seen: unverified); a CFG-distilled checkpoint loaded with
``--model-path`` wants ``--guidance-scale 1``.

Motion amount is not exposed (upstream's knob is the scheduler's flow shift,
part of the checkpoint); describe the motion in the prompt.

**Licence**: Tencent Hunyuan Community License, as for HunyuanVideo: **not
valid in the EU, the UK or South Korea**; services above 100M monthly active
users need a licence from Tencent; otherwise commercial use is allowed (the
model card's ``license_name: tencent-hunyuan-community``,
``extra_gated_eu_disallowed``).

VRAM (GB): upstream says it runs in **14 GB with offloading** (720p, 121
frames); that is taken for ``group-offload``. The rest are estimates from the
weights in bf16 (transformer ≈ 17 GB, Qwen2.5-VL 7B ≈ 15 GB): a guide, not a
promise.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs", "prepare_pipeline"]

CARDS = [
    ModelCard(
        name="hunyuanvideo-1.5-i2v",
        family="hunyuan15",
        pipeline="HunyuanVideo15ImageToVideoPipeline",
        repo_id="hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-720p_i2v",
        native_size=(1280, 720),
        multiple=16,
        frame_rule=(4, 1),
        fps=24.0,
        max_frames=121,
        steps=50,
        guidance=6.0,
        licence="Tencent Hunyuan Community License",
        commercial="yes except EU/UK/South Korea; >100M MAU needs a licence",
        vram_gb={"full": 45.0, "model-offload": 24.0, "group-offload": 14.0, "sequential": 12.0},
        notes="8.3B, 720p on consumer GPUs (≈14 GB with offload); licence excludes EU/UK/South Korea",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``HunyuanVideo15ImageToVideoPipeline.__call__`` arguments for ``job`` (through :func:`prepare_pipeline`'s
    ``guidance_scale``), and the options it cannot use."""
    ignored = [
        "motion_strength: HunyuanVideo 1.5 has no motion-amount control (describe the motion in the prompt)",
        "consistency: HunyuanVideo 1.5 has no fidelity-to-photo control (the first frame is the photo)",
    ]
    if (job.width, job.height) not in (card.native_size, card.native_size[::-1]):
        ignored.append(
            f"size: {card.name} generates at its own bucket for the photo's aspect (trained at "
            f"{card.native_size[0]}×{card.native_size[1]}); the frames are resized to {job.width}×{job.height}"
        )
    if job.negative_prompt and job.guidance <= 1.0:
        ignored.append("negative_prompt: no effect at guidance ≤ 1 (classifier-free guidance is off)")
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt or None,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
    }
    return kwargs, ignored


def prepare_pipeline(pipe: Any) -> None:
    """Give the loaded pipeline ``guidance_scale`` and ``callback_on_step_end`` (see the module notes)."""
    if not getattr(type(pipe), "_stillmotion_stepped", False):
        pipe.__class__ = _stepped(type(pipe))


@functools.cache
def _stepped(cls: type) -> type:
    """``cls`` whose ``__call__`` also takes ``guidance_scale`` (set on the guider for the call) and
    ``callback_on_step_end(pipe, i, t, {})``, called after each scheduler step (it may raise to stop)."""

    class Stepped(cls):  # type: ignore[misc,valid-type]
        _stillmotion_stepped = True

        def __call__(self, *args, guidance_scale: float | None = None, callback_on_step_end=None, **kwargs):
            scale = self.guider.guidance_scale
            count = itertools.count()
            scheduler_step = self.scheduler.step

            def step(*a, **kw):
                out = scheduler_step(*a, **kw)
                if callback_on_step_end is not None:
                    callback_on_step_end(self, next(count), kw.get("timestep", a[1] if len(a) > 1 else None), {})
                return out

            self.scheduler.step = step
            if guidance_scale is not None:
                self.guider.guidance_scale = float(guidance_scale)
            try:
                return super().__call__(*args, **kwargs)
            finally:
                del self.scheduler.step  # the class's method again
                self.guider.guidance_scale = scale

    Stepped.__name__ = Stepped.__qualname__ = cls.__name__
    return Stepped
