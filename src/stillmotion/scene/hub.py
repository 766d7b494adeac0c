"""The local Hugging Face cache: which learned scene checkpoints are there, and fetching them.

The learned layers of a Scene (depth, scene parsing) read their weights
from the Hugging Face hub cache and never download while a clip is made.
:func:`cached_snapshot` answers "is this repo in the cache?" offline, from
the files alone (no network call); :func:`resolve_model` turns an option
(a name, a folder, ``"none"`` or unset) into the checkpoint to use, picking
a cached default when unset; :func:`download` is the one place that
fetches, for ``stillmotion download depth|scene-parser``.

The cache folder is ``$HF_HUB_CACHE`` when set (read at each call, so a
test can point it at a temporary folder), else huggingface_hub's own
default (``~/.cache/huggingface/hub``). A snapshot there is laid out as
``models--ORG--NAME/snapshots/REVISION/`` with ``refs/main`` naming the
revision.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from ..errors import EngineUnavailable, InputError

__all__ = ["OFF", "cached_snapshot", "download", "hub_cache_dir", "resolve_device", "resolve_model"]

OFF = "none"
"""The option value that turns a learned layer off (the classical method is used)."""

_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def hub_cache_dir() -> str | None:
    """The hub cache folder: ``$HF_HUB_CACHE``, else huggingface_hub's default; None without huggingface_hub."""
    env = os.environ.get("HF_HUB_CACHE")
    if env:
        return env
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    return str(constants.HF_HUB_CACHE)


def _maybe_cached(repo_id: str) -> bool:
    """Whether a cache folder for ``repo_id`` may exist, judged without importing huggingface_hub.

    huggingface_hub (and httpx, tqdm… with it: about 0.1 s) is imported only when
    ``models--ORG--NAME`` exists in one of the folders its documented settings can
    point the cache at (``HF_HUB_CACHE``, ``HUGGINGFACE_HUB_CACHE``, ``HF_HOME/hub``,
    ``XDG_CACHE_HOME/huggingface/hub``, ``~/.cache/huggingface/hub``), so the usual
    case, no model cached, costs a few ``stat`` calls (issue 19: start-up).
    """
    env = os.environ
    home = env.get("HF_HOME") or os.path.join(
        env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    roots = [env.get("HF_HUB_CACHE"), env.get("HUGGINGFACE_HUB_CACHE"), os.path.join(home, "hub")]
    roots.append(os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "hub"))
    folder = "models--" + repo_id.replace("/", "--")
    return any(root and os.path.isdir(os.path.join(os.path.expanduser(root), folder)) for root in roots)


def cached_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot folder of a Hub model repo, looked up offline; None when it is not complete there.

    Complete means ``refs/main`` names a snapshot that holds ``config.json``
    and weights (``model.safetensors`` or ``pytorch_model.bin``).

    Args:
        repo_id: ``"org/name"``, e.g. ``"openmmlab/upernet-convnext-tiny"``.

    Returns:
        The snapshot folder (transformers can load it as a local folder), or
        None: not cached, incomplete, or huggingface_hub not installed.
    """
    if repo_id.count("/") != 1 or not _maybe_cached(repo_id):
        return None
    cache = hub_cache_dir()
    if cache is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache)
    if not isinstance(config, str):  # None (unknown) or the "known not to exist" sentinel
        return None
    folder = Path(config).parent
    if not any((folder / name).is_file() for name in _WEIGHTS):
        return None
    return folder


def resolve_model(option: str | None, default: str) -> tuple[str | None, bool]:
    """The checkpoint a learned layer uses, from its option.

    Args:
        option: the user's value: a Hub repo id or a folder (used as given),
            ``"none"`` (any case: the classical method), or None (unset).
        default: the Hub repo id used when ``option`` is unset and it is in
            the cache, with torch and transformers installed to run it.

    Returns:
        ``(name, automatic)``: the repo id or folder to load, or None for
        the classical method; ``automatic`` is True when the default was
        picked from the cache (the caller says so in a notice).
    """
    if option is not None:
        return (None, False) if option.strip().lower() == OFF else (option, False)
    runnable = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
    if runnable and cached_snapshot(default) is not None:
        return default, True
    return None, False


def download(repo_id: str) -> Path:
    """Fetch a model repo's config, processor and safetensors weights into the hub cache (needs internet).

    Args:
        repo_id: ``"org/name"``.

    Returns:
        The snapshot folder.

    Raises:
        EngineUnavailable: huggingface_hub is missing, or the download
            failed (no network, unknown repo, disk full); one line, with the
            cause.
    """
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise EngineUnavailable("downloading needs huggingface_hub: pip install 'stillmotion[depth]'") from None
    try:
        path = snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors"], cache_dir=hub_cache_dir())
    except Exception as err:  # network, auth, disk: one line, no traceback
        first = str(err).splitlines()[0][:200] if str(err) else ""
        raise EngineUnavailable(
            f"could not download {repo_id} ({type(err).__name__}: {first}); "
            "check the connection, or copy the Hugging Face cache from a machine that has it"
        ) from None
    return Path(path)


def resolve_device(torch: Any, device: str | None) -> str:
    """The torch device a learned layer runs on (``device`` as given, or CUDA when torch sees one, else CPU).

    Args:
        torch: the imported ``torch`` module (imported by the caller, lazily).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or None.

    Raises:
        InputError: ``device`` is not a torch device name.
        EngineUnavailable: the accelerator asked for is not available.
    """
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError) as err:
        raise InputError(f"device {device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:N'") from err
    if kind == "cuda" and not torch.cuda.is_available():
        raise EngineUnavailable(f"device {device!r} asked for, but torch sees no CUDA GPU; use device='cpu'")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise EngineUnavailable(f"device {device!r} asked for, but MPS is not available; use device='cpu'")
    return device
