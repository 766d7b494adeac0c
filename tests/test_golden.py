"""The same request and seed produce the same clip: living clips rendered now match the
frames stored before the engine-contract redesign (tests/data/golden_living.npz, made by
tests/data/make_golden.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
assert _spec is not None and _spec.loader is not None
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)


@pytest.mark.parametrize("name", sorted(make_golden.CASES))
def test_living_clip_matches_the_golden_frames(name, tmp_path):
    """Frame by frame, luma and chroma, within one grey level of what the encoder was
    given before the redesign (see make_golden.py for why planes, not the decoded MP4)."""
    stored = np.load(DATA / "golden_living.npz")
    planes = make_golden.render(name, tmp_path)
    for key in ("y", "cbcr"):
        golden = stored[f"{name}_{key}"]
        now = planes[key]
        assert now.shape == golden.shape, (key, now.shape, golden.shape)
        worst = [int(d.max()) for d in np.abs(now.astype(np.int16) - golden.astype(np.int16))]
        assert max(worst) <= 1, f"{key} differs from the golden clip by up to {max(worst)} grey levels: {worst}"
