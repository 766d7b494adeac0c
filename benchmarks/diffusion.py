"""GPU benchmark of the diffusion engines: seconds per denoising step and peak GPU memory.

For any engine (every card of ``stillmotion engines``' diffusion families) at its
native size and up to 121 frames (snapped to its frame rule): each memory mode
(full, model-offload, group-offload, sequential) and stillmotion's ``--fast``
settings (attention backend + regional torch.compile), side by side with stock
diffusers defaults in the same run. The call's arguments are the family's own
(``call_kwargs``), as ``stillmotion animate`` passes them. With ``--refine`` (an
engine that can refine: ``ltx-video``, ``ltx-video-distilled``) it adds the
refine pass at ``--refine-strength`` on a synthetic draft of the same size,
beside plain image-to-video. It loads the model from ``--model-path`` or the
Hugging Face cache (run ``stillmotion download NAME`` first); latents are
returned (no decode), so the figures are the denoiser's.

    python benchmarks/diffusion.py --engine wan2.2-ti2v-5b [--model-path DIR] [--steps 4] [--markdown]
        [--refine --refine-strength 0.5]

Needs a CUDA GPU; on a machine without one it says so and exits (status 3).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

MAX_FRAMES = 121


def shape(card) -> tuple[int, int, int]:
    """(width, height, frames): the card's native size and at most MAX_FRAMES frames on its frame rule."""
    k, r = card.frame_rule
    frames = min(card.max_frames, MAX_FRAMES)
    return card.native_size[0], card.native_size[1], (frames - r) // k * k + r


def main() -> None:
    from stillmotion.engines.diffusion import cards

    names = sorted(c.name for c, _ in cards())
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="wan2.2-ti2v-5b", choices=names)
    ap.add_argument("--refine", action="store_true", help="also time the refine pass (refine-capable engines)")
    ap.add_argument("--refine-strength", type=float, default=0.5)
    ap.add_argument("--model-path", default=None)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--modes", default="full,model-offload,group-offload,sequential")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark needs one (see BENCHMARKS.md)", file=sys.stderr)
        raise SystemExit(3)
    import inspect

    from PIL import Image

    from stillmotion.engines.diffusion import refine as refine_route
    from stillmotion.engines.diffusion.common import Generation, _apply_memory

    card, family = next((c, m) for c, m in cards() if c.name == args.engine)
    import diffusers

    source = args.model_path or card.repo_id
    W, H, F = shape(card)
    variants = ["stock"] + [f"stillmotion {m}" for m in args.modes.split(",")] + ["stillmotion --fast"]
    if args.refine:
        if card.name not in refine_route.ROUTES:
            raise SystemExit(f"--refine: {card.name} cannot refine (those that can: {', '.join(refine_route.ROUTES)})")
        variants.append(f"refine s={args.refine_strength:g}")
    rows = []
    for variant in variants:
        refining = variant.startswith("refine")
        cls = getattr(diffusers, refine_route.ROUTES[card.name] if refining else card.pipeline)
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

        img = Image.new("RGB", (W, H), (120, 130, 140))
        job = Generation(
            card=card,
            image=img,
            width=W,
            height=H,
            frames=F,
            fps=card.fps,
            prompt="waves rolling in",
            negative_prompt="",
            steps=args.steps,
            guidance=card.guidance,
            seed=1,
            motion_strength=0.5,
            consistency=0.5,
            draft=[img] * F if refining else None,
            draft_strength=args.refine_strength if refining else 0.0,
        )
        kwargs, _ignored = (refine_route if refining else family).call_kwargs(card, job)
        accepted = set(inspect.signature(pipe.__call__).parameters)
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        kwargs.update(output_type="latent")
        if "callback_on_step_end" in accepted:
            kwargs["callback_on_step_end"] = on_step
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
