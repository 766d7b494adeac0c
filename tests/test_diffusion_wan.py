"""Wan 2.1 / 2.2 and SkyReels-V2 engines, end to end, on tiny pipelines built from configs.

Nothing is downloaded: every component (transformer, VAE, CLIP vision encoder,
UMT5 text encoder and a word-level tokenizer) is built in memory from the tiny
configs of diffusers' own tests (the project's generative notes §2), saved
with ``save_pretrained`` and run through ``stillmotion.animate(...,
model_path=DIR)`` exactly as a user's downloaded weights would be.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import skyreels, wan
from stillmotion.video import read_video

WORDS = "waves rolling in the sea slow push gentle wind hair moves water coffee steam".split()
FAST = {"size": "64x64", "steps": 2, "seed": 1}
# The reproducibility test runs at 128 px: libx264's output for 64×64 frames varies from run to run
# (seen with PyAV 18.1 on 2 cores, even single-threaded), which would hide "same seed → same clip".
REPRO = dict(FAST, size="128x128")


# ------------------------------------------------------------------ tiny pipelines


def _tokenizer():
    """A word-level tokenizer made in memory (the real one is a 250k-word UMT5 SentencePiece model)."""
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def _text_encoder():
    import torch
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    # d_model 32 = the transformer's text_dim; .eval(): no dropout, so runs repeat exactly.
    cfg = UMT5Config(
        vocab_size=32,
        d_model=32,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_heads=2,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
    )
    return UMT5EncoderModel(cfg).eval()


def _vae_21():
    import torch
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    return AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )


def _transformer(cls=None, **kw):
    import torch
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    args = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=36,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    return (cls or WanTransformer3DModel)(**dict(args, **kw))


def _clip(cls_name: str, size: int = 32):
    import torch
    import transformers
    from transformers import CLIPImageProcessor, CLIPVisionConfig

    torch.manual_seed(0)
    cfg = CLIPVisionConfig(
        hidden_size=4,
        projection_dim=4,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=size,
        intermediate_size=16,
        patch_size=1,
    )
    return getattr(transformers, cls_name)(cfg).eval(), CLIPImageProcessor(crop_size=size, size=size)


def _wan21():
    """Wan2.1 I2V-14B shaped: CLIP image embeddings + a 36-channel transformer."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline

    enc, proc = _clip("CLIPVisionModel")
    return WanImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_text_encoder(),
        vae=_vae_21(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        image_processor=proc,
        image_encoder=enc,
        transformer=_transformer(image_dim=4),
        transformer_2=None,
    )


def _flf2v():
    """Wan2.1 FLF2V-14B shaped: as I2V, but the image embedder takes two images (a learnt position per token)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline

    enc, proc = _clip("CLIPVisionModel", size=4)
    return WanImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_text_encoder(),
        vae=_vae_21(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=16.0),
        image_processor=proc,
        image_encoder=enc,
        transformer=_transformer(image_dim=4, pos_embed_seq_len=2 * (4 * 4 + 1)),
        transformer_2=None,
    )


def _ti2v():
    """Wan2.2 TI2V-5B shaped: 48-channel VAE with patchify (16× spatial), expand_timesteps."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )
    return WanImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_text_encoder(),
        vae=vae,
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0),
        image_processor=None,
        image_encoder=None,
        transformer=_transformer(in_channels=48, out_channels=48),
        transformer_2=None,
        boundary_ratio=None,
        expand_timesteps=True,
    )


def _a14b():
    """Wan2.2 I2V-A14B shaped: two experts switched at boundary_ratio, no CLIP."""
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline

    return WanImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_text_encoder(),
        vae=_vae_21(),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        image_processor=None,
        image_encoder=None,
        transformer=_transformer(),
        transformer_2=_transformer(),
        boundary_ratio=0.875,
    )


def _skyreels():
    from diffusers import SkyReelsV2ImageToVideoPipeline, SkyReelsV2Transformer3DModel, UniPCMultistepScheduler

    enc, proc = _clip("CLIPVisionModelWithProjection")
    return SkyReelsV2ImageToVideoPipeline(
        tokenizer=_tokenizer(),
        text_encoder=_text_encoder(),
        image_encoder=enc,
        image_processor=proc,
        transformer=_transformer(SkyReelsV2Transformer3DModel, image_dim=4),
        vae=_vae_21(),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0),
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """name → a saved diffusers-format folder (a few hundred KB each)."""
    from transformers.utils import logging as tlog

    level = tlog.get_verbosity()
    tlog.set_verbosity_error()  # "CLIPImageProcessor requires torchvision … falling back to PIL" (no CPU torchvision here)
    root = tmp_path_factory.mktemp("tiny_wan")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, build in {
            "wan21": _wan21,
            "flf2v": _flf2v,
            "ti2v": _ti2v,
            "a14b": _a14b,
            "skyreels": _skyreels,
        }.items():
            pipe = build()
            pipe.set_progress_bar_config(disable=True)
            pipe.save_pretrained(root / name)
            out[name] = root / name
    yield out
    tlog.set_verbosity(level)


def _frames(clip) -> np.ndarray:
    return read_video(clip.path).frames_thwc


def _spy(monkeypatch, module) -> list[dict]:
    """Record what the family's call_kwargs hands the pipeline (and, under "ignored", what it says it cannot use)."""
    seen: list[dict] = []
    real = module.call_kwargs

    def spy(card, generation):
        kw, ignored = real(card, generation)
        seen.append(dict(kw, ignored=ignored))
        return kw, ignored

    monkeypatch.setattr(module, "call_kwargs", spy)
    return seen


def test_tiny_tokenizer_survives_save_and_load(tiny):
    """The in-memory word-level tokenizer is written by the pipeline's save_pretrained and read back."""
    from diffusers import WanImageToVideoPipeline

    index = json.loads((tiny["ti2v"] / "model_index.json").read_text())
    assert index["tokenizer"][0] == "transformers" and index["expand_timesteps"] is True
    pipe = WanImageToVideoPipeline.from_pretrained(tiny["ti2v"])
    ids = pipe.tokenizer("waves rolling in, zebra").input_ids
    assert ids == _tokenizer()("waves rolling in, zebra").input_ids and 2 in ids  # "zebra" → <unk>
    assert pipe.tokenizer.pad_token_id == 0 and pipe.tokenizer.eos_token == "</s>"


# ------------------------------------------------------------------ cards


def test_cards_are_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    ti2v = ENGINES["wan2.2-ti2v-5b"].factory().card
    assert (ti2v.repo_id, ti2v.native_size, ti2v.fps, ti2v.frame_rule, ti2v.multiple) == (
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        (1280, 704),
        24.0,
        (4, 1),
        32,
    )
    assert (ti2v.steps, ti2v.guidance, ti2v.licence, ti2v.end_frame) == (50, 5.0, "Apache-2.0", False)
    flf = ENGINES["wan2.1-flf2v-14b"]
    assert flf.end_frame and flf.factory().card.repo_id == "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"
    a14b = ENGINES["wan2.2-i2v-a14b"].factory().card
    assert (a14b.native_size, a14b.fps, a14b.max_frames, a14b.steps, a14b.guidance) == ((1280, 720), 16.0, 81, 40, 3.5)
    for name, size in {"wan2.1-i2v-14b-480p": (832, 480), "wan2.1-i2v-14b-720p": (1280, 720)}.items():
        c = ENGINES[name].factory().card
        assert (c.native_size, c.fps, c.steps, c.guidance) == (size, 16.0, 40, 5.0)
    sky = ENGINES["skyreels-v2-i2v"]
    assert sky.factory().card.native_size == (960, 544) and "Skywork Community License" in sky.licence
    assert all(c.vram_gb and c.family in ("wan", "skyreels") for c in wan.CARDS + skyreels.CARDS)


def test_cli_engines_lists_them():
    from typer.testing import CliRunner

    from stillmotion.cli import app

    res = CliRunner().invoke(app, ["engines"])
    assert res.exit_code == 0, res.output
    for c in wan.CARDS + skyreels.CARDS:
        assert c.name in res.output and c.repo_id in res.output
    assert "Skywork Community License (commercial: yes, under its terms)" in res.output


# ------------------------------------------------------------------ end to end


def test_ti2v_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, wan)
    steps: list[tuple[int, int]] = []
    out = tmp_path / "ti2v.mp4"
    # 1 s at 10 fps asks for 10 frames; the model makes 24 fps and 4n+1 frames: 24 → 25.
    clip = stillmotion.animate(
        photos["astronaut"],
        "waves rolling in",
        engine="wan2.2-ti2v-5b",
        model_path=tiny["ti2v"],
        duration=1,
        fps=10,
        last_image=photos["coffee"],
        output=out,
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **REPRO,
    )
    video = read_video(out)
    assert video.frames_thwc.shape == (25, 128, 128, 3) and clip.frame_count == 25
    assert (clip.width, clip.height, clip.fps) == (128, 128, 24.0) and video.fps == pytest.approx(24.0)
    assert (len(video.frames_thwc) - 1) % 4 == 0
    shot = clip.recipe["shot"]
    assert shot["engine"] == "wan2.2-ti2v-5b" and shot["model"] == str(tiny["ti2v"])
    assert shot["pipeline"] == "WanImageToVideoPipeline" and shot["licence"] == "Apache-2.0"
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"]) == (2, 5.0, 25)
    assert any("24 frames → 25" in a and "4n+1" in a for a in shot["adjustments"]), shot["adjustments"]
    assert any("24 fps" in a for a in shot["adjustments"])
    assert any(i.startswith("motion_strength") for i in shot["ignored"])
    assert sum("last-image is ignored" in w for w in clip.warnings) == 1, clip.warnings
    assert json.loads(clip.sidecar.read_text())["shot"]["engine"] == "wan2.2-ti2v-5b"
    assert steps == [(1, 2), (2, 2)]
    kw = seen[0]
    assert "last_image" not in kw and "guidance_scale_2" not in kw
    assert (kw["height"], kw["width"], kw["num_frames"], kw["num_inference_steps"]) == (128, 128, 25, 2)
    assert kw["negative_prompt"] == wan.WAN_NEGATIVE_PROMPT  # Wan's default when none is given
    assert not np.all(video.frames_thwc == video.frames_thwc[:1])  # not one frame repeated (tiny noise moves)

    # variations=2 from seed 1: seeds 1 and 2. The first repeats the clip above (same seed →
    # bit-identical frames, through a second pipeline call); the second differs.
    many = stillmotion.animate(
        photos["astronaut"],
        "waves rolling in",
        engine="wan2.2-ti2v-5b",
        model_path=tiny["ti2v"],
        duration=1,
        fps=10,
        variations=2,
        output=tmp_path / "var.mp4",
        **REPRO,
    )
    a, b = many.variations
    assert (a.seed, b.seed) == (1, 2)
    fa, fb = _frames(a), _frames(b)
    assert fa.shape == fb.shape == (25, 128, 128, 3)
    assert np.array_equal(fa, video.frames_thwc)  # the first variation is seed 1
    assert np.abs(fa.astype(int) - fb.astype(int)).mean() > 1.0
    assert many.contact_sheet is not None and many.contact_sheet.exists()


def test_wan21_480p_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, wan)
    # 72×64 is not a multiple of 16: snapped (and logged); 1 s at 16 fps = 16 frames → 17 (4n+1).
    clip = stillmotion.animate(
        photos["coffee"],
        "steam rising from the coffee",
        engine="wan2.1-i2v-14b-480p",
        model_path=tiny["wan21"],
        duration=1,
        fps=16,
        output=tmp_path / "w21.mp4",
        negative_prompt="blur",
        **dict(FAST, size="72x64"),
    )
    frames = _frames(clip)
    assert frames.shape == (17, 64, 64, 3) and clip.fps == 16.0
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["num_inference_steps"], shot["guidance_scale"]) == ("wan2.1-i2v-14b-480p", 2, 5.0)
    adj = " | ".join(shot["adjustments"])
    assert "72×64 → 64×64" in adj and "16 frames → 17" in adj
    assert seen[0]["negative_prompt"] == "blur" and "last_image" not in seen[0]


def test_flf2v_takes_the_last_image(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, wan)
    clip = stillmotion.animate(
        photos["astronaut"],
        "slow push in",
        engine="wan2.1-flf2v-14b",
        model_path=tiny["flf2v"],
        duration=1,
        fps=16,
        last_image=photos["coffee"],
        output=tmp_path / "flf.mp4",
        guidance_scale=4.0,
        **FAST,
    )
    assert _frames(clip).shape == (17, 64, 64, 3)
    assert not any("last-image" in w for w in clip.warnings), clip.warnings
    last = seen[0]["last_image"]
    assert last.size == (64, 64) and seen[0]["guidance_scale"] == 4.0
    assert clip.recipe["shot"]["guidance_scale"] == 4.0


def test_a14b_two_experts(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, wan)
    clip = stillmotion.animate(
        photos["coffee"],
        "gentle wind",
        engine="wan2.2-i2v-a14b",
        model_path=tiny["a14b"],
        duration=1,
        fps=16,
        output=tmp_path / "a14b.mp4",
        **FAST,
    )
    assert _frames(clip).shape == (17, 64, 64, 3)
    assert seen[0]["guidance_scale"] == seen[0]["guidance_scale_2"] == 3.5
    assert clip.recipe["shot"]["guidance_scale"] == 3.5


def test_skyreels_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, skyreels)
    # 24 fps, 1 s = 24 frames → 25.
    clip = stillmotion.animate(
        photos["coffee"],
        "steam rising",
        engine="skyreels-v2-i2v",
        model_path=tiny["skyreels"],
        duration=1,
        fps=24,
        output=tmp_path / "sky.mp4",
        **FAST,
    )
    frames = _frames(clip)
    assert frames.shape == (25, 64, 64, 3) and clip.fps == 24.0
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"]) == ("skyreels-v2-i2v", "SkyReelsV2ImageToVideoPipeline")
    assert shot["commercial_use"] == "yes, under its terms"
    assert seen[0]["num_frames"] == 25 and seen[0]["ignored"]


# ------------------------------------------------------------------ failures


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"],
            "waves",
            engine="wan2.2-ti2v-5b",
            model_path=tiny["ti2v"],
            duration=1,
            output=out,
            should_stop=lambda: True,
            **FAST,
        )
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("stop")]


def test_missing_weights_say_how_to_get_them(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(stillmotion.EngineUnavailable) as err:
        stillmotion.animate(
            photos["coffee"], "waves", engine="wan2.2-ti2v-5b", duration=1, output=tmp_path / "none.mp4", **FAST
        )
    msg = str(err.value)
    assert "stillmotion download wan2.2-ti2v-5b" in msg and "--model-path" in msg and "\n" not in msg
    assert not (tmp_path / "none.mp4").exists()
    with pytest.raises(stillmotion.EngineUnavailable, match="not a folder"):
        stillmotion.animate(
            photos["coffee"],
            "waves",
            engine="wan2.2-ti2v-5b",
            duration=1,
            model_path=tmp_path / "nowhere",
            output=tmp_path / "none.mp4",
            **FAST,
        )


def test_missing_weights_cli_exit_3(photos, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from stillmotion.cli import app

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    res = CliRunner().invoke(
        app,
        [
            "animate",
            str(photos["coffee"]),
            "-p",
            "waves",
            "--engine",
            "skyreels-v2-i2v",
            "--size",
            "64x64",
            "--duration",
            "1",
            "-o",
            str(tmp_path / "cli.mp4"),
        ],
    )
    assert res.exit_code == 3, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "stillmotion download skyreels-v2-i2v" in lines[0]
    assert "Traceback" not in res.output and not (tmp_path / "cli.mp4").exists()


def test_fast_on_the_cpu_is_reported_not_silent(tiny, photos, tmp_path):
    clip = stillmotion.animate(
        photos["astronaut"],
        "waves",
        engine="wan2.2-ti2v-5b",
        model_path=tiny["ti2v"],
        size="64x64",
        duration=1.0,
        fps=24,
        steps=2,
        seed=1,
        fast=True,
        output=tmp_path / "f.mp4",
    )
    assert any("no effect on the CPU" in w for w in clip.warnings)
