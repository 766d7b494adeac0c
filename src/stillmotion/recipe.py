"""The recipe: everything needed to reproduce a clip, carried with every output.

A recipe is a JSON-ready ``dict``. :func:`build` makes it when a clip is
rendered; it travels twice with the clip: in the container's ``comment``
tag (``title`` = the prompt), see :func:`embed`, and in a sidecar file
next to it, see :func:`sidecar_path`. :func:`read` gets it back from
either. Every finishing step (``stillmotion.post``) reads the input's
recipe, appends itself to ``recipe["finish"]`` and writes both again.

Keys made by :func:`build` (units in the names)::

    stillmotion, engine_version   package version that rendered it
    created                       UTC time, ISO 8601, whole seconds
    engine, prompt, negative_prompt, seed
    request                       the AnimateRequest as JSON, with the seed used
    source                        {"path": the photo as given, "size": [w, h] px}
    output                        {"width", "height" px, "fps", "frames", "duration_s",
                                   "codec": "h264", "pix_fmt": "yuv420p", "color": "bt709",
                                   "crf", "preset"}
    plan                          the motion plan (MotionPlan.to_dict()), or None
    analysis                      the photo check summary, or None
    shot                          what the engine reports about the shot
    timings_s                     stage → seconds (3 decimals)
    warnings                      notices for the user, as text

Added later: ``finish`` (a list of finishing steps, each ``{"step": …}``),
``evaluation`` (the clip's judged quality; its schema belongs to
:mod:`stillmotion.evaluate`, passed through here untouched) and, for a merge,
``merged`` (the parts' recipes).

Recipes hold the paths of the machine that made them; :func:`public` gives
the copy to show or hand out (file names only).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .video import DEFAULT_CRF, DEFAULT_PRESET, probe

if TYPE_CHECKING:
    from .image import Still
    from .plan.prompt import MotionPlan
    from .request import AnimateRequest

__all__ = ["TAG_KEYS", "build", "embed", "from_tags", "public", "read", "sidecar_path"]

TAG_KEYS = ("comment", "stillmotion_recipe")
"""Container tags that may hold the recipe as JSON, in the order they are read."""

_TITLE_CHARS = 250  # the title tag is the prompt, cut short for players' title bars
# Request fields that are files or folders of the machine that rendered the clip.
_REQUEST_PATHS = ("image", "last_image", "mask", "freeze", "output", "show_regions", "model_path", "audio")


def build(
    *,
    request: AnimateRequest,
    seed: int,
    plan: MotionPlan | None,
    shot_info: Mapping[str, Any],
    size: tuple[int, int],
    frame_count: int,
    timings: Mapping[str, float],
    warnings: Sequence[str],
    still: Still,
    fps: float | None = None,
    analysis: Mapping[str, Any] | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> dict[str, Any]:
    """The recipe of one rendered clip (keys in the module docstring).

    Args:
        request: the request as given.
        seed: the seed this clip used (a variation's own seed).
        plan: the motion plan the engine followed, or None for engines without one.
        shot_info: the engine's description of the shot (``Shot.info``).
        size: the output ``(width, height)`` in pixels, as rendered.
        frame_count: frames written.
        timings: stage name → seconds.
        warnings: notices for the user.
        still: the loaded photo (its path and size go to ``source``).
        fps: the output frame rate, when the engine changed it; None for ``request.fps``.
        analysis: the photo check summary, or None.
        crf, preset: the libx264 settings the clip was encoded with.

    Returns:
        A new JSON-ready dict.
    """
    rate = fps or request.fps
    req = request.model_dump(mode="json")
    req["seed"] = seed
    return {
        "stillmotion": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "engine": request.engine,
        "engine_version": __version__,
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": seed,
        "request": req,
        "source": {"path": str(still.path), "size": list(still.size)},
        "output": {
            "width": size[0],
            "height": size[1],
            "fps": rate,
            "frames": frame_count,
            "duration_s": round(frame_count / rate, 4),
            "codec": "h264",
            "pix_fmt": "yuv420p",
            "color": "bt709",
            "crf": crf,
            "preset": preset,
        },
        "plan": plan.to_dict() if plan is not None else None,
        "analysis": analysis,
        "shot": shot_info,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": list(warnings),
    }


def embed(recipe: Mapping[str, Any]) -> dict[str, str]:
    """The container tags that carry ``recipe``: ``title`` (the prompt, ≤ 250 characters)
    and ``comment`` (the recipe as JSON, non-ASCII kept). Pass them as ``metadata`` to
    :class:`stillmotion.video.VideoWriter` (or its ``close``)."""
    return {
        "title": str(recipe.get("prompt", ""))[:_TITLE_CHARS],
        "comment": json.dumps(recipe, ensure_ascii=False),
    }


def from_tags(metadata: Mapping[str, str] | None) -> dict[str, Any]:
    """The recipe in a container's tags (``comment``, else ``stillmotion_recipe``), or ``{}``.

    Keys are matched without case: Matroska/WebM hands tags back upper-cased
    (``COMMENT``), MP4 as written. A tag that is not a JSON object counts as none.
    """
    tags = {str(k).lower(): v for k, v in (metadata or {}).items()}
    for key in TAG_KEYS:
        try:
            recipe = json.loads(tags.get(key) or "")
        except (TypeError, ValueError):
            continue
        if isinstance(recipe, dict):
            return recipe
    return {}


def read(path: str | os.PathLike[str], *, metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The recipe of the output at ``path``: from its tags, else its sidecar, else ``{}``.

    Args:
        path: a clip (MP4, WebM…), an image output (GIF, WebP) or a PNG-frames folder.
        metadata: the clip's tags when already probed (skips probing ``path``).

    Returns:
        A new dict (``{}`` when ``path`` carries no recipe). Never raises for a
        file that is not a video or has no readable sidecar.
    """
    p = Path(path).expanduser()
    if metadata is None and p.is_file():
        try:
            metadata = probe(p)["metadata"]
        except Exception:  # not a video PyAV can read: fall back to the sidecar
            metadata = None
    recipe = from_tags(metadata)
    if recipe:
        return recipe
    for sidecar in (p / "recipe.json", sidecar_path(p)) if p.is_dir() else (sidecar_path(p),):
        try:
            loaded = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(loaded, dict):
            return loaded
    return {}


def sidecar_path(path: str | os.PathLike[str], *, source: str | os.PathLike[str] | None = None) -> Path:
    """Where the recipe of the output ``path`` goes: ``NAME.json`` next to it.

    ``clip.mp4`` → ``clip.json``; a PNG-frames folder ``frames`` → ``frames.json``.
    With ``source`` (the clip a step read), a name that would overwrite the
    source's own sidecar (``clip.mp4`` → ``clip.gif`` in one folder) becomes
    ``NAME.EXT.json`` (``clip.gif.json``) instead.
    """
    out = Path(path).expanduser()
    sidecar = out.with_suffix(".json") if out.suffix else out.with_name(out.name + ".json")
    if source is None:
        return sidecar
    src = Path(source).expanduser()
    try:
        clash = src.resolve() != out.resolve() and sidecar.resolve() == src.with_suffix(".json").resolve()
    except OSError:
        clash = False
    return out.with_name(out.name + ".json") if clash else sidecar


def public(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``recipe`` without the file-system paths of the machine that made it.

    ``source.path`` and the file fields of ``request`` (``image``, ``mask``,
    ``output``…) become file names, at any depth (a merge's parts too); any
    other text that is an absolute path becomes its name, and the folders of
    all those paths are cut out of the remaining text (a warning that names
    the photo keeps only its file name). The studio serves and embeds this copy.

    Returns:
        A new dict; ``recipe`` is not modified.
    """
    out = copy.deepcopy(dict(recipe))
    folders: set[str] = set()

    def name_of(value: str) -> str:
        p = PurePath(value)
        folder = str(p.parent).rstrip("/\\")
        if _is_absolute(value) and folder and str(p.parent) != value:
            folders.add(folder)
        return p.name

    def strip_paths(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and (
                    (key == "source" and k == "path") or (key == "request" and k in _REQUEST_PATHS)
                ):
                    node[k] = name_of(v)
                else:
                    node[k] = strip_paths(v, k)
        elif isinstance(node, list):
            return [strip_paths(v) for v in node]
        elif isinstance(node, str) and _is_absolute(node):
            return name_of(node)
        return node

    def strip_folders(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip_folders(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip_folders(v) for v in node]
        if isinstance(node, str):
            for folder in sorted(folders, key=len, reverse=True):  # longest first: nested folders
                node = node.replace(folder + os.sep, "")
        return node

    out = strip_paths(out)
    return strip_folders(out) if folders else out


def _is_absolute(text: str) -> bool:
    """Whether ``text`` as a whole is an absolute path (one line, rooted: ``/…``, ``~/…``, ``C:\\…``)."""
    if not text or "\n" in text or len(text) > 4096:
        return False
    return text.startswith("~/") or PurePath(text).is_absolute() or (len(text) > 2 and text[1:3] in (":\\", ":/"))
