"""Render the golden living clips that tests/test_golden.py compares against.

Run once, before a refactor that must not change output, from the repository root:

    python tests/data/make_golden.py

It writes tests/data/golden_living.npz: for each case, the planes the pipeline hands
to the encoder (``NAME_y`` uint8 T×H×W luma, ``NAME_cbcr`` uint8 T×(H/2)×(W/2)×2
chroma, BT.709 4:2:0), recorded by a spy on the real ``VideoWriter.write_yuv420``.
The encoder's input, not the decoded MP4: libx264 through PyAV is not bit-exact
from run to run at these small sizes (up to ~25 grey levels apart on a few pixels,
measured 2026-12-04), which would hide or fake a change in what the engine renders.
Regenerate only on purpose (a change meant to alter the living engine's output),
and say so in the commit.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

# name → (photo, prompt, options). Small and short: the test runs in seconds.
CASES: dict[str, tuple[str, str, dict]] = {
    "china_pushin_clouds": (
        "china.jpg",
        "slow push-in, clouds drifting to the right",
        {"size": "192x128", "duration": 1.0, "fps": 12, "seed": 7},
    ),
    "coffee_orbit_steam_loop": (
        "coffee.jpg",
        "slow orbit left, steam rising from the cup",
        {"size": "160x112", "duration": 1.0, "fps": 12, "seed": 3, "loop": True},
    ),
    "china_pan_arrows": (
        "china.jpg",
        "gentle pan from left to right",
        {"size": "160x108", "duration": 1.0, "fps": 10, "seed": 11, "arrows": ["100,300,220,300:0.5"]},
    ),
    "astronaut_portrait": (
        "astronaut.jpg",
        "slow push-in, she blinks and breathes, hair moving in a soft breeze",
        {"size": "128x128", "duration": 1.0, "fps": 12, "seed": 5},
    ),
}


def render(name: str, out_dir: Path) -> dict[str, np.ndarray]:
    """The encoder's input planes of one golden case, rendered now through
    :func:`stillmotion.animate`: ``{"y": T×H×W, "cbcr": T×(H/2)×(W/2)×2}``, uint8."""
    import stillmotion
    from stillmotion.video import VideoWriter

    photo, prompt, options = CASES[name]
    planes: list[tuple[np.ndarray, np.ndarray]] = []
    real = VideoWriter.write_yuv420

    def spy(self, y, cbcr):
        planes.append((y.copy(), cbcr.copy()))
        return real(self, y, cbcr)

    VideoWriter.write_yuv420 = spy  # type: ignore[method-assign]
    try:
        stillmotion.animate(ROOT / "examples" / photo, prompt, output=out_dir / f"{name}.mp4", **options)
    finally:
        VideoWriter.write_yuv420 = real  # type: ignore[method-assign]
    return {"y": np.stack([p[0] for p in planes]), "cbcr": np.stack([p[1] for p in planes])}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        frames = {name: render(name, Path(tmp)) for name in CASES}
    arrays = {f"{name}_{k}": v for name, planes in frames.items() for k, v in planes.items()}
    np.savez_compressed(ROOT / "tests" / "data" / "golden_living.npz", **arrays)
    for key, value in arrays.items():
        print(key, value.shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
