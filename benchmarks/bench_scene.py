"""Scene scoreboard: how well stillmotion reads real photos (issue 14).

On the hand-labelled set in ``tests/data/scene`` (22 real photos: the
development photos in ../shared/photos, scikit-learn's and scikit-image's
samples, matplotlib's grace_hopper.jpg; see that folder's README), for each
photo a fresh :class:`stillmotion.scene.Scene` is asked for its regions,
person mask and faces, exactly as the living engine asks, and compared with
the labels:

- **IoU per class** (sky, water, vegetation, person, hair): intersection
  over union of the predicted mask (soft mask > 0.5) and the label,
  accumulated over the whole set (as semantic-segmentation benchmarks such
  as ADE20K's mIoU do), pixels labelled "ignore" left out;
- **presence accuracy**: a class is present when it covers at least 0.5 %
  of the frame (label and prediction alike); right decisions over all
  photo × class pairs;
- **face-count accuracy**: photos whose number of faces found equals the
  number labelled;
- **time**: understanding one photo (faces, depth, regions, person) at its
  stored size, and a 12-megapixel photo end to end (decode included; the
  issue's target is under 1 s on 2 cores).

    python benchmarks/bench_scene.py [--json OUT.json] [--markdown] [--per-photo]
        [--scene-model NAME|DIR] [--depth-model NAME|DIR] [--repeats 3] [--tearing]

``--tearing`` adds the tearing measure
(:func:`stillmotion.engines.living.parallax.measure_tearing`) of the README's
first example, "slow push-in, gentle pan from left to right" at 720×480, on
china.jpg and each development photo with a sky.

Without ``--scene-model`` the classical path is scored (the learned
defaults are never picked up here: the HF cache is not consulted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "data" / "scene"))

import scene_set  # noqa: E402

CLASSES = scene_set.CLASSES


def predict(rgb: np.ndarray, size: tuple[int, int], scene_model: str | None, depth_model: str | None):
    """Predicted masks (bool at ``size`` = (w, h)) and face count for one photo, and the seconds taken."""
    from stillmotion.scene import Scene

    kwargs = {"depth_model": depth_model}
    if scene_model:
        kwargs["scene_model"] = scene_model
    t = time.perf_counter()
    scene = Scene(rgb, **kwargs)
    faces = scene.faces
    regions = scene.regions
    person = scene.person if faces else None
    seconds = time.perf_counter() - t
    w, h = size
    out = {}
    for cls in CLASSES:
        m = regions.get(cls) if cls != "person" else person
        if m is None:
            out[cls] = np.zeros((h, w), bool)
        else:
            out[cls] = cv2.resize(np.asarray(m, np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
    return out, len(faces), seconds


def score(scene_model: str | None, depth_model: str | None, per_photo: bool) -> dict:
    inter = dict.fromkeys(CLASSES, 0)
    union = dict.fromkeys(CLASSES, 0)
    presence_right = 0
    presence_total = 0
    faces_right = 0
    photos = []
    times = []
    misses = []
    for pid in scene_set.photo_ids():
        ann = scene_set.annotation(pid)
        if not scene_set.photo_available(ann["source"]):
            continue
        rgb = scene_set.load_photo(ann["source"])
        labels = scene_set.masks(pid)
        h, w = labels["sky"].shape
        pred, n_faces, seconds = predict(rgb, (w, h), scene_model, depth_model)
        times.append(seconds)
        row = {"id": pid, "faces": n_faces, "faces_labelled": ann["faces"], "seconds": round(seconds, 3)}
        faces_right += n_faces == ann["faces"]
        if n_faces != ann["faces"]:
            misses.append(f"{pid}: {n_faces} faces found, {ann['faces']} labelled")
        for cls in CLASSES:
            lab = labels[cls]
            scored = lab != 128
            truth = lab == 255
            p = pred[cls]
            i = int((p & truth & scored).sum())
            u = int(((p | truth) & scored).sum())
            inter[cls] += i
            union[cls] += u
            present = scene_set.present(lab)
            predicted = float((p & scored).sum()) / p.size >= scene_set.PRESENT_AREA
            presence_right += present == predicted
            presence_total += 1
            if present != predicted:
                misses.append(f"{pid}: {cls} {'missed' if present else 'false'}")
            row[cls] = round(i / u, 3) if u else None
        photos.append(row)
    n = len(photos)
    return {
        "photos": n,
        "iou": {c: round(inter[c] / union[c], 3) if union[c] else None for c in CLASSES},
        "presence_accuracy": round(presence_right / max(1, presence_total), 3),
        "presence_decisions": presence_total,
        "face_count_accuracy": round(faces_right / max(1, n), 3),
        "seconds_per_photo_median": round(statistics.median(times), 3) if times else None,
        "errors": misses,
        "per_photo": photos if per_photo else None,
    }


def time_12mp(repeats: int, scene_model: str | None, depth_model: str | None) -> dict:
    """Decode + faces + depth + regions of a 4000×3000 JPEG, fresh Scene each time (layer caches cleared)."""
    from PIL import Image

    from stillmotion import scene as scene_mod
    from stillmotion.image import load_image

    src = ROOT.parent / "shared" / "photos" / "mountain-meadow.jpg"
    if src.exists():
        img = Image.open(src).convert("RGB")
    else:
        from sklearn.datasets import load_sample_image

        img = Image.fromarray(load_sample_image("china.jpg"))
    stages: dict[str, list[float]] = {"decode": [], "faces": [], "depth": [], "regions": [], "total": []}
    with tempfile.TemporaryDirectory() as d:
        photo = Path(d) / "12mp.jpg"
        img.resize((4000, 3000), Image.LANCZOS).save(photo, quality=92)
        for _ in range(repeats):
            scene_mod._CACHE.clear()
            t0 = time.perf_counter()
            rgb = load_image(photo).rgb
            t1 = time.perf_counter()
            kwargs = {"depth_model": depth_model}
            if scene_model:
                kwargs["scene_model"] = scene_model
            s = scene_mod.Scene(rgb, **kwargs)
            _ = s.faces
            t2 = time.perf_counter()
            _ = s.depth
            t3 = time.perf_counter()
            _ = s.regions
            t4 = time.perf_counter()
            for k, v in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                stages[k].append(v)
    return {k: round(statistics.median(v), 3) for k, v in stages.items()}


TEARING_PHOTOS = (
    "sklearn:china.jpg",
    "shared:beach-bridge.jpg",
    "shared:dandelions-backlit.jpg",
    "shared:dune-sea-grass.jpg",
    "shared:mountain-clouds.jpg",
    "shared:mountain-meadow.jpg",
    "shared:mountain-sunset.jpg",
    "shared:storm-clouds-road.jpg",
    "skimage:astronaut",
)


def tearing(depth_model: str | None) -> dict:
    """Stretched and split shares of the README example's move on photos with a sky."""
    from stillmotion.engines.base import RenderJob
    from stillmotion.engines.living import LivingEngine
    from stillmotion.engines.living.parallax import measure_tearing
    from stillmotion.plan.prompt import parse_prompt
    from stillmotion.scene import Scene

    out = {}
    for source in TEARING_PHOTOS:
        if not scene_set.photo_available(source):
            continue
        scene = Scene(scene_set.load_photo(source), depth_model=depth_model)
        plan = parse_prompt("slow push-in, gentle pan from left to right")
        shot = LivingEngine().prepare(
            RenderJob(scene=scene, size=(720, 480), frame_count=120, fps=24.0, seed=1, plan=plan)
        )
        poses = shot.poses()
        t = measure_tearing(shot.renderer, poses[::8] + [poses[-1]])
        out[source.partition(":")[2]] = {"stretched": round(t.stretched, 4), "split": round(t.split, 4)}
    return out


def markdown(result: dict) -> str:
    iou = result["iou"]
    lines = [
        "| photos | sky IoU | water IoU | vegetation IoU | person IoU | hair IoU | presence acc. | face-count acc. | s/photo |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {result['photos']} | {iou['sky']} | {iou['water']} | {iou['vegetation']} | {iou['person']} | {iou['hair']} "
        f"| {result['presence_accuracy']} ({result['presence_decisions']}) | {result['face_count_accuracy']} "
        f"| {result['seconds_per_photo_median']} |",
    ]
    if result.get("per_photo"):
        lines += ["", "| photo | " + " | ".join(CLASSES) + " | faces |", "| --- |" + " ---: |" * (len(CLASSES) + 1)]
        for r in result["per_photo"]:
            cells = " | ".join("–" if r[c] is None else str(r[c]) for c in CLASSES)
            lines.append(f"| {r['id']} | {cells} | {r['faces']}/{r['faces_labelled']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the full result here")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--per-photo", action="store_true", help="IoU per photo too")
    ap.add_argument("--scene-model", default=None)
    ap.add_argument("--depth-model", default=None)
    ap.add_argument("--repeats", type=int, default=3, help="12-MP timing repeats (0 skips it)")
    ap.add_argument("--tearing", action="store_true", help="also measure tearing on the README example's move")
    args = ap.parse_args()
    result = score(args.scene_model, args.depth_model, args.per_photo)
    if args.tearing:
        result["tearing"] = tearing(args.depth_model)
    if args.repeats:
        result["twelve_mp_seconds"] = time_12mp(args.repeats, args.scene_model, args.depth_model)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.markdown:
        print(markdown(result))
        print()
        print("12 MP:", result.get("twelve_mp_seconds"))
        print("errors:", "; ".join(result["errors"]) or "none")
        if "tearing" in result:
            print()
            print("| photo | stretched | split |")
            print("| --- | ---: | ---: |")
            for name, t in result["tearing"].items():
                print(f"| {name} | {t['stretched']} | {t['split']} |")
    else:
        print(json.dumps({k: v for k, v in result.items() if k != "per_photo"}, indent=2))


if __name__ == "__main__":
    main()
