"""Motif-Video 2B image-to-video (``motif-video-i2v``), end to end, on a tiny pipeline built from configs.

The pipeline is the real ``MotifVideoImage2VideoPipeline`` with the tiny components of
diffusers' own Motif-Video tests (a 1+1-layer Motif transformer, a T5Gemma2 encoder
whose SigLIP vision tower embeds the photo, the Wan VAE, a classifier-free guider)
and the word-level tokenizer of ``test_diffusion_wan``, saved with
``save_pretrained`` and run through ``stillmotion.animate(..., model_path=DIR)``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers", minversion="5.1")  # T5Gemma2Encoder, which the pipeline imports
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import motif
from stillmotion.video import read_video
from test_diffusion_wan import _spy, _tokenizer, _vae_21

ENGINE = "motif-video-i2v"
PIPELINE = "MotifVideoImage2VideoPipeline"
FAST = {"size": "64x64", "steps": 2, "seed": 1}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One intra-op thread: on a small shared CPU, two threads wait on each other in the tiny VAE's
    3-D convolutions and decode several times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _text_encoder():
    """T5Gemma2 encoder: a 1-layer text stack (d 32 = the transformer's text_embed_dim) and a SigLIP
    vision tower (hidden 4 = image_embed_dim) that embeds the photo at 16×16."""
    import torch
    from transformers import SiglipVisionConfig, T5Gemma2Encoder, T5Gemma2EncoderConfig, T5Gemma2TextConfig

    torch.manual_seed(0)
    text = T5Gemma2TextConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=64,
        max_position_embeddings=128,
        head_dim=16,
        num_key_value_heads=2,
        dropout_rate=0.0,
    )
    vision = SiglipVisionConfig(
        hidden_size=4,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        image_size=16,
        patch_size=4,
        num_channels=3,
    )
    return T5Gemma2Encoder(T5Gemma2EncoderConfig(text_config=text, vision_config=vision)).eval()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, MotifVideoImage2VideoPipeline
    from diffusers.guiders import ClassifierFreeGuidance
    from diffusers.models.transformers.transformer_motif_video import MotifVideoTransformer3DModel
    from transformers import SiglipImageProcessor
    from transformers.utils import logging as tlog

    path = tmp_path_factory.mktemp("tiny_motif") / "motif"
    level = tlog.get_verbosity()
    tlog.set_verbosity_error()  # "SiglipImageProcessor requires torchvision … falling back to PIL"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        transformer = MotifVideoTransformer3DModel(
            in_channels=33,  # 16 noisy + 16 first-frame condition + 1 mask
            out_channels=16,
            num_attention_heads=2,
            attention_head_dim=12,
            num_layers=1,
            num_single_layers=1,
            patch_size=2,  # as the real model: sides are multiples of 16
            patch_size_t=1,
            text_embed_dim=32,
            image_embed_dim=4,
            rope_axes_dim=(4, 4, 4),
        )
        pipe = MotifVideoImage2VideoPipeline(
            scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
            vae=_vae_21(),
            text_encoder=_text_encoder(),
            tokenizer=_tokenizer(),
            transformer=transformer,
            guider=ClassifierFreeGuidance(guidance_scale=7.5),
            feature_extractor=SiglipImageProcessor(
                image_mean=[0.5] * 3, image_std=[0.5] * 3, size={"height": 16, "width": 16}
            ),
        )
        pipe.save_pretrained(path)
    yield path
    tlog.set_verbosity(level)


def _frames(clip) -> np.ndarray:
    return read_video(clip.path).frames_thwc


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES[ENGINE]
    card = spec.factory().card
    assert (card.family, card.pipeline, card.repo_id) == ("motif", PIPELINE, "Motif-Technologies/Motif-Video-2B")
    assert (card.native_size, card.multiple, card.frame_rule, card.fps, card.max_frames) == (
        (1280, 736),
        16,
        (4, 1),
        24.0,
        121,
    )
    assert (card.steps, card.end_frame) == (50, False) and not spec.end_frame
    assert "unverified" in card.licence and "unverified" in card.commercial
    assert set(card.vram_gb) == {"full", "model-offload"}  # group/sequential offload do not work for it
    assert "model-offload only" in card.notes


def test_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, motif)
    steps: list[tuple[int, int]] = []
    # 1 s at 10 fps asks for 10 frames; the model makes 24 fps and 4n+1 frames: 24 → 25.
    clip = stillmotion.animate(
        photos["astronaut"],
        "hair moves in the wind",
        engine=ENGINE,
        model_path=tiny,
        duration=1,
        fps=10,
        last_image=photos["coffee"],
        output=tmp_path / "motif.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    frames = _frames(clip)
    assert frames.shape == (25, 64, 64, 3) and clip.frame_count == 25 and clip.fps == 24.0
    assert (len(frames) - 1) % 4 == 0
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (ENGINE, PIPELINE, str(tiny))
    assert (shot["num_inference_steps"], shot["frames"]) == (2, 25)
    assert any("24 frames → 25" in a and "4n+1" in a for a in shot["adjustments"]), shot["adjustments"]
    assert any(i.startswith("guidance_scale") for i in shot["ignored"])
    assert sum("last-image is ignored" in w for w in clip.warnings) == 1, clip.warnings
    assert json.loads(clip.sidecar.read_text())["shot"]["engine"] == ENGINE
    assert steps == [(1, 2), (2, 2)]
    kw = seen[0]
    assert "guidance_scale" not in kw and "last_image" not in kw
    assert (kw["height"], kw["width"], kw["num_frames"], kw["num_inference_steps"]) == (64, 64, 25, 2)
    assert kw["negative_prompt"] == motif.MOTIF_NEGATIVE_PROMPT  # the default when none is given
    assert not np.all(frames == frames[:1])


def test_same_seed_same_frames(tiny, photos, tmp_path):
    def run(seed: int, name: str) -> np.ndarray:
        clip = stillmotion.animate(
            photos["coffee"],
            "steam rising",
            engine=ENGINE,
            model_path=tiny,
            duration=1,
            negative_prompt="blur",
            output=tmp_path / name,
            **dict(FAST, seed=seed),
        )
        return _frames(clip).astype(int)

    a, b, c = run(3, "a.mp4"), run(3, "b.mp4"), run(4, "c.mp4")
    assert a.shape == (25, 64, 64, 3)
    assert np.abs(a - b).mean() < 1.0  # libx264 is not bit-exact run to run
    assert np.abs(a - c).mean() > 1.0


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"],
            "waves",
            engine=ENGINE,
            model_path=tiny,
            duration=1,
            output=out,
            should_stop=lambda: True,
            **FAST,
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("stop")]


def test_cli(tiny, photos, tmp_path):
    from typer.testing import CliRunner

    from stillmotion.cli import app

    out = tmp_path / "cli.mp4"
    args = ["animate", str(photos["chelsea"]), "-p", "gentle wind", "--engine", ENGINE, "--model-path", str(tiny)]
    res = CliRunner().invoke(
        app, [*args, "--size", "64x64", "--duration", "1", "--steps", "2", "--seed", "1", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert read_video(out).frames_thwc.shape == (25, 64, 64, 3)
