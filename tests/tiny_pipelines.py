"""Tiny diffusers pipelines built from configs, shared by the tests that need one (nothing is downloaded).

Each builder returns an untrained pipeline of the real class, small enough to run on a CPU in
well under a second; tests ``save_pretrained`` it and pass the folder as ``model_path``.
"""

from __future__ import annotations

WORDS = "slow push in toward the face steam rises from cup gentle camera pan left hair moves".split()
"""The tiny tokenizer's vocabulary (other words are <unk>)."""


def tiny_tokenizer():
    """A word-level tokenizer made in memory (the real one is T5's 32k-word SentencePiece model)."""
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tiny_t5():
    """A 2-layer T5 encoder (d_model 32), eval mode."""
    import torch
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    # d_model 32 = the transformers' caption_channels / text_embed_dim; .eval(): no dropout, runs repeat exactly.
    cfg = T5Config(
        vocab_size=32,
        d_model=32,
        d_kv=4,
        d_ff=16,
        num_layers=2,
        num_heads=2,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return T5EncoderModel(cfg).eval()


def tiny_ltx(cls_name: str):
    """LTX-Video shaped (``LTXImageToVideoPipeline`` or ``LTXConditionPipeline``, same components): 32× spatial,
    8× temporal VAE; a one-layer transformer; T5 and a word-level tokenizer."""
    import diffusers
    import torch
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return getattr(diffusers, cls_name)(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=tiny_t5(),
        tokenizer=tiny_tokenizer(),
    )


def tiny_svd():
    """Stable Video Diffusion (img2vid-xt) shaped: a spatio-temporal UNet, a temporal-decoder VAE, CLIP vision."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=8,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=2,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    # 4 blocks: 8× spatial like the real VAE (the UNet's one downsample then needs multiples of 16 px).
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32, 32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        latent_channels=4,
    )
    torch.manual_seed(0)
    # The pipeline resizes the photo to 224×224 for CLIP: the encoder takes 224 (7×7 patches of 32).
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    ).eval()
    return StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(crop_size=224, size=224),
    )


def word_tokenizer(text: str, specials: tuple[str, ...] = (), *, chat_template: str | None = None, **named: str):
    """A word-level tokenizer made in memory: the words of ``text``, ``specials`` kept whole (no download).

    ``named`` special tokens (``eos_token="</s>"``, ``bos_token=…``, ``pad_token`` instead of
    ``<pad>``) are set on the tokenizer and come right after the pad token and ``<unk>``.

    Returns ``(tokenizer, vocab)``: a ``PreTrainedTokenizerFast`` (``<pad>`` = 0, ``<unk>`` = 1, then
    the named and ``specials`` tokens, then the words) and its word → id map, for sizing a tiny text
    encoder's vocabulary. (Real pipelines ship 100k-word BPE or SentencePiece tokenizers.)
    """
    import re

    import tokenizers
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

    pad = named.pop("pad_token", "<pad>")
    kept = tuple(dict.fromkeys((*named.values(), *specials)))
    vocab: dict[str, int] = {}
    for t in [pad, "<unk>", *kept, *sorted(set(re.findall(r"\w+|[^\w\s]", text)))]:
        vocab.setdefault(t, len(vocab))
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in kept])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=pad, unk_token="<unk>", **named)
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast, vocab


def record_frames(monkeypatch) -> list:
    """Record the frames each run's diffusion pipeline made, before encoding (a list it appends to).

    Seeds are checked on these: libx264's frame threading does not always give
    bit-identical MP4s for identical frames on a busy machine (seen here: 2 of 4
    encodes of the same frames differed), so the decoded MP4s are compared
    only for shape and fps.
    """
    from stillmotion.engines.base import NO_HOOKS
    from stillmotion.engines.diffusion import common

    made: list = []
    real = common.DiffusionShot.frames_rgb

    def spy(self, hooks=NO_HOOKS):
        arr = real(self, hooks)
        made.append(arr.copy())
        return arr

    monkeypatch.setattr(common.DiffusionShot, "frames_rgb", spy)
    return made


def generation(card, frames: int, **kw):
    """A 64×64 :class:`~stillmotion.engines.diffusion.common.Generation` of ``card`` at its defaults
    (prompt "waves", seed 1), ``kw`` overriding any field: for testing a family's ``call_kwargs``."""
    from PIL import Image

    from stillmotion.engines.diffusion.common import Generation

    base = dict(
        card=card,
        image=Image.new("RGB", (64, 64)),
        width=64,
        height=64,
        frames=frames,
        fps=card.fps,
        prompt="waves",
        negative_prompt="",
        steps=card.steps,
        guidance=card.guidance,
        seed=1,
        motion_strength=0.5,
        consistency=0.5,
    )
    return Generation(**{**base, **kw})
