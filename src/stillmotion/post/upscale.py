"""Upscale a clip ×2 or ×4, frame by frame, without temporal shimmer.

Two methods:

classical (default, no extra packages)
    Lanczos (``cv2.INTER_LANCZOS4``) to the new size, then an unsharp mask on
    luma with a small radius (Gaussian σ = 0.5 × scale output pixels) and a
    *soft* noise threshold: detail below ``_THRESH_LO`` (≈ 1 grey level) is
    not boosted at all, above ``_THRESH_HI`` it gets the full gain, with a
    smooth ramp between. Flat areas and sensor/codec noise stay as they are;
    edges and texture get crisper. Every frame goes through exactly the same
    fixed kernel (no per-frame statistics, no adaptive parameters), so equal
    input frames give equal output frames and slow motion stays smooth: the
    step cannot add flicker or shimmer of its own.

learned (``upscaler=`` weights)
    Any single-image super-resolution model spandrel can load (Real-ESRGAN
    RRDBNet, SRVGGNetCompact "realesr-general-x4v3", SwinIR, HAT, …) from a
    ``.pth``/``.safetensors`` file, or a Hub name already in the Hugging Face
    cache (``owner/repo`` or ``owner/repo/file.pth``; nothing is downloaded).
    Frames run in tiles (with overlap, feathered seams) so memory stays
    bounded at any frame size, on CUDA when available else the CPU, under
    ``torch.inference_mode``. When the model's own scale differs from the one
    asked for, its output is resized to the asked size (Lanczos up, area down).
    Install: ``pip install "stillmotion[upscale]"`` (spandrel; torch first).

Both stream: one decoded frame and one upscaled frame in memory at a time.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .. import recipe as recipes
from ..errors import EngineUnavailable, GenerationError, InputError
from ._io import default_output, open_clip, write_clip
from .merge import reject_still_image

UPSCALE_PRESET = "fast"
"""libx264 preset for upscaled clips."""

__all__ = ["WEIGHT_SUFFIXES", "import_spandrel", "sharpen_upscale", "upscale_file"]

WEIGHT_SUFFIXES = (".pth", ".pt", ".safetensors", ".ckpt", ".bin")
_INSTALL_HINT = 'pip install "stillmotion[upscale]" (spandrel; install torch first)'

# Unsharp mask: gain on the luma detail, soft threshold in 0–255 grey levels.
_AMOUNT = 0.6
_THRESH_LO = 1.0
_THRESH_HI = 4.0


# --------------------------------------------------------------------------- classical


def _boost_lut() -> np.ndarray:
    """uint8 LUT: |luma detail| (grey levels) → added contrast, soft-thresholded (smoothstep)."""
    m = np.arange(256, dtype=np.float64)
    t = np.clip((m - _THRESH_LO) / (_THRESH_HI - _THRESH_LO), 0.0, 1.0)
    return np.clip(np.round(_AMOUNT * m * t * t * (3.0 - 2.0 * t)), 0, 255).astype(np.uint8)


_LUT = _boost_lut()
_LUMA709 = np.array([[0.2126, 0.7152, 0.0722]], dtype=np.float32)


def sharpen_upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    """Lanczos-upscale one uint8 H×W×3 frame by ``scale`` and sharpen it (fixed kernel).

    The unsharp mask works on BT.709 luma: ``detail = Y − Gauss(Y, σ = 0.5·scale)``,
    boosted by ``_AMOUNT`` through a soft threshold (no boost below ``_THRESH_LO``
    grey levels, full above ``_THRESH_HI``) and added equally to R, G and B, so
    colours do not fringe. All in saturating uint8 OpenCV ops (fast, threaded).

    Returns:
        uint8 (H·scale)×(W·scale)×3. A pure function of the frame: the same
        input always gives the same output.
    """
    h, w = frame.shape[:2]
    up = cv2.resize(frame, (w * scale, h * scale), interpolation=cv2.INTER_LANCZOS4)
    luma = cv2.transform(up, _LUMA709)
    sigma = 0.5 * scale
    blur = cv2.GaussianBlur(luma, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    # Positive and negative detail apart (saturating subtraction): at each pixel one is 0.
    brighten = cv2.LUT(cv2.subtract(luma, blur), _LUT)
    darken = cv2.LUT(cv2.subtract(blur, luma), _LUT)
    out = cv2.add(up, cv2.merge((brighten, brighten, brighten)))
    return cv2.subtract(out, cv2.merge((darken, darken, darken)))


# --------------------------------------------------------------------------- learned (spandrel)


def _stub_torchvision() -> None:
    """Stand in for a torchvision that cannot load next to this torch.

    spandrel imports torchvision only for two non-super-resolution
    architectures (LaMa inpainting, RestoreFormer faces). A torchvision built
    for another torch (e.g. the CUDA wheel beside torch ``+cpu``) fails on
    import; a stub lets every super-resolution architecture load, and the two
    that need torchvision fail clearly if ever called.
    """
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]

    def _missing(*_a: Any, **_k: Any) -> Any:
        raise EngineUnavailable(
            "this model needs torchvision, which cannot load next to this torch; "
            "install the torchvision build that matches torch"
        )

    import enum

    class InterpolationMode(enum.Enum):
        NEAREST = "nearest"
        BILINEAR = "bilinear"
        BICUBIC = "bicubic"

    tv = types.ModuleType("torchvision")
    tv.__stillmotion_stub__ = True  # type: ignore[attr-defined]
    tr = types.ModuleType("torchvision.transforms")
    fn = types.ModuleType("torchvision.transforms.functional")
    fn.InterpolationMode = InterpolationMode  # type: ignore[attr-defined]
    fn.rotate = fn.normalize = _missing  # type: ignore[attr-defined]
    tv.transforms, tr.functional = tr, fn  # type: ignore[attr-defined]
    sys.modules.update({"torchvision": tv, "torchvision.transforms": tr, "torchvision.transforms.functional": fn})


def _drop_stub() -> None:
    """Take the stub out of ``sys.modules`` once spandrel has imported its names from it,
    so other libraries (transformers checks ``find_spec("torchvision")``) see the real state."""
    if getattr(sys.modules.get("torchvision"), "__stillmotion_stub__", False):
        for name in ("torchvision.transforms.functional", "torchvision.transforms", "torchvision"):
            sys.modules.pop(name, None)


def import_spandrel() -> tuple[Any, Any]:
    """Import (torch, spandrel) or raise EngineUnavailable with the install hint."""
    try:
        import torch
    except ImportError as err:
        raise EngineUnavailable(f"learned upscaling needs torch and spandrel; {_INSTALL_HINT}") from err
    if "spandrel" not in sys.modules:
        try:
            import torchvision  # noqa: F401  (probe: spandrel needs it to import)
        except Exception:  # missing, or built for another torch (RuntimeError/OSError)
            _stub_torchvision()
    try:
        import spandrel
    except ImportError as err:
        raise EngineUnavailable(f"learned upscaling needs spandrel; {_INSTALL_HINT}") from err
    except (RuntimeError, OSError):  # torchvision broke spandrel's import half-way: retry with the stub
        for name in [m for m in sys.modules if m == "spandrel" or m.startswith("spandrel.")]:
            del sys.modules[name]
        _stub_torchvision()
        import spandrel
    finally:
        _drop_stub()
    return torch, spandrel


def _resolve_weights(upscaler: str | os.PathLike[str]) -> Path:
    """A local weights file, or a Hub name resolved in the local HF cache (never downloaded).

    Raises:
        InputError: no such file, and no such name in the cache (one line).
    """
    text = str(upscaler).strip()
    if not text:
        raise InputError("--upscaler is empty; give a .pth/.safetensors file or a cached Hub name")
    p = Path(text).expanduser()
    if p.is_file():
        return p
    if p.is_dir():
        raise InputError(f"upscaler {p} is a folder; give the weights file inside it (.pth or .safetensors)")
    parts = text.split("/")
    hub_like = len(parts) >= 2 and all(parts) and not p.is_absolute() and not text.startswith((".", "~"))
    if hub_like:
        found = _from_hf_cache(parts)
        if found is not None:
            return found
        raise InputError(
            f"upscaler '{text}' is neither a weights file nor a Hub model in the local cache; "
            "give a .pth/.safetensors path (nothing is downloaded)"
        )
    raise InputError(f"upscaler weights {p} do not exist; give the path of a .pth/.safetensors file")


def _from_hf_cache(parts: list[str]) -> Path | None:
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return None
    repo_id = "/".join(parts[:2])
    if len(parts) >= 3:
        hit = try_to_load_from_cache(repo_id, "/".join(parts[2:]))
        return Path(hit) if isinstance(hit, str) and Path(hit).is_file() else None
    # owner/repo: the one weights file of the cached snapshot (prefer safetensors).
    snapshots = Path(constants.HF_HUB_CACHE) / f"models--{parts[0]}--{parts[1]}" / "snapshots"
    if not snapshots.is_dir():
        return None
    files = sorted(
        (f for f in snapshots.glob("*/**/*") if f.suffix.lower() in WEIGHT_SUFFIXES and f.is_file()),
        key=lambda f: (f.suffix.lower() != ".safetensors", -f.stat().st_mtime, str(f)),
    )
    return files[0] if files else None


def _feather(n: int, overlap: int, lo_edge: bool, hi_edge: bool) -> np.ndarray:
    """1-D blend weights: a linear ramp over ``overlap`` on inner edges, flat on image edges."""
    w = np.ones(n, dtype=np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        if not lo_edge:
            w[:overlap] = np.minimum(w[:overlap], ramp)
        if not hi_edge:
            w[n - overlap :] = np.minimum(w[n - overlap :], ramp[::-1])
    return w


def _tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


class _LearnedUpscaler:
    """A spandrel image model run in overlapping tiles."""

    def __init__(self, weights: Path, device: str | None, tile: int, overlap: int) -> None:
        torch, spandrel = import_spandrel()
        self.torch = torch
        try:
            desc = spandrel.ModelLoader(device="cpu").load_from_file(str(weights))
        except spandrel.UnsupportedModelError as err:
            raise InputError(
                f"{weights.name} is not a super-resolution model spandrel knows; "
                "give Real-ESRGAN, SRVGGNetCompact, SwinIR, HAT… weights"
            ) from err
        except Exception as err:  # torch.load/safetensors raise many kinds on a bad file
            msg = " ".join(str(err).split())[:200]
            raise InputError(f"cannot load upscaler weights {weights.name} ({msg})") from err
        if not isinstance(desc, spandrel.ImageModelDescriptor):
            raise InputError(f"{weights.name} is not a single-image model (it is {type(desc).__name__})")
        if desc.input_channels != 3 or desc.output_channels != 3:
            raise InputError(
                f"{weights.name} works on {desc.input_channels}-channel images; give an RGB super-resolution model"
            )
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.half = self.device.type == "cuda" and bool(desc.supports_half)
        desc.to(self.device)
        if self.half:
            desc.half()
        desc.eval()
        self.desc = desc
        self.model_scale = int(desc.scale)
        self.arch = desc.architecture.name
        self.tile = max(32, int(tile))
        self.overlap = min(max(0, int(overlap)), self.tile // 4)

    def _run(self, crop: np.ndarray) -> np.ndarray:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))).unsqueeze(0)
        x = x.to(self.device, dtype=torch.float16 if self.half else torch.float32).div_(255.0)
        y = self.desc(x)  # pads/crops for the architecture's size requirements
        y = y.float().clamp_(0.0, 1.0).mul_(255.0).squeeze(0).permute(1, 2, 0)
        return y.cpu().numpy()

    def __call__(self, frame: np.ndarray, scale: int) -> np.ndarray:
        h, w = frame.shape[:2]
        s, tile, ov = self.model_scale, self.tile, self.overlap
        with self.torch.inference_mode():
            if h <= tile and w <= tile:
                out = self._run(frame)
            else:
                acc = np.zeros((h * s, w * s, 3), dtype=np.float32)
                wsum = np.zeros((h * s, w * s, 1), dtype=np.float32)
                ys, xs = _tile_starts(h, tile, ov), _tile_starts(w, tile, ov)
                for y0 in ys:
                    th = min(tile, h - y0)
                    wy = _feather(th * s, ov * s, y0 == 0, y0 + th >= h)
                    for x0 in xs:
                        tw = min(tile, w - x0)
                        wx = _feather(tw * s, ov * s, x0 == 0, x0 + tw >= w)
                        pred = self._run(frame[y0 : y0 + th, x0 : x0 + tw])
                        if pred.shape[:2] != (th * s, tw * s):
                            pred = cv2.resize(pred, (tw * s, th * s), interpolation=cv2.INTER_CUBIC)
                        wt = (wy[:, None] * wx[None, :])[..., None]
                        acc[y0 * s : (y0 + th) * s, x0 * s : (x0 + tw) * s] += pred * wt
                        wsum[y0 * s : (y0 + th) * s, x0 * s : (x0 + tw) * s] += wt
                out = acc / np.maximum(wsum, 1e-6)
        target = (w * scale, h * scale)
        if out.shape[1] != target[0] or out.shape[0] != target[1]:
            interp = cv2.INTER_AREA if out.shape[1] > target[0] else cv2.INTER_LANCZOS4
            out = cv2.resize(out, target, interpolation=interp)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- file API


def upscale_file(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    scale: int = 2,
    upscaler: str | os.PathLike[str] | None = None,
    device: str | None = None,
    tile: int = 256,
    tile_overlap: int = 16,
) -> Path:
    """Upscale the clip ``src`` ×2 or ×4 into ``out`` (default ``SRC-x2.mp4`` beside it).

    Args:
        src: the clip.
        out: the output ``.mp4``; ``None`` for ``SRC_STEM-x{scale}.mp4`` next to ``src``.
        scale: 2 or 4.
        upscaler: ``None`` for classical Lanczos + sharpening; else a weights
            file (``.pth``/``.safetensors``) or a Hub name present in the local
            Hugging Face cache, loaded with spandrel.
        device: torch device for a learned upscaler (default CUDA when available, else CPU).
        tile: learned upscaler tile size in input pixels (bounds memory).
        tile_overlap: overlap between tiles in input pixels (blended seams).

    Returns:
        The output path; its recipe gets ``{"step": "upscale", "scale", "method", "weights"}``.

    Raises:
        InputError: a bad scale, clip, weights file or output path (one line).
        EngineUnavailable: ``upscaler`` given but torch/spandrel are not installed.
        GenerationError: encoding failed.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer, float)) or scale not in (2, 4):
        raise InputError(f"scale must be 2 or 4, got {scale!r}")
    scale = int(scale)
    learned = None
    weights_name = None
    if upscaler is not None:
        weights = _resolve_weights(upscaler)
        weights_name = str(upscaler) if not Path(str(upscaler)).expanduser().is_file() else weights.name
    info, frames = open_clip(src)
    reject_still_image(info, src)
    if upscaler is not None:
        learned = _LearnedUpscaler(weights, device, tile, tile_overlap)
    recipe = recipes.read(src, metadata=info.get("metadata"))
    width, height = int(info["width"]) * scale, int(info["height"]) * scale
    dest = Path(out).expanduser() if out is not None else default_output(src, f"x{scale}")

    def upscaled() -> Iterator[np.ndarray]:
        for frame in frames:
            if learned is None:
                yield sharpen_upscale(frame, scale)
            else:
                try:
                    yield learned(frame, scale)
                except (RuntimeError, MemoryError) as err:
                    msg = " ".join(str(err).split())[:160]
                    raise GenerationError(
                        f"the upscaler failed on a frame ({msg}); try a smaller --tile or the CPU"
                    ) from err

    step: dict[str, Any] = {
        "step": "upscale",
        "scale": scale,
        "method": "lanczos+unsharp" if learned is None else f"{learned.arch} (spandrel)",
        "weights": weights_name,
    }
    if learned is not None:
        step["model_scale"] = learned.model_scale
        step["device"] = str(learned.device)
    # 2–4× larger frames: x264 "fast" keeps the encode from dominating (medium at 1440p
    # costs more than the upscale itself); CRF keeps the quality target.
    return write_clip(dest, upscaled(), width, height, float(info["fps"]), recipe, step, preset=UPSCALE_PRESET)
