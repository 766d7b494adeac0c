"""Describe a clip without decoding it: size, rate, frame count, codec, colour tags, faststart.

``faststart`` comes from scanning the top-level MP4 boxes (``size:u32be
type:4cc``, a 64-bit size when ``size == 1``): True when ``moov`` (the
index) comes before ``mdat`` (the media), so playback starts before the
download ends.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

import av

from ._av import color_tags, open_video

__all__ = ["probe"]


def _moov_before_mdat(path: Path) -> bool:
    """Scan the top-level MP4 boxes: True when ``moov`` comes before ``mdat`` (web "fast start")."""
    size_on_disk = path.stat().st_size
    with open(path, "rb") as f:
        return _scan_boxes(f, size_on_disk)


def _scan_boxes(f: BinaryIO, end: int) -> bool:
    """Walk the top-level boxes of ``f`` up to byte ``end``: True at ``moov``, False at ``mdat`` or bad data."""
    position = 0
    while position + 8 <= end:
        f.seek(position)
        header = f.read(8)
        if len(header) < 8:
            return False
        size = int.from_bytes(header[:4], "big")
        kind = header[4:8]
        if kind == b"moov":
            return True
        if kind == b"mdat":
            return False
        if size == 1:  # 64-bit size follows the type
            large = f.read(8)
            if len(large) < 8:
                return False
            size = int.from_bytes(large, "big")
        elif size == 0:  # box runs to the end of the file
            return False
        if size < 8:
            return False
        position += size
    return False


def probe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Describe a clip without decoding its frames.

    Returns:
        A dict with ``width``, ``height`` (pixels), ``fps`` (float),
        ``frame_count`` (int, from the container or by counting packets),
        ``duration_s`` (seconds), ``codec``, ``pix_fmt``, ``metadata``
        (dict[str, str]), ``faststart`` (bool: the ``moov`` box precedes
        ``mdat``, so playback starts before the download ends) and the colour
        tags ``color_primaries``, ``color_trc``, ``colorspace``, ``color_range``.

    Raises:
        InputError: the file is missing, unreadable or has no video stream.
    """
    p = Path(path).expanduser()
    container, stream = open_video(p)
    try:
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        frame_count = int(stream.frames or 0)
        if frame_count == 0:
            frame_count = sum(1 for packet in container.demux(stream) if packet.size)
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        else:
            duration_s = frame_count / float(rate) if rate else 0.0
        info = {
            "width": cc.width,
            "height": cc.height,
            "fps": float(rate) if rate else 0.0,
            "frame_count": frame_count,
            "duration_s": duration_s,
            "codec": cc.name,
            "pix_fmt": cc.pix_fmt or "",
            "metadata": dict(container.metadata),
            "audio": len(container.streams.audio) > 0,
            **color_tags(cc),
        }
    finally:
        container.close()
    info["faststart"] = _moov_before_mdat(p)
    return info
