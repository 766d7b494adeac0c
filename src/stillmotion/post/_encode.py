"""Video encoders of the finishing steps: H.264, H.265, VP9 or AV1 from uint8 RGB frames, atomically.

:func:`write_video` encodes a stream of uint8 H×W×3 RGB frames (H and W
even) into ``final``: H.264 through :class:`stillmotion.video.VideoWriter`,
the others (x265, VP9, AV1) with PyAV directly, all yuv420p converted and
tagged BT.709 limited range, frame ``i`` at ``i / fps``. Shared by
:mod:`~stillmotion.post.formats` (export) and :mod:`~stillmotion.post.audio`
(re-encoding a picture the target container cannot carry).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.reformatter import Colorspace, VideoReformatter
from av.video.stream import VideoStream

from .._atomic import create_temp, unlink_quietly
from ..errors import GenerationError, InputError
from ..video import VideoWriter

__all__ = ["CODECS", "fps_fraction", "video_codec", "write_video"]

CODECS = {
    "mp4": ("libx264",),
    "h265": ("libx265",),
    "webm": ("libvpx-vp9", "libsvtav1", "libaom-av1"),
}
"""Format → the encoders that can write it, preferred first."""


def fps_fraction(fps: float) -> Fraction:
    """``fps`` as the exact rate the muxers get: ``Fraction(fps).limit_denominator(1001)`` (29.97 → 2997/100)."""
    return Fraction(fps).limit_denominator(1001)


def video_codec(fmt: str) -> str:
    """The encoder this PyAV build uses for ``fmt`` (mp4, h265 or webm).

    Raises:
        InputError: no encoder for that format is built into PyAV here.
    """
    for name in CODECS[fmt]:
        if name in av.codecs_available:
            return name
    raise InputError(
        f"this PyAV build has no encoder for {fmt} ({' or '.join(CODECS[fmt])}); choose another format, e.g. mp4"
    )


def _encode_mp4(
    frames: Iterable[np.ndarray], temp: Path, w: int, h: int, fps: float, crf: int, tags: dict[str, str]
) -> int:
    """H.264 via VideoWriter into ``temp``'s final name; returns the frame count."""
    writer = VideoWriter(temp, w, h, fps, crf=crf)
    try:
        for frame in frames:
            writer.write(frame)
        writer.close(metadata=tags)
    except BaseException:
        writer.abort()
        raise
    return writer.frames_written


def _encode_generic(
    frames: Iterable[np.ndarray],
    path: Path,
    fmt: str,
    codec: str,
    w: int,
    h: int,
    fps: float,
    crf: int,
    tags: dict[str, str],
) -> int:
    """Encode RGB frames with ``codec`` (x265, VP9, AV1) into ``path`` (written in place; caller renames)."""
    rate = fps_fraction(fps)
    if fmt == "webm":
        container_format = "webm" if path.suffix.lower() == ".webm" else "matroska"
        options: dict[str, str] = {}
    else:
        container_format = "mp4" if path.suffix.lower() != ".mov" else "mov"
        options = {"movflags": "+faststart+use_metadata_tags"}
    if codec == "libx265":
        codec_options = {"crf": str(crf), "preset": "medium", "x265-params": "log-level=error"}
    elif codec == "libvpx-vp9":
        # b:v 0 = pure constant quality; "good" + cpu-used 4 + row-mt keeps it fast.
        codec_options = {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
    elif codec == "libsvtav1":
        codec_options = {"crf": str(crf), "preset": "8"}
    else:  # libaom-av1
        codec_options = {"crf": str(crf), "b": "0", "cpu-used": "6", "row-mt": "1"}
    try:
        container = av.open(str(path), mode="w", format=container_format, options=options)
    except av.FFmpegError as err:
        raise GenerationError(f"cannot open the {container_format} muxer for {path}: {err}") from err
    count = 0
    try:
        container.metadata.update(tags)
        stream = cast(VideoStream, container.add_stream(codec, rate=rate, options=codec_options))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.time_base = 1 / rate
        cc = stream.codec_context
        cc.time_base = 1 / rate
        cc.color_primaries = cc.color_trc = cc.colorspace = 1  # BT.709
        cc.color_range = 1  # limited ("tv")
        if codec == "libx265" and container_format in ("mp4", "mov"):
            cc.codec_tag = "hvc1"  # hev1 (the default) is refused by Safari/QuickTime
        cc.thread_count = 0
        cc.open()
        reformatter = VideoReformatter()
        for frame in frames:
            rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            yuv = reformatter.reformat(
                rgb,
                format="yuv420p",
                src_colorspace=Colorspace.ITU709,
                dst_colorspace=Colorspace.ITU709,
                src_color_range="JPEG",
                dst_color_range="MPEG",
            )
            yuv.pts = count
            yuv.time_base = 1 / rate
            for packet in stream.encode(yuv):
                container.mux(packet)
            count += 1
        if count == 0:
            raise GenerationError(f"the clip has no frames to write to {path}")
        for packet in stream.encode(None):
            container.mux(packet)
    except av.FFmpegError as err:
        raise GenerationError(f"encoding {fmt} ({codec}) failed: {err}") from err
    finally:
        try:
            container.close()
        except av.FFmpegError:
            pass
    return count


def write_video(
    frames: Iterable[np.ndarray],
    final: Path,
    fmt: str,
    codec: str,
    w: int,
    h: int,
    fps: float,
    crf: int,
    tags: dict[str, str],
) -> int:
    """Encode ``frames`` onto ``final`` atomically; return the frame count.

    Args:
        frames: uint8 h×w×3 RGB frames.
        final: the output file (``.mp4``/``.mov`` for mp4 and h265, ``.webm``/``.mkv`` for webm).
        fmt: ``"mp4"`` (H.264), ``"h265"`` or ``"webm"``.
        codec: the encoder, from :func:`video_codec` (ignored for mp4: always libx264).
        w, h: frame size in pixels, even.
        fps: frames per second.
        crf: the encoder's constant rate factor (lower = better).
        tags: container tags (e.g. :func:`stillmotion.recipe.embed`).

    Raises:
        InputError: bad size/fps or output folder.
        GenerationError: the encoder failed or there were no frames (nothing is left at ``final``).
    """
    if fmt == "mp4":
        # VideoWriter does its own temp file + rename (and the tag remux).
        return _encode_mp4(frames, final, w, h, fps, crf, tags)
    fd, temp = create_temp(final, "video")
    os.close(fd)
    try:
        count = _encode_generic(frames, temp, fmt, codec, w, h, fps, crf, tags)
        os.replace(temp, final)
    except BaseException:
        unlink_quietly(temp)
        raise
    return count
