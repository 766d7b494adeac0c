"""Hosted engines: commercial image-to-video models run on their provider (Replicate).

One declarative row per model (:mod:`.models`), one provider adapter
(:mod:`.replicate`, the official ``replicate`` client), one engine that maps a
:class:`~stillmotion.engines.base.RenderJob` onto a row against the model's live
schema (:mod:`.engine`). :func:`specs` gives the registry one
:class:`~stillmotion.engines.base.EngineSpec` per row. Importing this package
imports neither ``replicate`` nor ``httpx``'s network code paths until a job runs.
"""

from __future__ import annotations

import re
from functools import partial

from ..base import EngineSpec

__all__ = ["dynamic_spec", "specs"]


_REF = re.compile(r"^replicate:([a-z0-9][a-z0-9_.-]*)/([a-z0-9][a-z0-9_.-]*)$")


def _model(name: str):  # type: ignore[no-untyped-def]
    from .models import find_model, generic_model

    model = find_model(name)
    if model is None:
        match = _REF.match(name)
        assert match is not None
        model = generic_model(f"{match[1]}/{match[2]}")
    return model


def _factory(name: str):  # type: ignore[no-untyped-def]
    from .engine import HostedEngine

    return HostedEngine(_model(name))


def _check(name: str):  # type: ignore[no-untyped-def]
    from .engine import availability

    return availability(_model(name))


def _coach(name: str, request):  # type: ignore[no-untyped-def]
    """What this model will ignore or change in ``request`` (from its row: no network)."""
    from .models import MODELS, find_model

    m = find_model(name)
    if m is None:  # replicate:OWNER/NAME: known only from its live schema
        return []
    lines: list[tuple[str, str]] = []
    if request.negative_prompt and not m.negative:
        lines.append(
            (
                "advice",
                f"{m.name} has no negative prompt: '{request.negative_prompt}' is ignored; "
                "say what should stay still in the prompt instead",
            )
        )
    d = m.duration
    asked = request.duration
    if d.kind == "enum" and asked not in d.values:
        near = min(d.values, key=lambda v: (abs(v - asked), v))
        lines.append(
            (
                "advice",
                f"{m.name} makes {' or '.join(f'{v:g}' for v in d.values)} s clips: "
                f"--duration {asked:g} becomes {near:g}",
            )
        )
    elif d.kind == "range" and not d.values[0] <= asked <= d.values[1]:
        lines.append(
            ("advice", f"{m.name} makes {d.values[0]:g}–{d.values[1]:g} s clips: --duration {asked:g} is clamped")
        )
    elif d.kind == "fixed" and abs(d.values[0] - asked) > 0.5:
        lines.append(("advice", f"{m.name} makes {d.values[0]:g} s clips whatever --duration says"))
    from ...plan.prompt import parse_prompt

    if parse_prompt(request.prompt, request.negative_prompt).static:
        if m.camera_fixed:
            lines.append(("advice", f"'static camera' sets {m.name}'s camera lock ({m.camera_fixed})"))
        else:
            lines.append(("advice", f"{m.name} has no camera lock: 'static camera' is only a request in the prompt"))
    if request.last_image is not None and not m.end:
        lines.append(
            (
                "warning",
                f"{m.name} takes no end frame: --last-image is an error; models that take one: "
                + ", ".join(x.name for x in MODELS if x.end),
            )
        )
    if request.generate_audio and not (m.generate_audio or m.makes_audio):
        lines.append(("advice", f"{m.name} makes no sound: --generate-audio is ignored (stillmotion sound adds some)"))
    if not m.seed:
        lines.append(("advice", f"{m.name} takes no seed: the same request can give another clip"))
    return lines


def _options(request):  # type: ignore[no-untyped-def]
    from .engine import HostedOptions

    return HostedOptions.from_request(request)


def specs() -> list[EngineSpec]:
    """One spec per hosted model, in table order (nothing is imported from the network side)."""
    from .models import MODELS

    out = []
    for m in MODELS:
        if m.duration.kind == "frames":
            longest = m.duration.values[1] / m.duration.fps_range[0]
        else:
            longest = max(m.duration.values)
        sound = m.makes_audio or m.generate_audio is not None
        price = m.price
        cost = (f"${price.per_second:g}/s" if price.per_second else "") or (
            f"${price.by_resolution[0][1]:g}–{price.by_resolution[-1][1]:g}/s" if price.by_resolution else ""
        )
        cost = cost or (f"${price.per_run:g}/run" if price.per_run else "price unknown")
        out.append(
            EngineSpec(
                name=m.name,
                family="hosted",
                summary=f"{m.summary} — {m.replicate or m.fal}, ≈{cost}; the photo is uploaded",
                runs_on="hosted",
                takes_plan=False,  # the model reads the prompt itself
                camera_control=m.camera_fixed is not None,
                loop=False,
                end_frame=m.end is not None,
                max_duration_s=float(longest),
                needs=(
                    "a fal API key (FAL_KEY); the fal client ([hosted] extra)"
                    if m.fal_native
                    else "a Replicate API token (REPLICATE_API_TOKEN); the replicate client ([hosted] extra)"
                ),
                licence=m.licence,
                factory=partial(_factory, m.name),
                check=partial(_check, m.name),
                audio=sound,
                native_fps=None if m.duration.kind == "frames" else m.fps,  # frame-counted: any fps
                options=_options,
                aliases=(m.display.lower(),),
                coach=partial(_coach, m.name),
            )
        )
    return out


def dynamic_spec(name: str) -> EngineSpec | None:
    """The spec for ``replicate:OWNER/NAME`` (any Replicate model, mapped from its live schema when
    a job is prepared), or None when ``name`` is not of that form."""
    if not _REF.match(name.strip().lower()):
        return None
    key = name.strip().lower()
    return EngineSpec(
        name=key,
        family="hosted",
        summary=f"{key[len('replicate:') :]} on Replicate, mapped from its live schema; the photo is uploaded",
        runs_on="hosted",
        takes_plan=False,
        camera_control=False,
        loop=False,
        end_frame=True,  # known only from its schema: the engine says when it has none
        max_duration_s=30.0,
        needs="a Replicate API token (REPLICATE_API_TOKEN); the replicate client ([hosted] extra)",
        licence="the model's own terms on Replicate (see its page)",
        factory=partial(_factory, key),
        check=partial(_check, key),
        options=_options,
    )
