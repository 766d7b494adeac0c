"""SkyReels-V2 (Skywork) image-to-video through diffusers' ``SkyReelsV2ImageToVideoPipeline``.

A Wan2.1-architecture 14B model fine-tuned for film-like shots at 544×960 (540P),
97 frames at 24 fps (the project's generative notes §1.7). Skywork publishes no
VRAM figures: the estimates below are extrapolated from Wan2.1-14B (same
transformer size, ~2/3 of the 720P token count), GB per memory mode.

Licence: the "Skywork Community License", which allows commercial use under its
terms (read them before shipping).
"""

from __future__ import annotations

from .common import Generation, ModelCard, without_ftfy

__all__ = ["CARDS", "call_kwargs", "prepare_pipeline"]

CARDS = [
    ModelCard(
        name="skyreels-v2-i2v",
        family="skyreels",
        pipeline="SkyReelsV2ImageToVideoPipeline",
        repo_id="Skywork/SkyReels-V2-I2V-14B-540P-Diffusers",
        native_size=(960, 544),
        multiple=16,  # Wan VAE 8× spatial, transformer patch 2
        frame_rule=(4, 1),
        fps=24.0,
        max_frames=97,
        steps=50,
        guidance=5.0,
        licence="Skywork Community License",
        commercial="yes, under its terms",
        vram_gb={"full": 60.0, "model-offload": 45.0, "group-offload": 16.0, "sequential": 10.0},
        end_frame=False,
        notes="film-style shots, 540p at 24 fps (VRAM not published: estimates)",
    ),
]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``SkyReelsV2ImageToVideoPipeline.__call__`` arguments for ``job``, and the options it cannot use."""
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt,
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
    }
    ignored = [
        "motion_strength: SkyReels-V2 has no motion-amount control (describe the motion in the prompt)",
        "consistency: SkyReels-V2 has no fidelity-to-photo control (the first frame is the photo)",
    ]
    return kwargs, ignored


def prepare_pipeline(pipe) -> None:
    """Let the prompt cleaning (copied from Wan) run without ``ftfy``, instead of a NameError."""
    without_ftfy(pipe)
