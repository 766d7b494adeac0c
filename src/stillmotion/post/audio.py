"""Lay a sound file under a clip: trimmed or looped to the clip's length, faded, muxed.

:func:`mux_audio` decodes any audio PyAV reads (WAV, MP3, M4A/AAC, FLAC,
Ogg/Opus, the sound track of a video…), resamples it to 48 kHz stereo,
trims it to the clip's exact duration (frame count / fps) or loops it with
a 10 ms crossfade at each seam, fades it in (0.3 s) and out (0.8 s) — at
most 15 % / 25 % of the clip for short ones — and encodes it as AAC
(192 kb/s) in MP4 or Opus (128 kb/s) in WebM. The video stream is copied
packet by packet, not re-encoded, when the container takes its codec
(MP4: H.264, H.265, AV1, VP9; WebM: VP8, VP9, AV1); otherwise it is
re-encoded for that container (H.264 for MP4, VP9/AV1 for WebM).

The output is written atomically and carries the clip's recipe with
``{"step": "audio", …}`` appended, in its ``comment`` tag and a sidecar JSON.

:func:`attach_audio` muxes a model's own sound track (LTX-2's) under the clip it
made: resampled and fitted to the clip's length, not looped or faded; the same
muxer as :func:`mux_audio`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .. import recipe as recipes
from .._atomic import create_temp, output_path, unlink_quietly, write_json_atomic
from ..errors import GenerationError, InputError
from ._encode import video_codec, write_video
from ._io import one_line, open_clip, source_recipe

__all__ = ["FADE_IN_S", "FADE_OUT_S", "SAMPLE_RATE", "attach_audio", "check_audio", "mux_audio"]

SAMPLE_RATE = 48000
"""Output sample rate (Opus only takes 48 kHz; AAC uses it too)."""
FADE_IN_S = 0.3
FADE_OUT_S = 0.8
_SEAM_S = 0.010  # crossfade at each loop seam, so a looped sound does not click
_MUXER_KEYS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}
_CONTAINERS = {
    # suffix → (muxer, audio encoder, bit rate, video codecs it can carry as-is, re-encode format)
    ".mp4": ("mp4", "aac", 192_000, {"h264", "hevc", "av1", "vp9"}, "mp4"),
    ".m4v": ("mp4", "aac", 192_000, {"h264", "hevc", "av1", "vp9"}, "mp4"),
    ".mov": ("mov", "aac", 192_000, {"h264", "hevc", "av1", "vp9", "prores"}, "mp4"),
    ".webm": ("webm", "libopus", 128_000, {"vp8", "vp9", "av1"}, "webm"),
    ".mkv": ("matroska", "libopus", 128_000, {"h264", "hevc", "vp8", "vp9", "av1"}, "webm"),
}


def check_audio(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is a file with an audio stream PyAV can open; return it.

    Raises:
        InputError: missing, not a file, unreadable, or without sound (one line).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"audio file '{p}' does not exist; check the path")
    if not p.is_file():
        raise InputError(f"audio '{p}' is not a file; give a sound file such as music.mp3 or sound.wav")
    try:
        with av.open(str(p)) as container:
            if not container.streams.audio:
                raise InputError(f"'{p}' has no audio stream; give a sound file (wav, mp3, m4a, flac, ogg…)")
    except InputError:
        raise
    except Exception as err:  # PyAV raises several kinds on garbage input
        raise InputError(f"cannot read audio '{p}': {one_line(err)}; give a wav, mp3, m4a, flac or ogg file") from err
    return p


def _decode_audio(path: Path) -> np.ndarray:
    """Decode the first audio stream to float32 2×N at 48 kHz."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            # Mono is kept mono and doubled below: swresample's mono→stereo upmix is 3 dB quieter.
            mono = (stream.codec_context.channels or 2) == 1
            samples = _resample(container.decode(stream), mono)
    except Exception as err:
        raise InputError(
            f"cannot decode audio '{path}': {one_line(err)}; give a wav, mp3, m4a, flac or ogg file"
        ) from err
    if samples.shape[1] == 0:
        raise InputError(f"audio '{path}' has no samples; give a sound file that is not empty")
    return samples


def _resample(frames: Iterable[Any], mono: bool) -> np.ndarray:
    """Audio frames (mono, or stereo and more) → float32 2×N at 48 kHz; mono is doubled."""
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="fltp", layout="mono" if mono else "stereo", rate=SAMPLE_RATE)
    for frame in frames:
        frame.pts = None
        chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
    chunks.extend(out.to_ndarray() for out in resampler.resample(None))
    samples = np.concatenate(chunks, axis=1).astype(np.float32) if chunks else np.zeros((2, 0), np.float32)
    return np.repeat(samples, 2, axis=0) if samples.shape[0] == 1 else samples


def _fit(samples: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Trim or loop ``samples`` (2×L) to exactly ``n`` samples; returns (2×n, times it is repeated)."""
    length = samples.shape[1]
    if length >= n:
        return samples[:, :n].copy(), 1
    seam = min(int(_SEAM_S * SAMPLE_RATE), length // 4)
    unit = samples[:, : length - seam].copy() if seam else samples.copy()
    if seam:
        ramp = np.linspace(0.0, 1.0, seam, dtype=np.float32)
        # the unit's head blends into the sound's tail, so unit → unit flows without a click
        unit[:, :seam] = samples[:, :seam] * ramp + samples[:, length - seam :] * (1.0 - ramp)
    reps = -(-n // unit.shape[1])
    return np.tile(unit, (1, reps))[:, :n], reps


def _fade(samples: np.ndarray, duration_s: float) -> tuple[float, float]:
    """Raised-cosine fade in and out, in place; returns the fade lengths in seconds."""
    fade_in = min(FADE_IN_S, 0.15 * duration_s)
    fade_out = min(FADE_OUT_S, 0.25 * duration_s)
    n = samples.shape[1]
    a = min(n, max(1, int(round(fade_in * SAMPLE_RATE))))
    b = min(n, max(1, int(round(fade_out * SAMPLE_RATE))))
    samples[:, :a] *= np.sin(0.5 * np.pi * np.arange(a, dtype=np.float32) / a) ** 2
    samples[:, n - b :] *= np.sin(0.5 * np.pi * np.arange(b - 1, -1, -1, dtype=np.float32) / b) ** 2
    return a / SAMPLE_RATE, b / SAMPLE_RATE


def _audio_packets(container: Any, encoder: str, bit_rate: int, samples: np.ndarray) -> tuple[Any, list]:
    """Add an audio stream to ``container`` and encode ``samples`` (2×N float32) into packets."""
    stream = container.add_stream(encoder, rate=SAMPLE_RATE)
    cc = stream.codec_context
    cc.layout = "stereo"
    fmt = "fltp" if encoder == "aac" else "flt"
    cc.format = fmt
    cc.bit_rate = bit_rate
    cc.time_base = stream.time_base = Fraction(1, SAMPLE_RATE)
    cc.open()
    size = cc.frame_size or 1024
    packets = []
    n = samples.shape[1]
    for start in range(0, n, size):
        chunk = np.ascontiguousarray(samples[:, start : start + size])
        if fmt == "flt":
            chunk = np.ascontiguousarray(chunk.T).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = cc.time_base
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return stream, packets


def _starts_by(packet: Any, t: float) -> bool:
    """Whether ``packet`` has a timestamp at or before ``t`` seconds."""
    return packet.dts is not None and float(packet.dts * packet.time_base) <= t


def mux_audio(
    video: str | os.PathLike[str],
    audio: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    sidecar: str | os.PathLike[str] | None = None,
) -> Path:
    """Lay ``audio`` under ``video`` and write ``out`` (MP4 + AAC, or WebM + Opus) atomically.

    Args:
        video: a clip (MP4/WebM/MOV…); its video stream is copied when ``out``'s container takes it.
        audio: any sound file PyAV decodes; trimmed or looped to the clip's
            duration (frames / fps), faded in and out.
        out: ``.mp4``/``.m4v``/``.mov`` (AAC) or ``.webm``/``.mkv`` (Opus); may equal ``video``.
        sidecar: where the recipe JSON goes; None for :func:`stillmotion.recipe.sidecar_path`
            of ``out`` (``export_file`` passes its own when it muxes a temporary clip).

    Returns:
        The final path.

    Raises:
        InputError: unreadable clip or sound, or an unsupported output extension (one line).
        GenerationError: muxing or encoding failed (nothing is left at ``out``).
    """
    src = Path(video).expanduser()
    final = output_path(out, "video")
    if final.suffix.lower() not in _CONTAINERS:
        raise InputError(
            f"cannot add sound to '{final.name}'; write .mp4 (AAC) or .webm (Opus) — "
            "gif, webp and png are formats without sound"
        )
    muxer, encoder, bit_rate, carries, fallback = _CONTAINERS[final.suffix.lower()]
    sound = check_audio(audio)
    info, _frames = open_clip(src)
    _frames.close()
    fps = float(info["fps"])
    frame_count = int(info["frame_count"])
    duration = frame_count / fps
    raw = _decode_audio(sound)
    n = max(1, int(round(duration * SAMPLE_RATE)))
    samples, reps = _fit(raw, n)
    fade_in, fade_out = _fade(samples, duration)

    recipe = source_recipe(src, info)
    step = {
        "step": "audio",
        "audio": sound.name,
        "codec": "aac" if encoder == "aac" else "opus",
        "duration_s": round(duration, 4),
        "source_duration_s": round(raw.shape[1] / SAMPLE_RATE, 4),
        "looped": reps if reps > 1 else 0,
        "trimmed": raw.shape[1] > n,
        "fade_in_s": round(fade_in, 3),
        "fade_out_s": round(fade_out, 3),
    }
    recipe["finish"] = list(recipe.get("finish") or []) + [step]
    tags = {str(k).lower(): v for k, v in (info.get("metadata") or {}).items() if str(k).lower() not in _MUXER_KEYS}
    embedded = recipes.embed(recipe)
    tags["comment"] = embedded["comment"]
    tags.setdefault("title", embedded["title"])

    reencoded: Path | None = None
    video_src = src
    if info.get("codec") not in carries:
        # The container cannot take this codec as is: re-encode the picture once.
        w, h = int(info["width"]) // 2 * 2, int(info["height"]) // 2 * 2
        codec = video_codec(fallback)
        picture = final.with_name(final.stem + ".video" + (".mp4" if fallback == "mp4" else ".webm"))
        fd, reencoded = create_temp(picture, "video")
        os.close(fd)
        _, frames = open_clip(src)
        crop = (f[:h, :w] for f in frames)
        try:
            write_video(crop, reencoded, fallback, codec, w, h, fps, 18 if fallback == "mp4" else 32, {})
        except BaseException:
            unlink_quietly(reencoded)
            raise
        video_src = reencoded

    try:
        _mux(video_src, final, muxer, encoder, bit_rate, samples, tags)
    finally:
        if reencoded is not None:
            unlink_quietly(reencoded)
    write_json_atomic(sidecar if sidecar is not None else recipes.sidecar_path(final, source=src), recipe)
    return final


def _mux(
    video_src: Path, final: Path, muxer: str, encoder: str, bit_rate: int, samples: np.ndarray, tags: dict
) -> None:
    """Copy the video stream of ``video_src`` and encode ``samples`` (2×N at 48 kHz) under it into
    ``final`` (tags ``tags``), atomically; ``final`` may be ``video_src``."""
    fd, temp = create_temp(final, "video")
    os.close(fd)
    options = {"movflags": "+faststart+use_metadata_tags"} if muxer in ("mp4", "mov") else {}
    try:
        try:
            with av.open(str(video_src)) as ins, av.open(str(temp), mode="w", format=muxer, options=options) as dst:
                dst.metadata.update(tags)
                vin = ins.streams.video[0]
                vout = dst.add_stream_from_template(vin)
                if vin.codec_context.name == "hevc" and muxer in ("mp4", "mov"):
                    vout.codec_context.codec_tag = "hvc1"
                _astream, apackets = _audio_packets(dst, encoder, bit_rate, samples)
                ai = 0
                for packet in ins.demux(vin):
                    if packet.dts is None:
                        continue
                    t = float(packet.dts * packet.time_base)
                    # interleave: every audio packet that starts by this video packet goes first
                    while ai < len(apackets) and _starts_by(apackets[ai], t):
                        dst.mux(apackets[ai])
                        ai += 1
                    packet.stream = vout
                    dst.mux(packet)
                for packet in apackets[ai:]:
                    dst.mux(packet)
        except av.FFmpegError as err:
            raise GenerationError(f"adding sound to {final} failed: {one_line(err)}") from err
        os.replace(temp, final)
    except BaseException:
        unlink_quietly(temp)
        raise


def attach_audio(clip: str | os.PathLike[str], samples: np.ndarray, rate: int) -> dict[str, Any]:
    """Mux a model's own sound track under an MP4 clip, in place (atomically), as AAC.

    For engines that generate sound with the picture (LTX-2): the samples are
    in sync with the frames, so they are only resampled to 48 kHz stereo and
    trimmed or padded with silence to the clip's exact duration (frames / fps)
    — no looping, no fades. The clip's tags (its recipe) are kept; the video
    stream is copied.

    Args:
        clip: an MP4 stillmotion wrote (H.264).
        samples: float32 C×N in [-1, 1] (C = 1 or 2; further channels are dropped).
        rate: the samples' rate in Hz.

    Returns:
        What was muxed, for the recipe: ``{"codec", "sample_rate", "channels",
        "source_rate", "duration_s", "source_duration_s"}``.

    Raises:
        InputError: no samples, a bad rate or an unreadable clip.
        GenerationError: muxing failed (the clip is left as it was).
    """
    src = Path(clip)
    wave = np.asarray(samples, dtype=np.float32)
    wave = wave[None, :] if wave.ndim == 1 else wave[:2]
    if wave.ndim != 2 or wave.shape[1] == 0 or int(rate) <= 0:
        raise InputError(f"a sound track needs C×N samples and a rate > 0, got shape {wave.shape} at {rate} Hz")
    info, frames = open_clip(src)
    frames.close()
    duration = int(info["frame_count"]) / float(info["fps"])
    layout = "mono" if wave.shape[0] == 1 else "stereo"
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave), format="fltp", layout=layout)
    frame.sample_rate = int(rate)
    sound = _resample([frame], mono=layout == "mono")
    n = max(1, int(round(duration * SAMPLE_RATE)))
    fitted = np.zeros((2, n), np.float32)
    fitted[:, : min(n, sound.shape[1])] = sound[:, :n]
    tags = {str(k).lower(): v for k, v in (info.get("metadata") or {}).items() if str(k).lower() not in _MUXER_KEYS}
    _mux(src, src, "mp4", "aac", 192_000, fitted, tags)
    return {
        "codec": "aac",
        "sample_rate": SAMPLE_RATE,
        "channels": 2,
        "source_rate": int(rate),
        "duration_s": round(n / SAMPLE_RATE, 4),
        "source_duration_s": round(wave.shape[1] / rate, 4),
    }
