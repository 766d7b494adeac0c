"""What the Scene saw, drawn: the photo with its element regions tinted, outlined and labelled.

``stillmotion analyze PHOTO --show-regions OUT.png`` and ``stillmotion
animate … --show-regions OUT.png`` write :func:`render_regions`' image, so
a user sees at once why the water did not move (no water region was found)
and paints ``--mask`` instead.

Each kind of :data:`~stillmotion.scene.regions.REGION_KINDS` has its own
colour (:data:`REGION_COLOURS`): the photo is tinted toward it in
proportion to the soft mask (``TINT`` at mask 1) and the mask's 0.5 level
is outlined. Face boxes are outlined in :data:`FACE_COLOUR`, the person
mask's 0.5 level in :data:`PERSON_COLOUR`. The legend sits in a dark band
under the photo (so it hides none of it): one entry per kind with its
swatch and its share of the frame, or "not found" (:func:`legend_entries`).

The share of the frame of a kind is the mean of its soft mask
(:func:`region_shares`), the measure ``analyze`` reports and judges
elements by (``analysis.THRESHOLDS.element_min_share``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from .._measure import check_rgb_uint8
from .regions import REGION_KINDS

__all__ = [
    "FACE_COLOUR",
    "MIN_SIDE",
    "PERSON_COLOUR",
    "REGION_COLOURS",
    "TINT",
    "legend_entries",
    "region_shares",
    "render_regions",
]

REGION_COLOURS: dict[str, tuple[int, int, int]] = {
    "sky": (70, 120, 255),
    "water": (0, 235, 235),
    "vegetation": (90, 225, 40),
    "hair": (255, 140, 0),
    "steam": (255, 70, 220),
}
"""RGB colour of each region kind (uint8 values), as drawn by :func:`render_regions`."""
FACE_COLOUR = (255, 235, 0)
"""RGB colour of the face boxes."""
PERSON_COLOUR = (255, 60, 60)
"""RGB colour of the person mask's outline."""
TINT = 0.5
"""Opacity of a kind's colour where its mask is 1 (it falls off in proportion to the mask)."""
MIN_SIDE = 480
"""Smallest long side, in pixels, of the drawn photo (a smaller photo is scaled up so the legend is legible)."""

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BAND = (24, 24, 24)
_TEXT = (235, 235, 235)
_DIM = (150, 150, 150)


def region_shares(regions: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The share of the frame of each region: the mean of its soft mask, in [0, 1].

    Args:
        regions: kind → float mask in [0, 1] (any size), e.g. ``Scene.regions``.

    Returns:
        kind → share (a plain float), in the order of ``regions``.
    """
    return {k: float(np.mean(v)) for k, v in regions.items()}


def render_regions(
    rgb: np.ndarray,
    regions: Mapping[str, np.ndarray],
    *,
    faces: Sequence[tuple[int, int, int, int]] | None = None,
    person: np.ndarray | None = None,
    max_side: int = 1280,
    min_share: float = 0.02,
    title: str | None = None,
) -> np.ndarray:
    """The photo with its regions tinted and outlined, face boxes drawn, and a legend band under it.

    Args:
        rgb: uint8 H×W×3 RGB photo.
        regions: kind (one of :data:`REGION_KINDS`) → float mask in [0, 1], 1 = the
            element, at any size with the photo's aspect (``Scene.regions``: long side
            512 px); resized to the drawn photo.
        faces: face boxes ``(x, y, w, h)`` in photo pixels (``Scene.faces``), or None.
        person: float person mask in [0, 1] at any size with the photo's aspect
            (``Scene.person``), or None; its 0.5 level is outlined.
        max_side: largest long side of the drawn photo in pixels (≥ 64); the photo is
            scaled to ``min(max_side, max(long side, MIN_SIDE))`` on its long side.
        min_share: share of the frame (mean of the mask, see :func:`region_shares`)
            from which a kind is listed as found; below it the legend says "not found".
            Callers pass ``analysis.THRESHOLDS.element_min_share`` so the picture and the
            report agree.
        title: a first legend line (e.g. ``Scene.regions_method``), or None. ASCII:
            OpenCV's Hershey font draws no other characters.

    Returns:
        uint8 (h + legend)×w×3 RGB: the photo scaled to h×w, then a dark legend band
        as wide as the photo (one entry per kind of ``regions`` in :data:`REGION_KINDS`
        order, then faces and person when given).

    Raises:
        ValueError: ``rgb`` is not uint8 H×W×3; a kind is not one of
            :data:`REGION_KINDS`; a mask or ``person`` is not 2-D; ``max_side`` < 64.

    Example:
        >>> from sklearn.datasets import load_sample_image
        >>> from stillmotion.scene import Scene
        >>> scene = Scene(load_sample_image("china.jpg"))
        >>> out = render_regions(scene.rgb, scene.regions, faces=scene.faces)
        >>> out.dtype, out.shape[1]
        (dtype('uint8'), 640)
    """
    check_rgb_uint8("rgb", rgb)
    unknown = [k for k in regions if k not in REGION_COLOURS]
    if unknown:
        raise ValueError(f"regions has unknown kind {unknown[0]!r}; kinds are {', '.join(REGION_KINDS)}")
    for name, m in [*regions.items(), *([("person", person)] if person is not None else [])]:
        if np.ndim(m) != 2:
            raise ValueError(f"the {name} mask must be a 2-D float array in [0, 1], got shape {np.shape(m)}")
    if max_side < 64:
        raise ValueError(f"max_side must be at least 64 px, got {max_side}")

    # 1. The photo at drawing size.
    H, W = rgb.shape[:2]
    s = min(max_side, max(H, W, MIN_SIDE)) / max(H, W)
    w, h = max(1, round(W * s)), max(1, round(H * s))
    photo = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out: np.ndarray = photo.astype(np.float32)
    line = max(1, round(max(w, h) / 640))

    # 2. Tint each kind in proportion to its mask, then outline its 0.5 level.
    kinds = [k for k in REGION_KINDS if k in regions]
    sized = {k: _fit(regions[k], w, h) for k in kinds}
    for k in kinds:
        a = (np.float32(TINT) * sized[k])[..., None]
        out = out * (1.0 - a) + np.asarray(REGION_COLOURS[k], np.float32) * a
    img = np.ascontiguousarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))
    for k in kinds:
        _outline(img, sized[k], REGION_COLOURS[k], line)
    if person is not None:
        _outline(img, _fit(person, w, h), PERSON_COLOUR, line)
    for x, y, bw, bh in faces or ():
        p0, p1 = (round(x * s), round(y * s)), (round((x + bw) * s), round((y + bh) * s))
        cv2.rectangle(img, p0, p1, (0, 0, 0), line + 2)
        cv2.rectangle(img, p0, p1, FACE_COLOUR, line)

    # 3. The legend band: a title, then one entry per kind (swatch, name, share or "not found").
    entries = legend_entries({k: regions[k] for k in kinds}, faces=faces, person=person, min_share=min_share)
    return np.vstack([img, _legend(entries, title, w)])


def legend_entries(
    regions: Mapping[str, np.ndarray],
    *,
    faces: Sequence[tuple[int, int, int, int]] | None = None,
    person: np.ndarray | None = None,
    min_share: float = 0.02,
) -> list[tuple[tuple[int, int, int], str, bool]]:
    """The legend of :func:`render_regions`, as data: ``(RGB colour, text, found)`` per entry.

    One entry per kind of ``regions`` in :data:`REGION_KINDS` order (``"water 7.7%"``, or
    ``"hair: not found"`` below ``min_share`` of the frame), then ``"faces: N"`` when
    ``faces`` is given and ``"person 45.0%"`` when ``person`` is. Arguments as in
    :func:`render_regions`.
    """
    entries: list[tuple[tuple[int, int, int], str, bool]] = []
    shares = region_shares(regions)
    for k in REGION_KINDS:
        if k in shares:
            found = shares[k] >= min_share
            entries.append((REGION_COLOURS[k], f"{k} {shares[k] * 100:.1f}%" if found else f"{k}: not found", found))
    if faces is not None:
        entries.append((FACE_COLOUR, f"faces: {len(faces)}" if faces else "faces: not found", bool(faces)))
    if person is not None:
        share = float(np.mean(person))
        found = share >= min_share
        entries.append((PERSON_COLOUR, f"person {share * 100:.1f}%" if found else "person: not found", found))
    return entries


# --------------------------------------------------------------- helpers


def _fit(mask: np.ndarray, w: int, h: int) -> np.ndarray:
    """A mask resized to w×h, float32 in [0, 1]."""
    m = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    return cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


def _outline(img: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], line: int) -> None:
    """Draw the mask's 0.5 level on ``img`` in place: a dark under-stroke, then the colour."""
    contours, _ = cv2.findContours((mask >= 0.5).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(img, contours, -1, (0, 0, 0), line + 2, cv2.LINE_AA)
    cv2.drawContours(img, contours, -1, colour, line, cv2.LINE_AA)


def _legend(entries: list[tuple[tuple[int, int, int], str, bool]], title: str | None, w: int) -> np.ndarray:
    """The legend band, uint8 h×w×3: the title (wrapped), then the entries in as many columns as fit."""
    scale = float(np.clip(w / 1100, 0.45, 0.8))
    thick = 1 if scale < 0.6 else 2
    (_, th), base = cv2.getTextSize("Hg", _FONT, scale, thick)
    row = th + base + max(6, th // 2)
    pad = max(6, th // 2)
    sw = th + base  # swatch side
    title_lines = _wrap(title, scale, thick, w - 2 * pad) if title else []
    col = max(cv2.getTextSize(t, _FONT, scale, thick)[0][0] for _, t, _ in entries) + sw + 3 * pad if entries else w
    cols = max(1, min(len(entries), (w - pad) // col)) if entries else 1
    rows = math.ceil(len(entries) / cols)
    band = np.full((2 * pad + row * (len(title_lines) + rows), w, 3), _BAND, np.uint8)
    y = pad
    for t in title_lines:
        cv2.putText(band, t, (pad, y + th), _FONT, scale, _DIM, thick, cv2.LINE_AA)
        y += row
    for i, (colour, text, found) in enumerate(entries):
        x, yy = pad + (i % cols) * col, y + (i // cols) * row
        cv2.rectangle(band, (x, yy), (x + sw, yy + sw), colour, -1 if found else 1)
        cv2.putText(band, text, (x + sw + pad, yy + th), _FONT, scale, _TEXT if found else _DIM, thick, cv2.LINE_AA)
    return band


def _wrap(text: str, scale: float, thick: int, width: int) -> list[str]:
    """``text`` cut at spaces into lines no wider than ``width`` pixels (a longer word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(trial, _FONT, scale, thick)[0][0] <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines
