"""The engine contract: what :func:`stillmotion.api.run` hands an engine and what it gets back.

Every engine family (``living``, ``diffusion``, and whatever comes next) meets
the pipeline at exactly this seam, in the style of httpx's
``BaseTransport.handle_request(request) -> Response``::

    spec, engine = get_engine("living")              # registry: EngineSpec + Engine
    job = RenderJob.from_request(request, scene, plan, size=(W, H), seed=seed,
                                 options=spec.job_options(request))  # the family's own options
    shot = engine.prepare(job)                        # Engine.prepare(RenderJob) -> Shot
    for y, cbcr in shot.frames_yuv420(RenderHooks(on_step=..., should_stop=...)):
        writer.write_yuv420(y, cbcr)                  # BT.709 4:2:0 planes, uint8

The contract:

- :class:`RenderJob` is everything an engine may read: the Scene (the photo
  and its lazily computed layers), the output size, frame count, fps and
  seed, the parsed :class:`~stillmotion.plan.prompt.MotionPlan` (only for
  engines whose ``spec.takes_plan``; None otherwise), the raw prompt text,
  the brush inputs, the decoded last image, and one typed options object per
  family. No engine reads the :class:`~stillmotion.request.AnimateRequest`.
- :meth:`Engine.prepare` maps the job onto the engine (snapping size, frame
  count and fps to what the model can make, and saying so in
  ``shot.warnings`` and ``shot.info``) and does nothing heavy that
  ``frames_yuv420`` could do lazily. It raises
  :class:`~stillmotion.errors.InputError` for a job the engine cannot take and
  :class:`~stillmotion.errors.EngineUnavailable` for a missing model.
- :class:`Shot` is the prepared clip: its final size, frame count and fps
  (engines may change them; the caller encodes what the Shot says), a
  JSON-ready ``info`` for the recipe, ``warnings`` for the user (engines may
  add to them while rendering), :meth:`Shot.describe` (what ``--explain``
  prints about the engine), and ``frames_yuv420(hooks)``, a generator of
  ``(y, cbcr)`` planes: ``y`` uint8 H×W, ``cbcr`` uint8 (H/2)×(W/2)×2.
- Progress and cancellation, one place each: the caller's frame loop counts
  frames (a frame is done when it is encoded, which only the caller sees)
  and polls ``should_stop`` between frames for every engine. A Shot whose
  ``progress`` is ``"step"`` makes its frames in one long call (a diffusion
  pipeline): it reports ``hooks.on_step(step, steps)`` and polls
  ``hooks.should_stop()`` between its steps itself, raising
  :class:`~stillmotion.errors.Canceled`. A ``"frame"`` Shot ignores the hooks.
- :class:`EngineSpec` (one per engine name, in :mod:`.registry`) says what the
  engine can do and, through :meth:`EngineSpec.availability`, whether it can
  run here: one :class:`Availability` verdict with the reason and the fix.

Adding an engine family: a folder under ``engines/`` with an object that has
``name`` and ``prepare(job)``, a Shot as above, its own options type (if any,
in its folder; ``EngineSpec.options`` builds it from a request), and one line
in the registry that adds its specs. The generic tests (tests/test_engines.py)
then cover it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ..arrows import Arrow
    from ..plan.prompt import MotionPlan
    from ..request import AnimateRequest
    from ..scene import Scene

__all__ = [
    "Availability",
    "AvailabilityState",
    "Engine",
    "EngineSpec",
    "NO_HOOKS",
    "RenderHooks",
    "RemoteShot",
    "SubmissionLog",
    "RenderJob",
    "RunsOn",
    "Shot",
    "SoundShot",
    "YUV420",
]

RunsOn = Literal["cpu", "gpu", "hosted"]
"""Where an engine does its work: this machine's CPU, a local GPU, or a hosted service."""
AvailabilityState = Literal["ready", "needs-package", "needs-gpu", "needs-weights", "needs-token", "offline"]
"""An engine's verdict here (see :class:`Availability`)."""
YUV420 = tuple[np.ndarray, np.ndarray]
"""One frame as BT.709 4:2:0 planes: ``(y uint8 H×W, cbcr uint8 (H/2)×(W/2)×2)``."""

# Verdicts under which get_engine still hands the engine out: without a GPU a diffusion
# engine runs on the CPU (slowly: tiny test models do), and weights missing from the
# cache may still come from --model-path, which only the run knows.
_RUNNABLE: frozenset[str] = frozenset({"ready", "needs-gpu", "needs-weights"})
_LABELS: dict[str, str] = {
    "ready": "ready",
    "needs-package": "needs a package",
    "needs-gpu": "needs a GPU",
    "needs-weights": "needs weights",
    "needs-token": "needs a token",
    "offline": "offline mode",
}


# ------------------------------------------------------------------ availability


@dataclass(frozen=True)
class Availability:
    """Whether an engine can run here: one verdict, its reason and its fix.

    Attributes:
        state: ``ready``; ``needs-package`` (a Python package is missing);
            ``needs-gpu`` (no CUDA GPU: it runs on the CPU, far too slowly for
            real models); ``needs-weights`` (no weights in the Hugging Face
            cache; ``--model-path DIR`` may still supply them); ``needs-token``
            (a hosted engine without its API token); ``offline``
            (``STILLMOTION_OFFLINE=1`` refuses engines that would go online).
        reason: one line: what is missing (for ``ready``: how it runs).
        fix: one line: what to do about it ("" when ready).

    >>> Availability("needs-gpu", "no CUDA GPU here", "use a machine with an NVIDIA GPU").runnable
    True
    """

    state: AvailabilityState
    reason: str
    fix: str = ""

    @property
    def runnable(self) -> bool:
        """True when :func:`~stillmotion.engines.registry.get_engine` hands the engine out
        (``ready``, ``needs-gpu``: slow on the CPU, ``needs-weights``: ``--model-path`` may
        supply them); False for a missing package or token."""
        return self.state in _RUNNABLE

    @property
    def label(self) -> str:
        """The state in words: "ready", "needs a GPU", …"""
        return _LABELS[self.state]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"state", "label", "runnable", "reason", "fix"}``."""
        return {
            "state": self.state,
            "label": self.label,
            "runnable": self.runnable,
            "reason": self.reason,
            "fix": self.fix,
        }


# ------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class EngineSpec:
    """What an engine is, can do and needs: one row of ``stillmotion engines``.

    Attributes:
        name: the engine's name (a contract: ``--engine NAME``; lower case).
        family: ``living`` (built in) or a model family (``wan``, ``ltx`` …).
        summary: one line for the table.
        runs_on: ``cpu``, ``gpu`` or ``hosted``.
        takes_plan: True: the engine renders the parsed MotionPlan (camera moves,
            elements, portrait); False: it reads the raw prompt text itself, and
            ``RenderJob.plan`` is None.
        camera_control: takes explicit camera moves.
        loop: can make seamless loops.
        end_frame: takes a last image.
        audio: makes its own sound track.
        max_duration_s: longest clip, seconds.
        native_size: (width, height) in pixels the model was trained at, or None
            (any size).
        size_multiple: output sides are snapped to multiples of this, pixels.
        native_fps: frames per second the engine makes (the clip plays at it), or
            None (any fps, as asked).
        needs: packages, weights or hardware, in words.
        licence: licence of the engine's weights ("n/a" when none).
        factory: builds the engine object (cheap: nothing loads until a Shot renders).
        check: returns the :class:`Availability` verdict (see :meth:`availability`).
        options: builds the family's typed options from a request (``RenderJob.options``;
            see :meth:`job_options`), or None for a family that has none.
        aliases: other names ``--engine`` accepts, lower case (a model's display name).
        coach: advice on a request for this engine's own controls, offline and cheap:
            ``(level, message)`` pairs, level ``advice`` or ``warning`` (what it will ignore or
            change); the prompt coach adds them as ``engine-control`` findings.
        refine: can refine a living draft (``--refine NAME``: a video-to-video pass that keeps
            the draft's motion; see :mod:`stillmotion.engines.diffusion.refine`).
    """

    name: str
    family: str
    summary: str
    runs_on: RunsOn
    takes_plan: bool
    camera_control: bool
    loop: bool
    end_frame: bool
    max_duration_s: float
    needs: str
    licence: str
    factory: Callable[[], Engine]
    check: Callable[[], Availability]
    audio: bool = False
    native_size: tuple[int, int] | None = None
    size_multiple: int = 2
    native_fps: float | None = None
    options: Callable[[AnimateRequest], Any] | None = None
    aliases: tuple[str, ...] = ()
    coach: Callable[[AnimateRequest], list[tuple[str, str]]] | None = None
    refine: bool = False

    def availability(self) -> Availability:
        """The verdict here, checked now (offline and cheap: package lookups, the
        Hugging Face cache on disk, whether CUDA is up). A check that fails is a
        ``needs-package`` verdict, never an exception: the engine table must list."""
        try:
            return self.check()
        except Exception as err:  # a broken optional install must not break the table
            return Availability(
                "needs-package",
                f"the check failed: {type(err).__name__}: {err}",
                f"reinstall the packages it needs: {self.needs}",
            )

    def job_options(self, request: AnimateRequest) -> Any:
        """The family's options for ``request`` (what :attr:`RenderJob.options` carries), or None."""
        return None if self.options is None else self.options(request)

    def available(self) -> tuple[bool, str]:
        """``(runnable, "ready" or the reason)``: the old two-value form of :meth:`availability`,
        kept for the callers not yet moved to it (``stillmotion engines``, ``GET /v1/engines``)."""
        verdict = self.availability()
        return verdict.runnable, ("ready" if verdict.state == "ready" else f"{verdict.reason}; {verdict.fix}")

    def capabilities(self) -> dict[str, Any]:
        """JSON-ready capabilities: camera_control, loop, end_frame, audio, max_duration_s,
        native_size, size_multiple, native_fps, refine."""
        return {
            "camera_control": self.camera_control,
            "loop": self.loop,
            "end_frame": self.end_frame,
            "audio": self.audio,
            "max_duration_s": round(self.max_duration_s, 4),
            "native_size": None if self.native_size is None else list(self.native_size),
            "size_multiple": self.size_multiple,
            "native_fps": self.native_fps,
            "refine": self.refine,
        }


# ------------------------------------------------------------------ the job


@dataclass(frozen=True, eq=False)
class RenderJob:
    """One clip to render: everything an engine may read (it never reads the request).

    Attributes:
        scene: the photo (uint8 H×W×3 RGB, ``scene.rgb``) and its lazily computed layers.
        size: output (width, height) in pixels, even numbers (engines may snap it).
        frame_count: frames asked for, ≥ 2 (duration × fps).
        fps: frames per second asked for, > 0.
        seed: the variation's seed, 0..2**32-1: the same job and seed give the same clip.
        plan: the parsed motion plan for engines whose ``spec.takes_plan``; None otherwise.
        prompt: the motion prompt as typed (engines that read text themselves).
        negative_prompt: the negative prompt as typed.
        mask: float32 H×W in [0, 1] at the photo's size, 1 = moves (``--mask``), or None.
        freeze: float32 H×W in [0, 1] at the photo's size, 1 = never moves (``--freeze``), or None.
        arrows: motion-brush arrows in photo pixels.
        last_image: uint8 H×W×3 RGB end frame (any size) for engines that take one, or None.
        options: the engine family's own typed options, built from the request by its
            spec's ``options`` (e.g. the diffusion engines' ``DiffusionOptions``), or None
            for the family's defaults. The contract does not know any family's options.
    """

    scene: Scene
    size: tuple[int, int]
    frame_count: int
    fps: float
    seed: int
    plan: MotionPlan | None = None
    prompt: str = ""
    negative_prompt: str = ""
    mask: np.ndarray | None = None
    freeze: np.ndarray | None = None
    arrows: tuple[Arrow, ...] = ()
    last_image: np.ndarray | None = None
    options: Any = None

    def __post_init__(self) -> None:
        w, h = self.size
        if w < 2 or h < 2 or self.frame_count < 2 or not self.fps > 0:
            raise ValueError(
                f"RenderJob needs size ≥ 2×2, frame_count ≥ 2 and fps > 0, got {self.size}, "
                f"{self.frame_count} frames, {self.fps} fps"
            )
        for name in ("mask", "freeze"):
            a = getattr(self, name)
            if a is not None and a.ndim != 2:
                raise ValueError(f"RenderJob.{name} must be H×W, got shape {a.shape}")
        if self.last_image is not None and (
            self.last_image.dtype != np.uint8 or self.last_image.ndim != 3 or self.last_image.shape[2] != 3
        ):
            raise ValueError(
                f"RenderJob.last_image must be uint8 H×W×3, got {self.last_image.dtype} {self.last_image.shape}"
            )

    @classmethod
    def from_request(
        cls,
        request: AnimateRequest,
        scene: Scene,
        plan: MotionPlan | None,
        *,
        size: tuple[int, int],
        seed: int,
        mask: np.ndarray | None = None,
        freeze: np.ndarray | None = None,
        arrows: tuple[Arrow, ...] | list[Arrow] = (),
        last_image: np.ndarray | None = None,
        options: Any = None,
    ) -> RenderJob:
        """The job for one variation of ``request``: frame count, fps and prompts come from
        the request; the Load stage's decoded inputs and the family's options are passed in.

        Args:
            request: the validated request.
            scene: the photo's Scene.
            plan: the motion plan, or None for an engine that does not take one.
            size: output (width, height) in pixels.
            seed: this variation's seed.
            mask, freeze: the decoded brush masks (see the attributes), or None.
            arrows: the parsed arrows.
            last_image: the decoded end frame, or None.
            options: the family's options (``spec.job_options(request)``), or None.
        """
        return cls(
            scene=scene,
            size=(int(size[0]), int(size[1])),
            frame_count=request.frame_count,
            fps=float(request.fps),
            seed=int(seed),
            plan=plan,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            mask=mask,
            freeze=freeze,
            arrows=tuple(arrows),
            last_image=last_image,
            options=options,
        )


# ------------------------------------------------------------------ hooks, shot, engine


class SubmissionLog(Protocol):
    """Jobs submitted elsewhere, by key (``"kling-v2.1:seed"``): what a restarted run resumes."""

    def get(self, key: str) -> str | None:
        """The id of the job submitted under ``key`` by an earlier attempt, or None."""
        ...

    def put(self, key: str, job_id: str) -> None:
        """Record that ``job_id`` was submitted under ``key`` (before waiting for it)."""
        ...


@dataclass(frozen=True)
class RenderHooks:
    """What a Shot may call while it renders; every hook is optional.

    Attributes:
        on_step: ``on_step(step, steps)`` after each step of a ``progress == "step"``
            Shot (1-based ``step`` of ``steps``; may restart per section).
        should_stop: polled between steps; True cancels (the Shot raises
            :class:`~stillmotion.errors.Canceled`).
        on_notice: ``on_notice(text)``: a line the user should see before the work goes
            on (the CLI prints it to stderr unless ``--quiet``).
        submissions: where a :class:`RemoteShot` records the job it submitted, so that a
            run restarted after a crash resumes that job instead of paying for another
            (the studio's queue keeps it in the job's row).

    Frame progress is not a hook: the caller's loop counts frames as it encodes
    them (see the module docstring).
    """

    on_step: Callable[[int, int], None] | None = None
    should_stop: Callable[[], bool] | None = None
    on_notice: Callable[[str], None] | None = None
    submissions: SubmissionLog | None = None

    def step(self, step: int, steps: int) -> None:
        """Report a step (no-op without ``on_step``)."""
        if self.on_step is not None:
            self.on_step(step, steps)

    def notice(self, text: str) -> None:
        """Tell the user something now, before the work goes on (a cost estimate before a hosted
        job is paid for, what is uploaded where); no-op without ``on_notice``."""
        if self.on_notice is not None:
            self.on_notice(text)

    def stopped(self) -> bool:
        """True when the caller asked to stop (False without ``should_stop``)."""
        return self.should_stop is not None and bool(self.should_stop())


NO_HOOKS = RenderHooks()
"""No hooks: the default for callers (tests, previews) that neither report nor cancel."""


@runtime_checkable
class Shot(Protocol):
    """A prepared clip (see the module docstring for the contract).

    Attributes:
        size: output (width, height) in pixels, as the engine makes it.
        frame_count: frames it yields (a step Shot may correct it after generating).
        fps: frames per second the clip plays at.
        info: JSON-ready facts for the recipe (``recipe["shot"]``).
        warnings: notices for the user; engines may add to them while rendering.
        progress: ``"frame"``: frames come one by one, the caller's loop reports
            them; ``"step"``: frames come at once after a long generation, the Shot
            reports ``hooks.on_step`` and polls ``hooks.should_stop`` itself.
    """

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def frame_count(self) -> int: ...

    @property
    def fps(self) -> float: ...

    @property
    def info(self) -> dict[str, Any]: ...

    @property
    def warnings(self) -> list[str]: ...

    @property
    def progress(self) -> Literal["frame", "step"]: ...

    def frames_yuv420(self, hooks: RenderHooks = NO_HOOKS) -> Iterator[YUV420]:
        """The frames as BT.709 4:2:0 planes: ``y`` uint8 H×W, ``cbcr`` uint8 (H/2)×(W/2)×2."""
        ...

    def describe(self) -> str:
        """What the engine will do, in words (the engine part of ``--explain``)."""
        ...


@runtime_checkable
class RemoteShot(Shot, Protocol):
    """A Shot whose clip is made elsewhere and arrives encoded (a hosted model's MP4).

    The caller does not re-encode it: :meth:`fetch` runs the job (reporting
    ``hooks.on_step`` and polling ``hooks.should_stop``, which cancels it where it
    runs), downloads the result and checks that it decodes; the caller then remuxes
    that file with the recipe (video and sound copied as they are, fast start).
    ``frames_yuv420`` still works (it fetches and decodes), for callers that want planes.
    """

    def fetch(self, hooks: RenderHooks = NO_HOOKS) -> Path:
        """Run the job and return the downloaded clip (an MP4 in a temporary folder the Shot
        owns until :meth:`cleanup`).

        Raises:
            Canceled: ``hooks.should_stop()`` returned True (canceled where it ran).
            GenerationError: the job failed there, or its output does not decode.
        """
        ...

    def cleanup(self) -> None:
        """Delete what :meth:`fetch` downloaded."""
        ...


@runtime_checkable
class SoundShot(Shot, Protocol):
    """A Shot whose model makes its own sound with the frames (LTX-2).

    Once its frames are generated, ``audio`` is ``(samples, rate)``: float32 C×N in
    [-1, 1], in sync with frame 0, and the rate in Hz; or None (no sound). The caller
    muxes it under the clip it encoded (:func:`stillmotion.post.audio.attach_audio`).
    """

    @property
    def audio(self) -> tuple[np.ndarray, int] | None: ...


@runtime_checkable
class Engine(Protocol):
    """An engine: a name and :meth:`prepare` (see the module docstring for the contract).

    The engine does not hold its :class:`EngineSpec` (the spec builds the engine
    through its ``factory``); :func:`~stillmotion.engines.registry.get_engine`
    returns both.
    """

    name: str

    def prepare(self, job: RenderJob) -> Shot:
        """Map ``job`` onto the engine and return the prepared :class:`Shot`.

        Raises:
            InputError: the job asks for something the engine cannot do.
            EngineUnavailable: the engine's model or packages are missing.
        """
        ...
