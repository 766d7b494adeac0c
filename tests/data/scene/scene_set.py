"""The labelled scene set: real photos, hand-drawn region labels, rasterised masks.

Each photo has an annotation file ``annotations/<id>.json`` written by a
person looking at the photo (polygons traced over a grid overlay), and the
masks rasterised from it, ``masks/<id>/<class>.png``. The photos themselves
stay where they are (``../shared/photos``, the scientific packages' samples,
``examples/``); only labels are stored here.

Annotation file::

    {
      "source": "shared:forest-stream.jpg",   # or sklearn:china.jpg, skimage:astronaut,
                                              # matplotlib:grace_hopper.jpg, examples:coffee.jpg
      "faces": 0,                             # human faces a detector should find
      "notes": "what is where, what was hard",
      "classes": {
        "sky": [
          {"op": "add", "polygon": [[x, y], ...]},     # label pixels inside
          {"op": "sub", "polygon": [[x, y], ...]},     # remove (a tree in front)
          {"op": "maybe", "polygon": [[x, y], ...]},   # let GrabCut decide inside
          {"op": "ignore", "polygon": [[x, y], ...]}   # ambiguous: not scored
        ],
        "water": [], "vegetation": [], "person": [], "hair": []
      }
    }

Ops apply in order. Coordinates are pixels of the *work image*: the photo
resized so its long side is 512 px (``work_size``), the size
:func:`stillmotion.scene.regions.detect_regions` returns. When a class has
``maybe`` polygons, GrabCut (Rother et al., SIGGRAPH 2004) decides their
pixels from the colours of the class's sure pixels (``add``) and of the
rest of the frame: an annotation aid, like a labelling tool's smart brush,
for sky seen through branches; every result is checked by eye on the
overlay (``python tests/data/scene/scene_set.py overlay ID``).

Mask PNGs: uint8 at the work size, 255 = the class, 0 = not, 128 = not
scored (ignore). A class is *present* when its labelled area is at least
:data:`PRESENT_AREA` of the frame.

Run ``python tests/data/scene/scene_set.py rasterise [ID ...]`` after editing
an annotation, and ``overlay ID OUT.png`` to look at it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SHARED_PHOTOS = ROOT.parent / "shared" / "photos"
CLASSES = ("sky", "water", "vegetation", "person", "hair")
WORK_SIDE = 512
PRESENT_AREA = 0.005
"""Smallest labelled area, as a fraction of the frame, for a class to count as present."""

COLOURS = {
    "sky": (80, 160, 255),
    "water": (0, 90, 255),
    "vegetation": (40, 220, 40),
    "person": (255, 60, 200),
    "hair": (255, 160, 0),
}


def photo_ids() -> list[str]:
    """Ids of every annotated photo, sorted."""
    return sorted(p.stem for p in (HERE / "annotations").glob("*.json"))


def annotation(pid: str) -> dict:
    return json.loads((HERE / "annotations" / f"{pid}.json").read_text())


def photo_available(source: str) -> bool:
    kind, _, name = source.partition(":")
    if kind == "shared":
        return (SHARED_PHOTOS / name).is_file()
    return True


def load_photo(source: str) -> np.ndarray:
    """uint8 H×W×3 RGB photo named by an annotation's ``source``."""
    kind, _, name = source.partition(":")
    if kind == "shared":
        bgr = cv2.imread(str(SHARED_PHOTOS / name), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(SHARED_PHOTOS / name)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if kind == "examples":
        bgr = cv2.imread(str(ROOT / "examples" / name), cv2.IMREAD_COLOR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if kind == "sklearn":
        from sklearn.datasets import load_sample_image

        return np.ascontiguousarray(load_sample_image(name))
    if kind == "skimage":
        import skimage.data

        img = getattr(skimage.data, name)()
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        return np.ascontiguousarray(img[..., :3])
    if kind == "matplotlib":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(name) as f:
            buf = np.frombuffer(f.read(), np.uint8)
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    raise ValueError(f"unknown photo source {source!r}")


def work_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(w, h) of the work image for a photo of ``shape`` (as detect_regions sizes it)."""
    H, W = shape[:2]
    s = WORK_SIDE / max(H, W)
    return max(8, round(W * s)), max(8, round(H * s))


def work_image(rgb: np.ndarray) -> np.ndarray:
    w, h = work_size(rgb.shape)
    interp = cv2.INTER_AREA if w < rgb.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(rgb, (w, h), interpolation=interp)


def _poly(mask: np.ndarray, pts) -> np.ndarray:
    m = np.zeros_like(mask, np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(pts, np.float64)).astype(np.int32)], 1)
    return m > 0


def rasterise(ann: dict, img: np.ndarray) -> dict[str, np.ndarray]:
    """Masks (uint8 0/128/255 at the work size) from an annotation."""
    h, w = img.shape[:2]
    out = {}
    for cls in CLASSES:
        sure = np.zeros((h, w), bool)
        maybe = np.zeros((h, w), bool)
        ignore = np.zeros((h, w), bool)
        for op in ann.get("classes", {}).get(cls, []):
            p = _poly(sure, op["polygon"])
            if op["op"] == "add":
                sure |= p
                maybe &= ~p
            elif op["op"] == "sub":
                sure &= ~p
                maybe &= ~p
                ignore &= ~p
            elif op["op"] == "maybe":
                maybe |= p & ~sure
            elif op["op"] == "ignore":
                ignore |= p
            else:
                raise ValueError(f"{cls}: unknown op {op['op']!r}")
        m = sure.copy()
        if maybe.any() and sure.any():
            gc = np.full((h, w), cv2.GC_BGD, np.uint8)
            gc[maybe] = cv2.GC_PR_FGD
            gc[sure] = cv2.GC_FGD
            bgd = np.zeros((1, 65), np.float64)
            fgd = np.zeros((1, 65), np.float64)
            cv2.grabCut(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), gc, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
            m = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
        elif maybe.any():
            m = maybe
        u = np.where(m, 255, 0).astype(np.uint8)
        u[ignore] = 128
        out[cls] = u
    return out


def masks(pid: str) -> dict[str, np.ndarray]:
    """The stored masks of a photo (uint8 0/128/255 at the work size)."""
    out = {}
    for cls in CLASSES:
        p = HERE / "masks" / pid / f"{cls}.png"
        out[cls] = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
    return out


def present(mask: np.ndarray) -> bool:
    return float((mask == 255).mean()) >= PRESENT_AREA


def overlay(img: np.ndarray, ms: dict[str, np.ndarray], grid: int = 0) -> np.ndarray:
    """The photo with each class tinted in its colour and outlined (RGB)."""
    out = img.astype(np.float32).copy()
    for cls, m in ms.items():
        if m is None:
            continue
        col = np.array(COLOURS[cls], np.float32)
        a = (m == 255)[..., None] * 0.45 + (m == 128)[..., None] * 0.2
        out = out * (1 - a) + col * a
    out = out.astype(np.uint8)
    for cls, m in ms.items():
        if m is None:
            continue
        cnts, _ = cv2.findContours((m == 255).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, cnts, -1, COLOURS[cls], 1)
    if grid:
        h, w = out.shape[:2]
        for x in range(0, w, grid):
            cv2.line(out, (x, 0), (x, h - 1), (255, 255, 255), 1)
            cv2.putText(out, str(x), (x + 1, 10), cv2.FONT_HERSHEY_PLAIN, 0.7, (255, 255, 0), 1)
        for y in range(0, h, grid):
            cv2.line(out, (0, y), (w - 1, y), (255, 255, 255), 1)
            cv2.putText(out, str(y), (1, y + 10), cv2.FONT_HERSHEY_PLAIN, 0.7, (255, 255, 0), 1)
    return out


def _main(argv: list[str]) -> None:
    cmd, *rest = argv
    if cmd == "rasterise":
        for pid in rest or photo_ids():
            ann = annotation(pid)
            img = work_image(load_photo(ann["source"]))
            d = HERE / "masks" / pid
            d.mkdir(parents=True, exist_ok=True)
            for cls, m in rasterise(ann, img).items():
                cv2.imwrite(str(d / f"{cls}.png"), m)
            print(pid, {c: round(float((m == 255).mean()), 3) for c, m in masks(pid).items()})
    elif cmd == "overlay":  # overlay ID OUT.png [GRID]
        pid, out = rest[0], rest[1]
        grid = int(rest[2]) if len(rest) > 2 else 0
        ann = annotation(pid)
        img = work_image(load_photo(ann["source"]))
        ms = masks(pid) if (HERE / "masks" / pid).is_dir() else {}
        cv2.imwrite(out, cv2.cvtColor(overlay(img, ms, grid), cv2.COLOR_RGB2BGR))
    elif cmd == "grid":  # grid SOURCE OUT.png [STEP]: the work image with a labelled grid
        src, out = rest[0], rest[1]
        step = int(rest[2]) if len(rest) > 2 else 32
        img = work_image(load_photo(src))
        cv2.imwrite(out, cv2.cvtColor(overlay(img, {}, step), cv2.COLOR_RGB2BGR))
    else:
        raise SystemExit(
            f"unknown command {cmd!r}: rasterise [ID...] | overlay ID OUT.png [GRID] | grid SOURCE OUT.png"
        )


if __name__ == "__main__":
    _main(sys.argv[1:])
