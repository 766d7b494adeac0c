"""Recommended motion prompts for a photo, and the clip length that suits it.

Every clause of every prompt is one the prompt parser
(:func:`stillmotion.plan.prompt.parse_prompt`) understands in full.
"""

from __future__ import annotations

import cv2
import numpy as np

from .thresholds import THRESHOLDS as T

__all__ = ["DURATION_S", "recommend_prompts"]

DURATION_S = {"Excellent": 5.0, "Very good": 5.0, "Good": 5.0, "Difficult": 4.0, "Poor": 3.0}
"""Recommended clip length in seconds by expected result: a weak photo holds up for less time."""


def _blue_sky(small: np.ndarray, sky: np.ndarray) -> bool:
    """The sky region is blue (a real sky, not a plain grey or white backdrop taken for sky)."""
    m = cv2.resize(sky, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR) > 0.5
    if m.sum() < 16:
        return False
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)  # H in 0..180 (degrees / 2)
    hue, sat = float(np.median(hsv[..., 0][m])) * 2, float(np.median(hsv[..., 1][m])) / 255
    return 180 <= hue <= 260 and sat >= 0.12


def recommend_prompts(
    kind: str,
    elements: list[str],
    shares: dict[str, float],
    masks: dict[str, np.ndarray],
    flat: bool,
    small: np.ndarray,
) -> list[str]:
    """Motion prompts for this photo, best first; every clause is one the prompt parser uses.

    The first prompt combines the kind's motion (a portrait's blinks, a
    product's orbit, a building's tilt) with up to two natural elements and
    a camera move that suits the depth (a push-in on a flat scene, an orbit
    where the subject stands out); the others are a still-camera
    cinemagraph and a second camera move. An element is used when it covers
    ``THRESHOLDS.element_recommend_share`` of the frame; sky only in landscapes and
    architecture or when it is blue (the region detector takes a plain
    backdrop for sky); a portrait gets no sky or water (a backdrop, mostly).

    Args:
        kind: one of :data:`~stillmotion.analysis.report.KINDS`.
        elements: the element regions found (sky, water, vegetation, hair, steam).
        shares: share of the frame (0–1) of each region.
        masks: the Scene's float32 region masks in [0, 1].
        flat: the depth check found no good depth cue (a push-in rather than an orbit).
        small: uint8 h×w×3, the Scene's working copy (is the sky blue?).

    Returns:
        1 to 3 distinct prompts, best first.
    """
    blue_sky = _blue_sky(small, masks["sky"])
    phrases: dict[str, str] = {}
    for e in elements:
        if shares.get(e, 0.0) < T.element_recommend_share and e not in ("hair", "steam"):
            continue
        if e == "sky" and kind not in ("landscape", "architecture") and not blue_sky:
            continue
        if e == "sky":
            phrases[e] = "clouds drifting slowly to the left"
        elif e == "water":
            pool = shares.get("water", 0.0) > 0.6 and shares.get("sky", 0.0) < T.element_min_share
            phrases[e] = "ripples spreading across the water" if pool else "gentle waves on the water"
        elif e == "vegetation":
            m = masks["vegetation"]
            upper = float(m[: m.shape[0] // 2].sum()) / max(float(m.sum()), 1e-6)
            if upper > 0.6:
                phrases[e] = "leaves swaying gently in the breeze"
            elif shares.get("vegetation", 0.0) >= 0.3:
                phrases[e] = "grass swaying gently in the breeze"
            else:
                phrases[e] = "foliage swaying gently in the breeze"
        elif e == "steam":
            phrases[e] = "steam rising from the cup"
        elif e == "hair":
            phrases[e] = "hair moving gently in the breeze"
    # Water moves best, then plants, then clouds; the still-camera cinemagraph pairs
    # the first with the sky (two different flows).
    ordered = [phrases[e] for e in ("water", "vegetation", "sky") if e in phrases]
    nature = ordered[:2]
    still = [ordered[0], phrases["sky"]] if len(ordered) >= 2 and "sky" in phrases else nature
    out: list[str] = []
    if kind == "portrait":
        hair = [phrases["hair"]] if "hair" in phrases else []
        out.append(", ".join(["natural blinks", "subtle breathing", *hair, "slow push-in toward the face"]))
        out.append("natural blinks, subtle breathing, static camera")
        veg = [phrases["vegetation"]] if "vegetation" in phrases else []
        out.append(", ".join(["natural blinks", "gentle head sway", *veg, "very slow push-in"]))
    elif kind == "product":
        steam = [phrases["steam"]] if "steam" in phrases else []
        move = "slow push-in toward the subject" if flat else "slow orbit around the subject"
        out.append(", ".join([*steam, move, "soft light shifting"]))
        out.append(", ".join([*steam, "soft light shifting", "static camera"]))
        out.append(", ".join([*steam, "slow push-in toward the subject" if not flat else "very slow pull-back"]))
    elif kind == "architecture":
        sky = [phrases["sky"]] if "sky" in phrases else []
        out.append(", ".join([*sky, "slow tilt up revealing the building"]))
        out.append(", ".join([*sky, "very slow push-in toward the building"]))
    elif kind == "landscape":
        out.append(", ".join([*nature, "slow push-in"]))
        out.append(", ".join([*still, "static camera"]))
        out.append(", ".join([*nature[:1], "slow pan to the right"]))
    elif kind == "crowd":
        out.append("very slow push-in")
        out.append(", ".join([*nature[:1], "static camera"]) if nature else "very slow pull-back")
    elif kind == "text":
        out.append("very slow push-in")
        out.append("soft light shifting, static camera")
    else:
        move = "slow push-in" if flat else "gentle orbit to the right"
        out.append(", ".join([*nature, move]))
        out.append(", ".join([*nature, "slow pan to the right" if flat else "slow push-in"]))
        if nature:
            out.append(", ".join([*still, "static camera"]))
    unique: list[str] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique
