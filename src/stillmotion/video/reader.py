"""Decode clips into uint8 RGB frames: one at a time (:func:`iter_frames`) or all (:func:`read_video`).

Frames come out as uint8 H×W×3 RGB, full range, converted from the
stream's YUV with the matrix and range the stream is tagged with (see
:func:`_to_rgb` for untagged streams); a whole clip is uint8 T×H×W×3.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TypeVar

import av
import numpy as np
from av.video.reformatter import Colorspace, VideoReformatter

from ..color import rgb_to_yuv420
from ..errors import GenerationError, InputError
from ._av import AVCOL_RANGE_JPEG, AVCOL_RANGE_MPEG, SWS_MATRIX, color_tags, open_video

__all__ = ["DecodedVideo", "iter_frames", "iter_frames_yuv420", "read_video"]

T = TypeVar("T")


@dataclass
class DecodedVideo:
    """A clip decoded into memory.

    Attributes:
        frames_thwc: uint8 T×H×W×3 RGB.
        fps: frames per second (the stream's average rate).
        metadata: container tags, including the muxer's own (``major_brand``, ``encoder``…).
        codec: decoder name, e.g. ``"h264"``.
        pix_fmt: stored pixel format, e.g. ``"yuv420p"``.
        color_primaries / color_trc / colorspace: stream colour tags as names
            (``"bt709"``, ``"unspecified"``…), or the raw int when unnamed.
        color_range: ``"tv"`` (limited), ``"pc"`` (full) or ``"unspecified"``.
    """

    frames_thwc: np.ndarray
    fps: float
    metadata: dict[str, str]
    codec: str
    pix_fmt: str
    color_primaries: str | int
    color_trc: str | int
    colorspace: str | int
    color_range: str | int = field(default="unspecified")

    @property
    def duration_s(self) -> float:
        """Frame count / fps, in seconds."""
        return len(self.frames_thwc) / self.fps if self.fps else 0.0


def _matrix(frame: av.VideoFrame) -> int:
    """The YUV matrix a frame is tagged with; untagged: BT.709 from 720 lines up, BT.601 below."""
    matrix = SWS_MATRIX.get(int(frame.colorspace))
    if matrix is None:
        matrix = Colorspace.ITU709 if frame.height >= 720 else Colorspace.ITU601
    return matrix


def _decode(
    path: str | os.PathLike[str], convert: Callable[[av.VideoFrame, VideoReformatter], T]
) -> Generator[T, None, None]:
    """``convert(frame, reformatter)`` of each frame of the first video stream of ``path``, in display order."""
    container, stream = open_video(path)
    stream.thread_type = "AUTO"
    reformatter = VideoReformatter()
    try:
        for frame in container.decode(stream):
            yield convert(frame, reformatter)
    except av.FFmpegError as err:
        raise GenerationError(f"decoding {path} failed: {err}") from err
    finally:
        container.close()


def _to_rgb(frame: av.VideoFrame, reformatter: VideoReformatter) -> np.ndarray:
    """Convert a decoded frame to uint8 H×W×3 RGB with the matrix and range it is tagged with.

    Untagged YUV follows FFmpeg's and browsers' convention: BT.709 from
    720 lines up, BT.601 below; ``yuvj*`` formats are full range.
    """
    matrix = _matrix(frame)
    color_range = int(frame.color_range)
    if color_range not in (AVCOL_RANGE_MPEG, AVCOL_RANGE_JPEG):
        color_range = AVCOL_RANGE_JPEG if frame.format.name.startswith("yuvj") else AVCOL_RANGE_MPEG
    rgb = reformatter.reformat(
        frame,
        format="rgb24",
        src_colorspace=matrix,
        dst_colorspace=matrix,
        src_color_range="JPEG" if color_range == AVCOL_RANGE_JPEG else "MPEG",
        dst_color_range="JPEG",
    )
    return rgb.to_ndarray()


def iter_frames(path: str | os.PathLike[str]) -> Generator[np.ndarray, None, None]:
    """Decode the first video stream of ``path`` frame by frame.

    Yields:
        uint8 H×W×3 RGB frames in display order; one frame in memory at a time.

    Raises:
        InputError: the file is missing, unreadable or has no video stream.
        GenerationError: the stream is corrupt midway.
    """
    return _decode(path, _to_rgb)


def _plane(frame: av.VideoFrame, i: int) -> np.ndarray:
    p = frame.planes[i]
    return np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width]


def iter_frames_yuv420(path: str | os.PathLike[str]) -> Generator[tuple[np.ndarray, np.ndarray], None, None]:
    """Decode the first video stream of ``path`` frame by frame as BT.709 limited-range 4:2:0 planes.

    A yuv420p stream tagged (or, untagged, taken as) BT.709 limited range —
    what :class:`~stillmotion.video.VideoWriter` writes — comes out as its own
    samples, untouched: re-encoding them loses nothing to colour conversion.
    Any other stream goes through RGB (:func:`iter_frames`' conversion) and
    :func:`stillmotion.color.rgb_to_ycbcr709`, chroma averaged over 2×2 blocks.

    Yields:
        ``(y, cbcr)``: uint8 H×W luma (16–235) and uint8 ⌈H/2⌉×⌈W/2⌉×2 chroma
        (Cb, Cr; 16–240), in display order; one frame in memory at a time.

    Raises:
        InputError: the file is missing, unreadable or has no video stream.
        GenerationError: the stream is corrupt midway.
    """
    return _decode(path, _to_yuv420)


def _to_yuv420(frame: av.VideoFrame, reformatter: VideoReformatter) -> tuple[np.ndarray, np.ndarray]:
    """A decoded frame as BT.709 limited-range 4:2:0 planes: its own samples when it is such a frame."""
    if (
        frame.format.name == "yuv420p"
        and _matrix(frame) == Colorspace.ITU709
        and int(frame.color_range) != AVCOL_RANGE_JPEG
    ):
        return _plane(frame, 0).copy(), np.dstack([_plane(frame, 1), _plane(frame, 2)])
    return rgb_to_yuv420(_to_rgb(frame, reformatter))


def read_video(path: str | os.PathLike[str]) -> DecodedVideo:
    """Decode a whole clip into memory (use :func:`iter_frames` to stream instead).

    Returns:
        A :class:`DecodedVideo` with ``frames_thwc`` as uint8 T×H×W×3 RGB.

    Raises:
        InputError: the file is missing, unreadable, has no video stream or no frames.
        GenerationError: the stream is corrupt midway.
    """
    container, stream = open_video(path)
    try:
        cc = stream.codec_context
        info = {
            "fps": float(stream.average_rate or stream.guessed_rate or 0),
            "metadata": dict(container.metadata),
            "codec": cc.name,
            "pix_fmt": cc.pix_fmt or "",
            **color_tags(cc),
        }
    finally:
        container.close()
    frames = list(iter_frames(path))
    if not frames:
        raise InputError(f"video {path} has no frames; give a non-empty clip")
    return DecodedVideo(frames_thwc=np.stack(frames), **info)
