"""Depth-aware backward warp with disocclusion fill: the living engine's renderer.

For a camera pose (rotation R, translation t, focal multiplier z) and a
source pixel p with disparity w = 1/Z, the new view sees p at

    x ~ H·p − w·b,   H = K'·Rᵀ·K0⁻¹,   b = K'·Rᵀ·t

so every output pixel x samples the photo at

    p = μ·a + w(p)·c,   a = H⁻¹·x,   c = H⁻¹·b = K0·t,   μ = (1 − w·c₃)/a₃.

``w(p)`` depends on p, so the map is found by fixed-point iteration from
the rotation-only position (notes §2(c): 2–3 iterations, one colour remap).
Near things move more than far ones: that is the parallax.

Where the camera reveals what a foreground edge hid, there is no fixed
point: the iteration lands on the edge and stretches it ("rubber" edges).
Those pixels are found by comparing the local area scale of the map with
that of a background plate's map and are filled from the **background
plate**: the photo with the near side of every depth edge inpainted from
the far side, once per clip, with its own depth (the near side pushed
back to the far side's depth by a min filter). This is the layered-depth
idea of Shih et al. ("3D Photography using Context-aware Layered Depth
Inpainting", CVPR 2020) and Kopf et al. ("One Shot 3D Photography",
SIGGRAPH 2020) reduced to two layers, with a classical background-side
fill (each hidden pixel takes the nearest colour from beyond the edge, as
3d-ken-burns' ``fill_disocclusion`` does along 16 directions; here by a
distance transform, then smoothed) in place of a learned inpainter.

Depth edges are fattened toward the background first (Gaussian σ = 0.6,
then a 5×5 max filter, as DepthFlow does) so foreground silhouettes keep
their own pixels instead of tearing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ...video import rgb_to_ycbcr709, ycbcr709_to_rgb
from .camera import Geometry, Pose, rotation_matrix
from .flow import GRID

if TYPE_CHECKING:
    from .flow import ElementField
    from .portrait import PortraitField

__all__ = [
    "FAR_DISPARITY",
    "ParallaxRenderer",
    "Tearing",
    "build_plate",
    "disparity_from_depth",
    "measure_tearing",
    "pose_maps",
]

FAR_DISPARITY = 0.3
"""Disparity of the farthest depth (depth 0); the nearest (depth 1) is 1.0.

The scene thus spans depths 1 to 1/0.3 ≈ 3.3 pivot units: enough parallax
to read as 3D, little enough that errors of a classical depth map stay
gentle."""

FILL_BINS = 5
"""Disparity bins of the depth-aware background fill."""
BAND_REACH = 2.5
"""The plate reaches this many times the widest disocclusion behind each depth edge."""
EDGE_LEVELS = (0.08, 0.16, 0.32)
"""Disparity steps across 3 quarter-size pixels that count as depth edges; each
level's band reaches in proportion to the step (twice the step, over the span)."""

ITERATIONS = 3
"""Fixed-point iterations for the foreground map (notes §2(c): 2–3 suffice)."""
WARM_ITERATIONS = 2
"""Iterations when starting from the previous frame's solution."""


def disparity_from_depth(depth: np.ndarray, far: float = FAR_DISPARITY) -> np.ndarray:
    """Map depth in [0, 1] (1 = near) to disparity in [far, 1] (1 / distance, pivot units).

    Args:
        depth: float32 H×W in [0, 1].
        far: disparity of depth 0, in (0, 1).

    Returns:
        float32 H×W.
    """
    return (far + (1.0 - far) * np.clip(depth, 0.0, 1.0)).astype(np.float32)


def fatten_foreground(disparity: np.ndarray) -> np.ndarray:
    """Push depth edges outward from the foreground: Gaussian σ = 0.6 then a 5×5 max filter.

    A background rim then moves with the foreground silhouette rather than
    the silhouette tearing (DepthFlow's and ComfyUI-Depthflow-Nodes'
    "edge fix", notes §1.6).
    """
    smooth = cv2.GaussianBlur(disparity, (0, 0), 0.6)
    return cv2.dilate(smooth, np.ones((5, 5), np.uint8))


@dataclass(frozen=True)
class Plate:
    """The background layer: what is behind the near side of each depth edge.

    Attributes:
        rgb: uint8 H×W×3, the photo with occluding bands inpainted.
        disparity: float32 H×W, the photo's disparity pushed back to the far side's.
        band: bool H×W, where ``rgb`` was inpainted.
    """

    rgb: np.ndarray
    disparity: np.ndarray
    band: np.ndarray


def build_plate(
    rgb: np.ndarray, disparity: np.ndarray, reach_px: float, threshold: float = 0.04, *, inpaint: bool = True
) -> Plate:
    """Build the background plate once per clip.

    Args:
        rgb: uint8 H×W×3 working image.
        disparity: float32 H×W (fattened) disparity of ``rgb``.
        reach_px: the widest disocclusion the path can open, in working
            pixels; the plate reaches BAND_REACH× that far behind each edge.
        threshold: disparity step that counts as a depth edge.
        inpaint: False skips the colour fill (the plate's ``rgb`` is the photo):
            for geometry-only probes.

    Returns:
        The :class:`Plate`.
    """
    h, w = disparity.shape
    radius = int(np.ceil(BAND_REACH * reach_px + 4))
    # At quarter size: cheap for large radii, and the plate's depth only
    # needs to be smooth.
    s = 4
    small = cv2.resize(disparity, (max(1, w // s), max(1, h // s)), interpolation=cv2.INTER_AREA)
    # Depth *edges* (a step within a few pixels), not smooth slopes: only
    # there can the camera reveal something hidden. A step Δ opens at most
    # reach·Δ/span pixels, so each edge gets a band in proportion: a small
    # step (hazy lake under the sky) a thin one, a tree against the lake a
    # wide one. Bands nest: the lake is background to the tree and
    # foreground to the sky.
    k3 = np.ones((3, 3), np.uint8)
    step = cv2.dilate(small, k3) - cv2.erode(small, k3)
    span = 1.0 - FAR_DISPARITY
    far = small.copy()
    for level in EDGE_LEVELS:
        edges = step > level
        if not edges.any():
            break
        r = max(1, int(np.ceil((BAND_REACH * reach_px * min(1.0, 2 * level / span) + 4) / s)))
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        zone = cv2.dilate(edges.astype(np.uint8), disk).astype(np.float32)
        low = cv2.erode(small, disk)  # the far side's disparity
        # Only pixels on the near side *of this step* (nearer than the far side
        # by at least half the step) go behind it: a lake next to a pagoda is
        # not hidden behind the pagoda's edge against the sky.
        zone = zone * ((small - low) > 0.5 * level)
        zone = cv2.GaussianBlur(zone, (0, 0), max(1.0, r / 3))
        low = cv2.GaussianBlur(low, (0, 0), max(1.0, r / 3))
        far = np.minimum(far, zone * np.minimum(low, small) + (1.0 - zone) * small)
    far = cv2.resize(far, (w, h), interpolation=cv2.INTER_LINEAR)
    plate_disp = np.minimum(far, disparity)
    band = (disparity - plate_disp) > threshold
    if not band.any() or not inpaint:
        return Plate(rgb, plate_disp.astype(np.float32), band)
    band_u8 = cv2.dilate(band.astype(np.uint8), np.ones((3, 3), np.uint8))
    # Fill at half size from the background side, depth-aware: a band pixel
    # takes the colour of the nearest pixel at the depth the plate puts it
    # (its far side's disparity), not of the nearest pixel of any depth. So
    # behind a tree against a lake comes lake, though the lake itself is
    # nearer than the sky. One distance transform per disparity bin; then the
    # fill's streaks are softened.
    hs = 2
    sw, sh = max(1, w // hs), max(1, h // hs)
    small_rgb = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    small_band = cv2.resize(band_u8, (sw, sh), interpolation=cv2.INTER_NEAREST)
    small_band = cv2.dilate(small_band, np.ones((3, 3), np.uint8))
    small_disp = cv2.resize(disparity, (sw, sh), interpolation=cv2.INTER_AREA)
    small_target = cv2.resize(plate_disp, (sw, sh), interpolation=cv2.INTER_AREA)
    inside = small_band > 0
    nearest = small_rgb.copy()
    edges = np.linspace(FAR_DISPARITY, 1.0, FILL_BINS + 1)
    half = 0.5 * (edges[1] - edges[0])
    for lo, hi in zip(edges[:-1], edges[1:]):
        todo = inside & (small_target >= lo - 1e-6) & (small_target <= hi + 1e-6)
        if not todo.any():
            continue
        sources = ~inside & (small_disp >= lo - half) & (small_disp <= hi + half)
        if not sources.any():
            sources = ~inside & (small_disp <= hi + half)  # nothing at that depth: anything as far or farther
        if not sources.any():
            sources = ~inside
        if not sources.any():
            continue
        _, labels = cv2.distanceTransformWithLabels(
            (~sources).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(sources)  # label k is the k-th source pixel in row-major order
        lab = labels[todo] - 1
        nearest[todo] = small_rgb[ys[lab], xs[lab]]
    sigma = max(1.5, radius / hs / 8)
    weight = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), sigma)[..., None]
    smooth = cv2.GaussianBlur(nearest.astype(np.float32) * inside[..., None], (0, 0), sigma)
    smooth = smooth / np.maximum(weight, 1e-3)
    small_fill = np.where(inside[..., None], smooth, small_rgb).clip(0, 255).astype(np.uint8)
    filled = cv2.resize(small_fill, (w, h), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(band_u8.astype(np.float32), (0, 0), 1.0)[..., None]
    plate_rgb = (rgb * (1.0 - soft) + filled * soft + 0.5).astype(np.uint8)
    return Plate(plate_rgb, plate_disp.astype(np.float32), band_u8.astype(bool))


def pose_maps(
    pose: Pose,
    g: Geometry,
    xs: np.ndarray,
    ys: np.ndarray,
    scale: float,
    origin: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-frame terms of the backward map ``p = P + w·D`` in working pixels.

    Args:
        pose: the camera pose.
        g: the shot's geometry (focal length in output pixels).
        xs, ys: float32 arrays (same shape) of output pixel positions
            relative to the view centre, in output pixels.
        scale: working pixels per output pixel.
        origin: working-image position (x, y) of the view centre.

    Returns:
        ``(Px, Py, Dx, Dy)``, float32 arrays shaped like ``xs``: the sample
        position of a pixel at disparity w is ``(Px + w·Dx, Py + w·Dy)``.
    """
    f = g.focal
    r = rotation_matrix(pose.yaw, pose.pitch, pose.roll)
    k0 = np.diag([f, f, 1.0])
    fz = f * pose.zoom
    # K'⁻¹ with the lens shift: output x sees the ray of view point x + shift.
    kinv = np.array([[1.0 / fz, 0.0, pose.shift_x / fz], [0.0, 1.0 / fz, pose.shift_y / fz], [0.0, 0.0, 1.0]])
    m = (k0 @ r @ kinv).astype(np.float32)
    xs = np.asarray(xs, np.float32)
    ys = np.asarray(ys, np.float32)
    inv = np.float32(scale) / (m[2, 0] * xs + m[2, 1] * ys + m[2, 2])
    gx = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) * inv
    gy = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) * inv
    px = gx + np.float32(origin[0])
    py = gy + np.float32(origin[1])
    dx = np.float32(scale * f * pose.tx) - np.float32(pose.tz) * gx
    dy = np.float32(scale * f * pose.ty) - np.float32(pose.tz) * gy
    return px, py, dx, dy


def _solve(px, py, dx, dy, disparity, iterations, w0=None):
    """Fixed-point iteration p ← P + w(p)·D.

    Args:
        w0: a starting disparity on the same grid (the previous frame's
            solution: the map moves little between frames), else w at P.

    Returns:
        The map (mx, my), the disparity found there and the size of the last
        step in working pixels (large where there is no fixed point).
    """
    w = cv2.remap(disparity, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) if w0 is None else w0
    for _ in range(iterations):
        mx = px + w * dx
        my = py + w * dy
        w_new = cv2.remap(disparity, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        step = np.abs(w_new - w) * (np.abs(dx) + np.abs(dy))
        w = w_new
    return mx, my, w, step


def _area_scale(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """|det J| of a map by forward differences (same shape; the last row/column repeated)."""
    _h, _w = mx.shape
    jxx = np.empty_like(mx)
    jyx = np.empty_like(mx)
    jxy = np.empty_like(mx)
    jyy = np.empty_like(mx)
    np.subtract(mx[:, 1:], mx[:, :-1], out=jxx[:, :-1])
    np.subtract(my[:, 1:], my[:, :-1], out=jyx[:, :-1])
    np.subtract(mx[1:], mx[:-1], out=jxy[:-1])
    np.subtract(my[1:], my[:-1], out=jyy[:-1])
    jxx[:, -1], jyx[:, -1], jxy[-1], jyy[-1] = jxx[:, -2], jyx[:, -2], jxy[-2], jyy[-2]
    return np.abs(jxx * jyy - jxy * jyx)


def _upsample_grid(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Values on every other grid point (``a = full[::2, ::2]``) back to the full grid, bilinearly."""
    m = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]], np.float64)
    return cv2.warpAffine(
        a, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )


class ParallaxRenderer:
    """Renders views of a working image with a depth-aware backward warp.

    Args:
        rgb: uint8 h×w×3 working image (the part of the photo the path can
            see, at ``scale`` working pixels per output pixel).
        disparity: float32 h×w disparity in [FAR_DISPARITY, 1].
        size: output (width, height) in pixels.
        geometry: the shot's geometry.
        scale: working pixels per output pixel (≥ 1 keeps push-ins sharp).
        origin: working-image position (x, y) of the view centre at the identity pose.
        reach_px: widest disocclusion the path opens, in working pixels
            (0 = no parallax, no plate).
        map_step: maps are solved every ``map_step`` output pixels and
            upsampled (1 = full resolution; 2 = 4× fewer solves).
        colour: False builds a geometry-only renderer (maps and alpha via
            :meth:`solve`, no frames): no inpainting, no colour planes.
        elements: element motion (water, sky, foliage, brush arrows) in
            working-image space, or None.
        portrait: portrait micro-motion in working-image space, or None.
    """

    def __init__(
        self,
        rgb: np.ndarray,
        disparity: np.ndarray,
        size: tuple[int, int],
        geometry: Geometry,
        scale: float,
        origin: tuple[float, float],
        reach_px: float,
        map_step: int = 2,
        colour: bool = True,
        elements: ElementField | None = None,
        portrait: PortraitField | None = None,
    ) -> None:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"rgb must be uint8 H×W×3, got {rgb.dtype} {rgb.shape}")
        if disparity.shape != rgb.shape[:2]:
            raise ValueError(f"disparity {disparity.shape} must match rgb {rgb.shape[:2]}")
        self.rgb = rgb
        self.size = size
        self.geometry = geometry
        self.scale = float(scale)
        self.origin = (float(origin[0]), float(origin[1]))
        self.elements = elements
        self.portrait = portrait
        self.disparity = fatten_foreground(disparity.astype(np.float32))
        self.plate = build_plate(rgb, self.disparity, reach_px, inpaint=colour) if reach_px > 0.5 else None
        if self.plate is not None and not self.plate.band.any():
            self.plate = None
        if self.plate is not None:
            self._band_soft = cv2.GaussianBlur(self.plate.band.astype(np.float32), (0, 0), 1.5)
        if not colour:
            return
        # Work in BT.709 YCbCr: chroma is sampled once per 2×2 output block,
        # so it is low-passed once here against aliasing.
        chroma_sigma = 0.8 * self.scale
        self._y, c = rgb_to_ycbcr709(rgb)
        self._c = cv2.GaussianBlur(c, (0, 0), chroma_sigma)
        if self.plate is not None:
            self._plate_y, c = rgb_to_ycbcr709(self.plate.rgb)
            self._plate_c = cv2.GaussianBlur(c, (0, 0), chroma_sigma)
        W, H = size
        self.map_step = map_step
        # Solve grid: output pixel centres every map_step pixels, aligned so
        # that cv2.resize(INTER_LINEAR) interpolates it back exactly.
        gw, gh = -(-W // map_step), -(-H // map_step)
        sx = (np.arange(gw, dtype=np.float64) + 0.5) * (W / gw) - 0.5 - (W - 1) / 2
        sy = (np.arange(gh, dtype=np.float64) + 0.5) * (H / gh) - 0.5 - (H - 1) / 2
        self._xs, self._ys = (a.astype(np.float32) for a in np.meshgrid(sx, sy))
        self._warm: dict[str, np.ndarray] = {}  # last frame's disparity solutions, for warm starts

    def solve(self, pose: Pose, xs: np.ndarray | None = None, ys: np.ndarray | None = None):
        """Solve the foreground and plate maps of a pose on a grid.

        Args:
            pose: the camera pose.
            xs, ys: output positions relative to the view centre (output
                pixels); default: the renderer's solve grid.

        Returns:
            ``(mx, my, alpha, bx, by)``: the foreground map and the plate map
            in working pixels (float32, shaped like ``xs``) and alpha in
            [0, 1], 0 where the view reveals what the photo hid (there the
            plate shows). Without a plate, ``bx, by`` are None and alpha is 1.
        """
        if xs is None:
            xs, ys = self._xs, self._ys
        px, py, dx, dy = pose_maps(pose, self.geometry, xs, ys, self.scale, self.origin)
        mx, my, _, step = _solve(px, py, dx, dy, self.disparity, ITERATIONS)
        if self.plate is None:
            return mx, my, np.ones_like(mx), None, None
        bx, by, _, _ = _solve(px, py, dx, dy, self.plate.disparity, 2)
        return mx, my, self._alpha(mx, my, step, bx, by), bx, by

    def render(self, pose: Pose, t: float = 0.0) -> np.ndarray:
        """Render one frame as RGB.

        Returns:
            uint8 H×W×3 RGB at the output size (from :meth:`render_yuv420`).
        """
        return ycbcr709_to_rgb(*self.render_yuv420(pose, t))

    def render_yuv420(self, pose: Pose, t: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Render one frame as BT.709 limited-range 4:2:0 planes, ready for the encoder.

        The renderer works in YCbCr: luma is warped at full resolution and
        chroma once per 2×2 block (at the solve grid's points, which are the
        blocks' centres), so no per-frame colour conversion or chroma
        downsampling is needed. Element motion (``self.elements``), if any,
        displaces the camera's samples in scene space at time ``t``.

        Args:
            pose: the camera pose.
            t: time in seconds (element motion only).

        Returns:
            ``(y, cbcr)``: uint8 H×W and uint8 (H/2)×(W/2)×2.
        """
        px, py, dx, dy = pose_maps(pose, self.geometry, self._xs, self._ys, self.scale, self.origin)
        alpha = bx = by = None
        if not pose.translates:
            # Rotation and zoom only: a homography, no parallax.
            mx, my = px, py
        else:
            # Frames come in order and move little from one to the next: start each
            # fixed point from the previous frame's solution, so fewer iterations do.
            w0 = self._warm.get("fg")
            mx, my, w, step = _solve(px, py, dx, dy, self.disparity, ITERATIONS if w0 is None else WARM_ITERATIONS, w0)
            self._warm["fg"] = w
            if self.plate is not None:
                # The plate's depth is smooth, and holes only matter where they are a
                # few pixels wide: solve the plate and judge holes on every other grid point.
                q = (slice(None, None, 2), slice(None, None, 2))
                w0 = self._warm.get("plate")
                bxq, byq, wb, _ = _solve(px[q], py[q], dx[q], dy[q], self.plate.disparity, 2 if w0 is None else 1, w0)
                self._warm["plate"] = wb
                alpha_q = self._alpha(mx[q], my[q], step[q], bxq, byq)
                if alpha_q.min() <= 0.999:
                    alpha, bx, by = (_upsample_grid(a, mx.shape) for a in (alpha_q, bxq, byq))
        if self.portrait is not None:
            # Portrait micro-motion, in scene space: displace the camera's samples.
            dp = self.portrait.displace(mx, my, t)
            if dp is not None:
                mx, my = mx - dp[..., 0], my - dp[..., 1]
            if bx is not None:
                db = self.portrait.displace(bx, by, t)
                if db is not None:
                    bx, by = bx - db[..., 0], by - db[..., 1]
        field = self.elements.at(t) if self.elements is not None and not self.elements.empty else None
        if field is None:
            return self._compose(mx, my, alpha, bx, by)
        W, H = self.size

        def layer(disp, sub=(slice(None), slice(None))):
            ax, ay = mx[sub], my[sub]
            dm = self._sample_field(disp, ax, ay)
            bxk = byk = None
            if bx is not None:
                db = self._sample_field(disp, bx[sub], by[sub])
                bxk, byk = bx[sub] - db[..., 0], by[sub] - db[..., 1]
            return self._compose(ax - dm[..., 0], ay - dm[..., 1], None if alpha is None else alpha[sub], bxk, byk)

        y, c = layer(field.displacements[0])
        if len(field.displacements) == 2:
            # The second phase differs from the first only where something flows:
            # warp and blend it in that box (grid cell (i, j) is the 2×2 block at (2i, 2j)).
            support = self._sample_field(self.elements.flow_support, mx, my) > 0.01
            rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
            if rows.size and self.map_step == 2:
                sub = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
                y1, c1 = layer(field.displacements[1], sub)
                wgt = self._sample_field(field.weight, mx[sub], my[sub])
                w_full = cv2.resize(wgt, (y1.shape[1], y1.shape[0]), interpolation=cv2.INTER_LINEAR)
                full = (slice(2 * sub[0].start, 2 * sub[0].stop), slice(2 * sub[1].start, 2 * sub[1].stop))
                y[full] = cv2.blendLinear(y[full], y1, w_full, 1.0 - w_full)
                c[sub] = cv2.blendLinear(c[sub], c1, wgt, 1.0 - wgt)
            elif rows.size:
                y1, c1 = layer(field.displacements[1])
                wgt = self._sample_field(field.weight, mx, my)
                w_half = cv2.resize(wgt, (W // 2, H // 2), interpolation=cv2.INTER_LINEAR)
                w_full = cv2.resize(wgt, (W, H), interpolation=cv2.INTER_LINEAR)
                y = cv2.blendLinear(y, y1, w_full, 1.0 - w_full)
                c = cv2.blendLinear(c, c1, w_half, 1.0 - w_half)
        if field.gain is not None or field.lift is not None:
            yf = y.astype(np.float32)
            if field.gain is not None:
                g = cv2.resize(self._sample_field(field.gain, mx, my), (W, H), interpolation=cv2.INTER_LINEAR)
                yf = (yf - 16.0) * g + 16.0
            if field.lift is not None:
                lift = cv2.resize(self._sample_field(field.lift, mx, my), (W, H), interpolation=cv2.INTER_LINEAR)
                yf = yf + lift * (235.0 - yf) / 219.0  # screen-like: wisps show on dark coffee, not on white
                lift_half = cv2.resize(lift, (W // 2, H // 2), interpolation=cv2.INTER_AREA)[..., None]
                c = np.clip(128.0 + (c.astype(np.float32) - 128.0) * (1.0 - lift_half / 80.0) + 0.5, 0, 255).astype(
                    np.uint8
                )
            y = np.clip(yf + 0.5, 0, 255).astype(np.uint8)
        return y, c

    def _sample_field(self, f: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
        """A coarse element field (cells of GRID working pixels) at working positions."""
        gx = (mx + 0.5) * (1.0 / GRID) - 0.5
        gy = (my + 0.5) * (1.0 / GRID) - 0.5
        return cv2.remap(
            f, gx.astype(np.float32), gy.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def _compose(self, mx, my, alpha, bx, by) -> tuple[np.ndarray, np.ndarray]:
        """Warp the photo along (mx, my); where alpha < 1, the plate along (bx, by)."""
        W, H = self.size
        y, c = self._warp(self._y, self._c, mx, my)
        if alpha is None or bx is None:
            return y, c
        if alpha.shape != c.shape[:2]:  # a coarse grid: blend over the whole frame
            by_, bc = self._warp(self._plate_y, self._plate_c, bx, by)
            a_full = cv2.resize(alpha, (W, H), interpolation=cv2.INTER_LINEAR)
            a_half = cv2.resize(alpha, (W // 2, H // 2), interpolation=cv2.INTER_LINEAR)
            return cv2.blendLinear(y, by_, a_full, 1.0 - a_full), cv2.blendLinear(c, bc, a_half, 1.0 - a_half)
        # The plate shows only around revealed regions: warp and blend it in
        # their bounding box (grid cell (i, j) is the 2×2 block at (2i, 2j)).
        rows = np.flatnonzero((alpha < 0.999).any(axis=1))
        cols = np.flatnonzero((alpha < 0.999).any(axis=0))
        if rows.size == 0:
            return y, c
        gh, gw = alpha.shape
        r0, r1 = max(0, rows[0] - 2), min(gh, rows[-1] + 3)
        c0, c1 = max(0, cols[0] - 2), min(gw, cols[-1] + 3)
        sub = (slice(r0, r1), slice(c0, c1))
        by_, bc = self._warp(self._plate_y, self._plate_c, bx[sub], by[sub])
        a_half = alpha[sub]
        a_full = cv2.resize(a_half, (2 * (c1 - c0), 2 * (r1 - r0)), interpolation=cv2.INTER_LINEAR)
        full = (slice(2 * r0, 2 * r1), slice(2 * c0, 2 * c1))
        y[full] = cv2.blendLinear(y[full], by_, a_full, 1.0 - a_full)
        c[sub] = cv2.blendLinear(c[sub], bc, a_half, 1.0 - a_half)
        return y, c

    def _alpha(self, mx, my, step, bx, by) -> np.ndarray:
        """1 where the foreground map is sound; toward 0 where it stretches over a
        disocclusion (or does not converge) and the plate holds what was behind."""
        ratio = _area_scale(mx, my) / (_area_scale(bx, by) + 1e-6)
        hole = 1.0 - np.clip((ratio - 0.3) / 0.35, 0.0, 1.0) * np.clip(1.5 - step, 0.0, 1.0)
        # Only where the plate holds inpainted background (elsewhere it is the
        # photo at another depth, and showing it would ghost).
        behind = cv2.remap(self._band_soft, bx, by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return (1.0 - hole * behind).astype(np.float32)

    def _warp(self, y: np.ndarray, c: np.ndarray, mx: np.ndarray, my: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Warp the luma plane at full resolution and the chroma planes at half.

        ``mx, my`` are on the solve grid (the chroma grid when map_step is 2),
        or a block of it; the output covers the same area.
        """
        W, H = self.size
        if self.map_step == 2:
            H, W = 2 * mx.shape[0], 2 * mx.shape[1]
        if mx.shape == (H // 2, W // 2):
            cmx, cmy = mx, my
        else:
            cmx = cv2.resize(mx, (W // 2, H // 2), interpolation=cv2.INTER_LINEAR)
            cmy = cv2.resize(my, (W // 2, H // 2), interpolation=cv2.INTER_LINEAR)
        if mx.shape != (H, W):
            mx = cv2.resize(mx, (W, H), interpolation=cv2.INTER_LINEAR)
            my = cv2.resize(my, (W, H), interpolation=cv2.INTER_LINEAR)
        m1, m2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)
        out_y = cv2.remap(y, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        c1, c2 = cv2.convertMaps(cmx, cmy, cv2.CV_16SC2)
        out_c = cv2.remap(c, c1, c2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out_y, out_c


@dataclass(frozen=True)
class Tearing:
    """How much a clip's warp tears the photo (see :func:`measure_tearing`).

    Attributes:
        stretched: share of output pixels, over the frames measured, where
            the visible photo is stretched more than :data:`STRETCH_LIMIT`×
            beyond the camera's own magnification (rubber sheets over a
            disocclusion the plate does not cover), in [0, 1].
        split: share of the photo's edge pixels that a depth step splits:
            a pixel of the same edge, at most :data:`SPLIT_REACH` steps
            along it, drifts more than :data:`SPLIT_LIMIT` output pixels
            away from it in some frame
            (a finial torn off its roof, a branch cut from its tree), in [0, 1].
        worst_frame: index (into the poses measured) of the frame with the
            most stretched pixels.
        split_mask: bool h×w at the working size, the split edge pixels
            (to look at where a clip tears).
    """

    stretched: float
    split: float
    worst_frame: int
    split_mask: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.zeros((0, 0), bool))


STRETCH_LIMIT = 1.5
"""Local stretch, relative to the camera's magnification, that counts as a tear."""
SPLIT_LIMIT = 1.5
"""Output pixels two nearby pixels of one edge may drift apart before the edge counts as split."""
SPLIT_REACH = 3
"""Steps along an edge (working pixels) within which its pixels are compared."""


def _min_singular(mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Smaller singular value of the map's Jacobian (forward differences, last row/column repeated)."""
    a = np.diff(mx, axis=1, append=mx[:, -1:] * 2 - mx[:, -2:-1])
    c = np.diff(my, axis=1, append=my[:, -1:] * 2 - my[:, -2:-1])
    b = np.diff(mx, axis=0, append=mx[-1:] * 2 - mx[-2:-1])
    d = np.diff(my, axis=0, append=my[-1:] * 2 - my[-2:-1])
    # Singular values of [[a, b], [c, d]]: sqrt((S ± sqrt(S² − 4·det²)) / 2), S = a² + b² + c² + d².
    s = a * a + b * b + c * c + d * d
    det = a * d - b * c
    disc = np.sqrt(np.maximum(s * s - 4.0 * det * det, 0.0))
    return np.sqrt(np.maximum((s - disc) / 2.0, 0.0))


def measure_tearing(renderer: ParallaxRenderer, poses: list[Pose]) -> Tearing:
    """Measure the tearing of a clip from its warp, not from its pixels.

    Two failures of a depth-image warp, each computed from the maps the
    renderer draws with:

    - **stretch**: where the foreground map is shown (alpha ≥ 0.5), the
      smaller singular value of its Jacobian (source pixels per output
      pixel) against that of the camera-only map (the homography ``P``:
      what zoom alone does). A ratio beyond :data:`STRETCH_LIMIT` is the
      photo pulled like rubber across a depth ramp.
    - **split**: the photo's edges (Canny at the working size) are things;
      a thing moves as one. Along each edge, the parallax term of the map,
      ``w·D`` (``D`` from :func:`pose_maps` at the pixel's own view
      position), is compared between pixels up to :data:`SPLIT_REACH`
      steps apart (geodesic dilation and erosion along the edge); a
      spread over :data:`SPLIT_LIMIT` output pixels in any frame means a
      depth step or ramp cuts the edge, and the thing tears apart on
      screen (a finial lifts off its roof).

    Args:
        renderer: a renderer with its disparity (fattened as it renders).
        poses: the poses to measure (a clip's frames, or a subsample).

    Returns:
        A :class:`Tearing`. A clip without translation (pans, zooms: one
        homography) has no parallax and measures 0, 0.
    """
    disp = renderer.disparity
    h, w = disp.shape
    scale = renderer.scale
    grey = cv2.cvtColor(renderer.rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (0, 0), 1.0), 40, 100) > 0
    # Each working pixel's view position at the identity pose, in output pixels from the centre.
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    vx = (xs - np.float32(renderer.origin[0])) / np.float32(scale)
    vy = (ys - np.float32(renderer.origin[1])) / np.float32(scale)
    split = np.zeros((h, w), bool)
    stretched: list[float] = []
    kernel = np.ones((3, 3), np.uint8)
    big = np.float32(1e6)
    for pose in poses:
        if not pose.translates:
            stretched.append(0.0)
            continue
        mx, my, alpha, _bx, _by = renderer.solve(pose)
        px, py, _dx, _dy = pose_maps(pose, renderer.geometry, renderer._xs, renderer._ys, scale, renderer.origin)
        ratio = _min_singular(px, py) / (_min_singular(mx, my) + 1e-6)
        shown = alpha >= 0.5
        stretched.append(float(((ratio > STRETCH_LIMIT) & shown).mean()))
        _px, _py, dx, dy = pose_maps(pose, renderer.geometry, vx, vy, scale, renderer.origin)
        spread = np.zeros((h, w), np.float32)
        for o in (disp * dx / scale, disp * dy / scale):  # parallax, output pixels
            # Range of the parallax along each edge, within SPLIT_REACH steps of
            # the edge itself (geodesic dilation and erosion along the chain).
            hi = np.where(edges, o, -big)
            lo = np.where(edges, o, big)
            for _ in range(SPLIT_REACH):
                hi = np.where(edges, np.maximum(hi, cv2.dilate(hi, kernel)), -big)
                lo = np.where(edges, np.minimum(lo, cv2.erode(lo, kernel)), big)
            spread = np.maximum(spread, np.where(edges, hi - lo, 0.0))
        split |= spread > SPLIT_LIMIT
    n_edges = int(edges.sum())
    return Tearing(
        stretched=float(np.mean(stretched)) if stretched else 0.0,
        split=float(split.sum()) / max(1, n_edges),
        worst_frame=int(np.argmax(stretched)) if stretched else 0,
        split_mask=split,
    )
