"""LTX-2 (Lightricks): video with its own synchronised sound, through diffusers' ``LTX2ImageToVideoPipeline``.

One engine, ``ltx-2``: the 19B audio-video model of ``Lightricks/LTX-2``
(LTX-2.0, "dev" weights), an asymmetric dual-stream transformer (a 14B video
stream and a 5B audio stream joined by cross-attention) with a Gemma 3 12B
text encoder. The photo is frame 0; the pipeline denoises the video and
audio latents together and returns the frames and a waveform:

* video: 768×512 native, sides multiples of 32 (VAE 32× spatial), frame
  counts 8n+1 (VAE 8× temporal), played at 24 fps (``frame_rate``, which
  also sets the sound's length); at most 481 frames (20 s, the pipeline's
  ``max_seconds``; the model card's "up to 20 s" is unverified here);
* sound: the audio VAE decodes a mel spectrogram, the vocoder turns it into
  a stereo waveform at ``vocoder.config.output_sampling_rate`` Hz (24 kHz for
  LTX-2.0). :func:`audio_track` hands it to the shot
  (:attr:`~.common.DiffusionShot.audio`) and stillmotion muxes it under the
  clip as AAC, trimmed or padded to the clip's length, never faded (it is in
  sync with the picture).

Defaults (diffusers' LTX-2 examples and the reference "dev" settings):
40 steps, guidance 4.0, LTX-Video's negative prompt when none is given. The
installed pipeline's other defaults are LTX-2.3's; for LTX-2.0 the
docstring asks for ``use_cross_timestep=False`` (the legacy cross-modality
timestep) and spatio-temporal guidance on block 29, which
:func:`call_kwargs` passes. Audio guidance, modality guidance and guidance
rescale keep the pipeline's defaults.

Licence: the "LTX-2 Community License" (free commercial use for entities
under a revenue threshold, $10M a year per third-party guides: unverified
here; read it). VRAM figures are estimates, in GB per memory mode, from the
model sizes (19B transformer ≈ 38 GB and Gemma 3 12B ≈ 24 GB in bf16;
offloading keeps one component, then one block group, on the GPU): a guide,
not a promise.

No end frame (the image-to-video pipeline takes one image), no motion or
fidelity controls; ``--fast``/``--cache`` and the memory modes are the
shared ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import Generation, ModelCard
from .ltx import negative_prompt

__all__ = ["CARDS", "audio_track", "call_kwargs"]

CARDS = [
    ModelCard(
        name="ltx-2",
        family="ltx2",
        pipeline="LTX2ImageToVideoPipeline",
        repo_id="Lightricks/LTX-2",
        native_size=(768, 512),
        multiple=32,
        frame_rule=(8, 1),
        fps=24.0,
        max_frames=481,
        steps=40,
        guidance=4.0,
        licence="LTX-2 Community License",
        commercial="conditional: free under a revenue threshold (unverified), read the licence",
        vram_gb={"full": 70.0, "model-offload": 42.0, "group-offload": 16.0, "sequential": 10.0},
        audio=True,
        notes="19B audio-video: makes its own synchronised sound (AAC in the MP4)",
    ),
]

# LTX-2.0 (the installed pipeline's defaults are LTX-2.3's): legacy cross timestep, STG on block 29.
_STG_BLOCKS = [29]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """The LTX-2 pipeline's ``__call__`` arguments for ``job``, and the options it cannot use."""
    ignored = [
        "motion_strength: LTX-2 has no motion-amount control (describe the motion in the prompt)",
        "consistency: LTX-2 has no fidelity-to-photo control (the first frame is the photo)",
    ]
    negative = negative_prompt(card, job, ignored)
    kwargs = {
        "image": job.image,
        "prompt": job.prompt,
        "negative_prompt": negative,
        "width": job.width,
        "height": job.height,
        "num_frames": job.frames,
        "frame_rate": float(job.fps),
        "num_inference_steps": job.steps,
        "guidance_scale": job.guidance,
        "use_cross_timestep": False,
        "spatio_temporal_guidance_blocks": list(_STG_BLOCKS),
    }
    return kwargs, ignored


def audio_track(pipe: Any, output: Any) -> tuple[np.ndarray, int] | None:
    """The sound the pipeline made with the frames: (float32 C×N samples in [-1, 1], rate in Hz), or None.

    ``output.audio`` is the vocoder's waveform, batch × channels × samples; the rate is the
    vocoder's ``output_sampling_rate``.
    """
    audio = getattr(output, "audio", None)
    vocoder = getattr(pipe, "vocoder", None)
    if audio is None or vocoder is None:
        return None
    wave = audio[0]
    if hasattr(wave, "detach"):
        wave = wave.detach().float().cpu().numpy()
    samples = np.asarray(wave, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None, :]
    return np.clip(samples, -1.0, 1.0), int(vocoder.config.output_sampling_rate)
