"""Atomic output files: write next to the target, then rename onto it.

Every file stillmotion writes goes through here. The bytes go to a
temporary file ``.NAME.<random>.part<suffix>`` in the target's own folder
(same file system, so the rename is atomic), are flushed to disk, then
``os.replace`` moves the file onto the final path. A failed or interrupted
write deletes the temporary file and leaves an existing file at the final
path untouched; a reader never sees half a file.

Also here: the uint8 H×W×3 RGB frame guard shared by the writers.

This module is private to the package: its names are public so that
``video/``, ``post/`` and the server import them without reaching for
underscore names.
"""

from __future__ import annotations

import errno
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "check_png_name",
    "check_rgb_frame",
    "create_temp",
    "fsync_path",
    "output_path",
    "unlink_quietly",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_png_atomic",
]


def output_path(path: str | os.PathLike[str], what: str) -> Path:
    """Check that ``path`` can become an output file; return it as a Path (``~`` expanded).

    Args:
        path: the final file.
        what: what is written ("video", "JSON", "GIF"…), for the error message.

    Raises:
        InputError: the folder is missing, is not a folder, or ``path`` is a folder.
    """
    final = Path(path).expanduser()
    folder = final.parent
    if not folder.exists():
        raise InputError(f"{what} folder {folder} does not exist; create it first or choose another output path")
    if not folder.is_dir():
        raise InputError(f"{what} folder {folder} is not a folder; choose an output path inside a writable folder")
    if final.is_dir():
        raise InputError(f"{what} path {final} is a folder; give a file name such as {final / 'clip.mp4'}")
    return final


def check_png_name(path: str | os.PathLike[str], flag: str) -> Path:
    """Check that ``path`` names a PNG file (``.png``, any case); return it as a Path (``~`` expanded).

    Only the name is checked: :func:`output_path` checks the folder when the file is written.

    Args:
        path: the PNG to write, e.g. ``regions.png``.
        flag: the option that named it (``"--show-regions"``), for the error message.

    Raises:
        InputError: the name does not end in ``.png``.
    """
    final = Path(path).expanduser()
    if final.suffix.lower() != ".png":
        raise InputError(f"{flag} {str(path)!r}: that picture is written as a PNG; name it like regions.png")
    return final


def create_temp(final: Path, what: str) -> tuple[int, Path]:
    """Create an empty ``.NAME.<random>.part<suffix>`` next to ``final``; return ``(fd, path)``.

    The file is created with ``O_EXCL`` and mode 0o666 minus the umask, so the
    final file gets ordinary permissions after the rename. The caller owns the
    open file descriptor and must close it.

    Raises:
        InputError: the folder is not writable (permissions, read-only disk, full disk).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = final.with_name(f".{final.name}.{os.urandom(4).hex()}.part{final.suffix}")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
        except OSError as err:
            reason = err.strerror or errno.errorcode.get(err.errno or 0, str(err))
            raise InputError(
                f"cannot write {what} in folder {final.parent} ({reason}); "
                "choose a writable folder or fix its permissions"
            ) from err
    raise InputError(f"cannot create a temporary file in {final.parent}; remove stale .*.part files there")


def fsync_path(path: Path) -> None:
    """Flush ``path``'s bytes to disk so the rename never exposes a half-written file."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink_quietly(path: Path) -> None:
    """Delete ``path``; a file that is already gone is fine."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def write_bytes_atomic(path: str | os.PathLike[str], payload: bytes, what: str) -> Path:
    """Write ``payload`` to ``path`` atomically; return the final path.

    Args:
        path: the final file; its folder must exist.
        payload: the whole file content.
        what: what is written ("JSON", "PNG", "GIF"…), for error messages.

    Raises:
        InputError: the folder is missing or not writable.
    """
    final = output_path(path, what)
    fd, temp = create_temp(final, what)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, final)
    except BaseException:
        unlink_quietly(temp)
        raise
    return final


def write_json_atomic(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write ``data`` as UTF-8 JSON (indent 2, non-ASCII kept as is) atomically.

    The data is serialised first, so an unserialisable value touches no file.
    The bytes go to ``.NAME.<random>.part.json`` in the same folder, which then
    replaces ``path``.

    Args:
        path: the final file, e.g. ``clip.json``; its folder must exist.
        data: a JSON-serialisable mapping.

    Returns:
        The final path.

    Raises:
        InputError: the folder is missing or not writable.
        TypeError: a value is not JSON-serialisable (nothing is written).
    """
    payload = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return write_bytes_atomic(path, payload, "JSON")


def write_png_atomic(path: str | os.PathLike[str], image_hwc: np.ndarray) -> Path:
    """Write an RGB image as PNG atomically (Pillow, lossless).

    Args:
        path: the final file, e.g. ``poster.png``; its folder must exist.
        image_hwc: uint8 H×W×3 RGB.

    Returns:
        The final path.

    Raises:
        InputError: the image is not uint8 H×W×3, or the folder is missing or not writable.
    """
    import numpy as np
    from PIL import Image

    check_rgb_frame(image_hwc, "image_hwc")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_hwc), mode="RGB").save(buffer, format="PNG")
    return write_bytes_atomic(path, buffer.getvalue(), "PNG")


def check_rgb_frame(frame: np.ndarray, name: str, shape: tuple[int, int, int] | None = None) -> None:
    """Check that ``frame`` is a uint8 H×W×3 RGB array (of exactly ``shape`` when given).

    Args:
        frame: the array to check.
        name: the argument's name, for the error message.
        shape: the required ``(height, width, 3)``, or None for any size.

    Raises:
        InputError: not a numpy array, not uint8, not H×W×3, or not ``shape``.
    """
    import numpy as np  # here, not at the top: the CLI's start-up never needs it

    if not isinstance(frame, np.ndarray):
        raise InputError(f"{name} must be a numpy uint8 H×W×3 RGB array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise InputError(
            f"{name} must have dtype uint8 (0–255 RGB), got {frame.dtype}; "
            "convert with np.clip(x, 0, 255).astype(np.uint8)"
        )
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise InputError(f"{name} must have layout H×W×3 (RGB), got shape {frame.shape}")
    if shape is not None and frame.shape != shape:
        raise InputError(
            f"{name} has shape {frame.shape} but the video is {shape[1]}×{shape[0]}; "
            f"resize every frame to H×W×3 = {shape}"
        )
