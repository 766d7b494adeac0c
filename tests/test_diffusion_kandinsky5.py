"""The kandinsky-5-i2v engine end to end, on a tiny Kandinsky5I2VPipeline built from configs.

Nothing is downloaded: the 19B transformer, the HunyuanVideo VAE, the Qwen2.5-VL and CLIP text
encoders are built in memory from tiny configs (after diffusers' own
``tests/pipelines/kandinsky5/test_kandinsky5_i2v.py``), saved with ``save_pretrained`` and run
through ``stillmotion.animate(..., model_path=DIR)`` as a user's downloaded weights would be.
Two simplifications of the real checkpoint: the Qwen "tokenizer" is a word-level fast tokenizer
(the real ``Qwen2VLProcessor`` cannot be built here without torchvision; the pipeline only
tokenizes text with it) and the VAE has 3 narrow blocks.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import stillmotion
from stillmotion.engines.diffusion import kandinsky5
from stillmotion.video import read_video
from tiny_pipelines import word_tokenizer

ENGINE = "kandinsky-5-i2v"
WORDS = "waves rolling in the sea steam rising from coffee".split()
# 72×64 snaps to 64×64 (multiples of 16); 1 s (the shortest clip) asked at 10 fps is made at 24 fps:
# 24 frames → 25 (4n+1).
FAST = {"size": "72x64", "duration": 1, "fps": 10, "steps": 2, "seed": 1}


def _tiny():
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        Kandinsky5I2VPipeline,
        Kandinsky5Transformer3DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    hidden = 32
    torch.manual_seed(0)
    # The template the pipeline wraps the prompt in is ~130 words here: past its 128-token system part.
    qwen = Qwen2_5_VLForConditionalGeneration(
        Qwen2_5_VLConfig(
            text_config={
                "hidden_size": hidden,
                "intermediate_size": hidden,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "num_key_value_heads": 2,
                "rope_scaling": {"mrope_section": [2, 2, 4], "rope_type": "default", "type": "default"},
                "rope_theta": 1e6,
                "vocab_size": 32,
                "bos_token_id": 0,
                "eos_token_id": 1,
            },
            vision_config={"depth": 1, "hidden_size": hidden, "intermediate_size": hidden, "num_heads": 2},
            hidden_size=hidden,
            vocab_size=32,
            vision_start_token_id=29,
            vision_end_token_id=30,
            vision_token_id=31,
            image_token_id=31,
            video_token_id=31,
        )
    ).eval()
    torch.manual_seed(0)
    clip = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=32,
            projection_dim=16,
        )
    ).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo(
        act_fn="silu",
        block_out_channels=[4, 4, 4],
        down_block_types=["HunyuanVideoDownBlock3D"] * 3,
        up_block_types=["HunyuanVideoUpBlock3D"] * 3,
        in_channels=3,
        out_channels=3,
        latent_channels=16,
        layers_per_block=1,
        mid_block_add_attention=False,
        norm_num_groups=2,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
    )
    torch.manual_seed(0)
    transformer = Kandinsky5Transformer3DModel(
        in_visual_dim=16,
        in_text_dim=hidden,
        in_text_dim2=16,
        time_dim=16,
        out_visual_dim=16,
        patch_size=(1, 2, 2),
        model_dim=16,
        ff_dim=32,
        num_text_blocks=1,
        num_visual_blocks=2,
        axes_dims=(1, 1, 2),
        visual_cond=True,
        attention_type="regular",
    )
    return Kandinsky5I2VPipeline(
        transformer=transformer,
        vae=vae,
        text_encoder=qwen,
        tokenizer=word_tokenizer(" ".join(WORDS), eos_token="</s>")[0],
        text_encoder_2=clip,
        tokenizer_2=word_tokenizer(
            " ".join(WORDS), bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>"
        )[0],
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A saved diffusers-format folder of the tiny pipeline (under 1 MB)."""
    root = tmp_path_factory.mktemp("tiny_kandinsky5") / "k5"
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
    assert (card.pipeline, card.repo_id) == (
        "Kandinsky5I2VPipeline",
        "kandinskylab/Kandinsky-5.0-I2V-Pro-sft-5s-Diffusers",
    )
    # The pipeline's own defaults: 768×512, 121 frames, 50 steps, guidance 5; its example exports 24 fps.
    assert (card.native_size, card.multiple, card.frame_rule, card.fps, card.max_frames) == (
        (768, 512),
        16,
        (4, 1),
        24.0,
        121,
    )
    assert (card.steps, card.guidance, card.end_frame) == (50, 5.0, False)
    assert "unverified" in spec.licence and card.vram_gb["full"] > card.vram_gb["sequential"]
    assert card in kandinsky5.CARDS


def test_end_to_end_variations_and_cli(tiny, photos, tmp_path, monkeypatch):
    """Two variations through the API (seeds 1 and 2), then seed 1 again through the CLI: the same frames
    up to libx264's rounding."""
    from typer.testing import CliRunner

    from stillmotion.cli import app

    seen: list[dict] = []
    real = kandinsky5.call_kwargs

    def spy(card, generation):
        kwargs, ignored = real(card, generation)
        seen.append(kwargs)
        return kwargs, ignored

    monkeypatch.setattr(kandinsky5, "call_kwargs", spy)
    steps: list[tuple[int, int]] = []
    many = stillmotion.animate(
        photos["coffee"],
        "steam rising from the coffee",
        engine=ENGINE,
        model_path=tiny,
        variations=2,
        output=tmp_path / "k5.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    a, b = many.variations
    assert (a.seed, b.seed) == (1, 2)
    fa, fb = _frames(a.path), _frames(b.path)
    assert fa.shape == fb.shape == (25, 64, 64, 3) and (len(fa) - 1) % 4 == 0
    assert (a.width, a.height, a.fps, a.frame_count) == (64, 64, 24.0, 25)
    assert np.abs(fa.astype(int) - fb.astype(int)).mean() > 1.0  # another seed, another clip
    shot = a.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (ENGINE, "Kandinsky5I2VPipeline", str(tiny))
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"], shot["fps"]) == (2, 5.0, 25, 24.0)
    adj = " | ".join(shot["adjustments"])
    assert (
        "72×64 → 64×64" in adj and "24 frames → 25" in adj and "24 fps" in adj and "own default negative prompt" in adj
    )
    assert any(i.startswith("motion_strength") for i in shot["ignored"])
    assert json.loads(a.sidecar.read_text())["shot"]["engine"] == ENGINE
    kw = seen[0]
    assert (kw["height"], kw["width"], kw["num_frames"], kw["num_inference_steps"]) == (64, 64, 25, 2)
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
