"""Understand: the layers of a photo that engines ask for, each computed once.

A :class:`Scene` wraps the loaded photo and computes its layers lazily:
``faces`` (BlazeFace with the ``[portrait]`` extra, Haar cascades otherwise),
``depth`` (fused classical cues, or a learned estimator when ``depth_model``
is given), ``regions`` (classical masks, with sky, water and vegetation from
a learned parser when ``scene_model`` is given) and ``saliency``. Layers are cached
on the Scene and, across Scenes, by the photo's content hash, so variations
and repeated runs in one process never compute a layer twice.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

import cv2
import numpy as np

from .._measure import check_rgb_uint8
from .depth import estimate_depth, spectral_residual_saliency
from .faces import Face, detect_faces

__all__ = ["DEPTH_SIDE", "Scene"]

DEPTH_SIDE = 1024
"""Long side, in pixels, of the depth map a Scene keeps (depth is smooth; the
renderer resamples it to its working size)."""

_CACHE: dict[tuple[str, str], object] = {}
_CACHE_MAX = 16


def _cached(key: tuple[str, str], compute):
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = compute()
    return _CACHE[key]


class Scene:
    """A photo and its lazily computed layers.

    Args:
        rgb: uint8 H×W×3 RGB photo.
        depth_model: a Depth Anything V2 checkpoint (Hub repo id in the local
            cache, or a folder) to use instead of the classical cues.
        scene_model: an ADE20K semantic-segmentation checkpoint (see
            :mod:`.parser_model`) for the sky, water and vegetation masks.

    The Scene uses exactly the models it is given; picking a cached default
    (and ``"none"``) is the caller's choice, see :func:`.hub.resolve_model`.
    """

    def __init__(self, rgb: np.ndarray, depth_model: str | None = None, scene_model: str | None = None) -> None:
        check_rgb_uint8("rgb", rgb)
        self.rgb = rgb
        self.depth_model = depth_model
        self.scene_model = scene_model

    @cached_property
    def key(self) -> str:
        """Content hash of the photo (BLAKE2b of the pixels and the shape)."""
        h = hashlib.blake2b(digest_size=16)
        h.update(str(self.rgb.shape).encode())
        h.update(np.ascontiguousarray(self.rgb).data)
        return h.hexdigest()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]

    @cached_property
    def faces(self) -> list[Face]:
        """Face boxes (x, y, w, h) in photo pixels, largest first."""
        return _cached((self.key, "faces"), lambda: detect_faces(self.rgb))

    @cached_property
    def depth(self) -> np.ndarray:
        """float32 h×w depth in [0, 1], 1 = near, at most DEPTH_SIDE on the long side."""
        method = f"depth:{self.depth_model or 'classical'}"
        return _cached((self.key, method), self._compute_depth)

    @property
    def depth_method(self) -> str:
        """How ``depth`` was made, in words."""
        if self.depth_model:
            return f"learned: Depth Anything V2 ({self.depth_model})"
        return "classical cue fusion (ground plane, defocus, sky, haze, subject)"

    @cached_property
    def regions(self) -> dict[str, np.ndarray]:
        """Element regions (sky, water, vegetation, hair, steam): float32 masks in [0, 1]
        at ``regions.REGION_SIDE`` scale, computed once (see :mod:`.regions`). With a
        ``scene_model``, sky, water and vegetation are its class probabilities."""

        def compute():
            from .regions import detect_regions

            small = self.small
            s = small.shape[1] / self.rgb.shape[1]
            faces = [tuple(round(v * s) for v in f) for f in self.faces]
            masks = detect_regions(small, faces=faces, depth=self.depth)
            if self.scene_model:
                from .parser_model import load_scene_model

                parsed = load_scene_model(self.scene_model)(small)
                masks.update({k: parsed[k] for k in ("sky", "water", "vegetation")})
            return masks

        return _cached((self.key, f"regions:{self.scene_model or 'classical'}"), compute)

    @property
    def regions_method(self) -> str:
        """How ``regions`` were made, in words."""
        if self.scene_model:
            return f"learned: scene parser ({self.scene_model}) for sky, water, vegetation; classical for hair, steam"
        return "classical colour and texture cues"

    @cached_property
    def landmarks(self) -> list:
        """Face Mesh landmarks (photo pixels) of each face, or [] when the optional
        models are not installed (see :mod:`.landmarks`)."""
        from .landmarks import detect_landmarks

        return _cached((self.key, "landmarks"), lambda: detect_landmarks(self.rgb, self.faces))

    @cached_property
    def person(self) -> np.ndarray | None:
        """float32 person mask at photo size (selfie segmentation), or None without the models."""
        from .landmarks import person_mask

        return _cached((self.key, "person"), lambda: person_mask(self.rgb))

    @cached_property
    def saliency(self) -> np.ndarray:
        """float32 h×w spectral-residual saliency in [0, 1] at DEPTH_SIDE scale."""
        grey = cv2.cvtColor(self.small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        return spectral_residual_saliency(grey)

    @cached_property
    def small(self) -> np.ndarray:
        """uint8 h×w×3 working copy of the photo, long side at most DEPTH_SIDE (the photo itself when
        smaller); depth, saliency and regions are computed on it."""
        W, H = self.size
        s = min(1.0, DEPTH_SIDE / max(W, H))
        if s >= 1.0:
            return self.rgb
        return cv2.resize(self.rgb, (round(W * s), round(H * s)), interpolation=cv2.INTER_AREA)

    def _compute_depth(self) -> np.ndarray:
        small = self.small
        if self.depth_model:
            from .depth_model import load_depth_model

            return load_depth_model(self.depth_model)(small)
        s = small.shape[1] / self.rgb.shape[1]
        faces = [tuple(round(v * s) for v in f) for f in self.faces]
        return estimate_depth(small, faces=faces)

    def subject(self) -> tuple[float, float]:
        """Where the subject is, as (x, y) fractions of the photo: the largest face,
        else the saliency-weighted centroid pulled toward the centre."""
        W, H = self.size
        if self.faces:
            x, y, w, h = self.faces[0]
            return (x + w / 2) / W, (y + h / 2) / H
        sal = self.saliency
        sal = sal * (sal > np.percentile(sal, 90))
        total = float(sal.sum())
        if total <= 1e-6:
            return 0.5, 0.5
        ys, xs = np.mgrid[0 : sal.shape[0], 0 : sal.shape[1]]
        cx = float((sal * xs).sum() / total) / sal.shape[1]
        cy = float((sal * ys).sum() / total) / sal.shape[0]
        return 0.5 + 0.6 * (cx - 0.5), 0.5 + 0.6 * (cy - 0.5)
