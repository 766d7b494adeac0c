"""Encode and decode clips with PyAV; write outputs atomically.

Frames at this boundary are ``numpy.ndarray``, uint8, RGB, layout H×W×3
(a clip in memory is T×H×W×3). Clips are MP4 files: H.264 (libx264),
yuv420p, tagged BT.709 with limited ("tv") range, and converted with the
BT.709 matrix in both directions, so colours survive a round trip.

Every output is written atomically: a temporary file
``.NAME.<random>.part<suffix>`` in the same folder, then ``os.replace``
onto the final path. A failed or interrupted write deletes the temporary
file and leaves an existing file at the final path untouched.

Container metadata
    Written with ``movflags=+use_metadata_tags`` so any key round-trips
    through ``av.open(path).metadata``: the standard ones (``title``,
    ``comment``, ``description``, ``artist``, ``keywords``, ``synopsis``)
    and custom ones such as ``stillmotion_recipe``. Values are UTF-8 text
    of any length (tested with tens of KB, newlines included). ``encoder``
    is the one key that does not round-trip: the muxer overwrites it with
    its own ``Lavf…`` version. Reading also returns the muxer's own keys
    (``major_brand``, ``minor_version``, ``compatible_brands``, ``encoder``).

Example::

    with VideoWriter("clip.mp4", 320, 180, 24.0, metadata={"title": "waves"}) as out:
        for frame_hwc in frames:
            out.write(frame_hwc)
    clip = read_video("clip.mp4")   # clip.frames_thwc: uint8 T×H×W×3
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from stillmotion.errors import GenerationError, InputError

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "DecodedVideo",
    "VideoWriter",
    "iter_frames",
    "probe",
    "read_video",
    "rgb_to_ycbcr709",
    "write_json_atomic",
    "write_png_atomic",
    "ycbcr709_to_rgb",
]

DEFAULT_CRF = 18
"""libx264 constant rate factor: 0 = lossless, 18 ≈ visually lossless, 23 = x264's default, 51 = worst."""

DEFAULT_PRESET = "medium"
"""libx264 speed/size trade-off; slower presets give smaller files at the same quality."""

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)

# FFmpeg's AVColorSpace / AVColorRange values (libavutil/pixfmt.h) and their names.
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
# AVColorPrimaries and AVColorTransferCharacteristic values and names.
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
_BT709 = 1  # AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709
_AVCOL_RANGE_MPEG = 1  # limited, "tv": Y in [16, 235]
_AVCOL_RANGE_JPEG = 2  # full, "pc"
# AVColorSpace → the matrix name swscale understands (av.video.reformatter.Colorspace).
_SWS_MATRIX = {1: "itu709", 4: "fcc", 5: "itu601", 6: "smpte170m", 7: "smpte240m", 9: "bt2020", 10: "bt2020"}


# --------------------------------------------------------------------------- BT.709 colour

_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB


def rgb_to_ycbcr709(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert RGB to BT.709 limited-range YCbCr, full resolution (4:4:4).

    Args:
        rgb: uint8 H×W×3 RGB (sRGB-encoded, as photos are).

    Returns:
        ``(y, cbcr)``: uint8 H×W luma in 16–235 and uint8 H×W×2 chroma in 16–240.
    """
    f = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    yy = _KR * f[..., 0] + _KG * f[..., 1] + _KB * f[..., 2]
    cb = (f[..., 2] - yy) / np.float32(2.0 * (1.0 - _KB))
    cr = (f[..., 0] - yy) / np.float32(2.0 * (1.0 - _KR))
    y8 = np.clip(16.0 + 219.0 * yy + 0.5, 0, 255).astype(np.uint8)
    c8 = np.clip(np.dstack([cb, cr]) * 224.0 + 128.5, 0, 255).astype(np.uint8)
    return y8, c8


def ycbcr709_to_rgb(y: np.ndarray, cbcr: np.ndarray) -> np.ndarray:
    """Convert BT.709 limited-range YCbCr to RGB.

    Args:
        y: uint8 H×W luma.
        cbcr: uint8 h×w×2 chroma, at full (h = H) or half (4:2:0) resolution;
            half-resolution chroma is upsampled bilinearly.

    Returns:
        uint8 H×W×3 RGB.
    """
    H, W = y.shape
    if cbcr.shape[:2] != (H, W):
        cbcr = cv2.resize(cbcr, (W, H), interpolation=cv2.INTER_LINEAR)
    yy = (y.astype(np.float32) - 16.0) / 219.0
    cb = (cbcr[..., 0].astype(np.float32) - 128.0) / 224.0
    cr = (cbcr[..., 1].astype(np.float32) - 128.0) / 224.0
    r = yy + 2.0 * (1.0 - _KR) * cr
    b = yy + 2.0 * (1.0 - _KB) * cb
    g = (yy - _KR * r - _KB * b) / _KG
    return np.clip(np.dstack([r, g, b]) * 255.0 + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- atomic files


def _output_path(path: str | os.PathLike[str], what: str) -> Path:
    """Check that ``path`` can become an output file; return it as a Path.

    Raises:
        InputError: the folder is missing, is not a folder, or ``path`` is a folder.
    """
    final = Path(path).expanduser()
    folder = final.parent
    if not folder.exists():
        raise InputError(
            f"{what} folder {folder} does not exist; create it first or choose another output path"
        )
    if not folder.is_dir():
        raise InputError(
            f"{what} folder {folder} is not a folder; choose an output path inside a writable folder"
        )
    if final.is_dir():
        raise InputError(f"{what} path {final} is a folder; give a file name such as {final / 'clip.mp4'}")
    return final


def _create_temp(final: Path, what: str) -> tuple[int, Path]:
    """Create an empty ``.NAME.<random>.part<suffix>`` next to ``final``; return (fd, path).

    The file is created with ``O_EXCL`` and mode 0o666 minus the umask, so the
    final file gets ordinary permissions after the rename.

    Raises:
        InputError: the folder is not writable (permissions, read-only disk, full disk).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part{final.suffix}")
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


def _fsync_path(path: Path) -> None:
    """Flush ``path``'s bytes to disk so the rename never exposes a half-written file."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _write_bytes_atomic(path: str | os.PathLike[str], payload: bytes, what: str) -> Path:
    final = _output_path(path, what)
    fd, temp = _create_temp(final, what)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, final)
    except BaseException:
        _unlink_quietly(temp)
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
    return _write_bytes_atomic(path, payload, "JSON")


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
    import io

    from PIL import Image

    _check_rgb_frame(image_hwc, "image_hwc")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_hwc), mode="RGB").save(buffer, format="PNG")
    return _write_bytes_atomic(path, buffer.getvalue(), "PNG")


def _check_rgb_frame(frame: np.ndarray, name: str, shape: tuple[int, int, int] | None = None) -> None:
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


# --------------------------------------------------------------------------- encoding


def _close_and_delete(container: Any, temp: Path) -> None:
    """Finaliser of a VideoWriter that was never closed: drop its temporary file."""
    try:
        container.close()
    except Exception:  # the file is deleted next; a broken muxer state does not matter
        pass
    _unlink_quietly(temp)


class VideoWriter:
    """Streams RGB frames into an MP4 (H.264, yuv420p, BT.709-tagged, +faststart), atomically.

    Each :meth:`write` converts one frame to yuv420p (BT.709 matrix, limited
    range), encodes it and muxes the packets, so memory stays flat however
    long the clip. Frame ``i`` gets timestamp ``i / fps`` in a ``1/fps`` time
    base, so frame count and duration (``frames_written / fps`` seconds) are
    exact. libx264 uses its default frame threading on all CPU cores.

    The output folder is checked and the temporary file
    ``.NAME.<random>.part.mp4`` created at construction, before any frame is
    rendered. :meth:`close` renames it onto ``path``; :meth:`abort` (or any
    exception inside a ``with`` block, ``KeyboardInterrupt`` included)
    deletes it. A file already at ``path`` stays untouched until the rename.

    Args:
        path: the final ``.mp4`` file; its folder must exist and be writable.
        width: frame width in pixels, even, ≥ 2 (yuv420p halves chroma).
        height: frame height in pixels, even, ≥ 2.
        fps: frames per second, > 0; stored as ``Fraction(fps).limit_denominator(1001)``
            (24 → 24/1, 29.97 → 2997/100, 30000/1001 → 30000/1001).
        metadata: container tags, str → str (see the module docstring for
            which keys round-trip); ``None`` for none.
        crf: libx264 constant rate factor 0–51; lower is better quality and a bigger file.
        preset: libx264 preset, one of :data:`X264_PRESETS`; slower is smaller at equal quality.

    Raises:
        InputError: a bad size, fps, crf, preset or metadata, or an output
            folder that is missing or not writable.
        GenerationError: the encoder cannot be set up.

    Attributes:
        path: the final path.
        frames_written: frames encoded so far.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: float,
        *,
        metadata: dict[str, str] | None = None,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
    ) -> None:
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2 or value % 2:
                raise InputError(f"{name} must be an even number of pixels ≥ 2 (yuv420p), got {value!r}")
        is_number = isinstance(fps, (int, float, Fraction, np.number)) and not isinstance(fps, bool)
        if not is_number or not math.isfinite(fps) or fps <= 0:
            raise InputError(f"fps must be a finite number > 0, got {fps!r}")
        if isinstance(crf, bool) or not isinstance(crf, (int, float, np.number)) or not 0 <= crf <= 51:
            raise InputError(f"crf must be a number in 0–51 (lower = better quality), got {crf!r}")
        if preset not in X264_PRESETS:
            raise InputError(f"preset must be one of {', '.join(X264_PRESETS)}; got {preset!r}")
        tags = dict(metadata or {})
        for key, value in tags.items():
            if not isinstance(key, str) or not key or "\x00" in key:
                raise InputError(f"metadata keys must be non-empty text without NUL, got {key!r}")
            if not isinstance(value, str) or "\x00" in value:
                raise InputError(
                    f"metadata[{key!r}] must be text without NUL; serialise it first, e.g. json.dumps(value)"
                )

        self.path: Path = _output_path(path, "video")
        self.width, self.height = int(width), int(height)
        self.fps: Fraction = Fraction(fps).limit_denominator(1001)
        self.frames_written: int = 0
        self._shape = (self.height, self.width, 3)
        self._state = "open"  # → "closed" (renamed onto path) or "aborted" (temp deleted)

        fd, self._temp = _create_temp(self.path, "video")
        os.close(fd)
        try:
            self._container = av.open(
                str(self._temp),
                mode="w",
                format="mp4",
                options={"movflags": "+faststart+use_metadata_tags"},
            )
        except BaseException as err:
            _unlink_quietly(self._temp)
            if isinstance(err, av.FFmpegError):
                raise GenerationError(f"cannot open the MP4 muxer for {self._temp}: {err}") from err
            raise
        self._finalizer = weakref.finalize(self, _close_and_delete, self._container, self._temp)
        try:
            self._container.metadata.update(tags)
            stream = self._container.add_stream(
                "libx264", rate=self.fps, options={"crf": str(crf), "preset": preset}
            )
            stream.width, stream.height = self.width, self.height
            stream.pix_fmt = "yuv420p"
            stream.time_base = 1 / self.fps
            cc = stream.codec_context
            cc.time_base = 1 / self.fps
            # FRAME makes libavcodec leave x264 on its own frame threading;
            # PyAV's default (SLICE) would switch x264 to sliced threads.
            cc.thread_type = "FRAME"
            cc.thread_count = 0  # 0 = x264 picks, one thread per core
            cc.color_primaries = _BT709
            cc.color_trc = _BT709
            cc.colorspace = _BT709
            cc.color_range = _AVCOL_RANGE_MPEG
            cc.open()
        except BaseException as err:
            self._finalizer()
            if isinstance(err, (av.FFmpegError, av.codec.codec.UnknownCodecError)):
                raise GenerationError(
                    f"cannot set up the libx264 encoder ({err}); "
                    "reinstall PyAV (pip install --force-reinstall av)"
                ) from err
            raise
        self._stream = stream
        self._reformatter = VideoReformatter()

    def write(self, frame_hwc: np.ndarray) -> None:
        """Encode one frame.

        Args:
            frame_hwc: uint8 H×W×3 RGB with shape ``(height, width, 3)``.

        Raises:
            InputError: wrong type, dtype or shape (the writer stays usable).
            GenerationError: the encoder or muxer failed (the writer is aborted).
            RuntimeError: the writer is already closed or aborted.
        """
        if self._state != "open":
            raise RuntimeError(f"VideoWriter for {self.path} is {self._state}; create a new one")
        _check_rgb_frame(frame_hwc, "frame_hwc", self._shape)
        try:
            rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_hwc), format="rgb24")
            yuv = self._reformatter.reformat(
                rgb,
                format="yuv420p",
                src_colorspace="itu709",
                dst_colorspace="itu709",
                src_color_range="JPEG",
                dst_color_range="MPEG",
            )
        except av.FFmpegError as err:
            self.abort()
            raise GenerationError(f"converting frame {self.frames_written} of {self.path} failed: {err}") from err
        self._encode(yuv)

    def write_yuv420(self, y: np.ndarray, cbcr: np.ndarray) -> None:
        """Encode one frame given as BT.709 limited-range 4:2:0 planes (no colour conversion).

        Renderers that work in YCbCr (see :func:`rgb_to_ycbcr709`) skip the
        per-frame RGB→YUV conversion this way.

        Args:
            y: uint8 H×W luma, 16–235.
            cbcr: uint8 (H/2)×(W/2)×2 chroma (Cb, Cr), 16–240, sampled at the
                centre of each 2×2 luma block.

        Raises:
            InputError: wrong dtype or shape (the writer stays usable).
            GenerationError: the encoder or muxer failed (the writer is aborted).
        """
        if self._state != "open":
            raise RuntimeError(f"VideoWriter for {self.path} is {self._state}; create a new one")
        h, w = self.height, self.width
        if y.dtype != np.uint8 or y.shape != (h, w) or cbcr.dtype != np.uint8 or cbcr.shape != (h // 2, w // 2, 2):
            raise InputError(
                f"write_yuv420 needs uint8 planes y {(h, w)} and cbcr {(h // 2, w // 2, 2)}, "
                f"got y {y.dtype} {y.shape} and cbcr {cbcr.dtype} {cbcr.shape}"
            )
        # I420 layout for from_ndarray: Y rows, then the Cb plane, then the Cr plane.
        planar = np.empty((h * 3 // 2, w), np.uint8)
        planar[:h] = y
        q = (h // 2) * (w // 2)
        flat = planar[h:].reshape(-1)
        flat[:q] = cbcr[..., 0].reshape(-1)
        flat[q:] = cbcr[..., 1].reshape(-1)
        frame = av.VideoFrame.from_ndarray(planar, format="yuv420p")
        frame.color_range = _AVCOL_RANGE_MPEG
        frame.colorspace = _BT709
        self._encode(frame)

    def _encode(self, yuv: av.VideoFrame) -> None:
        try:
            yuv.pts = self.frames_written
            yuv.time_base = 1 / self.fps
            for packet in self._stream.encode(yuv):
                self._container.mux(packet)
        except av.FFmpegError as err:
            self.abort()
            raise GenerationError(
                f"encoding frame {self.frames_written} of {self.path} failed: {err}"
            ) from err
        except BaseException:
            self.abort()
            raise
        self.frames_written += 1

    def close(self, metadata: dict[str, str] | None = None) -> Path:
        """Flush the encoder, finish the MP4 (moov moved to the front) and rename it onto ``path``.

        Args:
            metadata: tags known only at the end (e.g. a recipe with the
                render timings): they replace the container tags given at
                construction. The finished stream is remuxed once (packets
                copied, not re-encoded: tens of milliseconds for a 5 s clip).

        Returns:
            The final path.

        Raises:
            GenerationError: no frame was written, or flushing/muxing failed
                (the temporary file is deleted; an existing ``path`` is untouched).
            RuntimeError: the writer was aborted.
        """
        if self._state == "closed":
            return self.path
        if self._state == "aborted":
            raise RuntimeError(f"VideoWriter for {self.path} was aborted; nothing to close")
        self.finish()
        try:
            if metadata is not None:
                _remux_with_tags(self._temp, metadata)
            _fsync_path(self._temp)
            os.replace(self._temp, self.path)
        except av.FFmpegError as err:
            self._delete_temp()
            raise GenerationError(f"finishing {self.path} failed: {err}") from err
        except OSError as err:
            self._delete_temp()
            raise GenerationError(f"cannot move the finished clip onto {self.path}: {err}") from err
        except BaseException:
            self._delete_temp()
            raise
        self._state = "closed"
        self._finalizer.detach()
        return self.path

    def finish(self) -> None:
        """Flush the encoder and finish the MP4 in its temporary file (not yet renamed).

        :meth:`close` calls it; call it first to time the encoding apart from the
        final rename (and metadata remux). Safe to call more than once.

        Raises:
            GenerationError: no frame was written, or flushing/muxing failed
                (the temporary file is deleted).
        """
        if self._state == "finished":
            return
        if self._state != "open":
            raise RuntimeError(f"VideoWriter for {self.path} is {self._state}; nothing to finish")
        if self.frames_written == 0:
            self.abort()
            raise GenerationError(f"no frames were written to {self.path}; an MP4 needs at least one frame")
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        except av.FFmpegError as err:
            self.abort()
            raise GenerationError(f"finishing {self.path} failed: {err}") from err
        except BaseException:
            self.abort()
            raise
        self._state = "finished"

    def _delete_temp(self) -> None:
        self._state = "aborted"
        self._finalizer()

    def abort(self) -> None:
        """Close the container and delete the temporary file; safe to call more than once.

        After a successful :meth:`close` this does nothing (the clip stays).
        """
        if self._state in ("open", "finished"):
            self._state = "aborted"
            self._finalizer()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __repr__(self) -> str:
        return (
            f"VideoWriter({str(self.path)!r}, {self.width}×{self.height}, {self.fps} fps, "
            f"{self.frames_written} frames, {self._state})"
        )


def _remux_with_tags(path: Path, metadata: dict[str, str]) -> None:
    """Copy the packets of ``path`` into a new MP4 with ``metadata`` as its tags, in place."""
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str) or "\x00" in key + value:
            raise InputError(f"metadata[{key!r}] must be text without NUL")
    fd, temp = _create_temp(path, "video")
    os.close(fd)
    try:
        with av.open(str(path)) as src, av.open(
            str(temp), mode="w", format="mp4", options={"movflags": "+faststart+use_metadata_tags"}
        ) as dst:
            dst.metadata.update(metadata)
            ins = src.streams.video[0]
            out = dst.add_stream_from_template(ins)
            for packet in src.demux(ins):
                if packet.dts is None:
                    continue
                packet.stream = out
                dst.mux(packet)
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise


# --------------------------------------------------------------------------- decoding


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


def _color_tags(cc: Any) -> dict[str, str | int]:
    """The stream's colour tags as FFmpeg's names (``"bt709"``), or the raw int when unnamed."""
    tags = {}
    for key, names in (
        ("color_primaries", _COLOR_PRIMARIES_NAMES),
        ("color_trc", _COLOR_TRC_NAMES),
        ("colorspace", _COLORSPACE_NAMES),
        ("color_range", _COLOR_RANGE_NAMES),
    ):
        value = int(getattr(cc, key))
        tags[key] = names.get(value, value)
    return tags


def _open_video(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Open ``path`` and return (container, first video stream).

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


def _to_rgb(frame: av.VideoFrame, reformatter: VideoReformatter) -> np.ndarray:
    """Convert a decoded frame to uint8 H×W×3 RGB with the matrix and range it is tagged with.

    Untagged YUV follows FFmpeg's and browsers' convention: BT.709 from
    720 lines up, BT.601 below; ``yuvj*`` formats are full range.
    """
    matrix = _SWS_MATRIX.get(int(frame.colorspace))
    if matrix is None:
        matrix = "itu709" if frame.height >= 720 else "itu601"
    color_range = int(frame.color_range)
    if color_range not in (_AVCOL_RANGE_MPEG, _AVCOL_RANGE_JPEG):
        color_range = _AVCOL_RANGE_JPEG if frame.format.name.startswith("yuvj") else _AVCOL_RANGE_MPEG
    rgb = reformatter.reformat(
        frame,
        format="rgb24",
        src_colorspace=matrix,
        dst_colorspace=matrix,
        src_color_range="JPEG" if color_range == _AVCOL_RANGE_JPEG else "MPEG",
        dst_color_range="JPEG",
    )
    return rgb.to_ndarray()


def iter_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Decode the first video stream of ``path`` frame by frame.

    Yields:
        uint8 H×W×3 RGB frames in display order; one frame in memory at a time.

    Raises:
        InputError: the file is missing, unreadable or has no video stream.
        GenerationError: the stream is corrupt midway.
    """
    container, stream = _open_video(path)
    stream.thread_type = "AUTO"
    reformatter = VideoReformatter()
    try:
        for frame in container.decode(stream):
            yield _to_rgb(frame, reformatter)
    except av.FFmpegError as err:
        raise GenerationError(f"decoding {path} failed: {err}") from err
    finally:
        container.close()


def read_video(path: str | os.PathLike[str]) -> DecodedVideo:
    """Decode a whole clip into memory (use :func:`iter_frames` to stream instead).

    Returns:
        A :class:`DecodedVideo` with ``frames_thwc`` as uint8 T×H×W×3 RGB.

    Raises:
        InputError: the file is missing, unreadable, has no video stream or no frames.
        GenerationError: the stream is corrupt midway.
    """
    container, stream = _open_video(path)
    try:
        cc = stream.codec_context
        info = {
            "fps": float(stream.average_rate or stream.guessed_rate or 0),
            "metadata": dict(container.metadata),
            "codec": cc.name,
            "pix_fmt": cc.pix_fmt or "",
            **_color_tags(cc),
        }
    finally:
        container.close()
    frames = list(iter_frames(path))
    if not frames:
        raise InputError(f"video {path} has no frames; give a non-empty clip")
    return DecodedVideo(frames_thwc=np.stack(frames), **info)


def _moov_before_mdat(path: Path) -> bool:
    """Scan the top-level MP4 boxes: True when ``moov`` comes before ``mdat`` (web "fast start")."""
    size_on_disk = path.stat().st_size
    with open(path, "rb") as f:
        return _scan_boxes(f, size_on_disk)


def _scan_boxes(f: BinaryIO, end: int) -> bool:
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
    container, stream = _open_video(p)
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
            **_color_tags(cc),
        }
    finally:
        container.close()
    info["faststart"] = _moov_before_mdat(p)
    return info
