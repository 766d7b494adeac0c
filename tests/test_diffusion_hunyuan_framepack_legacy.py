"""HunyuanVideo-I2V, FramePack, I2VGen-XL and PIA engines, end to end, on tiny pipelines built from configs.

Nothing is downloaded: every component is built in memory from the tiny
configs of diffusers' own tests (the project's generative notes §2), saved with
``save_pretrained`` and run through ``stillmotion.animate(..., model_path=DIR)``
exactly as a user's weights folder would be. The tokenizers are word-level
``tokenizers`` models wrapped in ``PreTrainedTokenizerFast``, with the special
tokens the pipelines' prompt templates use (Llama 3 header / eot tokens,
``<image>`` for HunyuanVideo-I2V's LLaVA encoder); the tiny LLaVA's vision
tower is a 336-px, patch-14 CLIP (576 image tokens), so the pipeline's *default*
template (``image_emb_len`` 576) runs unchanged.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import framepack, hunyuan, legacy
from stillmotion.engines.diffusion.common import snap_frames, snap_size
from stillmotion.video import read_video
from tiny_pipelines import generation, record_frames

FAST = {"size": "64x64", "steps": 2, "seed": 1}
PROMPT = "waves rolling in the sea, slow push in"


# ------------------------------------------------------------------ tiny pipelines


def _word_tokenizer(specials: list[str], template: str = "", *, bos: str, eos: str | None = None):
    """A word-level tokenizer made in memory: template words + prompt words, ``specials`` kept whole."""
    import tokenizers
    from tokenizers import AddedToken, processors
    from transformers import PreTrainedTokenizerFast

    words = sorted(set(re.findall(r"\w+|[^\w\s]", template + " " + PROMPT)))
    vocab: dict[str, int] = {}
    for t in ["<pad>", "<unk>", *specials, *words]:
        vocab.setdefault(t, len(vocab))
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in specials])
    single = f"{bos} $A" + (f" {eos}" if eos else "")
    tok.post_processor = processors.TemplateProcessing(
        single=single, special_tokens=[(t, vocab[t]) for t in (bos, eos) if t]
    )
    kw = {"eos_token": eos} if eos else {}
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token=bos,
        model_max_length=77 if eos else 4096,
        **kw,
    )
    return fast, vocab


_LLAMA3 = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "\n\n"]
_CLIP = ["<|startoftext|>", "<|endoftext|>"]


def _clip_text(vocab, hidden: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    cfg = CLIPTextConfig(
        hidden_size=hidden,
        intermediate_size=16,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=len(vocab),
        pad_token_id=0,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        projection_dim=hidden,
    )
    return CLIPTextModel(cfg).eval()


def _hunyuan_vae():
    import torch
    from diffusers import AutoencoderKLHunyuanVideo

    torch.manual_seed(0)
    return AutoencoderKLHunyuanVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(4, 4, 4, 4),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=2,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )


def _hunyuan_i2v():
    """The token_replace I2V layout of hunyuanvideo-community/HunyuanVideo-I2V, tiny."""
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoImageToVideoPipeline,
        HunyuanVideoTransformer3DModel,
    )
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_image2video import DEFAULT_PROMPT_TEMPLATE
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    tok, vocab = _word_tokenizer([*_LLAMA3, "<image>"], DEFAULT_PROMPT_TEMPLATE["template"], bos="<|begin_of_text|>")
    tok2, vocab2 = _word_tokenizer(_CLIP, bos="<|startoftext|>", eos="<|endoftext|>")
    torch.manual_seed(0)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=1,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 4, 4),
        image_condition_type="token_replace",
    )
    torch.manual_seed(0)
    llava = LlavaForConditionalGeneration(
        LlavaConfig(
            # 336 px / patch 14 = 576 image tokens: the default template's image_emb_len.
            vision_config=CLIPVisionConfig(
                hidden_size=8,
                intermediate_size=16,
                num_attention_heads=2,
                num_hidden_layers=2,
                image_size=336,
                patch_size=14,
                projection_dim=8,
            ),
            text_config=LlamaConfig(
                hidden_size=16,
                intermediate_size=32,
                num_attention_heads=2,
                num_hidden_layers=2,
                vocab_size=len(vocab),
                pad_token_id=vocab["<pad>"],
                bos_token_id=vocab["<|begin_of_text|>"],
                eos_token_id=vocab["<|eot_id|>"],
            ),
            pad_token_id=vocab["<pad>"],
            image_token_index=vocab["<image>"],
        )
    ).eval()
    return HunyuanVideoImageToVideoPipeline(
        text_encoder=llava,
        tokenizer=tok,
        transformer=transformer,
        vae=_hunyuan_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=_clip_text(vocab2, 8),
        tokenizer_2=tok2,
        image_processor=CLIPImageProcessor(crop_size=336, size=336),
    )


def _framepack():
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoFramepackPipeline,
        HunyuanVideoFramepackTransformer3DModel,
    )
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video_framepack import DEFAULT_PROMPT_TEMPLATE
    from transformers import LlamaConfig, LlamaModel, SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    tok, vocab = _word_tokenizer(_LLAMA3, DEFAULT_PROMPT_TEMPLATE["template"], bos="<|begin_of_text|>")
    tok2, vocab2 = _word_tokenizer(_CLIP, bos="<|startoftext|>", eos="<|endoftext|>")
    torch.manual_seed(0)
    transformer = HunyuanVideoFramepackTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 4, 4),
        image_condition_type=None,
        has_image_proj=True,
        image_proj_dim=8,
        has_clean_x_embedder=True,
    )
    torch.manual_seed(0)
    llama = LlamaModel(
        LlamaConfig(
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=len(vocab),
            pad_token_id=vocab["<pad>"],
        )
    ).eval()
    torch.manual_seed(0)
    siglip = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=8, intermediate_size=16, num_attention_heads=2, num_hidden_layers=2, image_size=32, patch_size=8
        )
    ).eval()
    return HunyuanVideoFramepackPipeline(
        text_encoder=llama,
        tokenizer=tok,
        transformer=transformer,
        vae=_hunyuan_vae(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=_clip_text(vocab2, 8),
        tokenizer_2=tok2,
        image_encoder=siglip,
        feature_extractor=SiglipImageProcessor(size={"height": 32, "width": 32}),
    )


def _sd_vae():
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=(8, 8, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=2,
        layers_per_block=1,
    )


def _ddim():
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False
    )


def _i2vgen_xl():
    """diffusers' old I2VGen-XL fast-test components (bc55b631fd^), with an in-memory tokenizer."""
    import torch
    from diffusers import I2VGenXLPipeline
    from diffusers.models.unets import I2VGenXLUNet
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    tok, vocab = _word_tokenizer(_CLIP, bos="<|startoftext|>", eos="<|endoftext|>")
    torch.manual_seed(0)
    unet = I2VGenXLUNet(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=4,
        attention_head_dim=4,
        num_attention_heads=None,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    vision = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=4,
        )
    ).eval()
    return I2VGenXLPipeline(
        vae=_sd_vae(),
        text_encoder=_clip_text(vocab, 4),
        tokenizer=tok,
        unet=unet,
        image_encoder=vision,
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
        scheduler=_ddim(),
    )


def _pia():
    """An SD1.5-shaped UNet + a PIA MotionAdapter (9 conv-in channels: latents + mask + image latents)."""
    import torch
    from diffusers import MotionAdapter, PIAPipeline, UNet2DConditionModel

    tok, vocab = _word_tokenizer(_CLIP, bos="<|startoftext|>", eos="<|endoftext|>")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
        attention_head_dim=4,
    )
    torch.manual_seed(0)
    adapter = MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
        conv_in_channels=9,
    )
    return PIAPipeline(
        vae=_sd_vae(),
        text_encoder=_clip_text(vocab, 8),
        tokenizer=tok,
        unet=unet,
        motion_adapter=adapter,
        scheduler=_ddim(),
        feature_extractor=None,
        image_encoder=None,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """name → a saved diffusers-format folder (under 1 MB each)."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    tlog.set_verbosity_error()  # "torchvision missing: PIL image processor" notices
    dlog.set_verbosity_error()  # "… has been deprecated" (said by the cards instead)
    root = tmp_path_factory.mktemp("tiny_hfl")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, build in {
            "hunyuan": _hunyuan_i2v,
            "framepack": _framepack,
            "i2vgen": _i2vgen_xl,
            "pia": _pia,
        }.items():
            pipe = build()
            pipe.save_pretrained(root / name)
            out[name] = root / name
    return out


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


# ------------------------------------------------------------------ cards and mapping (no pipeline runs)


def test_cards_are_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    hy = ENGINES["hunyuanvideo-i2v"].factory().card
    assert (hy.repo_id, hy.pipeline, hy.native_size, hy.fps, hy.frame_rule, hy.multiple, hy.max_frames) == (
        "hunyuanvideo-community/HunyuanVideo-I2V",
        "HunyuanVideoImageToVideoPipeline",
        (1280, 720),
        24.0,
        (4, 1),
        16,
        129,
    )
    assert (hy.steps, hy.guidance, hy.vram_gb["full"], hy.end_frame, hy.deprecated) == (50, 6.0, 60.0, False, False)
    assert hy.licence == "Tencent Hunyuan Community License" and "EU/UK/South Korea" in hy.commercial
    fp = ENGINES["framepack"]
    c = fp.factory().card
    assert (c.pipeline, c.repo_id, c.fps, c.frame_rule, c.steps, c.guidance, c.end_frame) == (
        "HunyuanVideoFramepackPipeline",
        "lllyasviel/FramePackI2V_HY",
        30.0,
        (36, 1),
        30,
        9.0,
        True,
    )
    assert fp.end_frame and fp.max_duration_s == pytest.approx(1801 / 30) and "--model-path" in c.notes
    assert "Apache-2.0" in c.licence and "Tencent" in c.licence
    i2v, pia = ENGINES["i2vgen-xl"].factory().card, ENGINES["pia"].factory().card
    assert (i2v.pipeline, i2v.repo_id, i2v.native_size, i2v.fps, i2v.max_frames, i2v.steps, i2v.guidance) == (
        "I2VGenXLPipeline",
        "ali-vilab/i2vgen-xl",
        (1280, 704),
        16.0,
        16,
        50,
        9.0,
    )
    assert (pia.pipeline, pia.repo_id, pia.native_size, pia.fps, pia.max_frames, pia.steps, pia.guidance) == (
        "PIAPipeline",
        "openmmlab/PIA-condition-adapter",
        (512, 512),
        8.0,
        16,
        50,
        7.5,
    )
    assert i2v.deprecated and pia.deprecated
    assert i2v.licence == "not verified (predecessor CC-BY-NC-ND-4.0)" and i2v.commercial == "no (not verified)"
    assert (pia.licence, pia.commercial) == ("not found", "not verified")
    assert all(x.notes.startswith("no fixes upstream") for x in (i2v, pia))


def test_cli_engines_lists_them():
    from typer.testing import CliRunner

    from stillmotion.cli import app

    res = CliRunner().invoke(app, ["engines"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    for c in hunyuan.CARDS + framepack.CARDS + legacy.CARDS:
        assert c.name in res.output and c.repo_id in res.output
        summary = next(ln for ln in lines if c.repo_id in ln)
        assert ("deprecated in diffusers; no fixes upstream" in summary) == c.deprecated, summary
    assert "Tencent Hunyuan Community License (commercial: yes except EU/UK/South Korea" in res.output


def test_frame_and_size_rules():
    hy, fp = hunyuan.CARDS[0], framepack.CARDS[0]
    i2v, pia = legacy.CARDS
    # HunyuanVideo: 4n+1, at most 129; sides multiples of 16.
    assert [snap_frames(hy, n) for n in (24, 120, 130, 500)] == [25, 121, 129, 129]
    assert snap_size(hy, 1280, 720) == (1280, 720) and snap_size(hy, 1010, 570) == (1008, 576)
    # FramePack: 36 new frames a section, + the photo: 36n+1, up to 60 s at 30 fps.
    assert [snap_frames(fp, n) for n in (30, 60, 150, 900, 10_000)] == [37, 73, 145, 901, 1801]
    # The pipeline is asked for S·33 frames (S sections); it returns 36·S + 1.
    for frames, asked in [(37, 33), (73, 66), (901, 825), (1801, 1650)]:
        kw, _ = framepack.call_kwargs(fp, generation(fp, frames))
        assert (kw["num_frames"], kw["latent_window_size"], framepack.sections(frames)) == (asked, 9, asked // 33)
        assert kw["sampling_type"] == "inverted_anti_drifting" and "last_image" not in kw
    # I2VGen-XL / PIA: any count up to the trained 16; sides multiples of 8.
    assert [snap_frames(i2v, n) for n in (5, 16, 80)] == [5, 16, 16] and snap_frames(pia, 40) == 16
    assert snap_size(pia, 500, 500) == (496, 496)


def test_call_kwargs_map_the_options():
    from PIL import Image

    hy, fp = hunyuan.CARDS[0], framepack.CARDS[0]
    i2v, pia = legacy.CARDS
    kw, ignored = hunyuan.call_kwargs(hy, generation(hy, 25, negative_prompt="blur"))
    assert (kw["guidance_scale"], kw["true_cfg_scale"], kw["num_frames"]) == (6.0, 1.0, 25)
    assert "negative_prompt" not in kw and any(i.startswith("negative_prompt") for i in ignored)
    end = Image.new("RGB", (64, 64), (0, 255, 0))
    kw, _ = framepack.call_kwargs(fp, generation(fp, 37, last_image=end))
    assert kw["last_image"] is end and kw["guidance_scale"] == 9.0
    kw, _ = legacy.call_kwargs(i2v, generation(i2v, 16, negative_prompt="blur"))
    assert (kw["target_fps"], kw["negative_prompt"], kw["guidance_scale"]) == (16, "blur", 9.0)
    assert "motion_scale" not in kw
    assert legacy.call_kwargs(pia, generation(pia, 16))[0]["negative_prompt"] is None
    # --motion-strength 0..1 → PIA's "amount of motion" presets 0, 1, 2 (never the loop / style presets).
    assert [legacy.motion_scale(s) for s in (0.0, 0.2, 0.34, 0.5, 0.66, 0.7, 1.0)] == [0, 0, 1, 1, 1, 2, 2]
    assert legacy.call_kwargs(pia, generation(pia, 16, motion_strength=0.9))[0]["motion_scale"] == 2
    assert "target_fps" not in legacy.call_kwargs(pia, generation(pia, 16))[0]


def test_i2vgen_text_model_alias_for_transformers_5():
    """The deprecated pipelines reach ``text_encoder.text_model.final_layer_norm`` (transformers 4 layout)."""
    import types

    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    te = CLIPTextModel(
        CLIPTextConfig(hidden_size=4, intermediate_size=8, num_attention_heads=2, num_hidden_layers=1, vocab_size=10)
    )
    before = set(te.state_dict())
    pipe = types.SimpleNamespace(text_encoder=te)
    legacy.prepare_pipeline(pipe)
    assert te.text_model.final_layer_norm is te.final_layer_norm
    assert set(te.state_dict()) == before and "text_model" not in dict(te.named_modules())
    te.to(torch.float64)  # moves follow the real layer
    assert te.text_model.final_layer_norm.weight.dtype == torch.float64
    legacy.prepare_pipeline(pipe)  # idempotent
    legacy.prepare_pipeline(types.SimpleNamespace(text_encoder=None))


# ------------------------------------------------------------------ end to end


def test_hunyuan_i2v_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen, made = _spy(monkeypatch, hunyuan), record_frames(monkeypatch)
    steps: list[tuple[int, int]] = []
    out = tmp_path / "hy.mp4"
    # 1 s asks for 24 frames at the model's 24 fps; 4n+1 → 25.
    clip = stillmotion.animate(
        photos["astronaut"],
        PROMPT,
        engine="hunyuanvideo-i2v",
        model_path=tiny["hunyuan"],
        duration=1,
        fps=8,
        negative_prompt="blur",
        output=out,
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    video = read_video(out)
    assert video.frames_thwc.shape == (25, 64, 64, 3) and clip.frame_count == 25
    assert clip.fps == 24.0 and video.fps == pytest.approx(24.0)
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (
        "hunyuanvideo-i2v",
        "HunyuanVideoImageToVideoPipeline",
        str(tiny["hunyuan"]),
    )
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"], shot["fps"]) == (2, 6.0, 25, 24.0)
    assert shot["licence"] == "Tencent Hunyuan Community License"
    adj = " | ".join(shot["adjustments"])
    assert "24 frames → 25" in adj and "4n+1" in adj and "24 fps" in adj
    assert any(i.startswith("negative_prompt") for i in shot["ignored"])
    assert steps == [(1, 2), (2, 2)]
    assert (seen[0]["num_frames"], seen[0]["height"], seen[0]["width"]) == (25, 64, 64)
    assert not np.all(made[0] == made[0][:1])  # not one frame repeated (tiny noise moves)
    # Same seed → the same frames; another seed → other frames.
    again = stillmotion.animate(
        photos["astronaut"],
        PROMPT,
        engine="hunyuanvideo-i2v",
        model_path=tiny["hunyuan"],
        duration=1,
        fps=8,
        negative_prompt="blur",
        output=tmp_path / "again.mp4",
        **FAST,
    )
    assert _frames(again).shape == (25, 64, 64, 3) and np.array_equal(made[1], made[0])
    stillmotion.animate(
        photos["astronaut"],
        PROMPT,
        engine="hunyuanvideo-i2v",
        model_path=tiny["hunyuan"],
        duration=1,
        fps=8,
        output=tmp_path / "other.mp4",
        **dict(FAST, seed=2),
    )
    assert np.abs(made[2].astype(int) - made[0].astype(int)).mean() > 0.5


def test_framepack_end_to_end_with_end_frame(tiny, photos, tmp_path, monkeypatch):
    seen, made = _spy(monkeypatch, framepack), record_frames(monkeypatch)
    steps: list[tuple[int, int]] = []
    # 1 s at 30 fps = 30 frames → one section: 36·1 + 1 = 37.
    kw = dict(engine="framepack", model_path=tiny["framepack"], duration=1, fps=30, last_image=photos["coffee"], **FAST)
    clip = stillmotion.animate(
        photos["astronaut"], PROMPT, output=tmp_path / "fp.mp4", on_progress=lambda i, n, _p: steps.append((i, n)), **kw
    )
    frames = _frames(clip)
    assert frames.shape == (37, 64, 64, 3) and clip.frame_count == 37 and (len(frames) - 1) % 36 == 0
    assert clip.fps == 30.0 and read_video(clip.path).fps == pytest.approx(30.0)
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["frames"], shot["guidance_scale"]) == (
        "framepack",
        "HunyuanVideoFramepackPipeline",
        37,
        9.0,
    )
    assert any("30 frames → 37" in a and "36n+1" in a for a in shot["adjustments"]), shot["adjustments"]
    assert not any("last-image" in w for w in clip.warnings), clip.warnings
    assert seen[0]["last_image"].size == (64, 64) and seen[0]["num_frames"] == 33
    assert steps == [(1, 2), (2, 2)]
    again = stillmotion.animate(photos["astronaut"], PROMPT, output=tmp_path / "again.mp4", **kw)
    assert _frames(again).shape == frames.shape and np.array_equal(made[1], made[0])


def test_i2vgen_xl_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen, made = _spy(monkeypatch, legacy), record_frames(monkeypatch)
    # 2 s at 16 fps = 32 frames: I2VGen-XL makes at most 16 (1 s).
    kw = dict(engine="i2vgen-xl", model_path=tiny["i2vgen"], duration=2, fps=16, **FAST)
    clip = stillmotion.animate(photos["coffee"], PROMPT, output=tmp_path / "i2v.mp4", **kw)
    frames = _frames(clip)
    assert frames.shape == (16, 64, 64, 3) and clip.fps == 16.0
    assert read_video(clip.path).fps == pytest.approx(16.0)
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["guidance_scale"]) == ("i2vgen-xl", "I2VGenXLPipeline", 9.0)
    assert shot["commercial_use"] == "no (not verified)"
    assert any("32 frames → 16" in a for a in shot["adjustments"]), shot["adjustments"]
    assert seen[0]["target_fps"] == 16 and seen[0]["num_frames"] == 16
    # The pipeline's unseeded photo-latent draw now comes from a private stream: the seed reproduces the
    # frames, and the caller's global torch RNG is left as it was.
    import torch

    torch.manual_seed(123)
    state = torch.get_rng_state()
    again = stillmotion.animate(photos["coffee"], PROMPT, output=tmp_path / "again.mp4", **kw)
    assert _frames(again).shape == frames.shape and np.array_equal(made[1], made[0])
    assert torch.equal(torch.get_rng_state(), state)


def test_pia_end_to_end(tiny, photos, tmp_path, monkeypatch):
    seen, made = _spy(monkeypatch, legacy), record_frames(monkeypatch)
    # 2 s at 8 fps = 16 frames, PIA's trained length.
    kw = dict(engine="pia", model_path=tiny["pia"], duration=2, fps=8, motion_strength=0.9, **FAST)
    clip = stillmotion.animate(photos["chelsea"], PROMPT, output=tmp_path / "pia.mp4", **kw)
    frames = _frames(clip)
    assert frames.shape == (16, 64, 64, 3) and clip.fps == 8.0
    assert read_video(clip.path).fps == pytest.approx(8.0)
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["frames"], shot["guidance_scale"]) == ("pia", "PIAPipeline", 16, 7.5)
    assert seen[0]["motion_scale"] == 2
    again = stillmotion.animate(photos["chelsea"], PROMPT, output=tmp_path / "again.mp4", **kw)
    assert _frames(again).shape == frames.shape and np.array_equal(made[1], made[0])


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize("name", ["hunyuanvideo-i2v", "framepack", "i2vgen-xl", "pia"])
def test_missing_weights_say_how_to_get_them(name, photos, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(stillmotion.EngineUnavailable) as err:
        stillmotion.animate(photos["coffee"], "waves", engine=name, duration=1, output=tmp_path / "none.mp4", **FAST)
    msg = str(err.value)
    assert f"stillmotion download {name}" in msg and "--model-path" in msg and "\n" not in msg
    # FramePack and PIA are assembled folders: the error says so (a download alone would not load).
    assert ("assemble" in msg) == (name in ("framepack", "pia")), msg
    assert not (tmp_path / "none.mp4").exists()
