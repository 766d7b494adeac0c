"""What kind of photo it is, and how well it should animate.

:func:`classify_kind` tells portrait, crowd, landscape, product, architecture,
text and general apart with classical rules on the Scene's layers (Haar faces,
region masks) and the image itself: rendered text lines, long straight lines,
a compact object on a clean background. :func:`expected_result` grades the
kind (:data:`EXPECTED`, the seeds' table), one step lower per warning.
Thresholds: :data:`~stillmotion.analysis.thresholds.THRESHOLDS`.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._measure import grad_mag
from .report import GRADES, Check
from .thresholds import THRESHOLDS as T

__all__ = ["EXPECTED", "classify_kind", "expected_result"]

EXPECTED = {
    "landscape": "Excellent",  # with sky or water; "Very good" with vegetation only
    "portrait": "Very good",
    "product": "Very good",
    "architecture": "Good",
    "general": "Good",
    "crowd": "Difficult",
    "text": "Poor",
}
"""Expected result by kind before the checks (the seeds' table)."""


def _text_lines(grey: np.ndarray) -> tuple[int, int, float]:
    """Rendered text: character-sized, stroke-like shapes of the minority tone, lined up in rows.

    Otsu binarisation, connected components of character size and fill
    (solid blobs such as windows are left out), each widened sideways by
    0.6× its height so the letters of a line merge; a line is a merged
    blob at least 3× wider than tall holding at least 5 characters.

    Returns:
        (characters in lines, lines, share of the frame the lines cover).
    """
    h, w = grey.shape
    g8 = (grey * 255).astype(np.uint8)
    _, bw = cv2.threshold(g8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    fg = bw == 0 if (bw == 0).mean() < 0.5 else bw > 0
    _n, _, st, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    x, y, cw, ch, area = (st[1:, i] for i in range(5))
    fill = area / np.maximum(cw * ch, 1)
    cand = np.nonzero(
        (ch >= max(5, 0.008 * h)) & (ch <= 0.12 * h) & (cw <= 2.5 * ch) & (area >= 12) & (fill > 0.08) & (fill < 0.85)
    )[0]
    if cand.size < T.text_min_chars:
        return int(cand.size), 0, 0.0
    rows = np.zeros((h, w), np.uint8)
    for i in cand:
        pad = int(0.6 * ch[i])
        cv2.rectangle(rows, (int(x[i] - pad), int(y[i])), (int(x[i] + cw[i] + pad), int(y[i] + ch[i] - 1)), 255, -1)
    m, labels, st2, _ = cv2.connectedComponentsWithStats(rows, connectivity=4)
    cx = np.clip(x[cand] + cw[cand] // 2, 0, w - 1)
    cy = np.clip(y[cand] + ch[cand] // 2, 0, h - 1)
    per_line = np.bincount(labels[cy, cx], minlength=m)
    lines = [k for k in range(1, m) if per_line[k] >= 5 and st2[k, 2] >= 3 * st2[k, 3]]
    chars = int(sum(per_line[k] for k in lines))
    cover = float(sum(st2[k, 4] for k in lines)) / (h * w)
    return chars, len(lines), cover


def _straight_lines(grey: np.ndarray) -> tuple[float, float]:
    """Long straight lines (probabilistic Hough on Canny edges).

    Returns:
        (total length in units of width + height, share of it within 10° of
        horizontal or vertical).
    """
    h, w = grey.shape
    edges = cv2.Canny((grey * 255).astype(np.uint8), 50, 150)
    found = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=50, minLineLength=int(0.1 * min(h, w)), maxLineGap=3)
    if found is None:
        return 0.0, 0.0
    seg = found[:, 0].astype(np.float32)
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    length = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(np.abs(dy), np.abs(dx)))
    hv = (angle < 10) | (angle > 80)
    return float(length.sum() / (h + w)), float(length[hv].sum() / max(float(length.sum()), 1e-6))


def _clean_background_object(small: np.ndarray, grey: np.ndarray) -> tuple[bool, str]:
    """A compact object standing out from a clean background (a product or still-life shot).

    The background is judged on the frame's border strip (6 % of the short
    side): smooth (median gradient below ``THRESHOLDS.product_max_border_texture``)
    and of one colour or a soft gradient (75th percentile of the Lab
    distance to its median colour below ``THRESHOLDS.product_max_border_spread``).
    The object is the largest blob far in colour from that backdrop: it must
    cover ``THRESHOLDS.product_object_share`` of the frame and at most
    ``THRESHOLDS.product_max_object_border`` of the border strip (it stands inside
    the frame, not across it).
    """
    h, w = grey.shape
    b = max(2, round(0.06 * min(h, w)))
    border = np.zeros((h, w), bool)
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    texture = float(np.median(grad_mag(cv2.GaussianBlur(grey, (0, 0), 1.0))[border]))
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab).astype(np.float32)  # 8-bit Lab: L, a, b in 0..255
    dist = np.linalg.norm(lab - np.median(lab[border], axis=0), axis=2)
    spread = float(np.percentile(dist[border], 75))
    if texture > T.product_max_border_texture or spread > T.product_max_border_spread:
        return False, "busy background"
    obj = (dist > max(2.0 * spread, 20.0)).astype(np.uint8)
    obj = cv2.morphologyEx(obj, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, labels, st, _ = cv2.connectedComponentsWithStats(obj, connectivity=8)
    if n <= 1:
        return False, "nothing stands out from the background"
    k = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
    share = st[k, cv2.CC_STAT_AREA] / (h * w)
    on_border = float((labels[border] == k).mean())
    if not T.product_object_share[0] <= share <= T.product_object_share[1] or on_border > T.product_max_object_border:
        return False, "the subject is not a compact object"
    return True, f"one compact subject ({share:.0%} of the frame) on a clean, smooth background"


def classify_kind(
    grey: np.ndarray, small: np.ndarray, faces: list, size: tuple[int, int], regions: dict[str, float]
) -> tuple[str, str]:
    """The kind of photo (one of :data:`~stillmotion.analysis.report.KINDS`) and why, in plain words.

    Rules, first match wins: text, crowd, portrait, architecture, landscape, product, general.

    Args:
        grey: float32 h×w luma in [0, 1] of the working copy.
        small: uint8 h×w×3, the working copy.
        faces: face boxes (x, y, w, h) in photo pixels, largest first.
        size: (width, height) of the photo in pixels.
        regions: share of the frame (0–1) of each element region (sky, water, vegetation, hair, steam).
    """
    W, H = size
    chars, lines, cover = _text_lines(grey)
    if chars >= T.text_min_chars and lines >= T.text_min_lines and cover >= T.text_min_cover:
        return "text", (
            f"rendered text: {chars} letter shapes in {lines} lines over {cover:.0%} of the frame; "
            "motion models and warps smear letters"
        )
    if len(faces) >= T.crowd_faces:
        return "crowd", f"{len(faces)} faces: many small faces are hard to keep natural in motion"
    face_share = faces[0][2] * faces[0][3] / (W * H) if faces else 0.0
    if faces and face_share >= T.portrait_face_share:
        who = "one face" if len(faces) == 1 else f"{len(faces)} faces"
        return "portrait", f"{who}, the largest {face_share:.1%} of the frame: blinks, breathing and a push-in suit it"
    sky, water, veg = regions.get("sky", 0.0), regions.get("water", 0.0), regions.get("vegetation", 0.0)
    length, hv = _straight_lines(grey)
    if length >= T.arch_line_length and hv >= T.arch_hv_share and veg < T.arch_max_vegetation:
        return "architecture", (
            f"long straight lines ({hv:.0%} of them vertical or horizontal) and little "
            "vegetation: a building or structure; straight lines bend if the camera moves too much"
        )
    nature = sky + water + veg
    if (sky >= T.landscape_sky_share and nature >= T.landscape_nature_share) or water + veg >= T.landscape_ground_share:
        shares = (("sky", sky), ("water", water), ("vegetation", veg))
        parts = [f"{k} {v:.0%}" for k, v in shares if v >= T.element_min_share]
        return "landscape", f"natural elements fill the frame ({', '.join(parts)}): each can move on its own"
    product, why = _clean_background_object(small, grey)
    if product:
        return "product", f"{why}: a product or still-life shot"
    if regions.get("steam", 0.0) >= T.element_min_share:
        return "product", "a cup seen from above, as the subject: a food or drink shot"
    if faces:
        return "general", f"a small face ({face_share:.1%} of the frame) in a wider scene"
    return "general", "no face, no large natural elements, no dominant lines or clean backdrop: a general scene"


def expected_result(kind: str, regions: dict[str, float], checks: list[Check]) -> tuple[str, str]:
    """Expected result (one of :data:`~stillmotion.analysis.report.GRADES`): the kind's grade, one step
    lower per warning (two at most), Poor if a check is unusable; and the reason for a downgrade ("" if none)."""
    grade = EXPECTED[kind]
    if kind == "landscape" and max(regions.get("sky", 0.0), regions.get("water", 0.0)) < T.element_min_share:
        grade = "Very good"
    unusable = [c.name for c in checks if c.level == "unusable"]
    if unusable:
        return "Poor", f"Poor because {', '.join(unusable)} is unusable"
    warnings = [c.name for c in checks if c.level == "warning"]
    if not warnings:
        return grade, ""
    lowered = GRADES[min(len(GRADES) - 1, GRADES.index(grade) + min(2, len(warnings)))]
    if lowered == grade:
        return grade, ""
    plural = "s" if len(warnings) > 1 else ""
    return lowered, f"{grade} for a {kind} photo, lowered by the {' and '.join(warnings)} warning{plural}"
