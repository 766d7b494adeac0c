"""Element motion: Eulerian flow, sway, ripples and light, looped seamlessly.

Water, clouds, mist and steam move by a constant **Eulerian flow** field V
(pixels per second) per region (Holynski et al., "Animating Pictures with
Eulerian Motion Fields", CVPR 2021): a pixel at time t shows the photo at
``x − V·τ``. A still photo has no texture beyond its own, so the
displacement is looped with the **two-phase flow-map blend** (Valve, "Water
Flow in Portal 2", 2010; notes §2(d)): two copies advected by
``V·T·(u − ½)`` with ``u = frac(t/T + φ)`` half a period apart, weighted by
a triangle that peaks where a copy is undisplaced. Each pixel gets its own
phase offset φ (smooth noise), so the cross-fade never pulses over the
whole frame at once. T divides the clip, so frame N equals frame 0.

Foliage, fabric and hair **sway**: an oscillation about rest along the
wind, a travelling wave with gusts, at frequencies that divide the clip
(so loops close). Water **ripples** spread as radial waves. **Light**
shifts as a slow brightness modulation of the luma, not a warp.

Regions are feathered inside (their edges are pinned: the horizon does not
wobble, the boat does not ripple with the water), limited by the user's
``--mask`` and zeroed by ``--freeze``; motion-brush arrows add their dense
flow. All fields live on a coarse grid of the working image (every
``GRID`` working pixels) and are sampled through the camera's map, so
element motion happens in scene space and the clip is still one backward
warp per phase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ...plan.elements import ElementMotion

__all__ = ["ARROW_TRAVEL_S", "ElementField", "ElementFrame", "GRID"]

GRID = 6
"""Working pixels per cell of the element fields (motion is smooth)."""

ARROW_TRAVEL_S = 4.0
"""A motion-brush arrow's length is travelled in this many seconds at speed 1."""

# Per element at speed 1, in fractions of the output width (per second for
# flows; peak displacement for sways and ripples) and Hz.
FLOW_SPEED = {"water": 0.022, "clouds": 0.012, "mist": 0.010, "steam": 0.035}
FLOW_TURBULENCE = {"water": 0.25, "clouds": 0.15, "mist": 0.5, "steam": 0.6}
SWAY_AMPLITUDE = {"foliage": 0.005, "fabric": 0.006, "hair": 0.004}
SWAY_HZ = {"foliage": 0.45, "fabric": 0.7, "hair": 0.35}
SWAY_WAVELENGTH = {"foliage": 0.35, "fabric": 0.2, "hair": 0.3}  # fractions of the width
RIPPLE_AMPLITUDE = 0.004
RIPPLE_WAVELENGTH = 0.06
RIPPLE_HZ = 0.8
LIGHT_AMPLITUDE = 0.07
STEAM_LEVELS = 45.0  # luma levels a dense wisp adds
FLOW_PERIOD_S = 3.0
FEATHER_CELLS = 3.0
PHASE_SPREAD = 0.15  # std of the per-pixel phase offset, in periods


@dataclass
class ElementFrame:
    """Element motion at one instant, on the coarse grid.

    Attributes:
        displacements: one or two float32 ch×cw×2 fields (working pixels); the
            frame samples the scene at ``p − D(p)``.
        weight: float32 ch×cw weight of ``displacements[0]`` when there are two
            (the other gets ``1 − weight``), else None.
        gain: float32 ch×cw luma gain (1 = unchanged), or None.
        lift: float32 ch×cw luma added (8-bit levels: steam wisps), or None.
    """

    displacements: list[np.ndarray]
    weight: np.ndarray | None
    gain: np.ndarray | None
    lift: np.ndarray | None = None


class ElementField:
    """The element motions of a clip, prepared once, evaluated per frame.

    Args:
        motions: the plan's element motions.
        regions: region masks (float32, any one resolution, [0, 1]) by name,
            already cropped to the working image's part of the photo; plus
            ``"mask"`` (the user's --mask, if any).
        work_shape: (height, width) of the working image, pixels.
        out_width: output width in pixels (speeds are sized on it).
        scale: working pixels per output pixel.
        duration: clip length in seconds (periods divide it).
        seed: varies phases, gusts and turbulence.
        loop: the clip loops: flows use the two-phase blend. Otherwise a flow
            simply advects for the whole clip (``V·(t − duration/2)``): a
            two-phase blend of smooth texture (clouds, mist) averages the two
            copies' positions and its drift cancels out, so it is kept for loops.
        rgb: uint8 working image, to keep flows from dragging foreign things
            (a boat, a grass stalk) through the water: a flowing pixel whose
            source would be outside its region, or of a colour unlike the
            region's, holds still instead.
        freeze: float32 mask (same resolution as ``regions``) of what never moves.
        arrow_flow: float32 ch×cw×2 velocity from motion-brush arrows, in
            working pixels per second, on this field's grid (see :meth:`grid_shape`).
    """

    def __init__(
        self,
        motions: list[ElementMotion],
        regions: dict[str, np.ndarray],
        work_shape: tuple[int, int],
        out_width: int,
        scale: float,
        duration: float,
        seed: int,
        loop: bool = False,
        rgb: np.ndarray | None = None,
        freeze: np.ndarray | None = None,
        arrow_flow: np.ndarray | None = None,
    ) -> None:
        _h, _w = work_shape
        self.shape = self.grid_shape(work_shape)
        ch, cw = self.shape
        rng = np.random.default_rng(seed)
        self.duration = float(duration)
        self.loop = bool(loop)
        unit = out_width * scale  # working pixels per output width
        keep = 1.0 - self._fit(freeze) if freeze is not None else np.ones(self.shape, np.float32)
        ys, xs = np.mgrid[0:ch, 0:cw].astype(np.float32)
        px, py = (xs + 0.5) * GRID - 0.5, (ys + 0.5) * GRID - 0.5  # working-pixel centres of the cells

        self.velocity = np.zeros((ch, cw, 2), np.float32)
        small = (
            cv2.resize(rgb, (cw, ch), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
            if rgb is not None
            else None
        )
        flow_ok = np.ones((ch, cw), np.float32)  # where a flow may take its texture from
        self.sways: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.ripples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.lights: list[tuple[np.ndarray, list[tuple[float, float, float, int]]]] = []
        self.steam: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.has_steam = False
        self.present: dict[str, float] = {}
        reach_s = 0.5 * duration if not loop else _loop_period(FLOW_PERIOD_S, duration)
        for e in motions:
            feather = FEATHER_CELLS
            if e.style == "flow":
                # A flow displaces by up to speed × reach_s: ramp it in over at least
                # that distance from the region's edge (and the frame's), so the field
                # never folds and the edge itself stays put.
                feather = max(feather, 2.0 * FLOW_SPEED.get(e.element, 0.02) * e.speed * unit * reach_s / GRID)
            region = self._region(e, regions, feather) * keep
            self.present[e.element] = float(region.mean())
            if region.max() < 0.05:
                continue
            d = np.array(e.direction, np.float32)
            if e.style == "flow":
                speed = FLOW_SPEED.get(e.element, 0.02) * e.speed * unit
                turb = _smooth_noise(rng, (ch, cw, 2), max(ch, cw) / 10) * FLOW_TURBULENCE.get(e.element, 0.3)
                v = (d[None, None, :] + turb) * speed
                if e.element == "steam":  # rises and spreads: sideways drift grows with height above the source
                    v[..., 0] += _smooth_noise(rng, (ch, cw), max(ch, cw) / 6) * speed * 0.5
                if e.element == "steam":
                    # A still photo of a cup rarely shows its steam, and warping the
                    # cup would only bend its rim: draw soft wisps instead (smooth
                    # noise advected up the plume, looped like a flow).
                    fine = _smooth_noise(rng, (ch, cw), max(ch, cw) / 60)
                    coarse = _smooth_noise(rng, (ch, cw), max(ch, cw) / 20)
                    wisps = np.clip(0.6 * fine + 0.8 * coarse - 0.3, 0.0, None) ** 1.3
                    self.steam.append((region * STEAM_LEVELS * min(1.5, e.speed), wisps.astype(np.float32), v))
                    self.has_steam = True
                    continue
                self.velocity += v * region[..., None]
                # The feather keeps sources inside the region. Water also must not
                # drag a boat or a grass stalk across it: sources of a colour unlike
                # the water's hold still. Clouds and mist are all texture: no guard.
                ok = np.ones((ch, cw), np.float32)
                if small is not None and e.element == "water":
                    core = region > 0.5
                    if core.any():
                        med = np.median(small[core], axis=0)
                        ok = (np.linalg.norm(small - med, axis=2) < 0.22).astype(np.float32)
                flow_ok = np.where(region > 0.05, np.minimum(flow_ok, ok), flow_ok)
            elif e.style == "sway":
                amp = SWAY_AMPLITUDE.get(e.element, 0.005) * e.speed * unit
                lam = SWAY_WAVELENGTH.get(e.element, 0.3) * unit
                phase = (
                    2 * math.pi * (px * d[0] + py * d[1]) / lam + _smooth_noise(rng, (ch, cw), max(ch, cw) / 8) * 1.5
                )
                hz = _loop_frequency(SWAY_HZ.get(e.element, 0.5) * max(0.5, e.speed) ** 0.5, duration)
                vec = (d[None, None, :] * amp) * region[..., None]
                # A little motion across the wind too: leaves flutter, they do not slide.
                vec = (
                    vec
                    + np.stack([-d[1], d[0]])[None, None, :].astype(np.float32)
                    * amp
                    * 0.3
                    * region[..., None]
                    * _smooth_noise(rng, (ch, cw), max(ch, cw) / 12)[..., None]
                )
                self.sways.append((vec.astype(np.float32), phase.astype(np.float32), hz))
            elif e.style == "ripple":
                m = region / max(1e-6, float(region.sum()))
                cx, cy = float((m * px).sum()), float((m * py).sum())
                r = np.hypot(px - cx, py - cy) + 1e-3
                radial = np.stack([(px - cx) / r, (py - cy) / r], axis=-1).astype(np.float32)
                amp = RIPPLE_AMPLITUDE * e.speed * unit
                fade = np.clip(r / (0.05 * unit), 0.0, 1.0)  # still at the very centre
                k = 2 * math.pi / (RIPPLE_WAVELENGTH * unit)
                self.ripples.append(
                    (
                        (radial * (amp * fade * region)[..., None]).astype(np.float32),
                        (k * r).astype(np.float32),
                        np.full((1,), _loop_frequency(RIPPLE_HZ * max(0.5, e.speed) ** 0.5, duration), np.float32),
                    )
                )
            elif e.style == "relight":
                waves = []
                dappled = e.region == "vegetation"
                for _ in range(3 if dappled else 2):
                    ang = rng.uniform(0, 2 * math.pi)
                    wl = (rng.uniform(0.08, 0.16) if dappled else rng.uniform(0.6, 1.2)) * unit
                    k = 2 * math.pi / wl
                    waves.append(
                        (k * math.cos(ang), k * math.sin(ang), rng.uniform(0, 2 * math.pi), int(rng.integers(1, 3)))
                    )
                amp = LIGHT_AMPLITUDE * e.speed * (1.2 if dappled else 1.0)
                self.lights.append(((region * amp).astype(np.float32), waves))
        if arrow_flow is not None:
            self.velocity += arrow_flow.astype(np.float32) * keep[..., None]
        self.flow_ok = cv2.GaussianBlur(flow_ok, (0, 0), 2.0)
        self.has_flow = bool(np.abs(self.velocity).max() > 1e-3)
        # Where the two flow phases can differ: the flowing cells, widened by
        # the largest displacement (in cells).
        speed = np.hypot(self.velocity[..., 0], self.velocity[..., 1])
        reach = (
            int(np.ceil(float(speed.max()) * max(_loop_period(FLOW_PERIOD_S, duration), 0.5 * duration) / GRID)) + 2
            if self.has_flow
            else 0
        )
        support = (speed > 1e-3).astype(np.uint8)
        if reach:
            support = cv2.dilate(support, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
        self.flow_support = support.astype(np.float32)
        self.period = _loop_period(FLOW_PERIOD_S, duration)
        # Staggered cross-fades: neighbouring areas blend at slightly different
        # times (no frame-wide pulse), gently enough to keep the drift coherent.
        self.phase = (_smooth_noise(rng, (ch, cw), max(ch, cw) / 3) * PHASE_SPREAD + 0.5).astype(np.float32) % 1.0
        self._px, self._py = px, py
        self._cells = np.dstack([xs, ys]).astype(np.float32)  # each cell's own (col, row)
        self._vt = (self.velocity * self.period).astype(np.float32)
        self.empty = not (self.has_flow or self.sways or self.ripples or self.lights or self.steam)

    @staticmethod
    def grid_shape(work_shape: tuple[int, int]) -> tuple[int, int]:
        """(rows, cols) of the coarse grid for a working image of (height, width)."""
        return max(2, -(-work_shape[0] // GRID)), max(2, -(-work_shape[1] // GRID))

    def _fit(self, mask: np.ndarray) -> np.ndarray:
        ch, cw = self.shape
        return np.clip(cv2.resize(mask.astype(np.float32), (cw, ch), interpolation=cv2.INTER_AREA), 0.0, 1.0)

    def _region(self, e: ElementMotion, regions: dict[str, np.ndarray], feather: float = 3.0) -> np.ndarray:
        user = regions.get("mask")
        if e.region == "image":
            base = np.ones(self.shape, np.float32)
        elif e.region == "mask" or e.region not in regions:
            base = self._fit(user) if user is not None else np.zeros(self.shape, np.float32)
            user = None
        else:
            base = self._fit(regions[e.region])
            if user is not None and base.max() < 0.05:
                base = np.ones(self.shape, np.float32)  # the region was not found: the user's mask says where
        if user is not None:
            base = base * self._fit(user)
        return _feather(base, feather)

    def at(self, t: float) -> ElementFrame:
        """The element motion at time ``t`` seconds."""
        ch, cw = self.shape
        common = np.zeros((ch, cw, 2), np.float32)
        for vec, phase, hz in self.sways:
            gust = 1.0 + 0.35 * math.sin(2 * math.pi * _loop_frequency(0.12, self.duration) * t)
            common += vec * (np.sin(2 * math.pi * hz * t - phase) * gust)[..., None]
        for vec, kr, hz in self.ripples:
            common += vec * np.sin(kr - 2 * math.pi * float(hz[0]) * t)[..., None]
        gain = None
        if self.lights:
            gain = np.ones((ch, cw), np.float32)
            for amp, waves in self.lights:
                mod = np.zeros((ch, cw), np.float32)
                for kx, ky, ph, n in waves:
                    mod += np.sin(kx * self._px + ky * self._py + ph + 2 * math.pi * n * t / self.duration).astype(
                        np.float32
                    )
                gain += amp * mod / len(waves)
        u0 = (t / self.period + self.phase) % 1.0
        u1 = (u0 + 0.5) % 1.0
        lift = None
        for amount, wisps, v in self.steam:
            w0 = 1.0 - np.abs(2.0 * u0 - 1.0)
            layers = []
            for u in (u0, u1):
                shift = v * (self.period * (u - 0.5))[..., None]
                gx = (self._px - shift[..., 0] + 0.5) / GRID - 0.5
                gy = (self._py - shift[..., 1] + 0.5) / GRID - 0.5
                layers.append(
                    cv2.remap(
                        wisps,
                        gx.astype(np.float32),
                        gy.astype(np.float32),
                        cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT,
                    )
                )
            w = w0 * layers[0] + (1.0 - w0) * layers[1]
            lift = (lift if lift is not None else 0.0) + amount * np.clip(w, 0.0, 1.5)
        lift = None if lift is None else lift.astype(np.float32)
        if not self.has_flow:
            return ElementFrame([common], None, gain, lift)
        if not self.loop:
            drift = self._guarded(self.velocity * np.float32(t - 0.5 * self.duration))
            return ElementFrame([(common + drift).astype(np.float32)], None, gain, lift)
        d0 = common + self._guarded(self._vt * (u0 - 0.5)[..., None])
        d1 = common + self._guarded(self._vt * (u1 - 0.5)[..., None])
        weight = (1.0 - np.abs(2.0 * u0 - 1.0)).astype(np.float32)
        return ElementFrame([d0.astype(np.float32), d1.astype(np.float32)], weight, gain, lift)

    def _guarded(self, flow: np.ndarray) -> np.ndarray:
        """Hold still where the flow would fetch its texture from outside its
        region or from a foreign colour (no ghosted boats or stalks in the water)."""
        cells = cv2.add(self._cells, flow * np.float32(-1.0 / GRID))  # source cell of each cell
        ok = cv2.remap(self.flow_ok, cells, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        return flow * ok[..., None]


def _loop_period(target: float, duration: float) -> float:
    """The period nearest ``target`` that divides ``duration`` (at least one per clip)."""
    return duration / max(1, round(duration / target))


def _loop_frequency(target_hz: float, duration: float) -> float:
    """The frequency nearest ``target_hz`` with a whole number of cycles in ``duration``."""
    return max(1, round(target_hz * duration)) / duration


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Smooth noise with unit standard deviation (seeded)."""
    n = rng.standard_normal(shape).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), max(0.5, sigma))
    if n.ndim == 3 and n.shape[2] == 1:
        n = n[..., 0]
    std = float(n.std()) or 1.0
    return n / std


def _feather(region: np.ndarray, cells: float = 3.0) -> np.ndarray:
    """Pin a region's edges: weight grows from 0 at its border (and the frame's) to 1
    ``cells`` cells inside, smoothly."""
    inside = (region > 0.5).astype(np.uint8)
    if not inside.any():
        return region * 0.0
    padded = cv2.copyMakeBorder(inside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # the frame's edge is an edge
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    ramp = np.clip(dist / max(1.0, cells), 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)
    return (np.minimum(region, 1.0) * ramp).astype(np.float32)
