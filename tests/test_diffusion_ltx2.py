"""LTX-2 (video with its own sound) end to end, on a tiny pipeline built from configs.

Nothing is downloaded: the LTX-2 video transformer, video VAE, audio VAE,
vocoder, text connectors and a Gemma 3 text encoder (with a word-level
tokenizer) are built in memory from the tiny configs of diffusers' own LTX-2
tests, saved with ``save_pretrained`` and run through
``stillmotion.animate(..., model_path=DIR)`` as a user's downloaded weights
would be. The tiny video VAE compresses 4× in space and in time (the real one
32× and 8×), so the card's 32 px / 8n+1 rules are valid for it too; its vocoder upsamples
by the mel hop (160), so the sound lasts as long as the frames, as in the
real model.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import ltx2
from stillmotion.video import probe, read_video

WORDS = "slow push in toward the face waves rolling sea gentle wind".split()
FAST = {"size": "64x64", "steps": 2, "guidance_scale": 1.0, "duration": 1, "fps": 10}
FRAMES = 25  # 1 s at the model's 24 fps asks 24 frames → 25 (8n+1)


def _tokenizer():
    """A word-level tokenizer made in memory (the real one is Gemma 3's 262k-word SentencePiece model)."""
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, **{w: i + 4 for i, w in enumerate(WORDS)}}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>"
    )


def _tiny_ltx2(folder) -> None:
    """Build the tiny LTX2ImageToVideoPipeline and save it to ``folder``."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ImageToVideoPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    torch.manual_seed(0)
    text = {"vocab_size": 16, "hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 2}
    text |= {"num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "sliding_window": 8}
    vision = {"hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}
    cfg = Gemma3Config(
        text_config=dict(text, max_position_embeddings=64),
        vision_config=dict(vision, image_size=8, patch_size=4),
        mm_tokens_per_image=1,
        boi_token_index=13,
        eoi_token_index=14,
        image_token_index=15,
    )
    text_encoder = Gemma3ForConditionalGeneration(cfg).eval()
    width, layers = cfg.text_config.hidden_size, cfg.text_config.num_hidden_layers
    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4,
        out_channels=4,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=width,
        rope_double_precision=False,
        rope_type="split",
    )
    torch.manual_seed(0)
    connector = {"num_attention_heads": 4, "attention_head_dim": 8, "num_layers": 1, "num_learnable_registers": None}
    connectors = LTX2TextConnectors(
        caption_channels=width,
        text_proj_in_factor=layers + 1,
        **{f"video_connector_{k}": v for k, v in connector.items()},
        **{f"audio_connector_{k}": v for k, v in connector.items()},
        connector_rope_base_seq_len=32,
        rope_theta=10000.0,
        rope_double_precision=False,
        causal_temporal_positioning=False,
        rope_type="split",
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        latent_channels=4,
        block_out_channels=(8, 8),
        decoder_block_out_channels=(8, 8),
        layers_per_block=(1, 1),
        decoder_layers_per_block=(1, 1, 1),
        spatio_temporal_scaling=(True, True),
        decoder_spatio_temporal_scaling=(True, True),
        decoder_inject_noise=(False, False, False),
        downsample_type=("spatiotemporal", "spatiotemporal"),
        upsample_residual=(False, False),
        upsample_factor=(1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=16000,
        mel_hop_length=160,
        is_causal=True,
        mel_bins=8,
    )
    torch.manual_seed(0)
    # upsampling 16·10 = the mel hop (160): one second of mel frames → one second of samples at 16 kHz.
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[32, 20],
        upsample_factors=[16, 10],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=16000,
    )
    pipe = LTX2ImageToVideoPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=_tokenizer(),
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )
    pipe.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ltx2")
    _tiny_ltx2(folder)
    return folder


def _sound(path) -> tuple[str, float, np.ndarray]:
    """(codec, duration in seconds, decoded samples C×N) of the clip's audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray() for f in container.decode(stream)]
        return stream.codec_context.name, float(stream.duration * stream.time_base), np.concatenate(chunks, axis=1)


# ------------------------------------------------------------------ card


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES["ltx-2"]
    card = spec.factory().card
    assert (card.pipeline, card.repo_id, card.native_size, card.multiple) == (
        "LTX2ImageToVideoPipeline",
        "Lightricks/LTX-2",
        (768, 512),
        32,
    )
    assert (card.frame_rule, card.fps, card.max_frames, card.steps, card.guidance) == ((8, 1), 24.0, 481, 40, 4.0)
    assert spec.audio and spec.capabilities()["audio"] and not spec.end_frame
    assert "LTX-2 Community License" in spec.licence and card.vram_gb


# ------------------------------------------------------------------ end to end


def test_end_to_end_with_sound(tiny, photos, tmp_path):
    steps: list[tuple[int, int]] = []
    out = tmp_path / "ltx2.mp4"
    clip = stillmotion.animate(
        photos["astronaut"],
        "slow push in toward the face",
        engine="ltx-2",
        model_path=tiny,
        seed=1,
        output=out,
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    video = read_video(out)
    assert video.frames_thwc.shape == (FRAMES, 64, 64, 3) and clip.frame_count == FRAMES
    assert (clip.width, clip.height, clip.fps) == (64, 64, 24.0) and (FRAMES - 1) % 8 == 0
    assert steps == [(1, 2), (2, 2)]
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == ("ltx-2", "LTX2ImageToVideoPipeline", str(tiny))
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"]) == (2, 1.0, FRAMES)
    assert shot["call"]["use_cross_timestep"] is False and shot["call"]["frame_rate"] == 24.0
    assert any(i.startswith("motion_strength") for i in shot["ignored"])
    assert clip.recipe["output"]["audio"] is True
    assert json.loads(clip.sidecar.read_text())["output"]["audio"] is True
    # The model's own sound is in the MP4: AAC, as long as the frames, not silent; the recipe tag survived.
    info = probe(out)
    assert info["audio"] and "ltx-2" in str(info.get("metadata", {}).get("comment", ""))
    codec, seconds, samples = _sound(out)
    assert codec == "aac" and seconds == pytest.approx(FRAMES / 24.0, abs=0.03)
    assert samples.shape[0] == 2 and np.abs(samples).max() > 1e-4

    # The CLI, same seed: the same frames (libx264 is not bit-exact at tiny sizes: a tolerance) and sound.
    from typer.testing import CliRunner

    from stillmotion.cli import app

    again = tmp_path / "cli.mp4"
    args = ["animate", str(photos["astronaut"]), "-p", "slow push in toward the face", "--engine", "ltx-2"]
    args += ["--model-path", str(tiny), "--seed", "1", "--size", "64x64", "--steps", "2", "--guidance-scale", "1"]
    args += ["--duration", "1", "--fps", "10", "-o", str(again)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    frames = read_video(again).frames_thwc
    assert frames.shape == video.frames_thwc.shape
    assert np.abs(frames.astype(int) - video.frames_thwc.astype(int)).mean() < 2.0
    assert np.allclose(_sound(again)[2], samples, atol=1e-3)


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"],
            "waves",
            engine="ltx-2",
            model_path=tiny,
            output=out,
            should_stop=lambda: True,
            **FAST,
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("stop", ".stop"))]


def test_call_kwargs_default_negative_prompt():
    from PIL import Image

    from stillmotion.engines.diffusion.common import Generation
    from stillmotion.engines.diffusion.ltx import LTX_NEGATIVE_PROMPT

    card = ltx2.CARDS[0]
    gen = Generation(card, Image.new("RGB", (768, 512)), 768, 512, 121, 24.0, "waves", "", 40, 4.0, 0, 0.5, 0.5)
    kw, ignored = ltx2.call_kwargs(card, gen)
    assert kw["negative_prompt"] == LTX_NEGATIVE_PROMPT and kw["spatio_temporal_guidance_blocks"] == [29]
    assert (kw["num_frames"], kw["frame_rate"], kw["guidance_scale"]) == (121, 24.0, 4.0)
    assert any("default negative prompt" in n for n in gen.notes) and len(ignored) == 2


def test_attach_audio_fits_the_sound_to_the_clip(tmp_path):
    """A model's sound is resampled to 48 kHz stereo and trimmed or padded with silence to the clip, in place."""
    from stillmotion.post.audio import attach_audio
    from stillmotion.video import VideoWriter

    path = tmp_path / "c.mp4"
    with VideoWriter(path, 64, 64, 24, metadata={"comment": "recipe"}) as w:
        for i in range(24):
            w.write(np.full((64, 64, 3), i * 10, np.uint8))
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(11025) / 22050)).astype(np.float32)
    got = attach_audio(path, tone, 22050)  # mono, 0.5 s under a 1 s clip: padded
    assert (got["sample_rate"], got["channels"], got["duration_s"], got["source_duration_s"]) == (48000, 2, 1.0, 0.5)
    codec, seconds, samples = _sound(path)
    assert codec == "aac" and seconds == pytest.approx(1.0, abs=0.03) and probe(path)["frame_count"] == 24
    assert np.abs(samples[:, 4800:19200]).max() > 0.3 and np.abs(samples[:, 31200:]).max() < 0.02
    with av.open(str(path)) as container:
        assert container.metadata["comment"] == "recipe"  # the clip's tags are kept
    long = np.tile(tone, 8).reshape(2, -1)  # stereo, 2 s: trimmed
    assert attach_audio(path, long, 22050)["duration_s"] == 1.0
    assert _sound(path)[1] == pytest.approx(1.0, abs=0.03)
