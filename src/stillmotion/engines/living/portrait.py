"""Portrait micro-motion: blinks, breathing, head motion, gaze and a soft smile.

Driven by Face Mesh landmarks (:mod:`stillmotion.scene.landmarks`) found
once per clip. Each motion is a smooth displacement raster in the working
image's pixels, built once, times a scalar (or 2-vector) schedule in time:

- **blink**: the upper lid's landmarks move down to the lower lid's (the
  lower lid up a little), interpolated by Gaussian radial basis functions
  anchored at the eye corners, brows and a ring around the eye, so the lid
  skin is drawn over the eye instead of the eye being squashed (notes
  §2(f)). Blinks come every 2.5–5.5 s (seeded), last 0.15–0.3 s, close over
  the first 40 %, hold, open over the last 40 %, both eyes together.
- **breathing**: the shoulders and chest rise and fall (≈ 0.25 Hz), scaled
  about the bottom of the torso, inside the person mask.
- **head**: a roll of ≤ 1.5° about the neck (tilt), a small sideways or
  vertical slide of the features inside the face oval (turn, nod), the
  weight fading down the neck and at the head's outline.
- **gaze**: the irises make small saccades inside the eye opening.
- **smile**: the mouth corners lift and widen slightly (only when asked).

The renderer samples the sum at its camera-mapped positions, so portrait
motion is in scene space and composes with any camera move and with the
element motion; the frame is still one warp.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ...plan.motion import PortraitMotion
from ...scene.landmarks import CHIN, FACE_OVAL, LEFT_EYE, MOUTH_CORNERS, NOSE_TIP, RIGHT_EYE, FaceLandmarks

__all__ = ["PortraitField", "blink_schedule"]

BLINK_INTERVAL_S = (2.5, 5.5)
BLINK_DURATION_S = (0.15, 0.3)
BREATH_HZ = 0.25
BREATH_RISE = 0.035  # shoulder rise, fraction of the face height
TILT_DEG = 1.2
TURN_FRACTION = 0.03  # feature slide, fraction of the face width
NOD_FRACTION = 0.02
GAZE_FRACTION = 0.18  # iris travel, fraction of the eye width
SMILE_FRACTION = 0.05


def blink_schedule(duration: float, rng: np.random.Generator, loop: bool) -> list[tuple[float, float]]:
    """Blink (start, length) pairs in seconds: irregular intervals, none crossing the clip's end."""
    out = []
    t = float(rng.uniform(0.6, 2.0))
    while True:
        length = float(rng.uniform(*BLINK_DURATION_S))
        if t + length > duration - (0.05 if loop else 0.0):
            break
        out.append((t, length))
        t += length + float(rng.uniform(*BLINK_INTERVAL_S))
    return out


def _closure(t: float, blinks: list[tuple[float, float]]) -> float:
    """Lid closure in [0, 1] at time t: close in 40 %, hold to 60 %, open in the last 40 % (eased)."""
    for start, length in blinks:
        u = (t - start) / length
        if 0.0 <= u <= 1.0:
            if u < 0.4:
                v = u / 0.4
            elif u < 0.6:
                v = 1.0
            else:
                v = (1.0 - u) / 0.4
            return v * v * (3 - 2 * v)
    return 0.0


class _Raster:
    """A displacement raster over a box of the working image (pixels), sampled with remap."""

    def __init__(self, x0: int, y0: int, field: np.ndarray, step: float = 1.0) -> None:
        self.x0, self.y0, self.step = x0, y0, step
        self.field = field.astype(np.float32)  # h×w×2

    def sample(self, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
        gx = (mx - self.x0) / self.step
        gy = (my - self.y0) / self.step
        return cv2.remap(
            self.field,
            gx.astype(np.float32),
            gy.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )


def _rbf_raster(ctrl: np.ndarray, disp: np.ndarray, box: tuple[int, int, int, int], sigma: float) -> _Raster:
    """Gaussian-RBF interpolation of control displacements over a box (x0, y0, x1, y1), exact at the controls."""
    x0, y0, x1, y1 = box
    d = np.linalg.norm(ctrl[:, None, :] - ctrl[None, :, :], axis=2)
    k = np.exp(-((d / sigma) ** 2)) + 1e-6 * np.eye(len(ctrl))
    w = np.linalg.solve(k, disp)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    q = np.stack([xs.ravel(), ys.ravel()], axis=1)
    kq = np.exp(-((np.linalg.norm(q[:, None, :] - ctrl[None, :, :], axis=2) / sigma) ** 2))
    field = (kq @ w).reshape(y1 - y0, x1 - x0, 2)
    return _Raster(x0, y0, field)


class PortraitField:
    """Portrait micro-motion of a clip's faces, prepared once, evaluated per frame.

    Args:
        faces: landmarks in working pixels (already mapped from the photo).
        person: float32 person mask at working resolution (1 = the person), or None.
        work_shape: (height, width) of the working image.
        motion: what moves.
        duration: clip length, seconds (frequencies divide it, blinks end inside it).
        seed: blink times, phases.
        loop: the clip loops.
    """

    def __init__(
        self,
        faces: list[FaceLandmarks],
        person: np.ndarray | None,
        work_shape: tuple[int, int],
        motion: PortraitMotion,
        duration: float,
        seed: int,
        loop: bool = False,
    ) -> None:
        self.motion = motion
        self.duration = float(duration)
        rng = np.random.default_rng(seed + 7919)
        h, w = work_shape
        s = motion.strength
        self.parts: list[tuple[_Raster, object]] = []  # raster and a function t -> scalar
        self.blink_rasters: list[list[_Raster]] = []  # per face: rasters at closures 0 … 1
        self.blinks = blink_schedule(duration, rng, loop) if motion.blink else []
        for face in faces:
            p = face.points[:, :2].astype(np.float64)
            fx0, fy0 = p[FACE_OVAL].min(axis=0)
            fx1, fy1 = p[FACE_OVAL].max(axis=0)
            fw, fh = fx1 - fx0, fy1 - fy0
            if fw < 12:
                continue  # too small to animate credibly
            if motion.blink:
                self.blink_rasters.append(self._blink_rasters(p, (h, w)))
            if motion.gaze and face.iris is not None:
                gx, gy = self._gaze_rasters(p, face, (h, w))
                targets = self._saccades(rng)
                self.parts.append((gx, lambda t, tg=targets: tg(t)[0]))
                self.parts.append((gy, lambda t, tg=targets: tg(t)[1]))
            if motion.smile:
                self.parts.append(
                    (
                        self._smile_raster(p, fw, (h, w)),
                        lambda t: s * min(1.0, t / 1.5) ** 2 * (3 - 2 * min(1.0, t / 1.5)),
                    )
                )
            head = self._head_weight(p, fw, fh, person, (h, w))
            if motion.head:
                f_head = _loop_hz(0.2, duration)
                ph = float(rng.uniform(0, 2 * math.pi))
                pivot = np.array([p[CHIN, 0], p[CHIN, 1] + 0.25 * fh])
                if motion.head in ("sway", "tilt"):
                    amp = math.radians(TILT_DEG) * s * (1.0 if motion.head == "tilt" else 0.7)
                    ys, xs = np.mgrid[0 : head.field.shape[0], 0 : head.field.shape[1]].astype(np.float32)
                    xs = xs * head.step + head.x0 - pivot[0]
                    ys = ys * head.step + head.y0 - pivot[1]
                    rot = np.dstack([-ys, xs]) * head.field[..., :1]  # d/dθ of a rotation, weighted
                    self.parts.append(
                        (
                            _Raster(head.x0, head.y0, rot, head.step),
                            lambda t, a=amp, f=f_head, q=ph: a * math.sin(2 * math.pi * f * t + q),
                        )
                    )
                features = self._feature_weight(p, fw, fh, (h, w))
                if motion.head in ("sway", "turn"):
                    amp = TURN_FRACTION * fw * s * (1.0 if motion.head == "turn" else 0.5)
                    f_turn = _loop_hz(0.13, duration)
                    self.parts.append(
                        (
                            _Raster(features.x0, features.y0, features.field * np.array([1.0, 0.0], np.float32)),
                            lambda t, a=amp, f=f_turn: a * math.sin(2 * math.pi * f * t),
                        )
                    )
                if motion.head == "nod":
                    amp = NOD_FRACTION * fh * s
                    self.parts.append(
                        (
                            _Raster(features.x0, features.y0, features.field * np.array([0.0, 1.0], np.float32)),
                            lambda t, a=amp, f=f_head: a * math.sin(2 * math.pi * f * t),
                        )
                    )
            if motion.breathe:
                self.parts.append(
                    (
                        self._breath_raster(p, fw, fh, person, (h, w)),
                        lambda t, f=_loop_hz(BREATH_HZ, duration): s * 0.5 * (1 - math.cos(2 * math.pi * f * t)),  # noqa: B008  (bound once per clip, on purpose)
                    )
                )
        self.empty = not (self.parts or self.blink_rasters)

    # ------------------------------------------------------------- rasters

    @staticmethod
    def _blink_rasters(p: np.ndarray, shape) -> list[_Raster]:
        """Backward displacement of both eyes at closures 0, 1/15 … 1 (the lid's geometry is
        not linear in closure, so levels are precomputed and interpolated).

        In each column of an eye, the upper lid comes down to ``y_u + c·(y_l − y_u)``:
        the skin between the brow and the lid stretches down over the eye; the part of
        the eye still open below the lid is unchanged (covered, not squashed). The
        closure tapers to 0 at the eye corners.
        """
        h, w = shape
        eyes = []
        for eye in (LEFT_EYE, RIGHT_EYE):
            a, b = p[eye["corners"][0]], p[eye["corners"][1]]
            xa, xb = sorted((float(a[0]), float(b[0])))
            up, lo = p[eye["upper"] + eye["corners"]], p[eye["lower"] + eye["corners"]]
            ou, ol = np.argsort(up[:, 0]), np.argsort(lo[:, 0])
            ew = xb - xa
            eyes.append((xa, xb, ew, up[ou], lo[ol]))
        ew = max(e[2] for e in eyes)
        x0 = int(max(0, min(e[0] for e in eyes) - 0.15 * ew))
        x1 = int(min(w, max(e[1] for e in eyes) + 0.15 * ew))
        ys_all = np.concatenate([e[3][:, 1] for e in eyes] + [e[4][:, 1] for e in eyes])
        y0 = int(max(0, ys_all.min() - 0.7 * ew))
        y1 = int(min(h, ys_all.max() + 0.2 * ew))
        ys, xs = np.mgrid[y0 : max(y0 + 2, y1), x0 : max(x0 + 2, x1)].astype(np.float32)
        rasters = []
        for level in np.linspace(0.0, 1.0, 16):
            dy = np.zeros_like(xs)
            for xa, xb, e_w, up, lo in eyes:
                yu = np.interp(xs, up[:, 0], up[:, 1])
                yl = np.interp(xs, lo[:, 0], lo[:, 1])
                u = np.clip((xs - xa) / max(1e-6, xb - xa), 0.0, 1.0)
                taper = np.sqrt(np.clip(1.0 - (2 * u - 1) ** 2, 0.0, 1.0)) * ((xs >= xa) & (xs <= xb))
                c = 0.97 * level * taper
                ylid = yu + c * np.maximum(yl - yu, 0.0)  # the lid's new edge
                # The lid skin above the lash line (about one opening high), not the brow
                # or a glasses rim above it, stretches down over the eye; the lashes
                # themselves (just above the lid line) are left out of the stretch, so
                # the closed lid reads as skin rather than a dark smear.
                gap = np.maximum(yl - yu, 0.0)
                ytop = yu - np.maximum(1.1 * gap, 0.07 * e_w)
                yskin = yu - 0.3 * gap  # bottom of the skin that is stretched
                r = (yskin - ytop) / np.maximum(ylid - ytop, 1e-3)
                src = ytop + (ys - ytop) * np.where(c > 1e-3, r, 1.0)
                band = (ys >= ytop) & (ys <= ylid) & (xs >= xa) & (xs <= xb) & (c > 1e-3)
                dy = np.where(band, ys - src, dy)
            dy = cv2.GaussianBlur(dy, (0, 0), 0.6)  # anti-alias the lid's edge
            rasters.append(_Raster(x0, y0, np.dstack([np.zeros_like(dy), dy])))
        return rasters

    @staticmethod
    def _gaze_rasters(p: np.ndarray, face: FaceLandmarks, shape) -> tuple[_Raster, _Raster]:
        xs0 = int(max(0, p[[*LEFT_EYE["corners"], *RIGHT_EYE["corners"]], 0].min() - 5))
        xs1 = int(min(shape[1], p[[*LEFT_EYE["corners"], *RIGHT_EYE["corners"]], 0].max() + 5))
        ys0 = int(max(0, min(p[LEFT_EYE["upper"], 1].min(), p[RIGHT_EYE["upper"], 1].min()) - 5))
        ys1 = int(min(shape[0], max(p[LEFT_EYE["lower"], 1].max(), p[RIGHT_EYE["lower"], 1].max()) + 5))
        ys, xs = np.mgrid[ys0:ys1, xs0:xs1].astype(np.float32)
        bump = np.zeros_like(xs)
        for eye, centre in ((RIGHT_EYE, face.iris[0]), (LEFT_EYE, face.iris[1])):
            poly = np.concatenate([p[eye["upper"]], p[eye["lower"]][::-1]]).astype(np.float32)
            opening = np.zeros_like(xs, np.uint8)
            hull = cv2.convexHull((poly - [xs0, ys0]).astype(np.int32))
            cv2.fillConvexPoly(opening, hull, 1)
            opening = cv2.GaussianBlur(opening.astype(np.float32), (0, 0), 1.0)
            r = 1.6 * (face.iris_radius or 3.0)
            bump = np.maximum(bump, np.exp(-(((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (r * r))) * opening)
        ew = float(np.linalg.norm(p[LEFT_EYE["corners"][0]] - p[LEFT_EYE["corners"][1]]))
        fx = np.dstack([bump * GAZE_FRACTION * ew, np.zeros_like(bump)])
        fy = np.dstack([np.zeros_like(bump), bump * 0.4 * GAZE_FRACTION * ew])
        return _Raster(xs0, ys0, fx), _Raster(xs0, ys0, fy)

    def _saccades(self, rng: np.random.Generator):
        times, targets = [0.0], [(0.0, 0.0)]
        t = 0.0
        while t < self.duration:
            t += float(rng.uniform(1.0, 2.5))
            targets.append((float(rng.uniform(-1, 1)), float(rng.uniform(-0.6, 0.6))))
            times.append(t)
        times.append(self.duration)
        targets.append((0.0, 0.0))  # back to the photo's gaze at the end (loops close)

        def at(tt: float) -> tuple[float, float]:
            i = int(np.searchsorted(times, tt, side="right")) - 1
            i = max(0, min(i, len(times) - 2))
            u = min(1.0, max(0.0, (tt - times[i + 1] + 0.06) / 0.06)) if tt > times[i + 1] - 0.06 else 0.0
            a, b = targets[i], targets[i + 1]
            return (a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u)

        return at

    @staticmethod
    def _smile_raster(p: np.ndarray, fw: float, shape) -> _Raster:
        ctrl, disp = [], []
        left, right = p[MOUTH_CORNERS[0]], p[MOUTH_CORNERS[1]]
        mw = float(np.linalg.norm(right - left))
        # Backward: the corner's new place samples from below and inside.
        for q, sx in ((left, -1), (right, 1)):
            ctrl.append(q + [sx * 0.3 * SMILE_FRACTION * fw, -SMILE_FRACTION * fw])
            disp.append([sx * 0.3 * SMILE_FRACTION * fw, -SMILE_FRACTION * fw])
        c = (left + right) / 2
        for ang in np.linspace(0, 2 * math.pi, 10, endpoint=False):
            ctrl.append(c + [0.9 * mw * math.cos(ang), 0.7 * mw * math.sin(ang)])
            disp.append([0.0, 0.0])
        ctrl.append(p[NOSE_TIP])
        disp.append([0.0, 0.0])
        x0, x1 = int(max(0, c[0] - mw)), int(min(shape[1], c[0] + mw))
        y0, y1 = int(max(0, c[1] - 0.8 * mw)), int(min(shape[0], c[1] + 0.8 * mw))
        return _rbf_raster(
            np.array(ctrl, np.float64),
            np.array(disp, np.float64),
            (x0, y0, max(x0 + 2, x1), max(y0 + 2, y1)),
            0.35 * mw,
        )

    @staticmethod
    def _head_weight(p, fw, fh, person, shape) -> _Raster:
        """Weight of the head (face + hair), 1 inside, fading down the neck and at the outline (step 2)."""
        h, w = shape
        cx, cy = p[FACE_OVAL, 0].mean(), p[FACE_OVAL, 1].mean()
        x0, x1 = int(max(0, cx - 1.2 * fw)), int(min(w, cx + 1.2 * fw))
        y0, y1 = int(max(0, cy - 1.3 * fh)), int(min(h, p[CHIN, 1] + 0.6 * fh))
        step = 2.0
        ys, xs = np.mgrid[y0:y1:step, x0:x1:step].astype(np.float32)
        ell = ((xs - cx) / (0.8 * fw)) ** 2 + ((ys - (cy - 0.1 * fh)) / (0.85 * fh)) ** 2
        inside = np.clip((1.25 - ell) / 0.5, 0.0, 1.0)
        neck = np.clip((p[CHIN, 1] + 0.35 * fh - ys) / (0.35 * fh), 0.0, 1.0)
        wgt = inside * neck
        if person is not None:
            wgt *= cv2.remap(person, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        wgt = wgt * wgt * (3 - 2 * wgt)
        return _Raster(x0, y0, np.dstack([wgt, wgt]), step)

    @staticmethod
    def _feature_weight(p, fw, fh, shape) -> _Raster:
        """Weight peaked on the features (eyes, nose, mouth), 0 at the face oval: slides them
        inside the head's outline, as a small turn or nod does."""
        h, w = shape
        x0, x1 = int(max(0, p[FACE_OVAL, 0].min())), int(min(w, p[FACE_OVAL, 0].max()))
        y0, y1 = int(max(0, p[FACE_OVAL, 1].min())), int(min(h, p[FACE_OVAL, 1].max()))
        mask = np.zeros((max(2, y1 - y0), max(2, x1 - x0)), np.uint8)
        cv2.fillPoly(mask, [(p[FACE_OVAL] - [x0, y0]).astype(np.int32)], 1)
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
        wgt = np.clip(dist / (0.25 * fw), 0.0, 1.0)
        wgt = wgt * wgt * (3 - 2 * wgt)
        return _Raster(x0, y0, np.dstack([wgt, wgt]))

    @staticmethod
    def _breath_raster(p, fw, fh, person, shape) -> _Raster:
        """Backward displacement of an inhale (shoulders up, chest out), step 4."""
        h, w = shape
        chin = p[CHIN]
        top, bottom = chin[1] + 0.2 * fh, min(h, chin[1] + 3.0 * fh)
        x0, x1 = int(max(0, chin[0] - 2.2 * fw)), int(min(w, chin[0] + 2.2 * fw))
        y0, y1 = int(max(0, chin[1] - 0.2 * fh)), int(min(h, bottom))
        step = 4.0
        ys, xs = np.mgrid[y0:y1:step, x0:x1:step].astype(np.float32)
        # Rise: most at the shoulders, none at the bottom of the frame/torso.
        rise = np.clip((bottom - ys) / max(1.0, bottom - top), 0.0, 1.0)
        rise *= np.clip((ys - (chin[1] - 0.1 * fh)) / (0.3 * fh), 0.0, 1.0)  # not the head
        across = np.exp(-(((xs - chin[0]) / (1.8 * fw)) ** 4))
        wgt = rise * across
        if person is not None:
            wgt *= cv2.remap(person, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        dy = BREATH_RISE * fh * wgt  # backward: an inhaled pixel samples from below
        dx = -0.004 * fw * wgt * np.sign(xs - chin[0])  # chest widens a little
        return _Raster(x0, y0, np.dstack([dx, dy]), step)

    # ------------------------------------------------------------- per frame

    def displace(self, mx: np.ndarray, my: np.ndarray, t: float) -> np.ndarray | None:
        """Backward displacement (working pixels, ...×2) at working positions (mx, my), time t;
        None when nothing moves at this instant."""
        out = None
        c = _closure(t, self.blinks) if self.blink_rasters else 0.0
        if c > 1e-4:
            k = c * 15.0
            i = min(14, int(k))
            f = np.float32(k - i)
            for levels in self.blink_rasters:
                d = levels[i].sample(mx, my) * (1 - f) + levels[i + 1].sample(mx, my) * f
                out = d if out is None else out + d
        for raster, amount in self.parts:
            a = float(amount(t))
            if abs(a) < 1e-6:
                continue
            d = raster.sample(mx, my) * np.float32(a)
            out = d if out is None else out + d
        return out

    def closure(self, t: float) -> float:
        """Eyelid closure in [0, 1] at time t (0 = open)."""
        return _closure(t, self.blinks)


def _loop_hz(target: float, duration: float) -> float:
    return max(1, round(target * duration)) / duration
