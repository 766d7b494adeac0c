"""Shared fixtures: real photos from scikit-image / scikit-learn, saved as files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """Real photos on disk: astronaut (portrait), coffee (product), chelsea (cat),
    china (landscape), motorcycle (Middlebury, with ground-truth disparity)."""
    import skimage.data as data
    from sklearn.datasets import load_sample_image

    root = tmp_path_factory.mktemp("photos")
    out = {}
    for name, arr in {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "china": load_sample_image("china.jpg"),
        "motorcycle": np.asarray(Image.open(Path(data.__file__).parent / "motorcycle_left.png").convert("RGB")),
    }.items():
        p = root / f"{name}.png"
        Image.fromarray(arr).save(p)
        out[name] = p
    return out


@pytest.fixture(scope="session")
def motorcycle_disparity() -> np.ndarray:
    """Middlebury ground-truth disparity of motorcycle_left.png (float32, inf = unknown)."""
    import skimage.data as data

    return np.load(Path(data.__file__).parent / "motorcycle_disp.npz")["arr_0"]


def mean_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense optical flow a → b (Farnebäck), float32 H×W×2 (dx, dy) in pixels."""
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 21, 5, 7, 1.5, 0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    yield


def pytest_configure(config):
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    # An empty Hugging Face cache for the whole session: a developer's cached Depth Anything or scene
    # parser would otherwise be picked up by default (stillmotion.scene.hub.resolve_model) and change
    # every render. Tests that want a cached model point HF_HUB_CACHE at their own folder.
    config.stillmotion_empty_hf_cache = os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="stillmotion-hf-")


def pytest_unconfigure(config):
    folder = getattr(config, "stillmotion_empty_hf_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster():
    """A real two-node Ray cluster on 127.0.0.1 (tests/ray_cluster.py): ``(folder, address)``.

    The one ``.ci/run`` started (``STILLMOTION_TEST_RAY`` = its folder), else one started
    here and stopped after the session."""
    pytest.importorskip("ray", reason='Ray is not installed: pip install -e ".[cluster]"')
    import ray_cluster as rc

    given = os.environ.get("STILLMOTION_TEST_RAY")
    if given:
        folder = Path(given)
        yield folder, (folder / "address").read_text().strip()
        return
    folder = Path(tempfile.mkdtemp(prefix="smray-"))  # short: Ray's socket paths must fit in 107 bytes
    try:
        address = rc.start(folder, nodes=2)
        yield folder, address
    finally:
        rc.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)
