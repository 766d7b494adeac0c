"""The cosmos-predict2-i2v engine end to end, on a tiny Cosmos2VideoToWorldPipeline built from configs.

Nothing is downloaded: the transformer, the Wan VAE and the T5 text encoder are built in memory
from the tiny configs of diffusers' own ``tests/pipelines/cosmos/test_cosmos2_video2world.py``,
saved with ``save_pretrained`` and run through ``stillmotion.animate(..., model_path=DIR)``.

The safety guardrail: the pipeline will not run without one, and NVIDIA's (``cosmos_guardrail``:
Llama-Guard-3-8B, a video classifier, a face detector) cannot run in a test. As diffusers' own tests
do, the tiny folder's ``safety_checker`` is :class:`StandInGuardrail`, a pass-through saved with the
pipeline (``model_index.json`` names this module, so it loads like any component). It stands in for
NVIDIA's model in untrained test weights only; the engine never removes or replaces a guardrail.
The tiny transformer does not concatenate the padding mask (``concat_padding_mask=False``): that
step needs torchvision, which is not installed here (see ``test_torchvision_is_required``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import torch
from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin

import stillmotion
from stillmotion.engines.diffusion import cosmos
from stillmotion.video import read_video
from tiny_pipelines import word_tokenizer

ENGINE = "cosmos-predict2-i2v"
WORDS = "waves rolling in the sea steam rising from coffee".split()
# 72×64 snaps to 64×64 (multiples of 16); 1 s (the shortest clip) asked at 10 fps is made at 16 fps:
# 16 frames → 17 (4n+1).
FAST = {"size": "72x64", "duration": 1, "fps": 10, "steps": 2, "seed": 1}


class StandInGuardrail(ModelMixin, ConfigMixin):
    """A pass-through in place of cosmos_guardrail's CosmosSafetyChecker (same two checks, same interface)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("_device_tracker", torch.zeros(1))  # saved, so the folder has weights

    def check_text_safety(self, prompt: str) -> bool:
        return True

    def check_video_safety(self, frames: np.ndarray) -> np.ndarray:
        return frames


def _transformer(concat_padding_mask: bool = False):
    from diffusers import CosmosTransformer3DModel

    torch.manual_seed(0)
    return CosmosTransformer3DModel(
        in_channels=16 + 1,
        out_channels=16,
        num_attention_heads=2,
        attention_head_dim=16,
        num_layers=2,
        mlp_ratio=2,
        text_embed_dim=32,
        adaln_lora_dim=4,
        max_size=(8, 32, 32),
        patch_size=(1, 2, 2),
        rope_scale=(2.0, 1.0, 1.0),
        concat_padding_mask=concat_padding_mask,
        extra_pos_embed_type="learnable",
    )


def _tiny():
    from diffusers import AutoencoderKLWan, Cosmos2VideoToWorldPipeline, FlowMatchEulerDiscreteScheduler
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    torch.manual_seed(0)
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=32,
            d_model=32,
            d_kv=8,
            d_ff=32,
            num_layers=2,
            num_heads=2,
            relative_attention_num_buckets=8,
            decoder_start_token_id=0,
        )
    ).eval()
    return Cosmos2VideoToWorldPipeline(
        text_encoder=t5,
        tokenizer=word_tokenizer(" ".join(WORDS), eos_token="</s>")[0],
        transformer=_transformer(),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(use_karras_sigmas=True),
        safety_checker=StandInGuardrail(),
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A saved diffusers-format folder of the tiny pipeline (a few hundred KB)."""
    root = tmp_path_factory.mktemp("tiny_cosmos") / "cosmos"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _tiny().save_pretrained(root)
    return root


def _frames(path) -> np.ndarray:
    return read_video(path).frames_thwc


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES[ENGINE]
    card = spec.factory().card
    assert (card.pipeline, card.repo_id) == ("Cosmos2VideoToWorldPipeline", "nvidia/Cosmos-Predict2-2B-Video2World")
    # The pipeline's defaults: 1280×704, 93 frames, 35 steps, guidance 7, fps 16.
    assert (card.native_size, card.multiple, card.frame_rule, card.fps, card.max_frames) == (
        (1280, 704),
        16,
        (4, 1),
        16.0,
        93,
    )
    assert (card.steps, card.guidance, card.end_frame) == (35, 7.0, False)
    assert spec.licence.startswith("NVIDIA Open Model License") and "guardrail" in card.commercial
    assert "cosmos_guardrail" in spec.summary and "pixelates faces" in spec.summary
    assert card in cosmos.CARDS


def test_end_to_end_variations_and_cli(tiny, photos, tmp_path, monkeypatch):
    """Two variations through the API (seeds 1 and 2), then seed 1 again through the CLI: the same frames
    up to libx264's rounding."""
    from typer.testing import CliRunner

    from stillmotion.cli import app

    seen: list[dict] = []
    real = cosmos.call_kwargs

    def spy(card, generation):
        kwargs, ignored = real(card, generation)
        seen.append(kwargs)
        return kwargs, ignored

    monkeypatch.setattr(cosmos, "call_kwargs", spy)
    steps: list[tuple[int, int]] = []
    many = stillmotion.animate(
        photos["coffee"],
        "steam rising from the coffee",
        engine=ENGINE,
        model_path=tiny,
        variations=2,
        output=tmp_path / "cosmos.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    a, b = many.variations
    assert (a.seed, b.seed) == (1, 2)
    fa, fb = _frames(a.path), _frames(b.path)
    assert fa.shape == fb.shape == (17, 64, 64, 3) and (len(fa) - 1) % 4 == 0
    assert (a.width, a.height, a.fps, a.frame_count) == (64, 64, 16.0, 17)
    assert np.abs(fa.astype(int) - fb.astype(int)).mean() > 1.0  # another seed, another clip
    shot = a.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (ENGINE, "Cosmos2VideoToWorldPipeline", str(tiny))
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"], shot["fps"]) == (2, 7.0, 17, 16.0)
    assert shot["call"]["fps"] == 16  # the transformer is conditioned on the clip's frame rate
    adj = " | ".join(shot["adjustments"])
    assert "72×64 → 64×64" in adj and "16 frames → 17" in adj and "NVIDIA's default negative prompt" in adj
    assert any(i.startswith("motion_strength") for i in shot["ignored"])
    assert json.loads(a.sidecar.read_text())["shot"]["engine"] == ENGINE
    kw = seen[0]
    assert (kw["height"], kw["width"], kw["num_frames"], kw["num_inference_steps"]) == (64, 64, 17, 2)
    assert kw["negative_prompt"] is None and kw["image"].size == (64, 64)
    assert (1, 2) in steps and (2, 2) in steps  # one report per denoising step

    out = tmp_path / "cli.mp4"
    args = ["animate", str(photos["coffee"]), "-p", "steam rising from the coffee", "--engine", ENGINE]
    args += ["--model-path", str(tiny), "--size", "72x64", "--duration", "1", "--fps", "10", "--steps", "2"]
    res = CliRunner().invoke(app, [*args, "--seed", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    again = _frames(out)
    assert again.shape == fa.shape and np.abs(again.astype(int) - fa.astype(int)).mean() < 1.0


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"], "waves", engine=ENGINE, model_path=tiny, output=out, should_stop=lambda: True, **FAST
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("stop")]


@pytest.mark.skipif(importlib.util.find_spec("cosmos_guardrail") is not None, reason="cosmos_guardrail is installed")
def test_missing_guardrail_is_said_plainly(tiny, photos, tmp_path):
    """A folder without a safety checker (as when the guardrail package is missing) fails in one line
    that names the package to install; no clip is left."""
    bare = tmp_path / "bare"
    shutil.copytree(tiny, bare)
    shutil.rmtree(bare / "safety_checker")
    index = json.loads((bare / "model_index.json").read_text())
    index["safety_checker"] = [None, None]
    (bare / "model_index.json").write_text(json.dumps(index))
    out = tmp_path / "none.mp4"
    with pytest.raises(stillmotion.GenerationError, match="pip install cosmos_guardrail") as err:
        stillmotion.animate(photos["coffee"], "waves", engine=ENGINE, model_path=bare, output=out, **FAST)
    assert "\n" not in str(err.value) and not out.exists()


def test_torchvision_is_required(tiny, photos, tmp_path):
    """NVIDIA's checkpoints concatenate a padding mask, resized with torchvision: without it the engine
    says so before any step (diffusers would fail with a NameError); with it, the clip is made."""
    folder = tmp_path / "padmask"
    shutil.copytree(tiny, folder)
    shutil.rmtree(folder / "transformer")
    _transformer(concat_padding_mask=True).save_pretrained(folder / "transformer")
    out = tmp_path / "pm.mp4"
    if importlib.util.find_spec("torchvision") is None:
        with pytest.raises(stillmotion.EngineUnavailable, match="needs torchvision"):
            stillmotion.animate(photos["coffee"], "waves", engine=ENGINE, model_path=folder, output=out, **FAST)
        assert not out.exists()
    else:
        clip = stillmotion.animate(photos["coffee"], "waves", engine=ENGINE, model_path=folder, output=out, **FAST)
        assert _frames(clip.path).shape == (17, 64, 64, 3)
