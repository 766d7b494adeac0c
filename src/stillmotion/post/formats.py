"""Export a clip to another format: MP4 (H.264 / H.265), WebM, animated WebP, GIF or PNG frames.

:func:`export_file` reads any clip PyAV can decode and writes ``out``
atomically (temporary file or folder, then ``os.replace``; nothing is left
behind on failure). The format comes from ``format`` or from the extension
of ``out``:

========  ===========  ==========================================================
format    extension    what is written
========  ===========  ==========================================================
mp4       .mp4 .m4v    H.264 (libx264) yuv420p, BT.709, +faststart; crf 18
h265      .mp4 .mov    H.265 (libx265), tagged ``hvc1`` (Safari/QuickTime); crf 23
webm      .webm        VP9 (libvpx-vp9; else AV1 via libsvtav1/libaom-av1); crf 32, b:v 0
webp      .webp        animated WebP (Pillow), loops forever; quality = 100 − 2·crf (crf 10 → 80, 0 → lossless)
gif       .gif         GIF (Pillow), loops forever, one global 256-colour palette for the clip
png       (no ext.)    a folder of ``frame_00001.png``… plus ``recipe.json``
========  ===========  ==========================================================

The recipe travels along: MP4/WebM carry it as JSON in the container's
``comment`` tag (``title`` = the prompt), and every format gets a sidecar
``NAME.json`` next to the output with ``recipe["finish"]`` extended by
``{"step": "export", "format", "codec", "crf"}``. When that sidecar would
overwrite the *source's* sidecar (``clip.mp4`` → ``clip.gif`` in the same
folder), it is named ``NAME.EXT.json`` instead (``clip.gif.json``).

With ``audio`` (mp4/h265/webm only) the sound is laid under the clip by
:func:`stillmotion.post.audio.mux_audio`: trimmed or looped to the clip's
length, faded in and out, AAC in MP4 and Opus in WebM, video stream copied.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .. import recipe as recipes
from .._atomic import output_path, unlink_quietly, write_bytes_atomic, write_json_atomic
from ..errors import GenerationError, InputError
from ._encode import CODECS, video_codec, write_video
from ._io import open_clip, source_recipe
from .audio import check_audio, mux_audio

__all__ = ["DEFAULT_CRF", "FORMATS", "export_file"]

FORMATS = ("mp4", "h265", "webm", "webp", "gif", "png")
"""The formats :func:`export_file` writes."""

DEFAULT_CRF = {"mp4": 18, "h265": 23, "webm": 32, "webp": 10}
"""Default quality per format (lower is better); gif and png take no crf."""

_CRF_RANGE = {"mp4": 51, "h265": 51, "webm": 63, "webp": 50}
_ALIASES = {"h264": "mp4", "avc": "mp4", "hevc": "h265", "x265": "h265", "vp9": "webm", "frames": "png"}
_EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm", ".webp": "webp", ".gif": "gif", "": "png"}
_ALLOWED_EXT = {
    "mp4": (".mp4", ".m4v", ".mov"),
    "h265": (".mp4", ".m4v", ".mov"),
    "webm": (".webm", ".mkv"),
    "webp": (".webp",),
    "gif": (".gif",),
    "png": ("",),
}
_DEFAULT_EXT = {"mp4": ".mp4", "h265": ".mp4", "webm": ".webm", "webp": ".webp", "gif": ".gif", "png": ""}
_SOUND_FORMATS = ("mp4", "h265", "webm")
_GIF_SAMPLE_FRAMES = 24
_GIF_SAMPLE_PIXELS = 1_500_000


def _resolve_format(out: Path, fmt: str | None) -> tuple[str, Path]:
    """Pick the format and the final output path (an extension is added when missing)."""
    suffix = out.suffix.lower()
    if fmt is None:
        if suffix not in _EXTENSIONS:
            raise InputError(
                f"cannot tell the format from '{out.name}'; use an extension (.mp4 .webm .webp .gif, "
                f"none for a PNG folder) or --format one of {', '.join(FORMATS)}"
            )
        return _EXTENSIONS[suffix], out
    key = str(fmt).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if key == "png":
        if suffix in (".png", ".mp4", ".webm", ".webp", ".gif", ".json"):
            raise InputError(f"png writes a folder of frames; give a folder path without extension, not '{out.name}'")
        return key, out
    if suffix == "":
        return key, out.with_name(out.name + _DEFAULT_EXT[key])
    if suffix not in _ALLOWED_EXT[key]:
        raise InputError(
            f"format {key} cannot be written to '{out.name}'; use the extension "
            f"{' or '.join(_ALLOWED_EXT[key])} or drop --format"
        )
    return key, out


def _check_crf(fmt: str, crf: Any) -> int | None:
    if crf is None:
        return DEFAULT_CRF.get(fmt)
    if fmt not in _CRF_RANGE:
        raise InputError(f"crf does not apply to {fmt}; leave it out (it sets quality for mp4, h265, webm, webp)")
    top = _CRF_RANGE[fmt]
    if isinstance(crf, bool) or not isinstance(crf, (int, float, np.number)) or not 0 <= crf <= top:
        raise InputError(f"crf for {fmt} must be a number in 0–{top} (lower = better quality), got {crf!r}")
    return int(round(float(crf)))


def _durations_ms(n: int, fps: float, step_ms: int) -> list[int]:
    """Per-frame durations in whole ``step_ms`` units whose running sum tracks ``i / fps``.

    GIF counts in 10 ms units, so 12 fps becomes 80, 90, 80, 80, 90… ms
    (total exact to 10 ms) instead of 80 ms every frame (4 % too fast).
    """
    edges = [int(round(i * 1000.0 / fps / step_ms)) * step_ms for i in range(n + 1)]
    return [max(step_ms, b - a) for a, b in zip(edges, edges[1:])]


def _even(frames: Iterable[np.ndarray], w: int, h: int) -> Iterator[np.ndarray]:
    """Crop frames to an even size (4:2:0 needs it); a no-op for clips made by stillmotion."""
    for frame in frames:
        yield frame[:h, :w] if frame.shape[:2] != (h, w) else frame


# --------------------------------------------------------------------------- image formats


def _save_atomic(final: Path, save: Callable[[BinaryIO], object]) -> None:
    """Run ``save(file)`` (a Pillow ``Image.save``) into memory, then write the bytes onto ``final`` atomically."""
    buffer = io.BytesIO()
    save(buffer)
    write_bytes_atomic(final, buffer.getvalue(), final.suffix.lstrip(".").upper() or "file")


def _write_webp(frames: list[np.ndarray], final: Path, fps: float, crf: int) -> None:
    from PIL import Image

    images = [Image.fromarray(np.ascontiguousarray(f), mode="RGB") for f in frames]
    options: dict[str, Any] = {"lossless": True} if crf == 0 else {"quality": max(1, 100 - 2 * crf)}
    _save_atomic(
        final,
        lambda f: images[0].save(
            f,
            format="WEBP",
            save_all=True,
            append_images=images[1:],
            loop=0,
            duration=_durations_ms(len(images), fps, 1),
            method=4,
            minimize_size=False,
            **options,
        ),
    )


def _gif_palette(frames: list[np.ndarray]):
    """One 256-colour palette for the whole clip: median cut over a montage of sampled frames."""
    from PIL import Image

    n = len(frames)
    picks = np.unique(np.linspace(0, n - 1, min(n, _GIF_SAMPLE_FRAMES)).round().astype(int))
    h, w = frames[0].shape[:2]
    stride = max(1, int(np.ceil(np.sqrt(len(picks) * h * w / _GIF_SAMPLE_PIXELS))))
    montage = np.concatenate([frames[i][::stride, ::stride] for i in picks], axis=0)
    return Image.fromarray(np.ascontiguousarray(montage), mode="RGB").quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )


def _write_gif(frames: list[np.ndarray], final: Path, fps: float) -> None:
    from PIL import Image

    palette = _gif_palette(frames)
    # No dithering: the same colour maps to the same index in every frame, so nothing crawls.
    images = [
        Image.fromarray(np.ascontiguousarray(f), mode="RGB").quantize(palette=palette, dither=Image.Dither.NONE)
        for f in frames
    ]
    _save_atomic(
        final,
        lambda f: images[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            loop=0,
            duration=_durations_ms(len(images), fps, 10),
            optimize=False,
            disposal=1,
            # Passing the palette makes Pillow write it once as the global table
            # (without it, every delta frame gets a local copy).
            palette=bytes(palette.getpalette() or []),
        ),
    )


def _write_png_folder(frames: Iterable[np.ndarray], final: Path, n_hint: int, recipe: dict[str, Any]) -> int:
    """Numbered PNG frames plus ``recipe.json`` in a temp folder, then renamed onto ``final``."""
    from PIL import Image

    folder = final.parent
    if not folder.is_dir():
        raise InputError(f"PNG folder {folder} does not exist; create it first or choose another output path")
    if final.exists() and not final.is_dir():
        raise InputError(f"'{final}' is a file; give a folder path (new or existing) for the PNG frames")
    temp = folder / f".{final.name}.{secrets.token_hex(4)}.part"
    try:
        temp.mkdir()
    except OSError as err:
        raise InputError(
            f"cannot write PNG frames in folder {folder} ({err.strerror}); choose a writable folder"
        ) from err
    digits = max(5, len(str(n_hint)))
    count = 0
    try:
        for frame in frames:
            count += 1
            Image.fromarray(np.ascontiguousarray(frame), mode="RGB").save(
                temp / f"frame_{count:0{digits}d}.png", format="PNG", compress_level=6
            )
        if count == 0:
            raise GenerationError(f"the clip has no frames to write to {final}")
        write_json_atomic(temp / "recipe.json", recipe)
        old = None
        if final.is_dir():  # replace an existing folder: move it aside, swap, delete it
            old = folder / f".{final.name}.{secrets.token_hex(4)}.old"
            os.replace(final, old)
        try:
            os.replace(temp, final)
        except BaseException:
            if old is not None:
                os.replace(old, final)
            raise
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return count


# --------------------------------------------------------------------------- export


def export_file(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str | None = None,
    crf: int | None = None,
    audio: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert the clip ``src`` to ``out`` in another format, atomically, keeping its recipe.

    Args:
        src: a video PyAV can read (a stillmotion MP4 carries its recipe).
        out: the output file; for ``png`` a folder (new, or replaced whole).
            Its extension picks the format when ``format`` is None; with a
            ``format`` and no extension, the format's extension is added.
        format: ``mp4``, ``h265``, ``webm``, ``webp``, ``gif`` or ``png``
            (aliases: h264, hevc, vp9, frames).
        crf: quality, lower is better: mp4/h265 0–51 (defaults 18/23), webm
            0–63 (32), webp 0–50 (10; quality = 100 − 2·crf, 0 = lossless).
            Not for gif/png.
        audio: a sound file (wav, mp3, m4a, ogg, flac…) to lay under the clip;
            mp4/h265/webm only.

    Returns:
        The final path (the folder for ``png``).

    Raises:
        InputError: unreadable clip, unknown format, bad crf, audio on a format
            without sound, unreadable audio, or an unwritable output (one line).
        GenerationError: encoding failed (nothing is left at ``out``).
    """
    src_path = Path(src).expanduser()
    fmt, final = _resolve_format(Path(out).expanduser(), format)
    quality = _check_crf(fmt, crf)
    if audio is not None and fmt not in _SOUND_FORMATS:
        raise InputError(f"{fmt} is one of the formats without sound; add audio only to mp4, h265 or webm")
    codec = video_codec(fmt) if fmt in CODECS else {"webp": "libwebp", "gif": "gif", "png": "png"}[fmt]
    if audio is not None:
        check_audio(audio)  # fail before encoding anything
    if fmt != "png":
        final = output_path(final, fmt.upper())
    try:
        if src_path.resolve() == final.resolve():
            raise InputError(f"output '{final}' is the input clip; choose another output path")
    except OSError:
        pass

    info, frames = open_clip(src_path)
    w, h = int(info["width"]), int(info["height"])
    fps = float(info["fps"])
    recipe = source_recipe(src_path, info)
    step = {"step": "export", "format": fmt, "codec": codec, "crf": quality}
    recipe["finish"] = list(recipe.get("finish") or []) + [step]
    sidecar = recipes.sidecar_path(final, source=src_path)

    if fmt in _SOUND_FORMATS:
        assert quality is not None  # every format with sound has a default crf
        if w < 2 or h < 2:
            raise InputError(f"the clip is {w}×{h}; {fmt} needs at least 2×2 pixels")
        we, he = w - w % 2, h - h % 2
        tags = recipes.embed(recipe)
        if audio is None:
            write_video(_even(frames, we, he), final, fmt, codec, we, he, fps, quality, tags)
        else:
            silent = final.with_name(f".{final.stem}.{secrets.token_hex(4)}.video{final.suffix}")
            try:
                write_video(_even(frames, we, he), silent, fmt, codec, we, he, fps, quality, tags)
                mux_audio(silent, audio, final, sidecar=sidecar)
            finally:
                unlink_quietly(silent)
            return final
    elif fmt == "png":
        _write_png_folder(frames, final, int(info.get("frame_count") or 0), recipe)
    else:
        clip = list(frames)
        if not clip:
            raise InputError(f"'{src_path}' has no frames")
        if fmt == "webp":
            assert quality is not None  # webp has a default crf
            _write_webp(clip, final, fps, quality)
        else:
            _write_gif(clip, final, fps)
    write_json_atomic(sidecar, recipe)
    return final
