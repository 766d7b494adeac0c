"""SkyReels-V2 (Skywork) image-to-video through diffusers' SkyReels-V2 pipelines.

Two engines, both Wan2.1-architecture 14B models at 544×960 (540P), 24 fps,
sides multiples of 16 and frame counts 4n+1 (the Wan VAE: 8× spatial, 4×
temporal; the project's generative notes §1.7):

* ``skyreels-v2-i2v``: ``SkyReelsV2ImageToVideoPipeline``, a film-style
  image-to-video model, 97 frames (4 s) in one pass, 50 steps, guidance 5.0.
* ``skyreels-v2-df``: ``SkyReelsV2DiffusionForcingImageToVideoPipeline``, the
  diffusion-forcing model: each latent frame has its own noise level, so a clip
  is made in windows, each continuing from the last frames of the one before.
  That is what makes long clips from one photo: up to 737 frames (≈30 s, the
  SkyReels-V2 README's longest example) here. The photo is the first frame;
  an end frame is taken too (the pipeline's first/last-frame mode, clips of
  at most 97 frames).

How the diffusion-forcing controls are set (``call_kwargs``; the values of the
SkyReels-V2 README and diffusers' ``skyreels_v2.md`` for 540P I2V):

* Clips of at most 97 frames are one window (``overlap_history=None``, the
  pipeline's short mode).
* Longer clips are windows of ``base_num_frames`` (97, the 540P model's
  training length, or a little less), each continuing from the last
  ``overlap_history`` frames (17 to 37, the README's recommended range) of the
  one before. diffusers 0.42's pipeline fails (an IndexError) when the last
  window is shorter than the others, so :func:`df_windows` picks the window and
  overlap that tile the clip exactly: the fewest windows, then the longest
  window, then the shortest overlap. A 10 s clip (241 frames) is 3 windows of 97
  overlapping by 25; 257 frames (the README's example) 3 windows of 97
  overlapping by 17; 737 frames (≈30 s) 9. The recipe's adjustments say which.
* The end frame (``last_image``) is passed for one-window clips only: in long
  clips diffusers 0.42's pipeline fails on it (a shape error), so it is
  reported as ignored there.
* ``addnoise_condition=20``: a little noise on the frames a window continues
  from (and on the photo's latent), against error build-up across windows (the
  recommended value; above ~50 hurts consistency).
* ``ar_step=0``: synchronous denoising (every frame of a window at the same
  noise level). Asynchronous mode (``ar_step=5``, ``causal_block_size=5``)
  follows instructions a little better but takes several times the steps;
  it is not exposed.
* ``fps=24``: the model's frame-rate embedding.

Progress: the pipeline calls back once per step *per window*, so a long clip
reports steps 1..N once for each window.

The DF checkpoints serve text- and image-to-video; diffusers' example sets the
scheduler's ``flow_shift`` to 5.0 for image to video (8.0 is for text to video),
and so does ``prepare_pipeline``.

Skywork publishes no VRAM figures: the estimates below are extrapolated from
Wan2.1-14B (same transformer size, ~2/3 of the 720P token count), GB per memory
mode; diffusion forcing holds one 97-frame window at a time, so long clips need
about as much (plus the longer VAE decode).

Licence: the "Skywork Community License", which allows commercial use under its
terms (read them before shipping).
"""

from __future__ import annotations

from .common import Generation, ModelCard, without_ftfy

__all__ = [
    "CARDS",
    "DF_ADDNOISE",
    "DF_BASE_FRAMES",
    "DF_OVERLAPS",
    "DF_PIPELINE",
    "call_kwargs",
    "df_windows",
    "prepare_pipeline",
]

DF_PIPELINE = "SkyReelsV2DiffusionForcingImageToVideoPipeline"


def _card(**overrides) -> ModelCard:
    """A SkyReels-V2 card: what both 540P cards share, then the card's own fields."""
    shared = {
        "family": "skyreels",
        "native_size": (960, 544),
        "multiple": 16,  # Wan VAE 8× spatial, transformer patch 2
        "frame_rule": (4, 1),
        "fps": 24.0,
        "steps": 50,
        "guidance": 5.0,
        "licence": "Skywork Community License",
        "commercial": "yes, under its terms",
        "vram_gb": {"full": 60.0, "model-offload": 45.0, "group-offload": 16.0, "sequential": 10.0},
    }
    return ModelCard(**{**shared, **overrides})


CARDS = [
    _card(
        name="skyreels-v2-i2v",
        pipeline="SkyReelsV2ImageToVideoPipeline",
        repo_id="Skywork/SkyReels-V2-I2V-14B-540P-Diffusers",
        max_frames=97,
        notes="film-style shots, 540p at 24 fps (VRAM not published: estimates)",
    ),
    _card(
        name="skyreels-v2-df",
        pipeline=DF_PIPELINE,
        repo_id="Skywork/SkyReels-V2-DF-14B-540P-Diffusers",
        max_frames=737,
        end_frame=True,
        notes=(
            "diffusion forcing: long clips from one photo (windows of ≤97 frames overlapping by 17–37), "
            "540p at 24 fps, end frame up to 97 frames (VRAM not published: estimates)"
        ),
    ),
]

# Diffusion-forcing controls for the 540P model (see the module docstring).
DF_BASE_FRAMES = 97
DF_OVERLAPS = range(17, 38, 4)  # 17 … 37 frames (4n+1: whole latent frames)
DF_ADDNOISE = 20
_DF_FLOW_SHIFT = 5.0  # image-to-video (8.0 is text-to-video)


def df_windows(frames: int) -> tuple[int, int | None, int]:
    """(base_num_frames, overlap_history, windows) for a ``frames``-long clip (4n+1 frames).

    Counts are in frames; the pipeline works on latent frames ((frames - 1) / 4 + 1) and
    needs every window full: ``latent = base + k · (base - overlap)`` for ``k`` further windows.

    >>> df_windows(241)
    (97, 25, 3)
    """
    if frames <= DF_BASE_FRAMES:
        return DF_BASE_FRAMES, None, 1
    latent = (frames - 1) // 4 + 1
    # (windows, -base, overlap) for every tiling; base - overlap = 1 always tiles, so there is one.
    windows, neg_base, overlap = min(
        (1 + (latent - base) // (base - overlap), -base, overlap)
        for overlap in ((f - 1) // 4 + 1 for f in DF_OVERLAPS)
        for base in range(overlap + 1, (DF_BASE_FRAMES - 1) // 4 + 2)
        if (latent - base) % (base - overlap) == 0
    )
    return 4 * (-neg_base - 1) + 1, 4 * (overlap - 1) + 1, windows


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """The SkyReels-V2 pipeline's ``__call__`` arguments for ``job``, and the options it cannot use."""
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
    if card.pipeline == DF_PIPELINE:
        base, overlap, windows = df_windows(job.frames)
        kwargs.update(
            base_num_frames=base,
            overlap_history=overlap,
            addnoise_condition=DF_ADDNOISE,
            ar_step=0,
            fps=round(job.fps),
        )
        if job.last_image is not None and windows == 1:
            kwargs["last_image"] = job.last_image
        elif job.last_image is not None:
            # diffusers 0.42 appends the end frame's one latent frame as if it were a window's overlap: a shape error.
            ignored.append(
                f"last_image: {card.name} takes an end frame only in clips of at most {DF_BASE_FRAMES} frames "
                "(one window)"
            )
        if windows > 1:
            note = (
                f"{job.frames} frames in {windows} diffusion-forcing windows of {base} frames, each continuing "
                f"from the last {overlap} of the one before (progress counts each window's steps)"
            )
            job.note(note)
    return kwargs, ignored


def prepare_pipeline(pipe) -> None:
    """Let the prompt cleaning (copied from Wan) run without ``ftfy``, instead of a NameError; give the
    diffusion-forcing pipeline the image-to-video flow shift (its checkpoints ship the text-to-video one)."""
    without_ftfy(pipe)
    if type(pipe).__name__ == DF_PIPELINE and pipe.scheduler.config.get("flow_shift") not in (None, _DF_FLOW_SHIFT):
        pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, flow_shift=_DF_FLOW_SHIFT)
