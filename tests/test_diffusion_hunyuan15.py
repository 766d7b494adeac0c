"""The HunyuanVideo 1.5 engine (``hunyuanvideo-1.5-i2v``), end to end, on a tiny ``HunyuanVideo15ImageToVideoPipeline``.

Nothing is downloaded: the transformer, VAE, Qwen2.5-VL text model and byT5
encoder are diffusers' own fast-test configs (``tests/pipelines/hunyuan_video1_5``),
with ``task_type="i2v"`` (latents + photo latents + mask: 9 channels), a
1-layer SigLIP (28 px, patch 14) and an in-memory word-level tokenizer with a
chat template; saved with ``save_pretrained`` and run through
``stillmotion.animate(..., model_path=DIR)``. The tiny transformer's
``target_size`` is 32: the pipeline picks a 32×32 bucket, so a 64×64 request
also runs the resize to the asked size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import hunyuan15
from stillmotion.engines.diffusion.common import Generation, snap_frames, snap_size
from stillmotion.video import read_video
from tiny_pipelines import generation, record_frames

ENGINE = "hunyuanvideo-1.5-i2v"
PROMPT = 'waves rolling in the sea, a sign that reads "HELLO", slow push in'
FAST = {"duration": 1, "steps": 2, "seed": 1}
_CHAT = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _tiny_hunyuan15():
    """diffusers' HunyuanVideo 1.5 fast-test components, image-to-video, nothing downloaded."""
    import torch
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15ImageToVideoPipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import (
        ByT5Tokenizer,
        Qwen2_5_VLTextConfig,
        Qwen2_5_VLTextModel,
        SiglipImageProcessor,
        SiglipVisionConfig,
        SiglipVisionModel,
        T5Config,
        T5EncoderModel,
    )

    from tiny_pipelines import word_tokenizer

    words = "You are a helpful assistant. Describe the video system user assistant " + PROMPT
    tok, vocab = word_tokenizer(words, ("<|im_start|>", "<|im_end|>"), chat_template=_CHAT)
    torch.manual_seed(0)
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=1,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        patch_size=1,
        patch_size_t=1,
        text_embed_dim=16,
        text_embed_2_dim=32,
        image_embed_dim=12,
        rope_axes_dim=(2, 2, 4),
        target_size=32,
        task_type="i2v",
    )
    torch.manual_seed(0)
    vae = AutoencoderKLHunyuanVideo15(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8, 8),
        layers_per_block=1,
        spatial_compression_ratio=4,
        temporal_compression_ratio=2,
        downsample_match_channel=False,
        upsample_match_channel=False,
    )
    torch.manual_seed(0)
    text_encoder = Qwen2_5_VLTextModel(
        Qwen2_5_VLTextConfig(
            hidden_size=16,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            vocab_size=len(vocab),
            bos_token_id=None,
            eos_token_id=None,
            rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
            rope_theta=1000000.0,
        )
    )
    torch.manual_seed(0)
    # ByT5's vocabulary: 256 bytes + 3 specials + 125 extra ids.
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=384, d_model=32, d_kv=8, d_ff=32, num_layers=1, num_heads=2))
    torch.manual_seed(0)
    image_encoder = SiglipVisionModel(
        SiglipVisionConfig(
            hidden_size=12,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=28,
            patch_size=14,
        )
    )
    return HunyuanVideo15ImageToVideoPipeline(
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=text_encoder.eval(),
        tokenizer=tok,
        text_encoder_2=text_encoder_2.eval(),
        tokenizer_2=ByT5Tokenizer(),
        guider=ClassifierFreeGuidance(guidance_scale=6.0),
        image_encoder=image_encoder.eval(),
        feature_extractor=SiglipImageProcessor(size={"height": 28, "width": 28}),
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny pipeline as a saved diffusers-format folder."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    tlog.set_verbosity_error()
    dlog.set_verbosity_error()
    root = tmp_path_factory.mktemp("tiny_hy15") / "hy15"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _tiny_hunyuan15().save_pretrained(root)
    return root


@pytest.fixture
def made(monkeypatch) -> list[np.ndarray]:
    """The frames each run's pipeline made, before encoding (libx264 is not bit-exact across runs)."""
    return record_frames(monkeypatch)


def _job(**kw) -> Generation:
    return generation(hunyuan15.CARDS[0], **{"frames": 25, **kw})


# ------------------------------------------------------------------ card and mapping (no pipeline runs)


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES[ENGINE]
    c = spec.factory().card
    assert (c.pipeline, c.repo_id, c.native_size, c.multiple, c.frame_rule, c.fps, c.max_frames) == (
        "HunyuanVideo15ImageToVideoPipeline",
        "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-720p_i2v",
        (1280, 720),
        16,
        (4, 1),
        24.0,
        121,
    )
    assert (c.steps, c.guidance, c.end_frame, c.deprecated) == (50, 6.0, False, False)
    assert c.licence == "Tencent Hunyuan Community License" and "EU/UK/South Korea" in c.commercial
    assert c.vram_gb["group-offload"] == 14.0 and spec.max_duration_s == pytest.approx(121 / 24)


def test_frames_sizes_and_call_kwargs():
    card = hunyuan15.CARDS[0]
    assert [snap_frames(card, n) for n in (24, 120, 130)] == [25, 121, 121]
    assert snap_size(card, 1280, 720) == (1280, 720) and snap_size(card, 1010, 570) == (1008, 576)
    kw, ignored = hunyuan15.call_kwargs(card, _job(negative_prompt="blur", guidance=4.5))
    assert (kw["num_frames"], kw["guidance_scale"], kw["negative_prompt"]) == (25, 4.5, "blur")
    assert "height" not in kw and "width" not in kw  # the pipeline picks its own bucket
    assert [i.split(":")[0] for i in ignored] == ["motion_strength", "consistency", "size"]
    _, ignored = hunyuan15.call_kwargs(card, _job(negative_prompt="blur", guidance=1.0))
    assert ignored[-1].startswith("negative_prompt: no effect at guidance ≤ 1")
    kw, ignored = hunyuan15.call_kwargs(card, _job(width=720, height=1280))
    assert kw["negative_prompt"] is None and not any(i.startswith("size") for i in ignored)


def test_prepare_pipeline_adds_guidance_and_steps_to_the_call(tiny):
    """The loaded pipeline's ``__call__`` gains ``guidance_scale`` (on the guider, for the call only) and
    ``callback_on_step_end`` (after each scheduler step); the pipeline is otherwise the same."""
    import inspect

    import diffusers
    from PIL import Image

    pipe = diffusers.HunyuanVideo15ImageToVideoPipeline.from_pretrained(tiny)
    pipe.set_progress_bar_config(disable=True)
    hunyuan15.prepare_pipeline(pipe)
    hunyuan15.prepare_pipeline(pipe)  # idempotent
    assert isinstance(pipe, diffusers.HunyuanVideo15ImageToVideoPipeline)
    assert type(pipe) is not diffusers.HunyuanVideo15ImageToVideoPipeline  # a subclass, under the same name
    assert type(pipe).__name__ == "HunyuanVideo15ImageToVideoPipeline"
    assert {"guidance_scale", "callback_on_step_end"} <= set(inspect.signature(pipe.__call__).parameters)
    seen: list[tuple[int, float]] = []

    def on_step(p, i, t, kwargs):
        seen.append((i, p.guider.guidance_scale))
        return kwargs

    pipe(
        image=Image.new("RGB", (32, 32), (90, 60, 30)),
        prompt="waves",
        num_frames=5,
        num_inference_steps=2,
        guidance_scale=2.5,
        callback_on_step_end=on_step,
        output_type="np",
    )
    assert seen == [(0, 2.5), (1, 2.5)]
    assert pipe.guider.guidance_scale == 6.0 and "step" not in vars(pipe.scheduler)


# ------------------------------------------------------------------ end to end


def test_end_to_end_progress_and_seeds(tiny, photos, tmp_path, made):
    steps: list[tuple[int, int]] = []
    # Guidance 1 (CFG off: one transformer pass a step) keeps it fast; the guider's 6.0 is tested above.
    kw = dict(engine=ENGINE, model_path=tiny, size="64x64", fps=8, guidance_scale=1.0, negative_prompt="blur", **FAST)
    # 1 s asks for 24 frames at the model's 24 fps; 4n+1 → 25.
    clip = stillmotion.animate(
        photos["astronaut"],
        PROMPT,
        output=tmp_path / "hy15.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **kw,
    )
    video = read_video(clip.path)
    assert video.frames_thwc.shape == (25, 64, 64, 3) and clip.frame_count == 25
    assert clip.fps == 24.0 and video.fps == pytest.approx(24.0)
    assert steps == [(1, 2), (2, 2)]
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (
        ENGINE,
        "HunyuanVideo15ImageToVideoPipeline",
        str(tiny),
    )
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"], shot["fps"]) == (2, 1.0, 25, 24.0)
    assert shot["licence"] == "Tencent Hunyuan Community License"
    assert (shot["call"]["guidance_scale"], shot["call"]["negative_prompt"]) == (1.0, "blur")
    assert any(i.startswith("negative_prompt: no effect at guidance ≤ 1") for i in shot["ignored"])
    adj = " | ".join(shot["adjustments"])
    assert "24 frames → 25" in adj and "4n+1" in adj and "24 fps" in adj
    assert any(i.startswith("size:") and "resized to 64×64" in i for i in shot["ignored"])
    assert not np.all(made[0] == made[0][:1])  # not one frame repeated
    # The CLI, same seed → the same frames; another seed → other frames.
    _cli(tmp_path / "cli.mp4", photos["astronaut"], tiny, seed=1, negative="blur")
    assert np.array_equal(made[1], made[0])
    decoded = read_video(tmp_path / "cli.mp4").frames_thwc.astype(int)
    assert decoded.shape == (25, 64, 64, 3) and np.abs(decoded - video.frames_thwc.astype(int)).mean() < 2.0
    stillmotion.animate(photos["astronaut"], PROMPT, output=tmp_path / "other.mp4", **{**kw, "seed": 2})
    assert np.abs(made[2].astype(int) - made[0].astype(int)).mean() > 0.5


def _cli(out, photo, tiny, *, seed: int, negative: str) -> None:
    """``stillmotion animate PHOTO --engine ENGINE --model-path DIR …`` through the real CLI app."""
    from typer.testing import CliRunner

    from stillmotion.cli import app

    args = ["animate", str(photo), "-p", PROMPT, "-n", negative, "--engine", ENGINE, "--model-path", str(tiny)]
    args += ["--size", "64x64", "--guidance-scale", "1", "--fps", "8", "--duration", "1", "--steps", "2"]
    args += ["--seed", str(seed), "-o", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"],
            PROMPT,
            engine=ENGINE,
            model_path=tiny,
            size="64x64",
            output=out,
            should_stop=lambda: True,
            **FAST,
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("stop")]
