"""Region masks for element motion, classical and fast: sky, water, vegetation, hair, steam.

The ``living`` engine moves each element its own way (clouds drift, water
ripples, grass sways, hair lifts, steam rises), so it needs to know where
each element is. :func:`detect_regions` finds them with colour, texture and
position cues, no model and no download, in a few tens of milliseconds:

- **sky**: smooth, blue (and not dark) or grey (and among the brighter
  pixels of the photo), connected to the top edge, or cut off from it by
  a thin thing in front (a cable, a mast: pieces whose colour where they
  face the sky is within ΔE 5 of it join) (the priors of Shen & Wang,
  "Sky Region Detection in a Single Image for Autonomous Ground Robot
  Navigation", IJARS 2013, via :func:`stillmotion.scene.depth.sky_mask`);
  dropped where it reaches the bottom edge (a frame of smooth water or a
  wall) or when it is frayed into pieces (white boards, bokeh, a close-up
  of water: :func:`stillmotion.scene.depth.is_frayed`); cut at a sharp,
  straight horizontal colour step (a smooth region under it is water
  that mirrors the sky).
- **water**: below the horizon, blue/cyan or the colour of the sky just
  above the horizon, not much darker than that sky (water reflects the
  sky; a road under it is darker), with low variation of saturation over
  the region (the hue/saturation-variance cue of Yu et al., Applied
  Sciences 10:2471, 2020) and either very smooth or textured in horizontal
  stripes (structure-tensor anisotropy: waves and ripples seen at a
  grazing angle; a grey mountain under the sky is neither); a large region
  that reaches the horizon and is more than a thin strip along it.
  Without a horizon only a large blue body that fills the bottom of the
  frame counts (a close-up of a water surface, not a blue backdrop or a
  bokeh floor), grown into its dark and bright reflections. Whatever is
  much more textured than the water around it (a boat, an island) is left
  out.
- **vegetation**: clear green anywhere, duller the truer the green
  (blurred leaves and grass, a field under a storm sky are plants too); olive, yellow-green and golden (dry grass) where the photo
  is textured, and those only outdoors (with a sky or clear green in the
  photo: indoors they are wood, cork or fabric); thin warm stalks and
  twigs against a blue background; blossoms: saturated patches of any
  colour nearly enclosed by vegetation; clumps of at least 1 % of the
  frame.
- **hair**: only when faces are given: the head ellipse around each face
  box (about 1.6× the box, shifted up), minus the face's inner part, kept
  where the colour is far from the face's own skin colour and the pixel
  is textured or dark, and (with ``depth``) not far behind the face.
- **steam**: where steam would rise from a cup: a bright, low-saturation
  blob whose outline is an ellipse wider than tall with darker contents
  (a cup's rim seen from above or at an angle, :func:`cv2.fitEllipse`),
  the most salient one (spectral residual, Hou & Zhang 2007), and a soft
  plume above its top edge: as wide as the rim, 1.3× its height, fading
  upward.

Every mask but steam (a smooth synthetic plume) is cleaned the same way:
components smaller than :data:`MIN_COMPONENT` of the frame are removed
(pinholes a tenth of that are filled; larger holes are things in front,
such as a boat, and stay out), the mask is carried up to nearby image
edges, feathered and snapped to them with a guided filter (He et al.,
ECCV 2010), so the boat does not ripple with the water around it.

Limits: these are heuristics, scored on 22 hand-labelled real photos
(``tests/data/scene``, ``benchmarks/bench_scene.py``: IoU sky 0.88, water
0.81, vegetation 0.68, presence right 96 % of the time). A studio
portrait's plain backdrop may be taken for sky. Water needs the sky's
colour or a blue/cyan tint: dark or muddy water, white water in a stream,
and a thin distant strip of sea are missed. Vegetation is found by colour:
a flower close-up with no leaves, tree trunks, autumn-orange and leafless
trees and motion-blurred fields are missed, and bright green things (a
green jumper, a wall) are included. Hair is only looked for around detected
faces and misses hair as light as the skin. Steam finds only light-coloured
cups with a visible rim and enough room above it; a dark mug, a glass, a
pot or a chimney gives an empty mask, and a white bowl or plate with darker
contents may give a false one.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._measure import check_rgb_uint8
from .depth import guided_filter, is_frayed, sky_mask, spectral_residual_saliency

__all__ = ["MIN_COMPONENT", "REGION_KINDS", "REGION_SIDE", "detect_regions"]

REGION_KINDS = ("sky", "water", "vegetation", "hair", "steam")
"""The elements :func:`detect_regions` returns a mask for, in this order."""

REGION_SIDE = 512
"""Long side, in pixels, at which masks are computed and returned."""

MIN_COMPONENT = 0.005
"""Smallest connected region kept in a mask, as a fraction of the frame's area."""


def detect_regions(
    rgb: np.ndarray,
    *,
    faces: list[tuple[int, int, int, int]] | None = None,
    depth: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Soft masks of the elements that move in a living photo.

    Args:
        rgb: uint8 H×W×3 RGB photo, any size.
        faces: face boxes ``(x, y, w, h)`` in pixels of ``rgb``; hair is
            only looked for around these.
        depth: float32 depth in [0, 1], 1 = near, at any resolution (it is
            resized); used to keep hair in front of the background.

    Returns:
        A dict with every kind of :data:`REGION_KINDS` mapped to a float32
        h×w mask in [0, 1] (1 = the element, soft edges), where h×w is the
        photo's size scaled so the long side is :data:`REGION_SIDE`
        (aspect kept). An element that is not found is an all-zero mask.

    Raises:
        ValueError: ``rgb`` is not uint8 H×W×3, or ``depth`` is not 2-D.

    Example:
        >>> import skimage.data
        >>> masks = detect_regions(skimage.data.coffee())
        >>> sorted(masks) == sorted(REGION_KINDS), masks["sky"].shape
        (True, (341, 512))
    """
    check_rgb_uint8("rgb", rgb)
    if depth is not None and np.ndim(depth) != 2:
        raise ValueError(f"depth must be a 2-D map, got shape {np.shape(depth)}")

    # 1. Work size and per-pixel features.
    H, W = rgb.shape[:2]
    scale = REGION_SIDE / max(H, W)
    h, w = max(8, round(H * scale)), max(8, round(W * scale))
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    img = small.astype(np.float32) / 255.0
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # H in degrees, S and V in [0, 1]
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)  # L in [0, 100], a and b about ±100
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    texture = cv2.GaussianBlur(np.sqrt(gx * gx + gy * gy), (0, 0), 2.0)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 3.0)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 3.0)
    # +1 where the structure is horizontal stripes (gradients point up/down).
    stripes = (jyy - jxx) / (jyy + jxx + 1e-4)
    min_area = MIN_COMPONENT * h * w

    # 2. Vegetation first, so stalks and twigs in front of the sky stay out
    # of it (golden grass and blonde hair share hues: hair wins, step 5).
    veg_hard, veg_strict, veg_warm = _vegetation(img, grey, texture, lab)

    # 3. Sky, cut at the horizon.
    sky_hard = (sky_mask(img, grey) > 0.5) & ~veg_strict
    sky_hard = _drop_bottom_touching(sky_hard)
    sky_hard, below_cut = _cut_at_colour_step(sky_hard, lab)
    if is_frayed(sky_hard):
        # White boards, a window, bokeh: many pieces, not one sky.
        sky_hard[:] = False
        below_cut[:] = False
    if sky_hard.mean() < 0.02:
        sky_hard[:] = False  # scraps left after the cuts
    else:
        # Dark clouds and birds enclosed by sky are part of it (clouds drift).
        sky_hard |= _enclosed_holes(sky_hard, 0.03 * h * w)
    horizon = _horizon_row(sky_hard)

    # 4. Water below it.
    water_hard = _water(hsv, lab, texture, stripes, sky_hard, below_cut, horizon, min_area)

    # 5. Hair around faces.
    hair_soft = np.zeros((h, w), np.float32)
    if faces:
        d_small = None
        if depth is not None:
            d_small = cv2.resize(np.asarray(depth, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        boxes = [tuple(v * scale for v in f) for f in faces]
        hair_soft = _hair(lab, texture, boxes, d_small)

    veg_hard &= ~water_hard & (hair_soft < 0.3)
    if not sky_hard.any() and (veg_hard & ~veg_warm).mean() < 0.02:
        veg_hard &= ~veg_warm  # indoors: olive and golden are wood, cork or fabric
    veg_hard |= _flowers(hsv, veg_hard, sky_hard | water_hard | (hair_soft > 0.3), min_area)

    # 6. Steam above a cup.
    steam_soft = _steam(hsv, grey, sky_hard | water_hard, min_area)

    # 7. Clean and feather: no speckle, edges snapped to the photo.
    out = {
        "sky": _finish(sky_hard, grey, min_area),
        "water": _finish(water_hard, grey, min_area),
        # Plants come in clumps: a lone vegetation-coloured patch under 1 %
        # is more likely an object (a cat's green eye, a reflection).
        "vegetation": _finish(veg_hard, grey, 2 * min_area, group=5),
        "hair": _finish(hair_soft > 0.5, grey, min_area, soft=hair_soft),
        "steam": np.clip(steam_soft, 0.0, 1.0).astype(np.float32),
    }
    return {k: out[k] for k in REGION_KINDS}


# ---------------------------------------------------------------- helpers


def _ramp(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    """0 at ``lo``, 1 at ``hi`` (decreasing when ``hi < lo``), linear between."""
    return np.clip((np.asarray(x, np.float32) - lo) / (hi - lo), 0.0, 1.0)


def _remove_small(mask: np.ndarray, min_area: float, group: int = 1) -> np.ndarray:
    """Drop connected components smaller than ``min_area`` pixels; pixels
    closer than ``group`` pixels count as connected (thin broken stalks)."""
    linked = mask.astype(np.uint8)
    if group > 1:
        linked = cv2.dilate(linked, np.ones((group, group), np.uint8))
    n, labels = cv2.connectedComponents(linked, connectivity=8)
    area = np.bincount(labels[mask], minlength=n)  # pixels of the mask itself
    keep = area >= min_area
    keep[0] = False
    return keep[labels] & mask


def _finish(
    hard: np.ndarray, grey: np.ndarray, min_area: float, soft: np.ndarray | None = None, group: int = 1
) -> np.ndarray:
    """Despeckle (small components and holes), feather, snap to the photo's edges."""
    if not hard.any():
        return np.zeros(grey.shape, np.float32)
    hard = _remove_small(hard, min_area, group)
    # Fill only pinholes: a larger hole is something in front (a boat on
    # the water, a bird in the sky) that must not move with the element.
    hard = ~_remove_small(~hard, 0.1 * min_area)
    if not hard.any():
        return np.zeros(grey.shape, np.float32)
    # Reach the photo's edges: masks found from smoothness stop a few pixels
    # short of an edge; a guided filter with a wider window and a small eps
    # carries them up to it (and no further where the edge is strong).
    reach = guided_filter(grey, hard.astype(np.float32), radius=6, eps=1e-4) > 0.5
    hard = hard | (reach & (cv2.dilate(hard.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0))
    m = hard.astype(np.float32)
    if soft is not None:
        m = m * np.clip(soft, 0.0, 1.0)
    # Snap to the photo's edges (the guided filter moves a mask edge onto a
    # nearby image edge), but never lose what was found: thin stalks that
    # the filter would average away are kept, lightly feathered.
    snapped = guided_filter(grey, cv2.GaussianBlur(m, (0, 0), 1.0), radius=3, eps=1e-3)
    m = np.maximum(snapped, cv2.GaussianBlur(m, (0, 0), 0.7))
    return np.clip(m, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- sky


def _drop_bottom_touching(sky: np.ndarray) -> np.ndarray:
    """Remove sky components that reach the bottom edge: sky lies above something."""
    h, _w = sky.shape
    n, labels = cv2.connectedComponents(sky.astype(np.uint8), connectivity=8)
    if n <= 1:
        return sky
    bottom = labels[h - max(2, h // 40) :]
    out = sky.copy()
    for lab_id in np.unique(bottom[bottom > 0]):
        if (bottom == lab_id).any(axis=0).mean() > 0.05:
            out &= labels != lab_id
    return out


def _enclosed_holes(mask: np.ndarray, max_area: float) -> np.ndarray:
    """Holes of ``mask`` that touch no image border and are at most ``max_area`` pixels."""
    _n, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    h, w = mask.shape
    x, y, bw, bh, area = (stats[:, i] for i in range(5))
    inner = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (area <= max_area)
    inner[0] = False  # label 0 is the mask itself
    return inner[labels] & ~mask


def _cut_at_colour_step(sky: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the sky candidate at a horizontal colour step, if there is one.

    Sky changes colour slowly with height (ΔE of 2–3 per tenth of the
    frame); a hazy lake or sea that joins it without a visible shore shows
    as a step. The candidate is cut at the strongest step (ΔE ≥ 6 between
    bands of rows a few percent of the height above and below), when the
    step shows across the width and at one row (the median colour change
    per row over the columns peaks at 3× its median: a shoreline, not a
    ridge or a cloud bank), and when the part below is not brighter than
    the part above: water reflects only
    part of the sky's light, while a sky brightens toward the horizon
    (haze, sunsets). Returns (sky above the step, the candidate below it).
    """
    h, w = sky.shape
    none = np.zeros_like(sky)
    cnt = sky.sum(axis=1).astype(np.float32)
    rows = np.nonzero(cnt > 0.1 * w)[0]
    if len(rows) < 12:
        return sky, none
    sums = np.stack([(lab[..., c] * sky).sum(axis=1) for c in range(3)], axis=1)
    k = max(3, h // 30)
    g = max(1, k // 2)
    best, best_y = 0.0, -1
    for y in range(rows[0] + max(k, h // 8), rows[-1] - k - g + 1):
        a = slice(y - g - k, y - g)
        b = slice(y + g, y + g + k)
        if cnt[a].min() < 0.1 * w or cnt[b].min() < 0.1 * w:
            continue
        ma = sums[a].sum(0) / cnt[a].sum()
        mb = sums[b].sum(0) / cnt[b].sum()
        d = float(np.sqrt(((ma - mb) ** 2).sum()))
        if d > best and mb[0] <= ma[0] + 1.0:
            best, best_y = d, y
    if best < 6.0:
        return sky, none
    # A horizon is straight: the step must show across the width, not only
    # where a cloud bank happens to end.
    a = slice(best_y - g - k, best_y - g)
    b = slice(best_y + g, best_y + g + k)
    agree = []
    for cols in np.array_split(np.arange(w), 8):
        sa, sb = sky[a][:, cols], sky[b][:, cols]
        if sa.mean() < 0.5 or sb.mean() < 0.5:
            continue
        ma = lab[a][:, cols][sa].mean(axis=0)
        mb = lab[b][:, cols][sb].mean(axis=0)
        agree.append(float(np.sqrt(((ma - mb) ** 2).sum())) >= 0.6 * best)
    if len(agree) < 3 or np.mean(agree) < 0.75:
        return sky, none
    # And it is a line: in the typical column the colour changes sharply at
    # one row (a shoreline, the horizon); a ridge or a cloud bank changes at
    # rows that wander from column to column, and a clear sky's gradient at
    # none, so the median change per row has no clear peak.
    band = slice(max(1, best_y - 2 * k), min(h - 1, best_y + 2 * k))
    step = np.sqrt((np.diff(lab[band], axis=0) ** 2).sum(axis=-1))  # rows × columns
    cols = sky[band].mean(axis=0) >= 0.7
    if cols.sum() < 0.2 * w:
        return sky, none
    profile = np.median(step[:, cols], axis=1)  # the typical column's colour change, row by row
    if profile.max() < 3.0 * max(float(np.median(profile)), 0.25):
        return sky, none
    below = sky.copy()
    below[:best_y] = False
    if below.sum() < 0.02 * h * w:
        return sky, none
    above = sky.copy()
    above[best_y:] = False
    return above, below


def _straight_where_it_meets_the_sky(region: np.ndarray, sky: np.ndarray) -> bool:
    """Whether a region below the sky meets it along a straight horizontal line.

    The sea meets the sky at the horizon, a straight line; a lake is
    separated from it by its far shore. A smooth grey mountain or hill
    under the sky meets it along its ridge, which wanders up and down.
    Columns where the region's top lies within 3 pixels of sky are
    compared: their top rows must agree within 1 % of the height
    (interquartile range), else the region is not water.
    """
    h, _w = region.shape
    cols = region.any(axis=0)
    top = np.argmax(region, axis=0)
    near = cv2.dilate(sky.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    touching = cols & near[top, np.arange(region.shape[1])]
    if touching.sum() < 0.3 * cols.sum():
        return True  # the far shore lies between it and the sky
    rows = top[touching]
    return float(np.percentile(rows, 75) - np.percentile(rows, 25)) <= max(2.0, 0.01 * h)


def _horizon_row(sky: np.ndarray) -> int | None:
    """Row of the horizon: a high percentile of the sky's lowest row per column.

    The median (as in depth._horizon) is pulled up by things standing in
    front of the sky (a pagoda, trees); where the sky is open it reaches
    down to the horizon, so the 85th percentile over sky columns is used.
    """
    h, _w = sky.shape
    if sky.mean() < 0.02:
        return None
    has = sky.any(axis=0)
    last = h - 1 - np.argmax(sky[::-1, :], axis=0)
    return int(np.percentile(last[has], 85))


# ---------------------------------------------------------------- water


def _water(
    hsv: np.ndarray,
    lab: np.ndarray,
    texture: np.ndarray,
    stripes: np.ndarray,
    sky: np.ndarray,
    below_cut: np.ndarray,
    horizon: int | None,
    min_area: float,
) -> np.ndarray:
    """Water: water-coloured pixels, grouped into regions that look like water.

    Colour is decided per pixel (so grass stalks in front of the sea stay
    out of it); smoothness, stripes and uniformity are judged per region
    (so waves and ripples do not break it up).
    """
    h, w = sky.shape
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    blue = _ramp(hue, 165, 185) * _ramp(hue, 265, 245) * _ramp(sat, 0.08, 0.18)
    if horizon is not None:
        # Water mirrors the sky near the horizon: compare with that colour,
        # and it is not much darker than that sky (a road is).
        top = max(0, horizon - max(4, h // 12))
        ref = sky.copy()
        ref[:top] = False
        if ref.sum() < 20:
            ref = sky
        sky_lab = lab[ref].mean(axis=0)
        d = lab - sky_lab
        dist = np.sqrt((0.5 * d[..., 0]) ** 2 + d[..., 1] ** 2 + d[..., 2] ** 2)
        skylike = _ramp(dist, 16.0, 6.0)
        bright = _ramp(lab[..., 0] / max(float(sky_lab[0]), 1.0), 0.5, 0.65)
    else:
        skylike = np.zeros_like(blue)
        bright = _ramp(val, 0.1, 0.25)
    colour = cv2.GaussianBlur(np.maximum(blue, skylike) * bright, (0, 0), 1.0)
    pix = (colour > 0.5) & (texture < 0.35) & ~sky
    if horizon is not None:
        pix[: max(0, horizon - 1)] = False
    if below_cut.any() and (np.median(texture[below_cut]) < 0.03 or np.median(stripes[below_cut]) > 0.3):
        # Sky-coloured and smooth under a straight colour step: a hazy lake or
        # sea when it is very flat or striped by waves; a grey mountain under
        # the sky is neither.
        pix |= below_cut
    # Local variation of saturation over water pixels only (Yu et al.'s
    # hue/saturation-variance cue), blind to what stands in front.
    m = pix.astype(np.float32)
    den = cv2.GaussianBlur(m, (0, 0), 4.0) + 1e-3
    s_mean = cv2.GaussianBlur(sat * m, (0, 0), 4.0) / den
    sat_std = np.sqrt(np.maximum(cv2.GaussianBlur(sat * sat * m, (0, 0), 4.0) / den - s_mean**2, 0.0))
    # Group across thin occluders (stalks, masts) to judge whole regions.
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    grouped = cv2.morphologyEx(pix.astype(np.uint8), cv2.MORPH_CLOSE, disc)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        top = stats[i, cv2.CC_STAT_TOP]
        if horizon is not None:
            # A lake or the sea reaches the horizon, and is more than a thin
            # strip along it (a hazy distant field is one).
            thick = area / max(1, stats[i, cv2.CC_STAT_WIDTH]) >= 0.04 * h
            big = area >= 2 * min_area and top <= horizon + max(6, h // 12) and thick
        else:
            # No horizon: only a large body of water that fills the bottom of
            # the frame (a close-up of its surface; not a blue backdrop or a
            # bokeh floor behind a subject).
            bottom = (labels[h - max(2, h // 50) :] == i).any(axis=0).mean()
            big = area >= 0.08 * h * w and bottom >= 0.8
        if not big:
            continue
        inside = (labels == i) & pix
        if horizon is not None and not _straight_where_it_meets_the_sky(labels == i, sky):
            continue  # a mountain or a hill under the sky, not the sea
        smooth = np.median(texture[inside]) < 0.07
        striped = np.median(stripes[inside]) > 0.3 and np.median(texture[inside]) < 0.25
        uniform = np.median(sat_std[inside]) < 0.1
        keep[i] = (smooth or striped) and uniform
    water = keep[labels] & pix
    if water.any():
        # What stands out from the water's own texture (a boat, an island,
        # a post) is in front of it, not part of it.
        water &= texture < max(0.08, 3.0 * float(np.median(texture[water])))
    if horizon is None and water.any():
        # A close-up of a water surface: grow into connected smooth pixels of
        # the same hue or of none (its dark and bright reflections).
        hue0 = float(np.median(hue[water]))
        dh = np.abs((hue - hue0 + 180.0) % 360.0 - 180.0)
        same = ((dh < 30) & (sat > 0.08)) | (sat < 0.15) | (val < 0.2)
        grow = (same & (texture < 0.35)) | water
        n, labels = cv2.connectedComponents(grow.astype(np.uint8), connectivity=8)
        seeds = np.unique(labels[water])
        water = np.isin(labels, seeds[seeds > 0])
    return water


# ---------------------------------------------------------------- vegetation


def _vegetation(
    img: np.ndarray, grey: np.ndarray, texture: np.ndarray, lab: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vegetation: green to golden hues where the photo is textured, and clear green anywhere.

    Returns (the filled mask, the strictly vegetation-coloured textured
    pixels: thin stalks and leaves that other masks must give up, the
    olive-to-golden part of the mask, kept only outdoors).
    """
    # Colour per pixel (thin stalks) and of the neighbourhood (dark foliage,
    # whose single pixels have noisy hues).
    colour = np.maximum(_veg_colour(img), _veg_colour(cv2.GaussianBlur(img, (0, 0), 2.5)))
    # Texture at two scales: coarse gradient energy (blades and leaves seen
    # close), fine high-pass energy (in-focus stems and foliage far away).
    # Out-of-focus greenery (bokeh) has neither.
    # Both are averaged over vegetation-coloured pixels only (normalised
    # convolution), so the edge of a flower or a post does not make the
    # blurred leaves around it look textured.
    highpass = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.0))
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    wgt = cv2.erode(colour, np.ones((3, 3), np.uint8)) + 1e-3  # pixels well inside the colour
    den = cv2.GaussianBlur(wgt, (0, 0), 3.0)
    fine = cv2.GaussianBlur(highpass * wgt, (0, 0), 3.0) / den
    grad = np.sqrt(gx * gx + gy * gy)
    coarse = cv2.GaussianBlur(grad * wgt, (0, 0), 4.0) / cv2.GaussianBlur(wgt, (0, 0), 4.0)
    textured = np.maximum(_ramp(fine, 0.006, 0.014), _ramp(coarse, 0.08, 0.14))
    strict = (colour > 0.5) & (textured > 0.5)
    # Clear, saturated green needs no texture: out-of-focus leaves and
    # grass (bokeh behind a flower, a blurred meadow) are still plants, and
    # few other things in photos are that green.
    hsv0 = cv2.cvtColor(cv2.GaussianBlur(img, (0, 0), 1.5), cv2.COLOR_RGB2HSV)
    h0, s0, v0 = hsv0[..., 0], hsv0[..., 1], hsv0[..., 2]
    lush = (h0 > 65) & (h0 < 150) & (s0 > 0.3 - 0.15 * _ramp(h0, 80, 100)) & (v0 > 0.12)
    lush |= (h0 >= 150) & (h0 < 185) & (s0 > 0.7) & (v0 > 0.08) & (v0 < 0.5)  # deep teal shade of leaves
    strict |= lush
    # Thin stalks and twigs against the sky or the sea: at the working size
    # their pixels mix with the blue behind, so look for fine structures
    # much warmer (higher b*) than their cool (blue) surroundings.
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hue, sat = hsv[..., 0], hsv[..., 1]
    around = cv2.GaussianBlur(lab[..., 2], (0, 0), 4.0)
    warm_thin = (around < -5) & (lab[..., 2] - around > 10) & (fine > 0.008)
    warm_thin &= (hue > 15) & (hue < 65) & (sat > 0.25)
    strict |= warm_thin
    colour = np.maximum(colour, warm_thin.astype(np.float32))
    # Fill the smooth inside of leaves and blades between their textured edges.
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    veg = ((cv2.morphologyEx(strict.astype(np.uint8), cv2.MORPH_CLOSE, k) > 0) & (colour > 0.5)) | lush
    # Olive and golden (dry grass, backlit or autumn meadows) count only
    # outdoors: the caller drops them without a sky or clear green nearby
    # (a cork floor, a wooden table, a tan sofa).
    hue_b = cv2.cvtColor(cv2.GaussianBlur(img, (0, 0), 2.5), cv2.COLOR_RGB2HSV)[..., 0]
    warm = veg & (np.minimum(hue, hue_b) < 62)
    return veg, strict, warm


def _flowers(hsv: np.ndarray, veg: np.ndarray, other: np.ndarray, min_area: float) -> np.ndarray:
    """Blossoms: saturated patches of any colour nearly enclosed by vegetation.

    A flower's petals are rarely green, but they grow among leaves: a
    patch of saturated colour (S > 0.3), from 0.2 % to 30 % of the frame,
    whose surrounding ring (5 pixels wide) is at least 75 % vegetation is
    taken for a blossom and sways with the plant.
    """
    h, w = veg.shape
    cand = (hsv[..., 1] > 0.3) & ~veg & ~other
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
    out = np.zeros_like(veg)
    ring_k = np.ones((11, 11), np.uint8)
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < 0.4 * min_area or area > 0.3 * h * w:
            continue
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        x0, y0, x1, y1 = max(0, x - 6), max(0, y - 6), min(w, x + bw + 6), min(h, y + bh + 6)
        comp = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        ring = (cv2.dilate(comp, ring_k) > 0) & (comp == 0)
        if ring.any() and float(veg[y0:y1, x0:x1][ring].mean()) >= 0.75:
            out[y0:y1, x0:x1] |= comp > 0
    return out


def _veg_colour(img: np.ndarray) -> np.ndarray:
    """How much each pixel's colour is a plant's, in [0, 1]."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    # Olive, green and yellow-green (about 40° to 150°), also when dark; not cyan
    # (the fringe between blue flowers and green leaves).
    green = _ramp(hue, 36, 44) * _ramp(hue, 160, 145) * _ramp(sat, 0.1, 0.2) * _ramp(val, 0.025, 0.05)
    # Golden dry grass (35–55°) must be bright and saturated: not the brown
    # of wood, fur or a rocket's tank, nor the orange of skin or a flower.
    golden = _ramp(hue, 30, 36) * _ramp(sat, 0.25, 0.4) * _ramp(val, 0.45, 0.6)
    return np.maximum(green, golden * (hue < 60))


# ---------------------------------------------------------------- hair


def _hair(
    lab: np.ndarray,
    texture: np.ndarray,
    boxes: list[tuple[float, float, float, float]],
    depth: np.ndarray | None,
) -> np.ndarray:
    """Soft hair score around each face box (boxes and depth at the working size)."""
    h, w = texture.shape
    out = np.zeros((h, w), np.float32)
    for x, y, fw, fh in boxes:
        cx, cy = x + fw / 2, y + fh / 2
        head = np.zeros((h, w), np.uint8)
        cv2.ellipse(head, (round(cx), round(cy - 0.25 * fh)), (round(0.8 * fw), round(0.9 * fh)), 0, 0, 360, 1, -1)
        face = np.zeros((h, w), np.uint8)
        cv2.ellipse(face, (round(cx), round(cy + 0.08 * fh)), (round(0.36 * fw), round(0.5 * fh)), 0, 0, 360, 1, -1)
        region = (head > 0) & (face == 0)
        # The face's own skin colour, from its centre.
        x0, x1 = int(max(0, cx - 0.2 * fw)), int(min(w, cx + 0.2 * fw))
        y0, y1 = int(max(0, cy - 0.1 * fh)), int(min(h, cy + 0.3 * fh))
        skin = lab[y0:y1, x0:x1].reshape(-1, 3)
        if len(skin) < 10:
            continue
        mu = np.median(skin, axis=0)
        d = lab - mu
        dist = np.sqrt((0.5 * d[..., 0]) ** 2 + d[..., 1] ** 2 + d[..., 2] ** 2)
        not_skin = _ramp(dist, 6.0, 14.0)
        textured_or_dark = np.maximum(_ramp(texture, 0.03, 0.08), _ramp(lab[..., 0], 45.0, 25.0))
        score = not_skin * textured_or_dark * region
        if depth is not None:
            # Hair is at the person's depth, in front of the background.
            box = depth[int(max(0, y)) : int(min(h, y + fh)), int(max(0, x)) : int(min(w, x + fw))]
            if box.size == 0:
                continue
            face_d = float(np.median(box))
            # Loose: estimated depth is coarse around the crown of the head.
            score *= _ramp(depth, face_d - 0.6, face_d - 0.4)
        out = np.maximum(out, cv2.GaussianBlur(score.astype(np.float32), (0, 0), 2.0))
    return out


# ---------------------------------------------------------------- steam


def _steam(hsv: np.ndarray, grey: np.ndarray, excluded: np.ndarray, min_area: float) -> np.ndarray:
    """A plume above a cup: the best salient bright elliptical rim, if any."""
    h, w = grey.shape
    sal = spectral_residual_saliency(grey)
    sal = cv2.GaussianBlur(sal, (0, 0), max(1.0, w / 60))
    sat, val = hsv[..., 1], hsv[..., 2]
    bright = (val > max(0.55, float(np.percentile(val, 70)))) & (sat < 0.35) & ~excluded
    bright = cv2.morphologyEx(bright.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best, best_score = None, 0.0
    mean_sal = float(sal.mean()) + 1e-6
    for c in contours:
        area = cv2.contourArea(c)
        if area < 2 * min_area or len(c) < 5:
            continue
        bx, by, bw, bh = cv2.boundingRect(c)
        if bx <= 1 or by <= 1 or bx + bw >= w - 1 or by + bh >= h - 1:
            continue  # cut by the frame: not a whole rim
        if by + bh / 2 < 0.15 * h:
            continue  # no room above it for steam
        (ex, ey), (ea, eb), ang = cv2.fitEllipse(c)
        ell_area = np.pi * ea * eb / 4
        fill = area / max(ell_area, 1.0)
        ew, eh = _ellipse_extent(ea, eb, ang)
        if not (0.8 < fill < 1.15) or eh > 1.05 * ew or eh < 0.25 * ew:
            continue  # not a rim seen from above or at an angle
        ring = np.zeros((h, w), np.uint8)
        cv2.drawContours(ring, [c], -1, 1, -1)
        inner = np.zeros((h, w), np.uint8)
        cv2.ellipse(inner, ((ex, ey), (0.55 * ea, 0.55 * eb), ang), 1, -1)
        rim_v = float(val[(ring > 0) & (inner == 0)].mean())
        in_v = float(val[inner > 0].mean())
        in_bright = float(bright[inner > 0].mean())
        if in_bright > 0.6 or in_v > rim_v - 0.1:
            continue  # a filled bright blob (a plate, a patch), not a rim around contents
        s = float(sal[ring > 0].mean()) / mean_sal * area
        if s > best_score:
            best, best_score = (ex, ey, ew, eh, by), s
    if best is None:
        return np.zeros((h, w), np.float32)
    ex, ey, ew, eh, top = best
    # The plume: a Gaussian across, as wide as the rim, from the liquid's
    # surface (the opening's centre: steam shows over the dark drink) up to
    # ~1.3× the rim's height above the rim, fading upward.
    height = (ey - top) + 1.3 * max(eh, 0.5 * ew)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    t = (ey - ys) / height  # 0 at the opening's centre, 1 at the plume's top
    half = 0.5 * ew * (1.0 + 0.4 * np.clip(t, 0, 1))  # widens as it rises
    across = np.exp(-0.5 * (np.abs(xs - ex) / (0.6 * half)) ** 4)  # flat top, soft sides
    along = np.clip(1.0 - t, 0.0, 1.0) * _ramp(t, -0.08, 0.05)
    return (across * along).astype(np.float32)


def _ellipse_extent(a: float, b: float, angle_deg: float) -> tuple[float, float]:
    """Width and height of the bounding box of an ellipse with full axes ``a``, ``b``."""
    t = np.deg2rad(angle_deg)
    ew = float(np.sqrt((a * np.cos(t)) ** 2 + (b * np.sin(t)) ** 2))
    eh = float(np.sqrt((a * np.sin(t)) ** 2 + (b * np.cos(t)) ** 2))
    return ew, eh
