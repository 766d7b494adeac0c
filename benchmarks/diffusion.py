"""GPU benchmark of the diffusion engines: seconds per denoising step and peak GPU memory.

For Wan 2.2 TI2V-5B at 1280×704×121 and LTX-Video at 768×512×121, each memory
mode (full, model-offload, group-offload, sequential) and stillmotion's
``--fast`` settings (attention backend + regional torch.compile), side by side
with stock diffusers defaults in the same run. It loads the model from
``--model-path`` or the Hugging Face cache (run ``stillmotion download NAME``
first); latents are returned (no decode), so the figures are the denoiser's.

    python benchmarks/diffusion.py --engine wan2.2-ti2v-5b [--model-path DIR] [--steps 4] [--markdown]

Needs a CUDA GPU; on a machine without one it says so and exits (status 3).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

SHAPES = {"wan2.2-ti2v-5b": (1280, 704, 121), "ltx-video": (768, 512, 121)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="wan2.2-ti2v-5b", choices=sorted(SHAPES))
    ap.add_argument("--model-path", default=None)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--modes", default="full,model-offload,group-offload,sequential")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark needs one (see BENCHMARKS.md)", file=sys.stderr)
        raise SystemExit(3)
    from stillmotion.engines.diffusion import cards
    from stillmotion.engines.diffusion.common import _apply_memory

    card, _family = next((c, m) for c, m in cards() if c.name == args.engine)
    import diffusers

    cls = getattr(diffusers, card.pipeline)
    source = args.model_path or card.repo_id
    W, H, F = SHAPES[args.engine]
    rows = []
    for variant in ["stock"] + [f"stillmotion {m}" for m in args.modes.split(",")] + ["stillmotion --fast"]:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        pipe = cls.from_pretrained(source, torch_dtype=torch.bfloat16, local_files_only=args.model_path is None)
        if variant == "stock":
            pipe.to("cuda")
        elif variant.endswith("--fast"):
            pipe.to("cuda")
            try:
                pipe.transformer.set_attention_backend("flash")
            except Exception:  # flash-attn not installed: cuDNN SDPA
                pipe.transformer.set_attention_backend("_native_cudnn")
            pipe.transformer.compile_repeated_blocks(fullgraph=True)
        else:
            _apply_memory(pipe, "cuda", variant.split()[-1], card)
        stamps = []

        def on_step(p, i, t, kw):
            torch.cuda.synchronize()
            stamps.append(time.perf_counter())
            return kw

        from PIL import Image

        img = Image.new("RGB", (W, H), (120, 130, 140))
        kwargs = dict(
            image=img,
            prompt="waves rolling in",
            width=W,
            height=H,
            num_frames=F,
            num_inference_steps=args.steps,
            output_type="latent",
            callback_on_step_end=on_step,
        )
        t0 = time.perf_counter()
        pipe(**kwargs)
        per_step = (stamps[-1] - stamps[0]) / max(1, len(stamps) - 1) if len(stamps) > 1 else time.perf_counter() - t0
        rows.append(
            {
                "variant": variant,
                "s_per_step": round(per_step, 3),
                "peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            }
        )
        del pipe
    base = rows[0]["s_per_step"]
    for r in rows:
        r["speedup_vs_stock"] = round(base / r["s_per_step"], 2)
    if args.markdown:
        print(f"| {args.engine} {W}×{H}×{F} | s/step | peak GB | vs stock |\n|---|---|---|---|")
        for r in rows:
            print(f"| {r['variant']} | {r['s_per_step']} | {r['peak_gb']} | {r['speedup_vs_stock']}× |")
    else:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
