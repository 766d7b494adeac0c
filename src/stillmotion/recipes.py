"""Recipes as a personal library: reuse a clip's settings on a new photo, keep them by name.

A recipe source is a recipe JSON (a clip's sidecar, or a hand-written
``{"prompt": …, "duration": …}``), a clip whose recipe :func:`stillmotion.recipe.read`
finds (tags or sidecar), or the NAME of a recipe saved with :func:`save`.

:func:`load` reads one; :func:`settings` turns it into :class:`AnimateRequest`
fields for a new photo. Named recipes live in :func:`library_dir`, one
``NAME.json`` each (the :func:`stillmotion.recipe.public` copy: file names,
never this machine's folders), written atomically.

What a recipe does not carry over to a new photo: the photo itself, the
output paths, files of the old photo or machine (``mask``, ``freeze``,
``last_image``, ``audio``, ``reference``, ``motion_video``, ``model_path``) and
the seed (unless asked, ``same_seed``). Fields this version no longer has,
or whose value it no longer accepts, are dropped and named in one notice.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._atomic import write_json_atomic
from ._version import __version__
from .errors import InputError
from .recipe import public, read
from .request import PRESETS, AnimateRequest

__all__ = [
    "RecipeExists",
    "RecipeNotFound",
    "check_name",
    "delete",
    "library_dir",
    "load",
    "load_saved",
    "merge_options",
    "names",
    "save",
    "save_recipe",
    "settings",
]

CONFIG_ENV = "STILLMOTION_CONFIG_DIR"
"""Environment variable: the config folder to use instead of the platform's (recipes go in ``recipes/``)."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Never taken from a recipe: the new clip's own photo and outputs (silently), and files of
# the old photo or machine (named in the notice when the recipe set them).
_OWN = ("image", "output", "show_regions")
_FILES = ("mask", "freeze", "last_image", "audio", "reference", "motion_video", "model_path")


class RecipeNotFound(InputError):
    """No saved recipe has that name."""


class RecipeExists(InputError):
    """A saved recipe already has that name (and it is not to be replaced)."""


def library_dir() -> Path:
    """The folder of named recipes: ``$STILLMOTION_CONFIG_DIR/recipes``, else
    ``$XDG_CONFIG_HOME/stillmotion/recipes`` (``~/.config/stillmotion/recipes``;
    ``%APPDATA%\\stillmotion\\recipes`` on Windows). Not created here."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser() / "recipes"
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config").expanduser()
    return base / "stillmotion" / "recipes"


def check_name(name: str) -> str:
    """``name`` if it can name a saved recipe: 1-64 letters, digits, ``-_.``, starting with a letter or digit.

    Raises:
        InputError: any other name (a path, an empty or over-long name), naming it and the rule.
    """
    if not _NAME_RE.match(name):
        raise InputError(
            f"recipe name {name!r} is not valid: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return name


def _named(name: str) -> Path:
    return library_dir() / f"{check_name(name)}.json"


def load(source: str | os.PathLike[str], *, what: str = "--recipe") -> dict[str, Any]:
    """The recipe in ``source``: a ``.json`` file, a clip carrying one, or a saved NAME.

    A path that exists is read as a file; otherwise ``source`` is looked up
    as a saved name. ``what`` names the source in errors (the flag or argument).

    Returns:
        A new dict.

    Raises:
        InputError: no such file or saved recipe, a file that is not JSON, or a
            clip that carries no recipe (one line naming ``source``).
    """
    path = Path(source).expanduser()
    if path.exists():
        if path.suffix.lower() == ".json" and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as err:
                raise InputError(f"{what} {str(source)!r} is not readable JSON ({err})") from None
        else:
            data = read(path)
        if not isinstance(data, dict) or not data:
            raise InputError(f"{what} {str(source)!r} carries no recipe: give a clip stillmotion made, or its .json")
        return data
    name = str(source)
    if not _NAME_RE.match(name) or not (library_dir() / f"{name}.json").is_file():
        raise InputError(
            f"{what} {name!r}: no such file or saved recipe (see `stillmotion recipes list`, saved in {library_dir()})"
        )
    return load_saved(name)


def load_saved(name: str) -> dict[str, Any]:
    """The saved recipe NAME (only the library, never a file of the current folder).

    Raises:
        InputError: a bad NAME, no recipe of that name, or a file that is not a JSON object.
    """
    saved = _named(name)
    if not saved.is_file():
        raise RecipeNotFound(f"no saved recipe {name!r}: see `stillmotion recipes list`")
    try:
        data = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"saved recipe {name!r} ({saved}) is not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise InputError(f"saved recipe {name!r} ({saved}) is not a recipe")
    return data


def settings(recipe: Mapping[str, Any], *, same_seed: bool = False) -> tuple[dict[str, Any], str | None]:
    """The :class:`AnimateRequest` fields a recipe gives a new photo, and a notice of what was dropped.

    Args:
        recipe: a recipe (its ``request``), or a mapping of request fields itself.
        same_seed: keep the recipe's seed (the seed the clip used); else no seed is
            taken and the new clip draws its own.

    Returns:
        ``(fields, notice)``: the fields to pass on (without ``image``), and one
        line naming the fields dropped, or None when nothing the recipe set was
        dropped. Never raises for an old or foreign recipe.
    """
    request = recipe.get("request")
    given = dict(request) if isinstance(request, Mapping) else dict(recipe)
    if same_seed and given.get("seed") is None and isinstance(recipe.get("seed"), int):
        given["seed"] = recipe["seed"]
    known = AnimateRequest.model_fields
    fields: dict[str, Any] = {}
    unknown, invalid, files = [], [], []
    for key, value in given.items():
        if key in _OWN or (key == "seed" and not same_seed):
            continue
        if key not in known:
            unknown.append(key)
        elif key in _FILES:
            if value not in (None, [], ""):
                files.append(key)
        elif _valid(key, value):
            fields[key] = value
        else:
            invalid.append(key)
    parts = []
    if unknown:
        parts.append(f"{', '.join(sorted(unknown))} (no longer a setting)")
    if invalid:
        parts.append(f"{', '.join(sorted(invalid))} (value no longer accepted)")
    if files:
        parts.append(f"{', '.join(sorted(files))} (a file of the old clip: give it again)")
    if not parts:
        return fields, None
    made = recipe.get("stillmotion")
    version = f" (made by stillmotion {made}, this is {__version__})" if made and made != __version__ else ""
    return fields, f"recipe{version}: dropped {'; '.join(parts)}"


def _valid(key: str, value: Any) -> bool:
    """Whether this version accepts ``value`` for the request field ``key`` (checked alone)."""
    try:
        AnimateRequest(image=Path("photo.png"), **{key: value})
    except Exception:  # pydantic's ValidationError or our InputError: either way, not accepted
        return False
    return True


def merge_options(fields: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` from a recipe with ``given`` (the caller's own options) on top.

    A preset the caller gives fills aspect, duration and loop again (unless the
    caller gives them too), rather than the recipe's values.
    """
    merged = dict(fields)
    preset = given.get("preset")
    if preset is not None:
        for key in PRESETS.get(str(getattr(preset, "value", preset)), {}):
            merged.pop(key, None)
    merged.update(given)
    return merged


def save(name: str, source: str | os.PathLike[str]) -> Path:
    """Save the recipe in ``source`` (see :func:`load`) as NAME; replaces a recipe of that name.

    The saved copy is :func:`stillmotion.recipe.public` (file names, not this
    machine's folders).

    Returns:
        The file written, ``library_dir() / "NAME.json"``.

    Raises:
        InputError: a bad NAME (letters, digits, ``-_.``), or see :func:`load`.
    """
    check_name(name)
    return save_recipe(name, load(source, what="CLIP_OR_JSON"))


def save_recipe(name: str, recipe: Mapping[str, Any], *, replace: bool = True) -> Path:
    """Save ``recipe`` (a clip's recipe, as :func:`stillmotion.recipe.read` gives it) as NAME.

    The saved copy is :func:`stillmotion.recipe.public` (file names, not this
    machine's folders), written atomically; the library folder is created.

    Args:
        name: 1-64 letters, digits, ``-_.``, starting with a letter or digit.
        recipe: the recipe to keep; not modified.
        replace: replace a saved recipe of that name; else refuse it.

    Returns:
        The file written, ``library_dir() / "NAME.json"``.

    Raises:
        InputError: a bad NAME; :class:`RecipeExists` (``replace=False``) when a recipe of that name exists.
    """
    target = _named(name)
    if not replace and target.is_file():
        raise RecipeExists(f"a recipe named {name!r} exists: choose another name, or replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(target, public(recipe))


def names() -> list[dict[str, Any]]:
    """The saved recipes, by name: ``{"name", "prompt", "engine", "path"}`` each."""
    folder = library_dir()
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not _NAME_RE.match(path.stem):
            continue  # a temp file being written, or a stranger's file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        request = data.get("request") if isinstance(data.get("request"), dict) else data
        rows.append(
            {
                "name": path.stem,
                "prompt": str(data.get("prompt", request.get("prompt", ""))),
                "engine": str(data.get("engine", request.get("engine", ""))),
                "path": str(path),
            }
        )
    return rows


def delete(name: str) -> Path:
    """Delete the saved recipe NAME; returns the file removed.

    Raises:
        InputError: a bad NAME, or no recipe of that name.
    """
    target = _named(name)
    if not target.is_file():
        raise RecipeNotFound(f"no saved recipe {name!r}: see `stillmotion recipes list`")
    try:
        target.unlink()
    except OSError as err:
        raise InputError(f"could not delete {target}: {err.strerror}") from None
    return target
