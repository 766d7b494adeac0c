"""The learned scene parser (UperNet via transformers) and the cached-by-default learned layers,
on tiny randomly initialised real models, fully offline."""

from __future__ import annotations

import json
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
from stillmotion.scene import Scene, depth_model, parser_model  # noqa: E402
from stillmotion.scene.depth_model import DEFAULT_DEPTH_MODEL  # noqa: E402
from stillmotion.scene.hub import cached_snapshot, resolve_model  # noqa: E402
from stillmotion.scene.parser_model import (  # noqa: E402
    DEFAULT_SCENE_MODEL,
    PARSER_KINDS,
    kind_label_ids,
    load_scene_model,
)
from stillmotion.scene.regions import REGION_KINDS, detect_regions  # noqa: E402

pytestmark = pytest.mark.depth_model

# A few ADE20K labels as checkpoints spell them (synonyms after ';'), and one trap: "pool table".
LABELS = ["wall", "building", "sky", "tree", "water", "person;individual", "pool table", "swimming pool;natatorium"]
SKY = LABELS.index("sky")


def _tiny_upernet(folder: Path, *, labels: list[str] = LABELS, force: int | None = None) -> Path:
    """Save a ~40k-parameter UperNetForSemanticSegmentation (ConvNeXt backbone) and a processor in ``folder``.

    ``force``: a class id whose logit the classifier makes win everywhere (zero weights, that bias alone).
    """
    backbone = transformers.ConvNextConfig(
        depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 32, 64], out_features=["stage1", "stage2", "stage3", "stage4"]
    )
    config = transformers.UperNetConfig(
        backbone_config=backbone,
        hidden_size=16,
        pool_scales=[1, 2],
        auxiliary_in_channels=32,
        auxiliary_channels=8,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = transformers.UperNetForSemanticSegmentation(config)
    if force is not None:
        with torch.no_grad():
            model.decode_head.classifier.weight.zero_()
            model.decode_head.classifier.bias.zero_()
            model.decode_head.classifier.bias[force] = 12.0
    model.save_pretrained(folder)
    transformers.SegformerImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(folder)
    return folder


def _tiny_depth_anything(folder: Path) -> Path:
    backbone = transformers.Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        mlp_ratio=2,
        patch_size=14,
        image_size=56,
        out_indices=[1, 2],
        reshape_hidden_states=False,
    )
    config = transformers.DepthAnythingConfig(
        backbone_config=backbone,
        patch_size=14,
        reassemble_hidden_size=32,
        reassemble_factors=[2, 1],
        neck_hidden_sizes=[8, 16],
        fusion_hidden_size=16,
        head_hidden_size=8,
    )
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    return folder


def _in_hub_cache(cache: Path, repo_id: str, build) -> Path:
    """Lay a model out as the hub cache does: models--ORG--NAME/snapshots/REV/ and refs/main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    revision = "0123456789abcdef0123456789abcdef01234567"
    build(repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    return repo / "snapshots" / revision


@pytest.fixture(autouse=True)
def _fresh_model_caches():
    parser_model._CACHE.clear()
    depth_model._CACHE.clear()
    yield
    parser_model._CACHE.clear()
    depth_model._CACHE.clear()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """A real photo, cropped to a non-square 300×420."""
    return skimage_data.astronaut()[50:350, 40:460]


def test_labels_map_to_kinds_by_name():
    ids = kind_label_ids({str(i): name for i, name in enumerate(LABELS)})
    assert ids == {"sky": (2,), "water": (4, 7), "vegetation": (3,), "person": (5,)}  # not 6, the pool table
    assert kind_label_ids({0: "wall"}) == dict.fromkeys(PARSER_KINDS, ())


def test_masks_have_the_regions_layout(tmp_path, astronaut):
    parse = load_scene_model(str(_tiny_upernet(tmp_path / "tiny")), device="cpu")
    assert parse._model.auxiliary_head is None  # the training-only head is dropped
    masks = parse(astronaut)
    classical = detect_regions(astronaut)
    assert list(masks) == list(PARSER_KINDS)
    for mask in masks.values():
        assert mask.shape == classical["sky"].shape == (366, 512)
        assert mask.dtype == np.float32
        assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0
    assert float(sum(masks.values()).max()) <= 1.0 + 1e-5  # disjoint classes: probabilities add up to at most 1
    np.testing.assert_array_equal(parse(astronaut)["sky"], masks["sky"])  # deterministic
    assert load_scene_model(str(tmp_path / "tiny"), device="cpu") is parse  # one model per (name, device)
    # short side 64 from the processor, aspect kept, sides multiples of 32
    assert parse._preprocess(astronaut).shape == (1, 3, 64, 96)


def test_a_class_forced_to_sky_fills_the_sky_mask(tmp_path, astronaut):
    masks = load_scene_model(str(_tiny_upernet(tmp_path / "sky", force=SKY)), device="cpu")(astronaut)
    assert masks["sky"].min() > 0.99
    assert masks["water"].max() < 0.01 and masks["vegetation"].max() < 0.01 and masks["person"].max() < 0.01


def test_scene_uses_the_parser_for_sky_water_vegetation(tmp_path, astronaut):
    folder = str(_tiny_upernet(tmp_path / "sky", force=SKY))
    scene = Scene(astronaut, scene_model=folder)
    assert list(scene.regions) == list(REGION_KINDS)
    assert scene.regions["sky"].min() > 0.99
    assert scene.regions_method.startswith("learned: scene parser") and folder in scene.regions_method
    classical = Scene(astronaut)
    assert classical.regions_method.startswith("classical")
    assert classical.regions["sky"].min() < 0.5  # the classical sky is not the whole frame


def test_bad_inputs(tmp_path, astronaut):
    parse = load_scene_model(str(_tiny_upernet(tmp_path / "tiny")), device="cpu")
    with pytest.raises(InputError, match="uint8"):
        parse(astronaut.astype(np.float32))
    with pytest.raises(EngineUnavailable, match="does not exist"):
        load_scene_model(str(tmp_path / "nowhere"), device="cpu")
    with pytest.raises(EngineUnavailable, match="no loadable"):
        load_scene_model(str(tmp_path), device="cpu")
    with pytest.raises(EngineUnavailable, match="stillmotion download scene-parser"):
        load_scene_model("stillmotion-tests/no-such-parser", device="cpu")
    with pytest.raises(EngineUnavailable, match="no class named sky"):
        load_scene_model(str(_tiny_upernet(tmp_path / "cats", labels=["cat", "dog"])), device="cpu")


def test_cached_snapshot_and_resolve_model(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert cached_snapshot(DEFAULT_SCENE_MODEL) is None
    assert resolve_model(None, DEFAULT_SCENE_MODEL) == (None, False)
    snapshot = _in_hub_cache(cache, DEFAULT_SCENE_MODEL, _tiny_upernet)
    assert cached_snapshot(DEFAULT_SCENE_MODEL) == snapshot
    assert resolve_model(None, DEFAULT_SCENE_MODEL) == (DEFAULT_SCENE_MODEL, True)
    assert resolve_model("none", DEFAULT_SCENE_MODEL) == (None, False)
    assert resolve_model("None", DEFAULT_SCENE_MODEL) == (None, False)
    assert resolve_model("/my/model", DEFAULT_SCENE_MODEL) == ("/my/model", False)
    (snapshot / "model.safetensors").unlink()  # a config without weights is not a cached model
    assert cached_snapshot(DEFAULT_SCENE_MODEL) is None


def test_resolve_model_does_not_import_huggingface_hub_when_nothing_is_cached(tmp_path):
    # huggingface_hub and httpx cost ~0.1 s of every clip's start-up; with no model in the cache
    # the lookup must not need them (a fresh interpreter: the test session has imported them)
    code = (
        "import sys; from stillmotion.scene.hub import resolve_model; "
        f"assert resolve_model(None, {DEFAULT_SCENE_MODEL!r}) == (None, False); "
        "print(sorted(m for m in ('huggingface_hub', 'httpx') if m in sys.modules))"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _animate(tmp_path: Path, *extra: str):
    from PIL import Image
    from typer.testing import CliRunner

    from stillmotion.cli import app

    photo = tmp_path / "astronaut.png"
    if not photo.exists():
        Image.fromarray(skimage_data.astronaut()).save(photo)
    out = tmp_path / f"clip{len(list(tmp_path.glob('*.mp4')))}.mp4"
    args = ["animate", str(photo), "-p", "orbit left", "--size", "128x128", "--duration", "1", "--fps", "8"]
    result = CliRunner().invoke(app, [*args, *extra, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.with_suffix(".json").read_text())


def test_cached_defaults_are_used_with_a_notice_and_none_turns_them_off(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    _in_hub_cache(cache, DEFAULT_SCENE_MODEL, lambda f: _tiny_upernet(f, force=SKY))
    _in_hub_cache(cache, DEFAULT_DEPTH_MODEL, _tiny_depth_anything)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))

    output, recipe = _animate(tmp_path)
    assert f"note: learned depth: {DEFAULT_DEPTH_MODEL} from the Hugging Face cache" in output
    assert f"scene parser {DEFAULT_SCENE_MODEL} from the Hugging Face cache" in output
    assert recipe["shot"]["depth"] == f"learned: Depth Anything V2 ({DEFAULT_DEPTH_MODEL})"
    assert recipe["shot"]["regions"].startswith(f"learned: scene parser ({DEFAULT_SCENE_MODEL})")

    output, recipe = _animate(tmp_path, "--depth-model", "none", "--scene-model", "none")
    assert "note:" not in output
    assert recipe["shot"]["depth"].startswith("classical")
    assert recipe["shot"]["regions"].startswith("classical")


def test_download_offline_is_one_line_and_exit_3(monkeypatch):
    import huggingface_hub.constants
    from typer.testing import CliRunner

    from stillmotion.cli import app

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import, patched here
    for name, repo in (("scene-parser", DEFAULT_SCENE_MODEL), ("depth", DEFAULT_DEPTH_MODEL)):
        result = CliRunner().invoke(app, ["download", name])
        assert result.exit_code == 3, result.output
        assert result.output.startswith(f"error: could not download {repo}")
        assert result.output.strip().count("\n") == 0
    result = CliRunner().invoke(app, ["download", "scene-parsr"])
    assert result.exit_code == 2 and "'depth' or 'scene-parser'" in result.output
