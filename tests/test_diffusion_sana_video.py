"""The SANA-Video engine (``sana-video-i2v``), end to end, on a tiny ``SanaImageToVideoPipeline``.

Nothing is downloaded: the components are diffusers' own fast-test configs
(``tests/pipelines/sana_video/test_sana_video_i2v.py``: a 2-layer linear-attention
transformer, Wan's VAE at base_dim 3, a 1-layer Gemma-2) with an in-memory
word-level tokenizer, saved with ``save_pretrained`` and run through
``stillmotion.animate(..., model_path=DIR)`` as a user's weights folder would be.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import sana_video
from stillmotion.engines.diffusion.common import Generation, snap_frames, snap_size
from stillmotion.video import read_video
from tiny_pipelines import generation, record_frames

ENGINE = "sana-video-i2v"
PROMPT = "waves rolling in the sea, slow push in"
FAST = {"size": "64x64", "duration": 1, "steps": 2, "seed": 1}


def _tiny_sana():
    """diffusers' SANA-Video I2V fast-test components, with a tokenizer made in memory."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        SanaImageToVideoPipeline,
        SanaVideoTransformer3DModel,
    )
    from transformers import Gemma2Config, Gemma2Model

    from tiny_pipelines import word_tokenizer

    tok, vocab = word_tokenizer(PROMPT + " motion score: 30. " + sana_video.SANA_NEGATIVE_PROMPT)
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    torch.manual_seed(0)
    text_encoder = Gemma2Model(
        Gemma2Config(
            head_dim=16,
            hidden_size=8,
            intermediate_size=64,
            num_attention_heads=2,
            num_hidden_layers=1,
            num_key_value_heads=2,
            vocab_size=len(vocab),
            pad_token_id=0,
            bos_token_id=None,
            eos_token_id=None,
            attn_implementation="eager",
        )
    )
    torch.manual_seed(0)
    transformer = SanaVideoTransformer3DModel(
        in_channels=16,
        out_channels=16,
        num_attention_heads=2,
        attention_head_dim=12,
        num_layers=2,
        num_cross_attention_heads=2,
        cross_attention_head_dim=12,
        cross_attention_dim=24,
        caption_channels=8,
        mlp_ratio=2.5,
        dropout=0.0,
        attention_bias=False,
        sample_size=8,
        patch_size=(1, 2, 2),
        norm_elementwise_affine=False,
        norm_eps=1e-6,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    return SanaImageToVideoPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder.eval(),
        tokenizer=tok,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny pipeline as a saved diffusers-format folder."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    tlog.set_verbosity_error()
    dlog.set_verbosity_error()
    root = tmp_path_factory.mktemp("tiny_sana") / "sana"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _tiny_sana().save_pretrained(root)
    return root


@pytest.fixture
def made(monkeypatch) -> list[np.ndarray]:
    """The frames each run's pipeline made, before encoding (libx264 is not bit-exact across runs)."""
    return record_frames(monkeypatch)


def _job(**kw) -> Generation:
    return generation(sana_video.CARDS[0], **{"frames": 17, **kw})


# ------------------------------------------------------------------ card and mapping (no pipeline runs)


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES[ENGINE]
    c = spec.factory().card
    assert (c.pipeline, c.repo_id, c.native_size, c.multiple, c.frame_rule, c.fps, c.max_frames) == (
        "SanaImageToVideoPipeline",
        "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
        (832, 480),
        32,
        (4, 1),
        16.0,
        81,
    )
    assert (c.steps, c.guidance, c.end_frame, c.deprecated, c.licence) == (
        50,
        6.0,
        False,
        False,
        "NVIDIA Open Model License",
    )
    assert "unverified" in c.commercial and c.vram_gb["full"] == 22.0
    assert spec.native_size == (832, 480) and spec.max_duration_s == pytest.approx(81 / 16)


def test_frames_sizes_and_motion_score():
    card = sana_video.CARDS[0]
    assert [snap_frames(card, n) for n in (16, 80, 200)] == [17, 81, 81]
    assert snap_size(card, 832, 480) == (832, 480) and snap_size(card, 850, 470) == (864, 480)
    assert [sana_video.motion_score(s) for s in (0.0, 0.25, 0.5, 0.75, 1.0, 2.0)] == [0, 15, 30, 65, 100, 100]
    job = _job(motion_strength=1.0)
    kw, ignored = sana_video.call_kwargs(card, job)
    assert kw["prompt"] == "waves motion score: 100." and kw["negative_prompt"] == sana_video.SANA_NEGATIVE_PROMPT
    assert (kw["frames"], kw["height"], kw["width"], kw["use_resolution_binning"]) == (17, 64, 64, False)
    assert any("SANA-Video's own negative prompt" in n for n in job.notes)
    assert any(n.startswith("motion score 100") for n in job.notes)
    assert [i.split(":")[0] for i in ignored] == ["consistency"]
    kw, _ = sana_video.call_kwargs(card, _job(negative_prompt="blur", prompt=""))
    assert kw["negative_prompt"] == "blur" and kw["prompt"] == "motion score: 30."


# ------------------------------------------------------------------ end to end


def test_end_to_end_progress_and_seeds(tiny, photos, tmp_path, made):
    steps: list[tuple[int, int]] = []
    kw = dict(engine=ENGINE, model_path=tiny, fps=8, **FAST)
    # 1 s asks for 16 frames at the model's 16 fps; 4n+1 → 17.
    clip = stillmotion.animate(
        photos["coffee"],
        PROMPT,
        output=tmp_path / "sana.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **kw,
    )
    video = read_video(clip.path)
    assert video.frames_thwc.shape == (17, 64, 64, 3) and clip.frame_count == 17
    assert clip.fps == 16.0 and video.fps == pytest.approx(16.0)
    assert steps == [(1, 2), (2, 2)]
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (ENGINE, "SanaImageToVideoPipeline", str(tiny))
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"], shot["fps"]) == (2, 6.0, 17, 16.0)
    assert shot["call"]["prompt"] == PROMPT + " motion score: 30." and shot["call"]["use_resolution_binning"] is False
    adj = " | ".join(shot["adjustments"])
    assert "16 frames → 17" in adj and "4n+1" in adj and "16 fps" in adj and "motion score 30" in adj
    assert not np.all(made[0] == made[0][:1])  # not one frame repeated
    # The CLI, same seed → the same frames; another seed → other frames.
    _cli(tmp_path / "cli.mp4", photos["coffee"], tiny, seed=1)
    assert np.array_equal(made[1], made[0])
    decoded = read_video(tmp_path / "cli.mp4").frames_thwc.astype(int)
    assert decoded.shape == (17, 64, 64, 3) and np.abs(decoded - video.frames_thwc.astype(int)).mean() < 2.0
    stillmotion.animate(photos["coffee"], PROMPT, output=tmp_path / "other.mp4", **{**kw, "seed": 2})
    assert np.abs(made[2].astype(int) - made[0].astype(int)).mean() > 0.5


def _cli(out, photo, tiny, *, seed: int) -> None:
    """``stillmotion animate PHOTO --engine ENGINE --model-path DIR …`` through the real CLI app."""
    from typer.testing import CliRunner

    from stillmotion.cli import app

    args = ["animate", str(photo), "-p", PROMPT, "--engine", ENGINE, "--model-path", str(tiny), "--size", "64x64"]
    args += ["--fps", "8", "--duration", "1", "--steps", "2", "--seed", str(seed), "-o", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output


def test_cancel_between_steps_leaves_nothing(tiny, photos, tmp_path):
    out = tmp_path / "stop.mp4"
    with pytest.raises(stillmotion.Canceled):
        stillmotion.animate(
            photos["coffee"], PROMPT, engine=ENGINE, model_path=tiny, output=out, should_stop=lambda: True, **FAST
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("stop")]
