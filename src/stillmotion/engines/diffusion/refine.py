"""Draft, then refine: a video-to-video diffusion pass over a living draft.

``stillmotion animate photo.jpg -p "slow push-in" --refine ltx-video --refine-strength 0.5``:
the living engine renders the clip as a motion draft (measured camera moves,
parallax, element motion), then a diffusion model refines it, keeping the
draft's motion and adding its own detail and life.

The draft is rendered directly on the model's grid (size snapped to its
multiple, frames to its frame rule, at its fps: :meth:`DiffusionEngine.prepare`
makes that mapping and says every change in the notes), so nothing is
resampled between the stages. The refine pass is a :class:`DiffusionShot` of
the model's card loaded into its video-to-video pipeline (:data:`ROUTES`):
loading, memory modes, progress per step and cancellation are
:mod:`.common`'s.

Routes (diffusers 0.42.1):

* ``ltx-video``, ``ltx-video-distilled``: ``LTXConditionPipeline`` (it takes the
  same components as ``LTXImageToVideoPipeline``, so the ``ltx-video`` weights
  load into it). The draft is a video condition at frame 0 with condition
  strength ``1 − s`` (``s`` = ``--refine-strength``): its latents, noised to
  level ``s``, are denoised from there (SDEdit) on ``--steps`` timesteps from
  ``1000·s`` down (:func:`refine_timesteps`; the model's own schedules spend
  most steps above ``s``, where the draft is not touched). The draft's first
  frame (the photo, as framed) is a second condition at full strength, so
  frame 0 stays the photo. At ``s = 1`` the model's own schedule runs.
* Wan: not routed. ``WanVideoToVideoPipeline`` is a text-to-video pipeline: the
  Wan 2.1/2.2 image-to-video transformers here take image-conditioning channels
  it does not feed, and it sizes latents by ``2**len(temperal_downsample)`` (8),
  not the 16× of Wan 2.2-TI2V-5B's VAE (nor its ``expand_timesteps``).

``--refine-strength 0`` is the draft unchanged (no model is loaded): the honest
check that the draft's motion goes through. ``1`` ignores the draft's look
(text and first frame only). Checked on tiny random pipelines only: whether a
real model keeps the draft's motion at a given strength is unmeasured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ...errors import Canceled, InputError
from ..base import NO_HOOKS, YUV420, Engine, RenderHooks, RenderJob, Shot
from . import ltx
from .common import DiffusionEngine, DiffusionOptions, DiffusionShot, Generation, ModelCard

__all__ = ["ROUTES", "RefineEngine", "RefineOptions", "RefineShot", "call_kwargs", "check_refine", "refine_timesteps"]

ROUTES: dict[str, str] = {
    "ltx-video": "LTXConditionPipeline",
    "ltx-video-distilled": "LTXConditionPipeline",
}
"""Engines that can refine a draft → the diffusers video-to-video pipeline their weights load into."""

_IMAGE_COND_NOISE_SCALE = 0.025  # as ltx.py: the timestep-aware VAE's advice for 0.9.1+


def check_refine(engine: str, refine: str) -> None:
    """Refuse, in one line, a ``--refine`` the run cannot do (before any work).

    Raises:
        InputError: ``refine`` cannot refine (naming those that can), or the draft engine is not living.
    """
    can = ", ".join(ROUTES)
    if refine not in ROUTES:
        raise InputError(f"--refine {refine!r}: that engine cannot refine a draft; engines that can: {can}")
    if engine != "living":
        raise InputError(
            f"--refine drafts with the living engine: drop --engine {engine} "
            f"(or render with it alone, without --refine)"
        )


def refine_timesteps(strength: float, steps: int) -> list[float]:
    """The refine pass's schedule: ``steps`` timesteps from ``1000·strength`` down, evenly spaced.

    The draft's tokens carry noise level ``strength`` (condition strength ``1 − strength``), and
    LTXConditionPipeline denoises a token only at timesteps below that level: a full schedule
    would spend its steps above it (its default 8-step schedule never goes below 0.42), so every
    step here is one that refines.
    """
    return [1000.0 * strength * (steps - i) / steps for i in range(steps)]


def call_kwargs(card: ModelCard, job: Generation) -> tuple[dict, list[str]]:
    """``LTXConditionPipeline.__call__`` arguments that refine ``job.draft`` (see the module docstring)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    kwargs, _ = ltx.call_kwargs(card, job)  # prompts, size, frames, guidance, decode settings
    s = float(job.draft_strength)
    first = kwargs.pop("image")
    kwargs["conditions"] = [
        LTXVideoCondition(video=list(job.draft), frame_index=0, strength=1.0 - s),
        LTXVideoCondition(image=first, frame_index=0, strength=1.0),
    ]
    kwargs["image_cond_noise_scale"] = _IMAGE_COND_NOISE_SCALE
    if s < 1.0:
        kwargs["timesteps"] = refine_timesteps(s, job.steps)
        # The refine schedule replaces the distilled one (and ltx.py's note about it).
        job.notes[:] = [n for n in job.notes if "official distilled schedule" not in n]
    # The ``ignored`` LTX options (motion strength, consistency) are the draft's: not said here.
    return kwargs, []


@dataclass(frozen=True)
class RefineOptions:
    """What a draft-then-refine run needs besides the job.

    Attributes:
        engine: the refining engine's name (a key of :data:`ROUTES`).
        strength: ``--refine-strength``, 0..1.
        diffusion: the refine pass's diffusion options (steps, guidance, model path, memory …).
    """

    engine: str
    strength: float
    diffusion: DiffusionOptions

    @classmethod
    def from_request(cls, request: Any) -> RefineOptions:
        """The options of a validated request whose ``refine`` is set."""
        return cls(str(request.refine), float(request.refine_strength), DiffusionOptions.from_request(request))


class RefineEngine:
    """The draft engine (living), then the refine pass; ``job.options`` is :class:`RefineOptions`."""

    def __init__(self, draft: Engine, refine: str) -> None:
        from . import cards

        check_refine(draft.name, refine)
        card = next(c for c, _ in cards() if c.name == refine)
        import sys

        self.draft = draft
        self.refiner = DiffusionEngine(card, sys.modules[__name__], pipeline=ROUTES[refine])
        self.name = draft.name

    def prepare(self, job: RenderJob) -> RefineShot:
        """Map the job onto the model, then prepare the draft on the model's grid."""
        options = job.options
        if not isinstance(options, RefineOptions):
            raise TypeError(f"RenderJob.options for --refine must be RefineOptions, got {type(options).__name__}")
        refine = self.refiner.prepare(dataclasses.replace(job, options=options.diffusion))
        gen = refine.generation
        gen.draft_strength = options.strength
        draft_job = dataclasses.replace(
            job, size=(gen.width, gen.height), frame_count=gen.frames, fps=gen.fps, options=None
        )
        return RefineShot(self.draft.prepare(draft_job), refine, options.strength, self.draft.name)


class RefineShot:
    """The draft's frames, then the refine pass (``progress == "step"``: the draft's frames count
    as steps, then the model's denoising steps; cancellation works in both)."""

    progress: Literal["step"] = "step"

    def __init__(self, draft: Shot, refine: DiffusionShot, strength: float, draft_name: str = "living") -> None:
        self.draft = draft
        self.draft_name = draft_name
        self.refine = refine
        self.strength = strength
        self.size = refine.size
        self.frame_count = refine.frame_count
        self.fps = refine.fps
        gen = refine.generation
        self.warnings = [*draft.warnings, *(f"refine: {w}" for w in refine.warnings)]
        self.steps = 0 if strength <= 0.0 else gen.steps
        refine.info["strength"] = strength
        if 0.0 < strength < 1.0:
            refine.info["timesteps"] = [round(t, 3) for t in refine_timesteps(strength, gen.steps)]
        self.info: dict[str, Any] = {**draft.info, "refine": refine.info}
        if strength <= 0.0:
            self.warnings.append("refine strength 0: the clip is the draft unchanged (the model was not run)")

    def describe(self) -> str:
        """Both stages: the draft engine's words, then the refine pass."""
        info = self.refine.info
        if self.strength <= 0.0:
            refine = f"Refine: {info['engine']} at strength 0: none (the draft is the clip)"
        else:
            refine = (
                f"Refine: {self.refine.describe().removeprefix('Engine: ')}; strength {self.strength:g} "
                "(the draft noised to that level, then denoised; frame 0 stays the photo)"
            )
        (w, h), n = self.size, self.frame_count
        return (
            f"Draft: the {self.draft_name} engine, {w}×{h}, {n} frames at {self.fps:g} fps (the model's grid)\n"
            + self.draft.describe()
            + "\n"
            + refine
        )

    def frames_yuv420(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[YUV420]:
        """The draft's frames (strength 0: as they are), else the refined frames, as BT.709 4:2:0 planes."""
        from ...video import ycbcr709_to_rgb

        n = self.draft.frame_count
        total = n + self.steps
        planes: list[YUV420] = []
        for i, (y, c) in enumerate(self.draft.frames_yuv420(hooks)):
            if hooks.stopped():
                raise Canceled("canceled while rendering the draft: no clip was written")
            hooks.step(i + 1, total)
            planes.append((y, c))
        if self.strength <= 0.0:
            yield from planes
            return
        from PIL import Image

        gen = self.refine.generation
        gen.draft = [Image.fromarray(ycbcr709_to_rgb(y, c)) for y, c in planes]
        del planes
        inner = RenderHooks(
            on_step=lambda step, _steps: hooks.step(n + step, total),
            should_stop=hooks.should_stop,
            on_notice=hooks.on_notice,
        )
        try:
            yield from self.refine.frames_yuv420(inner)
        finally:
            gen.draft = None
        self.frame_count = self.refine.frame_count
        self.warnings.extend(f"refine: {w}" for w in self.refine.warnings if f"refine: {w}" not in self.warnings)
