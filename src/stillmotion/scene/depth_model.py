"""Learned monocular depth: Depth Anything V2 through Hugging Face transformers.

Depth Anything V2 (Yang et al. 2024, "Depth Anything V2", arXiv 2406.09414)
predicts relative inverse depth from one RGB photo. This module wraps any
checkpoint that transformers' ``AutoModelForDepthEstimation`` can load
(Depth Anything V1/V2, DPT) behind one call::

    >>> from stillmotion.scene.depth_model import load_depth_model
    >>> depth = load_depth_model("depth-anything/Depth-Anything-V2-Small-hf")  # doctest: +SKIP
    >>> depth(rgb_hw3_uint8).shape == rgb_hw3_uint8.shape[:2]                  # doctest: +SKIP
    True

It is optional: torch and transformers are imported only inside
:func:`load_depth_model` (install with ``pip install 'stillmotion[depth]'``),
and weights are never downloaded here. Fetch them once on a machine with
internet (``stillmotion download depth``, or ``hf download
depth-anything/Depth-Anything-V2-Small-hf``; with
huggingface_hub < 1.0 the command is ``huggingface-cli download``) or pass a
local folder in transformers format.

Licences of the published weights: Depth-Anything-V2-**Small** is
Apache-2.0; **Base** and **Large** are CC BY-NC 4.0 (non-commercial use only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineUnavailable, InputError
from .hub import cached_snapshot, resolve_device

__all__ = ["DEFAULT_DEPTH_MODEL", "LearnedDepth", "load_depth_model"]

logger = logging.getLogger(__name__)

DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"
"""The Hub repo id of the Apache-2.0 Small checkpoint (~25 M parameters)."""

_INSTALL_HINT = "install them with `pip install torch transformers` (or `pip install 'stillmotion[depth]'`)"

# ImageNet mean/std: the normalisation the DINOv2 backbone was trained with.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

_FALLBACK_SHORT_SIDE = 518
"""Short side of the model input when the checkpoint has no image processor (Depth Anything's 518)."""

# Loaded models by (name_or_dir, device): variations and repeated calls reuse one model.
_CACHE: dict[tuple[str, str], LearnedDepth] = {}


class LearnedDepth:
    """Depth Anything V2 (Yang et al. 2024, arXiv 2406.09414) via transformers' AutoModelForDepthEstimation.

    Build it with :func:`load_depth_model`, then call it on a photo.

    Attributes:
        name: the model name or folder exactly as the user passed it.
        device: the torch device the model runs on (``"cpu"``, ``"cuda"``, ...).
    """

    def __init__(self, name: str, device: str, model: Any, processor: Any | None) -> None:
        self.name = name
        self.device = device
        self._model = model
        self._processor = processor
        # Depth Anything "metric" checkpoints predict distance (larger = farther);
        # "relative" ones (the default) and DPT predict inverse depth (larger = nearer).
        self._is_metric = getattr(model.config, "depth_estimation_type", "relative") == "metric"

    def __repr__(self) -> str:
        return f"LearnedDepth(name={self.name!r}, device={self.device!r})"

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Estimate the depth of one photo.

        Args:
            rgb: the photo, uint8 H×W×3 RGB (H, W ≥ 2).

        Returns:
            float32 H×W depth in [0, 1], 1 = nearest, same H×W as ``rgb``.
            The model's output is upsampled (bilinear) to H×W and normalised
            robustly: its 1st percentile maps to 0 (far), its 99th to 1
            (near), values outside are clipped. A flat prediction gives all 0.

        Raises:
            InputError: ``rgb`` is not a uint8 H×W×3 array.
        """
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            got = f"{rgb.dtype} array of shape {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
            raise InputError(f"depth model input must be a uint8 H×W×3 RGB array, got {got}")
        height, width = rgb.shape[:2]
        if height < 2 or width < 2:
            raise InputError(f"depth model input must be at least 2×2 pixels, got {width}×{height}")

        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            pixel_values = self._preprocess(rgb).to(self.device)
            predicted = self._model(pixel_values=pixel_values).predicted_depth  # 1×h×w, float
            predicted = F.interpolate(
                predicted[:, None].float(), size=(height, width), mode="bilinear", align_corners=False
            )[0, 0]
            raw = predicted.cpu().numpy().astype(np.float32, copy=False)

        lo, hi = np.percentile(raw, [1.0, 99.0])
        if not hi > lo:
            return np.zeros((height, width), np.float32)
        depth = np.clip((raw - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
        return 1.0 - depth if self._is_metric else depth

    def _preprocess(self, rgb: np.ndarray) -> Any:
        """uint8 H×W×3 → float32 1×3×h×w tensor, normalised, sides multiples of the patch size.

        With the checkpoint's own image processor (``preprocessor_config.json``)
        that processor decides. Without one, the fallback follows Depth
        Anything's own recipe: scale (bicubic, keeping the aspect ratio) so
        the short side is the backbone's training size (518 for the published
        checkpoints), round both sides to multiples of the ViT patch size
        (14), then normalise with the ImageNet mean and std.
        """
        import torch
        import torch.nn.functional as F

        if self._processor is not None:
            return self._processor(images=rgb, return_tensors="pt")["pixel_values"]

        config = self._model.config
        patch = int(getattr(config, "patch_size", 14) or 14)
        backbone = getattr(config, "backbone_config", None)
        short = int(getattr(backbone, "image_size", _FALLBACK_SHORT_SIDE) or _FALLBACK_SHORT_SIDE)
        height, width = rgb.shape[:2]
        scale = short / min(height, width)
        size = (
            max(patch, round(height * scale / patch) * patch),
            max(patch, round(width * scale / patch) * patch),
        )
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255.0  # a copy: rgb may be read-only
        x = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp_(0.0, 1.0)
        mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
        return (x - mean) / std


def load_depth_model(name_or_dir: str, *, device: str | None = None) -> LearnedDepth:
    """Load a depth-estimation checkpoint from a local folder or the Hugging Face cache.

    Never downloads: a Hub repo id must already be in the local cache
    (``local_files_only=True``). Loaded models are kept per
    ``(name_or_dir, device)``, so a second call returns the same object.

    Args:
        name_or_dir: a folder in transformers format (``config.json``,
            weights, optionally ``preprocessor_config.json``), or a Hub repo
            id such as ``"depth-anything/Depth-Anything-V2-Small-hf"``
            (Apache-2.0; the Base and Large checkpoints are CC BY-NC 4.0,
            non-commercial). Without an image processor the documented
            fallback of :meth:`LearnedDepth._preprocess` is used.
        device: a torch device such as ``"cpu"`` or ``"cuda"``; ``None``
            picks ``"cuda"`` when available, else ``"cpu"``.

    Returns:
        A :class:`LearnedDepth`: call it on a uint8 H×W×3 RGB photo to get
        float32 H×W depth in [0, 1], 1 = nearest.

    Raises:
        EngineUnavailable: torch or transformers is not installed, the
            weights are not in the folder or cache, or the device is absent.
        InputError: ``device`` is not a valid torch device string.
    """
    try:
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
    except ImportError as err:
        raise EngineUnavailable(
            f"learned depth needs torch and transformers ({err.name or err} is missing): {_INSTALL_HINT}"
        ) from err

    device = resolve_device(torch, device)
    key = (name_or_dir, device)
    if key in _CACHE:
        return _CACHE[key]

    source = _resolve_source(name_or_dir)
    try:
        model = AutoModelForDepthEstimation.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        raise EngineUnavailable(_missing_weights_message(name_or_dir, source, err)) from err
    model.to(device).eval()

    try:
        processor = AutoImageProcessor.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        logger.info(
            "no image processor for %s (%s); using the built-in resize and ImageNet normalisation",
            name_or_dir,
            str(err).splitlines()[0],
        )
        processor = None

    _CACHE[key] = learned = LearnedDepth(name_or_dir, device, model, processor)
    return learned


def _resolve_source(name_or_dir: str) -> str:
    """A local folder's path, or the repo id unchanged; a path that does not exist is EngineUnavailable."""
    path = Path(name_or_dir).expanduser()
    if path.exists():
        if not path.is_dir():
            raise EngineUnavailable(
                f"depth model {name_or_dir!r} is a file; pass the folder holding config.json and the weights"
            )
        return str(path)
    # A Hub repo id is "name" or "owner/name"; anything else is a folder that is not there.
    looks_like_path = (
        path.is_absolute() or name_or_dir.startswith((".", "~")) or name_or_dir.count("/") > 1 or "\\" in name_or_dir
    )
    if looks_like_path:
        raise EngineUnavailable(
            f"depth model folder {name_or_dir!r} does not exist; pass a folder in transformers format "
            f"(config.json, model.safetensors, preprocessor_config.json) or a cached Hub repo id "
            f"such as {DEFAULT_DEPTH_MODEL!r}"
        )
    snapshot = cached_snapshot(name_or_dir)  # read from $HF_HUB_CACHE at each call
    return str(snapshot) if snapshot is not None else name_or_dir


def _missing_weights_message(name_or_dir: str, source: str, err: Exception) -> str:
    """One line naming what was looked for and how to get it."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    if Path(source).is_dir():
        return (
            f"depth model folder {name_or_dir!r} holds no loadable depth-estimation checkpoint ({reason}); "
            f"it needs config.json and the weights in transformers format"
        )
    return (
        f"depth model {name_or_dir!r} is not in the Hugging Face cache and stillmotion never downloads it; "
        f"run `stillmotion download depth` (for {DEFAULT_DEPTH_MODEL}) or `hf download {name_or_dir}` "
        f"(older huggingface_hub: `huggingface-cli download`) "
        f"on a machine with internet (or copy its cache), or pass a local folder in transformers format"
    )
