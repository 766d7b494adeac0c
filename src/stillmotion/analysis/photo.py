"""The analysis pipeline: :func:`analyze_photo` (load, understand, kind, checks, prompts)."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np

from ..errors import InputError
from ..image import Still, load_image
from ..request import Aspect
from ..scene import Scene
from ..scene.overlay import region_shares
from .checks import run_checks
from .kind import classify_kind, expected_result
from .recommend import DURATION_S, recommend_prompts
from .report import ELEMENTS, ENGINE, Report
from .thresholds import THRESHOLDS as T

__all__ = ["analyze_photo"]


def analyze_photo(
    photo: str | os.PathLike | Still,
    *,
    target_aspect: Aspect | str | None = None,
    scene: Scene | None = None,
) -> Report:
    """Judge a photo before animating it: checks, kind, expected result, prompts.

    Args:
        photo: a photo file, or a :class:`~stillmotion.image.Still` already loaded.
        target_aspect: the output aspect the clip will have (16:9, 9:16, 1:1,
            4:5); the aspect check says how much of the photo a crop to it
            keeps. None or ``source``: the closest output aspect is reported.
        scene: the photo's :class:`~stillmotion.scene.Scene`, if one exists
            (its layers are reused; built from the photo when None). Must
            wrap the same pixels.

    Returns:
        A :class:`Report`; ``report.usable`` is False when a check is unusable.

    Raises:
        InputError: the file cannot be loaded (see :func:`~stillmotion.image.load_image`),
            or ``target_aspect`` is not an output aspect.
        ValueError: ``scene`` wraps a photo of another size.

    >>> report = analyze_photo("photo.jpg", target_aspect="9:16")  # doctest: +SKIP
    >>> report.check("aspect").message  # doctest: +SKIP
    '3:2 photo (1.50): a 9:16 crop keeps 38% of the width, around the subject'
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        target = Aspect(target_aspect) if target_aspect is not None else None
    except ValueError:
        raise InputError(
            f"target_aspect {target_aspect!r} is not an output aspect: use 16:9, 9:16, 1:1, 4:5 or source"
        ) from None
    if target is Aspect.source:
        target = None

    # 1. Load.
    still = photo if isinstance(photo, Still) else load_image(photo)
    rgb = still.rgb
    W, H = still.size
    t1 = time.perf_counter()
    timings["load"] = t1 - t0

    # 2. Understand: the layers a following animate reuses.
    if scene is None:
        scene = Scene(rgb)
    elif scene.size != (W, H):
        raise ValueError(
            f"scene is {scene.size[0]}×{scene.size[1]} px but the photo is {W}×{H} px: pass the photo's own Scene"
        )
    faces = scene.faces
    regions = region_shares(scene.regions)
    small = scene.small  # the Scene's working copy, long side at most DEPTH_SIDE (shared, not recomputed)
    t2 = time.perf_counter()
    timings["scene"] = t2 - t1

    # 3. Kind of photo (the exposure check needs it: a product's white backdrop is no flaw).
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    kind, reason = classify_kind(grey, small, faces, (W, H), regions)
    t3 = time.perf_counter()
    timings["kind"] = t3 - t2

    # 4. Checks.
    checks = run_checks(rgb, scene, target=target, kind=kind)
    t4 = time.perf_counter()
    timings["checks"] = t4 - t3

    # 5. Expected result and prompts.
    elements = [k for k in ELEMENTS if regions.get(k, 0.0) >= T.element_min_share]
    expected, downgrade = expected_result(kind, regions, checks)
    if downgrade:
        reason = f"{reason}; {downgrade}"
    flat = next(c for c in checks if c.name == "depth").level != "ok"
    recommendations = recommend_prompts(kind, elements, regions, scene.regions, flat, small)
    t5 = time.perf_counter()
    timings["recommend"] = t5 - t4
    timings["total"] = t5 - t0

    return Report(
        path=str(still.path) if getattr(still, "path", None) is not None else "",
        width=W,
        height=H,
        checks=checks,
        kind=kind,
        kind_reason=reason,
        expected=expected,
        faces=len(faces),
        elements=elements,
        recommendations=recommendations,
        engine=ENGINE,
        duration_s=DURATION_S[expected],
        timings_s=timings,
        regions={k: regions[k] for k in ELEMENTS if k in regions},
        regions_method=scene.regions_method,
    )
