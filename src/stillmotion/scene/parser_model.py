"""Learned scene parsing: sky, water, vegetation and people from an ADE20K segmentation model.

The default checkpoint is OpenMMLab's UperNet (Xiao et al. 2018, "Unified
Perceptual Parsing for Scene Understanding", ECCV, arXiv 1807.10221) over
a ConvNeXt-T backbone (Liu et al. 2022, "A ConvNet for the 2020s", arXiv
2201.03545), trained on the 150 classes of ADE20K (Zhou et al. 2017, "Scene
Parsing through ADE20K Dataset", CVPR), as ported to transformers:
``openmmlab/upernet-convnext-tiny`` (about 60 M parameters; **MIT**
licence on its model card). Any checkpoint that transformers'
``AutoModelForSemanticSegmentation`` loads and whose ``id2label`` names
ADE20K classes works the same way::

    >>> from stillmotion.scene.parser_model import load_scene_model
    >>> parse = load_scene_model("openmmlab/upernet-convnext-tiny")  # doctest: +SKIP
    >>> masks = parse(rgb_hw3_uint8)                                  # doctest: +SKIP
    >>> sorted(masks)                                                 # doctest: +SKIP
    ['person', 'sky', 'vegetation', 'water']

Each mask is the summed class probability of the ADE20K classes that make
up one of stillmotion's region kinds (:data:`ADE20K_KINDS`), in the layout
of :func:`stillmotion.scene.regions.detect_regions`. Kinds ADE20K has no
class for (hair, steam) stay with the classical detector.

Optional, like :mod:`.depth_model`: torch and transformers are imported
only in :func:`load_scene_model` (``pip install 'stillmotion[depth]'``) and
weights are never downloaded here (``stillmotion download scene-parser``
fetches them once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._measure import check_rgb_uint8
from ..errors import EngineUnavailable, InputError
from .hub import cached_snapshot, resolve_device
from .regions import REGION_SIDE

__all__ = [
    "ADE20K_KINDS",
    "DEFAULT_SCENE_MODEL",
    "PARSER_KINDS",
    "SceneParser",
    "kind_label_ids",
    "load_scene_model",
]

logger = logging.getLogger(__name__)

DEFAULT_SCENE_MODEL = "openmmlab/upernet-convnext-tiny"
"""The Hub repo id of the default parser: UperNet + ConvNeXt-T on ADE20K, MIT licence."""

PARSER_KINDS = ("sky", "water", "vegetation", "person")
"""The kinds a parser returns a mask for, in this order."""

ADE20K_KINDS: Mapping[str, frozenset[str]] = {
    "sky": frozenset({"sky"}),
    "water": frozenset({"water", "sea", "river", "lake", "waterfall", "falls", "fountain", "swimming pool"}),
    "vegetation": frozenset({"tree", "grass", "plant", "flora", "flower", "palm", "palm tree", "field"}),
    "person": frozenset({"person"}),
}
"""ADE20K class names (any of a label's ``;``- or ``,``-separated synonyms, lower case) that make up each kind."""

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_SHORT_SIDE = 512
"""Short side of the model input: ADE20K's test scale (mmsegmentation resizes to 512, aspect kept)."""
_MULTIPLE = 32
"""Input sides are rounded to multiples of the backbone's total stride."""

_INSTALL_HINT = "install them with `pip install torch transformers` (or `pip install 'stillmotion[depth]'`)"

# Loaded parsers by (name_or_dir, device): variations and repeated calls reuse one model.
_CACHE: dict[tuple[str, str], SceneParser] = {}


def kind_label_ids(id2label: Mapping[int | str, str]) -> dict[str, tuple[int, ...]]:
    """Which class ids of a checkpoint make up each kind of :data:`PARSER_KINDS`.

    Args:
        id2label: the checkpoint's ``config.id2label`` (ids as ints or strings).

    Returns:
        kind → sorted class ids (empty when the checkpoint has no such class).
        A label matches when any of its synonyms (split at ``;`` and ``,``,
        stripped, lower case) is in :data:`ADE20K_KINDS`; "pool table" is not
        "swimming pool".
    """
    out: dict[str, list[int]] = {k: [] for k in PARSER_KINDS}
    for key, label in id2label.items():
        names = {part.strip().lower() for part in str(label).replace(",", ";").split(";")}
        for kind in PARSER_KINDS:
            if names & ADE20K_KINDS[kind]:
                out[kind].append(int(key))
    return {k: tuple(sorted(v)) for k, v in out.items()}


class SceneParser:
    """A semantic-segmentation model read as stillmotion's region kinds.

    Build it with :func:`load_scene_model`, then call it on a photo.

    Attributes:
        name: the model name or folder exactly as the user passed it.
        device: the torch device it runs on.
        label_ids: kind → the model's class ids summed into that kind's mask.
    """

    def __init__(
        self,
        name: str,
        device: str,
        model: Any,
        *,
        mean: tuple[float, ...] = _IMAGENET_MEAN,
        std: tuple[float, ...] = _IMAGENET_STD,
        short_side: int = _SHORT_SIDE,
    ) -> None:
        self.name = name
        self.device = device
        self._model = model
        self._mean = np.asarray(mean, np.float32)
        self._std = np.asarray(std, np.float32)
        self._short_side = int(short_side)
        self.label_ids = kind_label_ids(model.config.id2label)

    def __repr__(self) -> str:
        return f"SceneParser(name={self.name!r}, device={self.device!r})"

    def __call__(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """Parse one photo into soft masks.

        Args:
            rgb: the photo, uint8 H×W×3 RGB (H, W ≥ 2).

        Returns:
            Every kind of :data:`PARSER_KINDS` mapped to a float32 h×w mask in
            [0, 1]: the model's softmax probability summed over that kind's
            classes, where h×w is the photo's size scaled so the long side is
            :data:`~stillmotion.scene.regions.REGION_SIDE` (aspect kept; the
            size :func:`~stillmotion.scene.regions.detect_regions` returns).
            A kind the model has no class for is all zeros.

        Raises:
            InputError: ``rgb`` is not a uint8 H×W×3 array of at least 2×2.
        """
        try:
            check_rgb_uint8("rgb", rgb)
        except ValueError as err:
            raise InputError(f"scene parser input: {err}") from None
        H, W = rgb.shape[:2]
        if H < 2 or W < 2:
            raise InputError(f"scene parser input must be at least 2×2 pixels, got {W}×{H}")
        scale = REGION_SIDE / max(H, W)
        h, w = max(8, round(H * scale)), max(8, round(W * scale))

        import torch

        with torch.inference_mode():
            x = torch.from_numpy(self._preprocess(rgb)).to(self.device)
            logits = self._model(pixel_values=x).logits[0].float()  # K×h'×w'
            probs = torch.softmax(logits, dim=0)
            sums = torch.stack(
                [probs[list(ids)].sum(0) if ids else torch.zeros_like(probs[0]) for ids in self.label_ids.values()]
            )
            maps = sums.cpu().numpy()

        out = {}
        for kind, p in zip(self.label_ids, maps):
            shrink = p.shape[0] > h
            p = cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            out[kind] = np.clip(p, 0.0, 1.0).astype(np.float32)
        return out

    def _preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 H×W×3 → float32 1×3×h×w, normalised; short side ``short_side``, aspect kept.

        As mmsegmentation tests on ADE20K: resize (area when shrinking,
        bilinear when enlarging) so the short side is 512 and the long side
        at most 4× that, rounded to multiples of 32, then the checkpoint's
        mean and std (ImageNet's by default). The image is not squashed to a
        square, as the Hub processor's fixed 512×512 would.
        """
        H, W = rgb.shape[:2]
        s = min(self._short_side / min(H, W), 4 * self._short_side / max(H, W))
        h = max(_MULTIPLE, round(H * s / _MULTIPLE) * _MULTIPLE)
        w = max(_MULTIPLE, round(W * s / _MULTIPLE) * _MULTIPLE)
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if h < H else cv2.INTER_LINEAR)
        x = (small.astype(np.float32) / 255.0 - self._mean) / self._std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def load_scene_model(name_or_dir: str, *, device: str | None = None) -> SceneParser:
    """Load a semantic-segmentation checkpoint from a local folder or the Hugging Face cache.

    Never downloads (``local_files_only``). Loaded parsers are kept per
    ``(name_or_dir, device)``, so a second call returns the same object.

    Args:
        name_or_dir: a folder in transformers format (``config.json``,
            weights, optionally ``preprocessor_config.json`` whose
            ``image_mean``, ``image_std`` and ``size`` are used), or a Hub repo
            id in the cache such as :data:`DEFAULT_SCENE_MODEL` (MIT).
        device: ``"cpu"``, ``"cuda"``, ...; None picks CUDA when available.

    Returns:
        A :class:`SceneParser`: call it on a uint8 H×W×3 RGB photo.

    Raises:
        EngineUnavailable: torch or transformers is not installed, the
            weights are not in the folder or cache, the device is absent, or
            the model's labels name none of sky, water, vegetation and person.
        InputError: ``device`` is not a torch device string.
    """
    try:
        import torch
        from transformers import AutoModelForSemanticSegmentation
    except ImportError as err:
        raise EngineUnavailable(
            f"the scene parser needs torch and transformers ({err.name or err} is missing): {_INSTALL_HINT}"
        ) from err

    device = resolve_device(torch, device)
    key = (name_or_dir, device)
    if key in _CACHE:
        return _CACHE[key]

    source = _resolve_source(name_or_dir)
    try:
        model = AutoModelForSemanticSegmentation.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(source, Path):
            raise EngineUnavailable(
                f"scene model folder {name_or_dir!r} holds no loadable semantic-segmentation checkpoint "
                f"({reason}); it needs config.json and the weights in transformers format"
            ) from err
        raise EngineUnavailable(
            f"scene model {name_or_dir!r} is not in the Hugging Face cache and stillmotion never downloads it "
            f"while animating; run `stillmotion download scene-parser` (for {DEFAULT_SCENE_MODEL}) or "
            f"`hf download {name_or_dir}` on a machine with internet, or pass a local folder"
        ) from err
    if getattr(model, "auxiliary_head", None) is not None:
        model.auxiliary_head = None  # UperNet's training-only FCN head: half a decoder's work for nothing
    model.to(device).eval()

    parser = SceneParser(name_or_dir, device, model, **_processor_settings(source))
    if not any(parser.label_ids.values()):
        raise EngineUnavailable(
            f"scene model {name_or_dir!r} has no class named sky, water, vegetation or person in its labels "
            f"(config.id2label); use an ADE20K checkpoint such as {DEFAULT_SCENE_MODEL!r}"
        )
    _CACHE[key] = parser
    return parser


def _processor_settings(source: Path | str) -> dict[str, Any]:
    """Mean, std and short side from the folder's ``preprocessor_config.json``; {} (the defaults) without one."""
    path = Path(source) / "preprocessor_config.json"
    if not path.is_file():
        logger.info("no preprocessor_config.json in %s: ImageNet mean and std, short side %d", source, _SHORT_SIDE)
        return {}
    config = json.loads(path.read_text())
    settings: dict[str, Any] = {}
    if config.get("image_mean") and config.get("image_std"):
        settings["mean"], settings["std"] = tuple(config["image_mean"]), tuple(config["image_std"])
    size = config.get("size")
    if isinstance(size, dict) and ("height" in size or "shortest_edge" in size):
        settings["short_side"] = int(
            size.get("shortest_edge") or min(size["height"], size.get("width", size["height"]))
        )
    return settings


def _resolve_source(name_or_dir: str) -> Path | str:
    """A local folder, the cached snapshot folder of a repo id, or the repo id itself (not cached: fails to load)."""
    path = Path(name_or_dir).expanduser()
    if path.exists():
        if not path.is_dir():
            raise EngineUnavailable(
                f"scene model {name_or_dir!r} is a file; pass the folder holding config.json and the weights"
            )
        return path
    if path.is_absolute() or name_or_dir.startswith((".", "~")) or name_or_dir.count("/") > 1 or "\\" in name_or_dir:
        raise EngineUnavailable(
            f"scene model folder {name_or_dir!r} does not exist; pass a folder in transformers format "
            f"or a cached Hub repo id such as {DEFAULT_SCENE_MODEL!r}"
        )
    return cached_snapshot(name_or_dir) or name_or_dir
