"""Learned depth (Depth Anything V2 via transformers) on a tiny, randomly initialised real model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
skimage_data = pytest.importorskip("skimage.data")

from stillmotion.errors import EngineUnavailable, InputError  # noqa: E402
from stillmotion.scene import depth_model  # noqa: E402
from stillmotion.scene.depth_model import LearnedDepth, load_depth_model  # noqa: E402

pytestmark = pytest.mark.depth_model

SRC = Path(__file__).resolve().parents[1] / "src"


def _tiny_depth_anything(folder: Path, *, with_processor: bool = True) -> Path:
    """Save a ~60k-parameter DepthAnythingForDepthEstimation (and a 56-px processor) in ``folder``."""
    backbone = transformers.Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        mlp_ratio=2,
        patch_size=14,
        image_size=56,
        out_indices=[1, 2],
        reshape_hidden_states=False,
        initializer_range=0.2,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone,
        patch_size=14,
        reassemble_hidden_size=32,
        reassemble_factors=[2, 1],
        neck_hidden_sizes=[8, 16],
        fusion_hidden_size=16,
        head_hidden_size=8,
        initializer_range=0.2,
    )
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    if with_processor:
        # The torchvision-free processor; AutoImageProcessor resolves depth_anything to DPTImageProcessor(Pil).
        processor = transformers.DPTImageProcessorPil(
            size={"height": 56, "width": 56},
            keep_aspect_ratio=True,
            ensure_multiple_of=14,
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        )
        processor.save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def _empty_cache():
    depth_model._CACHE.clear()
    yield
    depth_model._CACHE.clear()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """A real photo, cropped to a non-square 300×420 so resizing is exercised."""
    return skimage_data.astronaut()[50:350, 40:460]


def _check_depth(depth: np.ndarray, rgb: np.ndarray) -> None:
    assert depth.shape == rgb.shape[:2]
    assert depth.dtype == np.float32
    assert np.isfinite(depth).all()
    assert depth.min() >= 0.0 and depth.max() <= 1.0
    assert depth.max() - depth.min() > 0.5  # percentile normalisation spreads it
    assert np.unique(depth).size > 10


def test_tiny_model_with_processor(tmp_path, astronaut):
    folder = _tiny_depth_anything(tmp_path / "tiny")
    model = load_depth_model(str(folder), device="cpu")
    assert isinstance(model, LearnedDepth)
    assert model.name == str(folder) and model.device == "cpu"
    assert model._processor is not None

    depth = model(astronaut)
    _check_depth(depth, astronaut)
    np.testing.assert_array_equal(model(astronaut), depth)  # deterministic

    assert load_depth_model(str(folder), device="cpu") is model  # cached per (name, device)


def test_tiny_model_without_processor_uses_fallback(tmp_path, astronaut):
    folder = _tiny_depth_anything(tmp_path / "bare", with_processor=False)
    model = load_depth_model(str(folder), device="cpu")
    assert model._processor is None
    pixel_values = model._preprocess(astronaut)
    # short side 300 → 56 (the backbone's image size), long side 420·56/300 ≈ 78.4 → 84 (multiple of 14)
    assert tuple(pixel_values.shape) == (1, 3, 56, 84)
    _check_depth(model(astronaut), astronaut)


def test_rejects_bad_input(tmp_path):
    model = load_depth_model(str(_tiny_depth_anything(tmp_path / "tiny")), device="cpu")
    with pytest.raises(InputError, match="uint8"):
        model(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(InputError, match="H×W×3"):
        model(np.zeros((32, 32), np.uint8))


def test_missing_folder_is_engine_unavailable(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EngineUnavailable, match="does not exist") as info:
        load_depth_model(str(missing), device="cpu")
    assert str(missing) in str(info.value)


def test_folder_without_weights_is_engine_unavailable(tmp_path):
    with pytest.raises(EngineUnavailable, match=r"config.json"):
        load_depth_model(str(tmp_path), device="cpu")


def test_uncached_repo_id_is_engine_unavailable(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = "stillmotion-tests/no-such-depth-model"
    with pytest.raises(EngineUnavailable) as info:
        load_depth_model(repo, device="cpu")
    message = str(info.value)
    assert repo in message
    assert "hf download" in message and "local folder" in message


def test_bad_device_is_input_error(tmp_path):
    with pytest.raises(InputError, match="device"):
        load_depth_model(str(tmp_path), device="not-a-device")


def test_import_does_not_load_torch():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = "import sys, stillmotion.scene.depth_model; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_transformers_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` raise ImportError
    with pytest.raises(EngineUnavailable, match=r"pip install torch transformers.*stillmotion\[depth\]"):
        load_depth_model("depth-anything/Depth-Anything-V2-Small-hf", device="cpu")


def test_animate_with_a_depth_model_folder(tmp_path):
    """The whole pipeline with --depth-model DIR: the learned map drives the parallax."""
    import json

    from PIL import Image
    from typer.testing import CliRunner

    from stillmotion.cli import app

    model = _tiny_depth_anything(tmp_path / "tiny-da")
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(photo)
    out = tmp_path / "a.mp4"
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photo),
            "-p",
            "orbit left",
            "--depth-model",
            str(model),
            "--size",
            "256x256",
            "--duration",
            "1",
            "--fps",
            "8",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["shot"]["depth"].startswith("learned: Depth Anything V2")
    assert recipe["request"]["depth_model"] == str(model)


def test_animate_with_a_missing_depth_model_exits_3(tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from stillmotion.cli import app

    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(photo)
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photo),
            "--depth-model",
            str(tmp_path / "nowhere"),
            "--size",
            "256x256",
            "--duration",
            "1",
            "--fps",
            "8",
            "-o",
            str(tmp_path / "x.mp4"),
        ],
    )
    assert res.exit_code == 3, res.output
    assert res.output.startswith("error:") and res.output.strip().count("\n") == 0
    assert not (tmp_path / "x.mp4").exists()
