"""VideoWriter: stream uint8 H×W×3 RGB frames (or BT.709 4:2:0 planes) into an MP4, atomically.

The MP4 is H.264 (libx264), yuv420p, tagged BT.709 with limited ("tv")
range, ``+faststart`` (the ``moov`` box first, so browsers play it while it
downloads). RGB frames are converted with the BT.709 matrix, the one the
file is tagged with, so colours survive a round trip. Frame ``i`` has
timestamp ``i / fps``.

The output is written atomically (see :mod:`stillmotion._atomic`): the
temporary file ``.NAME.<random>.part.mp4`` is created next to the final
path at construction, and :meth:`VideoWriter.close` renames it onto it.

Container metadata
    Written with ``movflags=+use_metadata_tags`` so any key round-trips
    through ``av.open(path).metadata``: the standard ones (``title``,
    ``comment``, ``description``, ``artist``, ``keywords``, ``synopsis``)
    and custom ones such as ``stillmotion_recipe``. Values are UTF-8 text
    of any length (tested with tens of KB, newlines included). ``encoder``
    is the one key that does not round-trip: the muxer overwrites it with
    its own ``Lavf…`` version.
"""

from __future__ import annotations

import math
import os
import weakref
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np
from av.video.reformatter import Colorspace, VideoReformatter

from .._atomic import check_rgb_frame, create_temp, fsync_path, output_path, unlink_quietly
from ..errors import GenerationError, InputError
from ._av import AVCOL_RANGE_MPEG, BT709

__all__ = ["DEFAULT_CRF", "DEFAULT_PRESET", "VideoWriter", "X264_PRESETS", "remux"]

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
"""The libx264 presets, fastest first."""


def _close_and_delete(container: Any, temp: Path) -> None:
    """Finaliser of a VideoWriter that was never closed: drop its temporary file."""
    try:
        container.close()
    except Exception:  # the file is deleted next; a broken muxer state does not matter
        pass
    unlink_quietly(temp)


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
        x264_params: extra libx264 settings as ``key=value:key=value`` (``x264-params``), or None.

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
        x264_params: str | None = None,
    ) -> None:
        for name, pixels in (("width", width), ("height", height)):
            if isinstance(pixels, bool) or not isinstance(pixels, (int, np.integer)) or pixels < 2 or pixels % 2:
                raise InputError(f"{name} must be an even number of pixels ≥ 2 (yuv420p), got {pixels!r}")
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

        self.path: Path = output_path(path, "video")
        self.width, self.height = int(width), int(height)
        self.fps: Fraction = Fraction(fps).limit_denominator(1001)
        self.frames_written: int = 0
        self._shape = (self.height, self.width, 3)
        self._state = "open"  # → "closed" (renamed onto path) or "aborted" (temp deleted)

        fd, self._temp = create_temp(self.path, "video")
        os.close(fd)
        try:
            self._container = av.open(
                str(self._temp),
                mode="w",
                format="mp4",
                options={"movflags": "+faststart+use_metadata_tags"},
            )
        except BaseException as err:
            unlink_quietly(self._temp)
            if isinstance(err, av.FFmpegError):
                raise GenerationError(f"cannot open the MP4 muxer for {self._temp}: {err}") from err
            raise
        self._finalizer = weakref.finalize(self, _close_and_delete, self._container, self._temp)
        try:
            self._container.metadata.update(tags)
            options = {"crf": str(crf), "preset": preset}
            if x264_params:
                options["x264-params"] = x264_params
            stream = self._container.add_stream("libx264", rate=self.fps, options=options)
            stream.width, stream.height = self.width, self.height
            stream.pix_fmt = "yuv420p"
            stream.time_base = 1 / self.fps
            cc = stream.codec_context
            cc.time_base = 1 / self.fps
            # FRAME makes libavcodec leave x264 on its own frame threading;
            # PyAV's default (SLICE) would switch x264 to sliced threads.
            cc.thread_type = "FRAME"
            cc.thread_count = 0  # 0 = x264 picks, one thread per core
            cc.color_primaries = BT709
            cc.color_trc = BT709
            cc.colorspace = BT709
            cc.color_range = AVCOL_RANGE_MPEG
            cc.open()
        except BaseException as err:
            self._finalizer()
            if isinstance(err, (av.FFmpegError, av.codec.codec.UnknownCodecError)):
                raise GenerationError(
                    f"cannot set up the libx264 encoder ({err}); reinstall PyAV (pip install --force-reinstall av)"
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
        check_rgb_frame(frame_hwc, "frame_hwc", self._shape)
        try:
            rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_hwc), format="rgb24")
            yuv = self._reformatter.reformat(
                rgb,
                format="yuv420p",
                src_colorspace=Colorspace.ITU709,
                dst_colorspace=Colorspace.ITU709,
                src_color_range="JPEG",
                dst_color_range="MPEG",
                # chroma averaged over each 2×2 block: a decode → RGB → encode round trip keeps
                # chroma at 60–65 dB PSNR (swscale's default filter: 53–59 dB), and it is no slower
                interpolation="AREA",
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
        frame.color_range = AVCOL_RANGE_MPEG
        frame.colorspace = BT709
        self._encode(frame)

    def _encode(self, yuv: av.VideoFrame) -> None:
        try:
            yuv.pts = self.frames_written
            yuv.time_base = 1 / self.fps
            for packet in self._stream.encode(yuv):
                self._container.mux(packet)
        except av.FFmpegError as err:
            self.abort()
            raise GenerationError(f"encoding frame {self.frames_written} of {self.path} failed: {err}") from err
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
            fsync_path(self._temp)
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
    fd, temp = create_temp(path, "video")
    os.close(fd)
    try:
        with (
            av.open(str(path)) as src,
            av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart+use_metadata_tags"}) as dst,
        ):
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
        unlink_quietly(temp)
        raise


def remux(src: str | os.PathLike[str], dst: str | os.PathLike[str], metadata: dict[str, str]) -> Path:
    """Copy the video and sound of ``src`` into an MP4 at ``dst`` with ``metadata`` as its tags and
    fast start, without re-encoding (a hosted model's clip keeps its exact pixels and its sound).

    Written atomically (a temporary file next to ``dst``, then renamed); ``src`` is left as it is.

    Raises:
        InputError: a metadata key or value that is not text without NUL.
        GenerationError: ``src`` has no video stream or cannot be read.
    """
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str) or "\x00" in key + value:
            raise InputError(f"metadata[{key!r}] must be text without NUL")
    out = Path(dst)
    fd, temp = create_temp(out, "video")
    os.close(fd)
    try:
        with (
            av.open(str(src)) as source,
            av.open(str(temp), mode="w", format="mp4", options={"movflags": "+faststart+use_metadata_tags"}) as sink,
        ):
            sink.metadata.update(metadata)
            if not source.streams.video:
                raise GenerationError(f"{src} has no video stream")
            streams = [source.streams.video[0], *source.streams.audio[:1]]
            mapped = {s.index: sink.add_stream_from_template(s) for s in streams}
            for packet in source.demux(*streams):
                if packet.dts is None:
                    continue
                packet.stream = mapped[packet.stream.index]
                sink.mux(packet)
        os.replace(temp, out)
    except av.FFmpegError as err:
        unlink_quietly(temp)
        raise GenerationError(f"cannot remux {src}: {err}") from err
    except BaseException:
        unlink_quietly(temp)
        raise
    return out
