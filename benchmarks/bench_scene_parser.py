"""CPU time of the learned scene parser at 1024 px, against the classical region masks in the same run.

The parser is UperNet + ConvNeXt-T built from the published config values of
``openmmlab/upernet-convnext-tiny`` (depths 3-3-9-3, widths 96-192-384-768,
decoder width 512, pool scales 1-2-3-6, 150 ADE20K classes) with random
weights: the same layers and FLOPs as the real checkpoint, so the same time,
with nothing downloaded. It is saved and loaded through
:func:`stillmotion.scene.parser_model.load_scene_model`, then called the way a
Scene calls it, on its ≤1024 px working copy. The photo is ``examples/china.jpg``
(640×427) upscaled (Lanczos) to 1024×683.

    python benchmarks/bench_scene_parser.py [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

# ADE20K ids of the classes the parser sums into its kinds (the others are placeholders).
ADE20K = {
    2: "sky",
    4: "tree",
    9: "grass",
    12: "person",
    17: "plant",
    21: "water",
    26: "sea",
    29: "field",
    60: "river",
    66: "flower",
    72: "palm",
    104: "fountain",
    109: "swimming pool",
    113: "waterfall",
    128: "lake",
}


def build_parser(folder: Path):
    """Save a random-weight UperNet ConvNeXt-T of the published size in ``folder`` and load it as stillmotion does."""
    import torch
    import transformers

    from stillmotion.scene.parser_model import load_scene_model

    backbone = transformers.ConvNextConfig(
        depths=[3, 3, 9, 3],
        hidden_sizes=[96, 192, 384, 768],
        out_features=["stage1", "stage2", "stage3", "stage4"],
    )
    labels = {i: ADE20K.get(i, f"class {i}") for i in range(150)}
    config = transformers.UperNetConfig(
        backbone_config=backbone,
        hidden_size=512,
        pool_scales=[1, 2, 3, 6],
        auxiliary_in_channels=384,
        auxiliary_channels=256,
        num_labels=150,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    torch.manual_seed(0)
    model = transformers.UperNetForSemanticSegmentation(config)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(folder)
    transformers.SegformerImageProcessorPil(size={"height": 512, "width": 512}).save_pretrained(folder)
    t = time.perf_counter()
    parser = load_scene_model(str(folder), device="cpu")
    return parser, params, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = ap.parse_args()

    import torch

    from stillmotion.scene.regions import detect_regions

    if args.threads:
        torch.set_num_threads(args.threads)
    src = Image.open(ROOT / "examples" / "china.jpg").convert("RGB")
    photo = np.asarray(src.resize((1024, round(1024 * src.height / src.width)), Image.Resampling.LANCZOS))

    with tempfile.TemporaryDirectory() as tmp:
        parser, params, load_s = build_parser(Path(tmp) / "upernet-convnext-tiny-random")
        input_shape = tuple(parser._preprocess(photo).shape)
        parser(photo)  # warm-up (allocator, oneDNN kernels)
        detect_regions(photo)
        learned, classical = [], []
        for _ in range(args.repeats):  # interleaved
            t = time.perf_counter()
            masks = parser(photo)
            learned.append(time.perf_counter() - t)
            t = time.perf_counter()
            detect_regions(photo)
            classical.append(time.perf_counter() - t)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med_l, med_c = statistics.median(learned), statistics.median(classical)
    print(f"photo {photo.shape[1]}×{photo.shape[0]}, model input {input_shape}, {params / 1e6:.1f} M parameters")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cv2 {cv2.__version__}")
    print(f"load (from_pretrained, local folder): {load_s:.2f} s")
    print(f"scene parser:   median {med_l:.2f} s (min {min(learned):.2f}) over {args.repeats}")
    print(f"detect_regions: median {med_c:.3f} s (min {min(classical):.3f}) over {args.repeats}")
    print(f"ratio {med_l / med_c:.0f}×; peak RSS {rss_mb:.0f} MB; masks {sorted(masks)} {masks['sky'].shape}")


if __name__ == "__main__":
    main()
