"""Every threshold of the photo analysis, in one frozen dataclass.

Units: px are pixels of the Scene's working copy (long side at most
:data:`stillmotion.scene.DEPTH_SIDE`, 1024 px) unless a field says full
resolution; luminance is a fraction of white (0–1) or levels of 255 as
stated; shares are fractions of the frame (0–1). Where a value was measured,
the docstring says on what; the others are judgement calls, held in place by
tests/test_analysis.py on real photos (scikit-image, scikit-learn, the
examples, and ../shared/photos where present).

>>> THRESHOLDS.sharp_px
1.2
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["THRESHOLDS", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """The analysis thresholds (see the module docstring for units); :data:`THRESHOLDS` is the one in use."""

    # -- resolution and aspect
    unusable_side_px: int = 64
    """Short side (px, full resolution) below which a photo is unusable: a 720p clip would magnify it over 11×."""
    min_size_px: tuple[int, int] = (1024, 576)
    """Smallest recommended (long side, short side), px at full resolution; below it the clip is upscaled a little."""
    preferred_size_px: tuple[int, int] = (1920, 1080)
    """Preferred (long side, short side), px at full resolution: enough for 1080p output."""
    aspect_advice_keep: float = 0.75
    """A crop to the target aspect that keeps less than this fraction of the width (or height) is advice ..."""
    aspect_warning_keep: float = 0.5
    """... and less than this fraction is a warning: the subject may not fit."""

    # -- sharpness (edge blur radius, Zhuo & Sim 2011; see checks._edge_blur)
    sharp_px: float = 1.2
    """Edge blur radius (px) up to which the subject is sharp. Measured: sharp photos 0.3–0.9;
    a Gaussian blur of σ = 3 px on a 512–640 px photo 2.1–2.6."""
    soft_px: float = 1.5
    """Edge blur radius (px) above which the subject is soft (warning); between ``sharp_px`` and this: slightly soft."""
    motion_anisotropy: float = 1.7
    """Motion blur (ratio): edges in their blurriest direction are this many times blurrier than in the
    crispest. Measured: sharp photos 1.1–1.45, a 15 px shake 2.6."""
    subject_tile_weight: float = 0.15
    """Without a face, tiles whose saliency × nearness is at least this fraction of the most count as the subject."""
    blur_unusable_px: float = 4.0
    """Edge blur radius (px) of the sharpest part of the frame above which nothing is recognisable."""

    # -- exposure
    dark_warning_mean: float = 0.20
    """Mean luminance (fraction of white) below which the photo is too dark (warning)."""
    dark_advice_mean: float = 0.28
    """Mean luminance (fraction of white) below which the photo is on the dark side (advice)."""
    bright_advice_mean: float = 0.82
    """Mean luminance (fraction of white) above which the photo is very bright (advice)."""
    unusable_mean: tuple[float, float] = (0.03, 0.98)
    """Mean luminance (fraction of white) outside this range: a nearly black or white frame (unusable)."""
    clipped_level: int = 250
    """Luminance (levels of 255) above which a pixel is a clipped highlight."""
    crushed_level: int = 5
    """Luminance (levels of 255) below which a pixel is a crushed shadow."""
    clipped_advice: float = 0.05
    """Share of clipped highlights above which it is advice ..."""
    clipped_warning: float = 0.25
    """... and above which it is a warning (no detail left to animate)."""
    crushed_advice: float = 0.20
    """Share of crushed shadows above which it is advice ..."""
    crushed_warning: float = 0.40
    """... and above which it is a warning."""

    # -- noise (Donoho's estimator on two Haar scales; see checks._noise_sigma)
    noise_advice: float = 3.0
    """Luminance noise σ (levels of 255, at the working size) above which grain is visible (advice)."""
    noise_warning: float = 6.0
    """Noise σ (levels of 255) above which the photo is heavily noisy (warning)."""
    noise_flat_share: float = 0.15
    """Share of the photo, the flattest, where noise is measured."""

    # -- compression (stillmotion._measure.jpeg_blockiness, full resolution)
    block_advice_ratio: float = 1.5
    """JPEG blockiness (ratio: step across the 8×8 grid over the typical step, regularised) above which
    compression is noticeable (advice). Measured: quality 90–95 gives 1.0–1.4."""
    block_warning_ratio: float = 1.9
    """Blockiness (ratio) above which the photo is heavily compressed (warning). Measured: quality 5 gives 2–4."""
    block_crop: int = 256
    """Side (px, full resolution) of the crops blockiness is measured on."""
    block_crops: int = 3
    """Crops per row and per column (``block_crops``² crops in all)."""

    # -- saturation and contrast
    oversaturated_s: float = 0.9
    """HSV saturation (0–1) above which a bright pixel counts as over-saturated."""
    oversaturated_v: float = 0.5
    """HSV value (0–1) above which an over-saturated pixel counts (dark saturated pixels are just shadows)."""
    oversaturated_advice: float = 0.15
    """Share of over-saturated pixels above which it is advice (a heavy filter or saturation boost)."""
    contrast_advice: float = 0.36
    """RMS contrast (luminance std / 255) above which contrast is extreme (advice)."""

    # -- depth cues (the Scene's depth: 0–1, 1 = near)
    depth_separation_good: float = 0.2
    """A face's depth minus the background's (0–1 depth scale) from which parallax reads well."""
    depth_subject_good: float = 0.12
    """Without a face, the subject's depth minus the rest's (0–1 depth scale) from which parallax reads well."""
    depth_open_sky: float = 0.1
    """Sky share from which a scene without faces has a far plane (a horizon) for parallax."""
    shallow_dof_spread: float = 0.7
    """Edge blur spread (px) between the blurred and the sharpest parts that marks a shallow depth of field."""

    # -- kind of photo
    portrait_face_share: float = 0.015
    """Largest face area (share of the frame) from which the photo is a portrait."""
    crowd_faces: int = 5
    """Faces (count) from which the photo is a crowd."""
    element_min_share: float = 0.02
    """Share of the frame from which a region (sky, water, ...) is reported as an element."""
    element_recommend_share: float = 0.05
    """Share of the frame from which sky, water or vegetation is put in a recommended prompt."""
    landscape_nature_share: float = 0.35
    """Share of sky + water + vegetation (with some sky) from which the photo is a landscape ..."""
    landscape_sky_share: float = 0.12
    """... the sky share that counts ..."""
    landscape_ground_share: float = 0.5
    """... or water + vegetation share alone (a lake shore, a meadow) from which it is one."""
    text_min_chars: int = 40
    """Character-like shapes (count) in text lines from which the photo is a text graphic ..."""
    text_min_lines: int = 3
    """... in at least this many lines ..."""
    text_min_cover: float = 0.04
    """... covering at least this share of the frame."""
    arch_line_length: float = 2.0
    """Total length of long straight lines, in units of (width + height), from which it is architecture ..."""
    arch_hv_share: float = 0.6
    """... when this share of that length is within 10° of vertical or horizontal ..."""
    arch_max_vegetation: float = 0.15
    """... and vegetation covers less than this share."""
    product_max_border_texture: float = 0.03
    """Median Sobel gradient magnitude (grey in [0, 1]) of the frame's border below which the background is clean ..."""
    product_max_border_spread: float = 40.0
    """... and the border's colour spread (75th percentile of the 8-bit Lab distance to its median colour)
    below which it is one colour or a soft gradient."""
    product_max_object_border: float = 0.35
    """Largest share of the border strip the object may cover (a product stands inside the frame)."""
    product_object_share: tuple[float, float] = (0.03, 0.7)
    """Share of the frame (min, max) the object standing out from that background must cover."""


THRESHOLDS = Thresholds()
"""The thresholds :func:`stillmotion.analysis.analyze_photo` uses."""
