"""SANA-Video 2B (NVIDIA / MIT HAN Lab) through diffusers' ``SanaImageToVideoPipeline``.

A linear-attention DiT (block linear attention), the fastest open model at its
size. Settings are the released generation profile (diffusers' example,
``Efficient-Large-Model/SANA-Video_2B_480p_diffusers`` model card, the SANA
docs): 832×480, 81 frames at 16 fps (5 s), 50 steps, guidance 6.0. The VAE is
Wan 2.1's (8× spatial, 4× temporal): frame counts are 4n+1; the pipeline
refuses sides that are not multiples of 32.

**Size.** ``use_resolution_binning`` is turned off: the pipeline's bins would
generate at the nearest trained bucket and resize back, where stillmotion has
already snapped the asked size at the photo's aspect (and the default size is
the native 832×480).

**Motion.** SANA-Video reads the amount of motion from a ``motion score: N.``
suffix of the prompt (0..100; the examples use 30). ``--motion-strength`` sets
it: 0 → 0, 0.5 (the default) → 30, 1 → 100, and the recipe records the score.
With no negative prompt, the model card's own negative prompt is used.

**Licence**: NVIDIA Open Model License (commercial use allowed; the
LongLive sibling repo's card names it; for the 480p repo: unverified).

VRAM (GB) is an estimate: one report of ~22 GB at 480p × 81 frames with
everything on the GPU (a 2B transformer in bf16, the Gemma-2 2B text encoder,
Wan's VAE in float32); the offload figures are extrapolated from the sizes
(transformer ≈ 4.5 GB, text encoder ≈ 5 GB): a guide, not a promise.
"""

from __future__ import annotations

from .common import Generation, ModelCard, mapped_strength

__all__ = ["CARDS", "SANA_NEGATIVE_PROMPT", "call_kwargs", "motion_score"]

CARDS = [
    ModelCard(
        name="sana-video-i2v",
        family="sana_video",
        pipeline="SanaImageToVideoPipeline",
        repo_id="Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
        native_size=(832, 480),
        multiple=32,  # check_inputs: "height and width have to be divisible by 32"
        frame_rule=(4, 1),
        fps=16.0,
        max_frames=81,
        steps=50,
        guidance=6.0,
        licence="NVIDIA Open Model License",
        commercial="yes (licence unverified for this repo)",
        vram_gb={"full": 22.0, "model-offload": 12.0, "group-offload": 8.0, "sequential": 6.0},
        notes="2B linear-attention DiT, the fastest at its size; 480p at 16 fps; --motion-strength sets the motion score",
    ),
]

# The negative prompt of the model card and diffusers' example, used when the request gives none.
SANA_NEGATIVE_PROMPT = (
    "A chaotic sequence with misshapen, deformed limbs in heavy motion blur, sudden disappearance, jump cuts, "
    "jerky movements, rapid shot changes, frames out of sync, inconsistent character shapes, temporal artifacts, "
    "jitter, and ghosting effects, creating a disorienting visual experience."
)
_DEFAULT_SCORE = 30  # the examples' motion score, at --motion-strength 0.5


def motion_score(motion_strength: float) -> int:
    """SANA-Video's ``motion score`` for a 0..1 motion strength: 0 at 0, 30 at 0.5 (the examples'), 100 at 1."""
    s = min(max(float(motion_strength), 0.0), 1.0)
    if s <= 0.5:
        return round(mapped_strength(s / 0.5, 0, _DEFAULT_SCORE))
    return round(mapped_strength((s - 0.5) / 0.5, _DEFAULT_SCORE, 100))


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``SanaImageToVideoPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    negative = job.negative_or(SANA_NEGATIVE_PROMPT, "SANA-Video's own negative prompt")
    score = motion_score(job.motion_strength)
    prompt = f"{job.prompt.rstrip()} motion score: {score}.".lstrip()
    kwargs = {
        "image": job.image,
        "prompt": prompt,
        "negative_prompt": negative,
        "height": job.height,
        "width": job.width,
        "frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "use_resolution_binning": False,
    }
    note = f"motion score {score} appended to the prompt (--motion-strength {job.motion_strength:g})"
    job.note(note)
    ignored = ["consistency: SANA-Video has no fidelity-to-photo control (the first frame is the photo)"]
    return kwargs, ignored
