"""Encode and decode clips with PyAV.

Frames at this boundary are ``numpy.ndarray``, uint8, RGB, layout H×W×3
(a clip in memory is T×H×W×3). Clips are MP4 files: H.264 (libx264),
yuv420p, tagged BT.709 with limited ("tv") range, and converted with the
BT.709 matrix in both directions, so colours survive a round trip.

Layout
    ``writer.py``  :class:`VideoWriter` (RGB frames or 4:2:0 planes → MP4, atomically),
                   :data:`DEFAULT_CRF`, :data:`DEFAULT_PRESET`, :data:`X264_PRESETS`
    ``reader.py``  :func:`iter_frames`, :func:`iter_frames_yuv420`, :func:`read_video`, :class:`DecodedVideo`
    ``probe.py``   :func:`probe` (size, rate, count, tags, faststart, without decoding)
    ``_av.py``     FFmpeg colour enums, opening a file's video stream

The BT.709 conversions live in :mod:`stillmotion.color` and the atomic file
writes in :mod:`stillmotion._atomic`; both are re-exported here
(``rgb_to_ycbcr709``, ``ycbcr709_to_rgb``, ``write_json_atomic``,
``write_png_atomic``) because callers have always imported them from here.

Reading metadata also returns the muxer's own keys (``major_brand``,
``minor_version``, ``compatible_brands``, ``encoder``).

Example::

    with VideoWriter("clip.mp4", 320, 180, 24.0, metadata={"title": "waves"}) as out:
        for frame_hwc in frames:
            out.write(frame_hwc)
    clip = read_video("clip.mp4")   # clip.frames_thwc: uint8 T×H×W×3
"""

from __future__ import annotations

from .._atomic import write_json_atomic, write_png_atomic
from ..color import rgb_to_ycbcr709, ycbcr709_to_rgb
from .probe import probe
from .reader import DecodedVideo, iter_frames, iter_frames_yuv420, read_video
from .writer import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS, VideoWriter, remux

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "DecodedVideo",
    "VideoWriter",
    "X264_PRESETS",
    "iter_frames",
    "iter_frames_yuv420",
    "probe",
    "read_video",
    "remux",
    "rgb_to_ycbcr709",
    "write_json_atomic",
    "write_png_atomic",
    "ycbcr709_to_rgb",
]
