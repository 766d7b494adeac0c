"""Render the clips and record the metrics that tests/test_evaluate.py checks evaluate_clip against.

Run once, before a refactor of stillmotion.evaluate that must not change its numbers, from the
repository root:

    python tests/data/make_eval_golden.py

It writes tests/data/eval_CASE.mp4 (the rendered clips, kept: libx264 through PyAV is not
bit-exact from run to run, so a clip rendered again would differ by a few grey levels and its
metrics in the third digit; decoding a stored clip is exact) and tests/data/eval_golden.json:
per case the photo, the prompt, the score, the measured camera move and every metric's value,
unit, verdict and meaning, as evaluate_clip returned them. Regenerate only on purpose (a change
meant to alter a metric), and say so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent

# name → (photo, prompt, options). Small: the clips are stored in the repository.
CASES: dict[str, tuple[str, str, dict]] = {
    "china_pushin_clouds": (
        "china.jpg",
        "slow push-in, clouds drifting",
        {"size": "192x128", "duration": 2.0, "fps": 12, "seed": 1},
    ),
    "astronaut_orbit_loop": (
        "astronaut.jpg",
        "slow orbit right, loop, she blinks",
        {"size": "160x160", "duration": 2.0, "fps": 12, "seed": 1},
    ),
}


def measure(name: str) -> dict:
    """evaluate_clip of the stored clip of case ``name``, as plain JSON."""
    from stillmotion.evaluate import evaluate_clip

    photo, prompt, _ = CASES[name]
    ev = evaluate_clip(DATA / f"eval_{name}.mp4", source=ROOT / "examples" / photo, prompt=prompt)
    return {
        "score": float(ev.score),
        "camera_move": ev.camera_move,
        "metrics": {
            m.name: {"value": float(m.value), "unit": m.unit, "verdict": m.verdict, "meaning": m.meaning}
            for m in ev.metrics
        },
    }


def main() -> None:
    import stillmotion

    out = {}
    for name, (photo, prompt, options) in CASES.items():
        stillmotion.animate(ROOT / "examples" / photo, prompt, output=DATA / f"eval_{name}.mp4", **options)
        (DATA / f"eval_{name}.json").unlink(missing_ok=True)  # the recipe sidecar: not needed
        out[name] = measure(name)
    (DATA / "eval_golden.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
