"""The Python API: public names, progress and cancellation, cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import stillmotion
from stillmotion import Canceled, InputError


def test_all_is_sorted_and_importable():
    assert stillmotion.__all__ == sorted(stillmotion.__all__)
    for name in stillmotion.__all__:
        assert hasattr(stillmotion, name), name


def test_import_is_cheap():
    code = "import sys, stillmotion; print(any(m in sys.modules for m in ('torch', 'transformers', 'mediapipe')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_animate_reports_progress(photos, tmp_path):
    seen = []
    clip = stillmotion.animate(
        photos["coffee"],
        "pan left",
        size="256x170",
        duration=1,
        fps=12,
        seed=0,
        output=tmp_path / "c.mp4",
        on_progress=lambda done, total, preview: seen.append((done, total, preview is not None)),
    )
    assert [s[0] for s in seen] == list(range(1, 13)) and all(s[1] == 12 for s in seen)
    assert seen[0][2]  # a preview frame comes with the first update
    assert clip.frame_count == 12 and clip.duration_s == 1.0 and clip.seed == 0


def test_cancel_leaves_nothing(photos, tmp_path):
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 5

    with pytest.raises(Canceled):
        stillmotion.animate(
            photos["coffee"],
            "pan left",
            size="256x170",
            duration=1,
            fps=12,
            output=tmp_path / "c.mp4",
            should_stop=stop,
        )
    assert list(tmp_path.iterdir()) == []


def test_bad_option_is_input_error(photos, tmp_path):
    with pytest.raises(InputError, match="--duration"):
        stillmotion.animate(photos["coffee"], "pan left", duration=99, output=tmp_path / "c.mp4")
    with pytest.raises(InputError, match="unknown option"):
        stillmotion.animate(photos["coffee"], "pan left", durration=3)


def test_random_seed_is_recorded(photos, tmp_path):
    clip = stillmotion.animate(photos["coffee"], "", size="256x170", duration=1, fps=8, output=tmp_path / "c.mp4")
    assert isinstance(clip.seed, int) and clip.recipe["seed"] == clip.seed == clip.recipe["request"]["seed"]
    assert clip.recipe["plan"]["defaulted"]
