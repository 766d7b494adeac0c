"""Wan 2.1 / 2.2 (Alibaba, Apache-2.0) through diffusers' ``WanImageToVideoPipeline``.

Settings are the official ones (Wan2.1 ``generate.py``/``shared_config.py``,
Wan2.2 ``wan/configs/*``; see the project's generative notes §1.1). VRAM
figures are estimates, in GB, per memory mode: where the Wan teams publish a
peak (their ``comp_effic`` tables: single GPU, ``--offload_model True``) it is
used for ``model-offload``; the rest are extrapolated from model size and
diffusers' own offload figures (``wan.md``: a 14B model in ~13 GB with group
offload), so treat them as a guide, not a promise.

``wan2.2-ti2v-5b`` is stillmotion's default generative engine: 720p at 24 fps
on a 24 GB GPU. It runs the pipeline with ``expand_timesteps=True`` (as its
repo's ``model_index.json`` sets), which conditions on the first frame only:
it cannot take a last image.
"""

from __future__ import annotations

from .common import Generation, ModelCard, without_ftfy

__all__ = ["CARDS", "WAN_NEGATIVE_PROMPT", "call_kwargs", "prepare_pipeline"]


def _card(**overrides) -> ModelCard:
    """A Wan card: what every Wan image-to-video card shares, then the card's own fields."""
    shared = {
        "family": "wan",
        "pipeline": "WanImageToVideoPipeline",
        "multiple": 16,
        "frame_rule": (4, 1),
        "fps": 16.0,
        "max_frames": 81,
        "licence": "Apache-2.0",
        "commercial": "yes",
    }
    return ModelCard(**{**shared, **overrides})


CARDS = [
    _card(
        name="wan2.2-ti2v-5b",
        repo_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        native_size=(1280, 704),
        multiple=32,  # VAE 16× spatial, transformer patch 2
        fps=24.0,
        max_frames=121,
        steps=50,
        guidance=5.0,
        # Official: 22.8 GB peak on an RTX 4090 (offload + T5 on CPU); README: ≥24 GB.
        vram_gb={"full": 24.0, "model-offload": 16.0, "group-offload": 12.0, "sequential": 6.0},
        notes="the default generative engine (720p at 24 fps on a 24 GB GPU; no end frame)",
    ),
    _card(
        name="wan2.2-i2v-a14b",
        repo_id="Wan-AI/Wan2.2-I2V-A14B-Diffusers",
        native_size=(1280, 720),  # also trained at 832×480 (pass --size 832x480)
        steps=40,
        guidance=3.5,  # both experts (guidance_scale_2 = guidance)
        # Official 720P on one H100 with offload: 59.7 GB (480P: 41.0); README: "at least 80GB" without.
        vram_gb={"full": 80.0, "model-offload": 60.0, "group-offload": 20.0, "sequential": 12.0},
        notes="quality tier: two 14B experts (MoE), 720p or 480p at 16 fps",
    ),
    _card(
        name="wan2.1-i2v-14b-480p",
        repo_id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        native_size=(832, 480),
        steps=40,
        guidance=5.0,
        # No official 480P I2V peak; cf. Wan2.2 A14B 480P 41.0 GB with offload, diffusers ~13 GB group offload.
        vram_gb={"full": 48.0, "model-offload": 40.0, "group-offload": 14.0, "sequential": 8.0},
        notes="Wan 2.1 image-to-video, 480p",
    ),
    _card(
        name="wan2.1-i2v-14b-720p",
        repo_id="Wan-AI/Wan2.1-I2V-14B-720P-Diffusers",
        native_size=(1280, 720),
        steps=40,
        guidance=5.0,
        # Official 720P on one H100 with offload: 76.7 GB.
        vram_gb={"full": 80.0, "model-offload": 77.0, "group-offload": 20.0, "sequential": 12.0},
        notes="Wan 2.1 image-to-video, 720p",
    ),
    _card(
        name="wan2.1-flf2v-14b",
        repo_id="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        native_size=(1280, 720),
        steps=50,
        guidance=5.0,
        # Same 14B transformer as the 720P I2V model: same estimates.
        vram_gb={"full": 80.0, "model-offload": 77.0, "group-offload": 20.0, "sequential": 12.0},
        end_frame=True,
        notes="first and last frame to video (--last-image), 720p",
    ),
]

_A14B = {"wan2.2-i2v-a14b"}

# Wan's own default negative prompt (``sample_neg_prompt`` in Wan2.1/2.2 ``shared_config.py``),
# used when the request gives none, as the official scripts do.
WAN_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
    "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``WanImageToVideoPipeline.__call__`` arguments for ``job``, and the options Wan cannot use."""
    negative = job.negative_or(WAN_NEGATIVE_PROMPT, "Wan's official default negative prompt")
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": negative,
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
    }
    if card.name in _A14B:
        kwargs["guidance_scale_2"] = job.guidance  # the low-noise expert: same scale, as the official config
    if card.end_frame and job.last_image is not None:
        kwargs["last_image"] = job.last_image
    ignored = [
        "motion_strength: Wan has no motion-amount control (describe the motion in the prompt)",
        "consistency: Wan has no fidelity-to-photo control (the first frame is the photo)",
    ]
    return kwargs, ignored


def prepare_pipeline(pipe) -> None:
    """Let Wan's prompt cleaning run without ``ftfy`` (it only repairs mojibake), instead of a NameError."""
    without_ftfy(pipe)
