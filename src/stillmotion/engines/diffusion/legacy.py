"""I2VGen-XL and PIA: older image-to-video models that diffusers keeps as **deprecated**.

diffusers moved both to ``pipelines/deprecated`` and removed their tests
("we will stop testing the pipelines and will not accept any changes"; the
project's generative notes §1.6): they still import and run, but nothing gets
fixed upstream. They are here for reproducing old work, not as defaults.

**I2VGen-XL** (``ali-vilab/i2vgen-xl``, ``I2VGenXLPipeline``): 1280×704, 16
frames, ``target_fps`` 16 (a micro-condition, and the rate the clip plays at),
50 steps, guidance 9.0. Any frame count up to the trained 16 (so at most 1 s);
sides multiples of 8 (the pipeline's check). Licence not verified: its
predecessor ``ali-vilab/MS-Image2Video`` is CC-BY-NC-ND-4.0 (non-commercial).
VRAM: no official figure; ~24 GB was reported with model offload in fp32 at
640×352 (ali-vilab/i2vgen-xl discussion #7): a guide, not a promise.

*transformers 5 fix*: the pipeline encodes the prompt with ``clip_skip=1``
(the penultimate CLIP layer, as I2VGen-XL was trained) and then calls
``text_encoder.text_model.final_layer_norm``; transformers 5 flattened
``CLIPTextModel`` (no ``.text_model``), so every call fails with
``AttributeError``. :func:`prepare_pipeline` gives the text encoder a plain
``text_model`` alias holding its own ``final_layer_norm`` (the same layer
transformers 4 reached), which restores the pipeline's behaviour; old
checkpoints' ``text_model.*`` weights load into transformers 5 unchanged.

*Seeds*: the pipeline samples the photo's VAE latents with
``latent_dist.sample()`` and no generator, i.e. from torch's global RNG, so a
seed did not reproduce a clip. :func:`prepare_pipeline` makes that one draw
from a private RNG stream with a fixed seed (``torch.random.fork_rng``: the
global RNG is left untouched); the job's seed still sets the video noise.

**PIA** (``PIAPipeline``): an SD1.5 UNet + the ``openmmlab/PIA-condition-adapter``
motion adapter; 512×512, 16 frames at 8 fps, 50 steps, guidance 7.5.
``--motion-strength`` picks the pipeline's ``motion_scale`` among its
"amount of motion" presets 0 (small), 1 (moderate), 2 (large): 0..⅓ → 0,
⅓..⅔ → 1, ⅔..1 → 2 (3–5 loop, 6–8 style transfer: not used). Weights are an
assembled folder (``--model-path``), SD1.5 base + adapter::

    from diffusers import EulerDiscreteScheduler, MotionAdapter, PIAPipeline

    adapter = MotionAdapter.from_pretrained("openmmlab/PIA-condition-adapter")
    pipe = PIAPipeline.from_pretrained("SG161222/Realistic_Vision_V6.0_B1_noVAE",  # any SD1.5 checkpoint
                                       motion_adapter=adapter)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)  # as the pipeline's example
    pipe.save_pretrained("pia-diffusers")

The card's ``repo_id`` is the adapter (``stillmotion download pia`` fetches
only that part). Licence of the adapter not found; the SD1.5 base's licence
applies too. VRAM: no published figure; 12 GB is an estimate for an SD1.5
UNet with motion modules at 512×512×16 frames.
"""

from __future__ import annotations

import types

from .common import Generation, ModelCard

__all__ = ["CARDS", "call_kwargs", "motion_scale", "prepare_pipeline", "weights_hint"]

# The registry already adds "— deprecated in diffusers" for ``deprecated=True``; the notes say what that means.
_DEPRECATED = "no fixes upstream"
_IMAGE_LATENT_SEED = 0  # I2VGen-XL's photo-latent draw (see _seed_image_latents); the job's seed sets the video noise


def _card(**overrides) -> ModelCard:
    """A deprecated card: what I2VGen-XL and PIA share, then the card's own fields."""
    shared = {
        "family": "legacy",
        "multiple": 8,
        "frame_rule": (1, 0),
        "max_frames": 16,
        "steps": 50,
        "deprecated": True,
    }
    return ModelCard(**{**shared, **overrides})


CARDS = [
    _card(
        name="i2vgen-xl",
        pipeline="I2VGenXLPipeline",
        repo_id="ali-vilab/i2vgen-xl",
        native_size=(1280, 704),
        fps=16.0,
        guidance=9.0,
        licence="not verified (predecessor CC-BY-NC-ND-4.0)",
        commercial="no (not verified)",
        vram_gb={"model-offload": 24.0},
        notes=_DEPRECATED,
    ),
    _card(
        name="pia",
        pipeline="PIAPipeline",
        repo_id="openmmlab/PIA-condition-adapter",
        native_size=(512, 512),
        fps=8.0,
        guidance=7.5,
        licence="not found",
        commercial="not verified",
        vram_gb={"full": 12.0},
        notes=_DEPRECATED + "; needs --model-path: an SD1.5 base + openmmlab/PIA-condition-adapter folder",
    ),
]


def motion_scale(motion_strength: float) -> int:
    """PIA's ``motion_scale`` preset (0 small, 1 moderate, 2 large motion) for a 0..1 motion strength."""
    s = min(max(float(motion_strength), 0.0), 1.0)
    return min(2, int(s * 3))


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """The deprecated pipeline's ``__call__`` arguments for ``job``, and the options it cannot use."""
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt or None,
        "height": job.height,
        "width": job.width,
        "num_frames": job.frames,
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
    }
    if card.pipeline == "I2VGenXLPipeline":
        kwargs["target_fps"] = round(job.fps)
        ignored = [
            "motion_strength: I2VGen-XL has no motion-amount control (describe the motion in the prompt)",
            "consistency: I2VGen-XL has no fidelity-to-photo control",
        ]
    else:
        kwargs["motion_scale"] = motion_scale(job.motion_strength)
        ignored = ["consistency: PIA has no fidelity-to-photo control (the first frame is the photo)"]
    return kwargs, ignored


def prepare_pipeline(pipe) -> None:
    """Repair the deprecated pipelines for this stack (transformers 5, reproducible seeds); see the module doc."""
    te = getattr(pipe, "text_encoder", None)
    if te is not None and not hasattr(te, "text_model") and hasattr(te, "final_layer_norm"):
        # A plain object (not an nn.Module), so it is not registered as a submodule: state_dict,
        # .to() and offload hooks see the encoder exactly as before; the layer itself is the encoder's own.
        object.__setattr__(te, "text_model", types.SimpleNamespace(final_layer_norm=te.final_layer_norm))
    if type(pipe).__name__ == "I2VGenXLPipeline" and not getattr(pipe, "_stillmotion_seeded", False):
        _seed_image_latents(pipe)


def _seed_image_latents(pipe) -> None:
    """Draw I2VGen-XL's image latents from a fixed, private RNG stream instead of torch's global one."""
    import torch

    original = pipe.prepare_image_latents

    def prepare_image_latents(image, device, *args, **kwargs):
        dev = torch.device(device)
        cuda = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):  # the caller's global RNG state is left as it was
            torch.manual_seed(_IMAGE_LATENT_SEED)
            return original(image, device, *args, **kwargs)

    pipe.prepare_image_latents = prepare_image_latents
    pipe._stillmotion_seeded = True


def weights_hint(card: ModelCard) -> str | None:
    """Added to the missing-weights error for PIA: the adapter alone is not a loadable pipeline."""
    if card.pipeline != "PIAPipeline":
        return None
    return (
        "PIA has no single diffusers repo: `stillmotion download pia` fetches only the motion adapter; "
        "assemble an SD1.5 base + openmmlab/PIA-condition-adapter folder "
        "(see stillmotion.engines.diffusion.legacy) "
        "and pass it with --model-path"
    )
