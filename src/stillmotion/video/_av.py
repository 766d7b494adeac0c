"""PyAV plumbing shared by the writer, the reader and the probe.

FFmpeg's colour enums (libavutil/pixfmt.h: AVColorSpace, AVColorRange,
AVColorPrimaries, AVColorTransferCharacteristic) as ints and their names,
and :func:`open_video`, which opens a file's first video stream with a
one-line :class:`~stillmotion.errors.InputError` for anything unreadable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import av
from av.video.reformatter import Colorspace

from ..errors import InputError

__all__ = ["AVCOL_RANGE_JPEG", "AVCOL_RANGE_MPEG", "BT709", "SWS_MATRIX", "color_tags", "open_video"]

BT709 = 1
"""AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709."""
AVCOL_RANGE_MPEG = 1
"""Limited ("tv") range: Y in 16–235, CbCr in 16–240."""
AVCOL_RANGE_JPEG = 2
"""Full ("pc") range: 0–255."""

SWS_MATRIX = {
    1: Colorspace.ITU709,
    4: Colorspace.FCC,
    5: Colorspace.ITU601,
    6: Colorspace.SMPTE170M,
    7: Colorspace.SMPTE240M,
    9: Colorspace.BT2020,
    10: Colorspace.BT2020,
}
"""AVColorSpace → the matrix swscale converts with."""

_COLORSPACE_NAMES = {
    0: "rgb",
    1: "bt709",
    2: "unspecified",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    12: "chroma-derived-nc",
    13: "chroma-derived-c",
    14: "ictcp",
}
_COLOR_RANGE_NAMES = {0: "unspecified", 1: "tv", 2: "pc"}
_COLOR_PRIMARIES_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}
_COLOR_TRC_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}


def color_tags(cc: Any) -> dict[str, str | int]:
    """A codec context's colour tags as FFmpeg's names (``"bt709"``), or the raw int when unnamed.

    Returns:
        ``{"color_primaries", "color_trc", "colorspace", "color_range"}``; the
        range is ``"tv"`` (limited), ``"pc"`` (full) or ``"unspecified"``.
    """
    tags: dict[str, str | int] = {}
    for key, names in (
        ("color_primaries", _COLOR_PRIMARIES_NAMES),
        ("color_trc", _COLOR_TRC_NAMES),
        ("colorspace", _COLORSPACE_NAMES),
        ("color_range", _COLOR_RANGE_NAMES),
    ):
        value = int(getattr(cc, key))
        tags[key] = names.get(value, value)
    return tags


def open_video(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Open ``path`` and return ``(container, first video stream)``; the caller closes the container.

    Raises:
        InputError: the file is missing, unreadable, not a media file, or has no video stream.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"video {p} does not exist or is not a file; check the path")
    try:
        container = av.open(str(p), mode="r")
    except (av.FFmpegError, OSError) as err:
        raise InputError(f"cannot read video {p} ({err}); give an MP4/MOV/WebM file") from err
    if not container.streams.video:
        container.close()
        raise InputError(f"{p} has no video stream; give a video file")
    return container, container.streams.video[0]
