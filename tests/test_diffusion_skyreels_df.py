"""SkyReels-V2 diffusion forcing (``skyreels-v2-df``), end to end, on a tiny pipeline built from configs.

The pipeline is the real ``SkyReelsV2DiffusionForcingImageToVideoPipeline`` with a
tiny SkyReels-V2 transformer, Wan VAE, UMT5 encoder and word-level tokenizer (the
builders of ``test_diffusion_wan``), saved with ``save_pretrained`` and run through
``stillmotion.animate(..., model_path=DIR)``, including a 10 s clip made in
three overlapping windows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import stillmotion
from stillmotion.engines.diffusion import skyreels
from stillmotion.video import read_video
from test_diffusion_wan import _spy, _text_encoder, _tokenizer, _transformer, _vae_21

ENGINE = "skyreels-v2-df"
FAST = {"size": "64x64", "steps": 2, "seed": 1}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """One intra-op thread: on a small shared CPU, two threads wait on each other in the tiny VAE's
    3-D convolutions and decode 97 frames several times slower (measured: 2 s vs 15–28 s)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A saved tiny SkyReels-V2 DF pipeline; its scheduler has the text-to-video flow shift (8.0)."""
    from diffusers import (
        SkyReelsV2DiffusionForcingImageToVideoPipeline,
        SkyReelsV2Transformer3DModel,
        UniPCMultistepScheduler,
    )

    path = tmp_path_factory.mktemp("tiny_skyreels_df") / "df"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = SkyReelsV2DiffusionForcingImageToVideoPipeline(
            tokenizer=_tokenizer(),
            text_encoder=_text_encoder(),
            # No image channels: the photo enters as the first clean latent frame, not by concatenation.
            transformer=_transformer(SkyReelsV2Transformer3DModel, in_channels=16),
            vae=_vae_21(),
            scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0),
        )
        pipe.save_pretrained(path)
    return path


def _frames(clip) -> np.ndarray:
    return read_video(clip.path).frames_thwc


def test_card_is_registered_truthfully():
    from stillmotion.engines.registry import ENGINES

    spec = ENGINES[ENGINE]
    card = spec.factory().card
    assert (card.pipeline, card.repo_id) == (skyreels.DF_PIPELINE, "Skywork/SkyReels-V2-DF-14B-540P-Diffusers")
    assert (card.native_size, card.multiple, card.frame_rule, card.fps) == ((960, 544), 16, (4, 1), 24.0)
    assert (card.steps, card.guidance, card.max_frames, card.end_frame) == (50, 5.0, 737, True)
    assert spec.end_frame and spec.max_duration_s >= 30.0 and "Skywork Community License" in spec.licence
    assert card.vram_gb and card.family == "skyreels"


def test_windows_tile_every_long_clip_exactly():
    """diffusers' DF pipeline needs every window full: latent = base + k·(base − overlap), for every 4n+1 count."""
    assert skyreels.df_windows(97) == (97, None, 1) and skyreels.df_windows(25) == (97, None, 1)
    assert skyreels.df_windows(241) == (97, 25, 3)  # 10 s at 24 fps
    assert skyreels.df_windows(257) == (97, 17, 3)  # the SkyReels-V2 README's example
    assert skyreels.df_windows(737) == (97, 17, 9)
    for frames in range(101, 738, 4):
        base, overlap, windows = skyreels.df_windows(frames)
        assert overlap is not None and 17 <= overlap <= 37 and overlap < base <= 97
        latent, b, o = ((f - 1) // 4 + 1 for f in (frames, base, overlap))
        assert (latent - b) % (b - o) == 0 and windows == 1 + (latent - b) // (b - o)


def test_short_clip_with_end_frame(tiny, photos, tmp_path, monkeypatch):
    seen = _spy(monkeypatch, skyreels)
    steps: list[tuple[int, int]] = []
    # 1 s at 24 fps = 24 frames → 25 (4n+1): one window, the pipeline's short mode.
    clip = stillmotion.animate(
        photos["coffee"],
        "steam rising",
        engine=ENGINE,
        model_path=tiny,
        duration=1,
        fps=24,
        last_image=photos["astronaut"],
        output=tmp_path / "short.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    frames = _frames(clip)
    assert frames.shape == (25, 64, 64, 3) and clip.frame_count == 25 and clip.fps == 24.0
    shot = clip.recipe["shot"]
    assert (shot["engine"], shot["pipeline"], shot["model"]) == (ENGINE, skyreels.DF_PIPELINE, str(tiny))
    assert (shot["num_inference_steps"], shot["guidance_scale"], shot["frames"]) == (2, 5.0, 25)
    assert any("24 frames → 25" in a for a in shot["adjustments"]), shot["adjustments"]
    assert shot["call"]["base_num_frames"] == 97 and shot["call"]["addnoise_condition"] == 20
    assert steps == [(1, 2), (2, 2)]
    kw = seen[0]
    assert kw["overlap_history"] is None and kw["ar_step"] == 0 and kw["fps"] == 24
    assert kw["last_image"].size == (64, 64)  # the end frame is taken
    assert not any("last-image" in w for w in clip.warnings), clip.warnings
    assert not any(i.startswith("last_image") for i in shot["ignored"])


def test_ten_second_clip_in_three_windows(tiny, photos, tmp_path, monkeypatch):
    from stillmotion.engines.diffusion.common import _PIPELINES

    seen = _spy(monkeypatch, skyreels)
    steps: list[tuple[int, int]] = []
    clip = stillmotion.animate(
        photos["china"],
        "slow push in",
        engine=ENGINE,
        model_path=tiny,
        duration=10,
        fps=24,
        last_image=photos["coffee"],
        output=tmp_path / "long.mp4",
        on_progress=lambda i, n, _p: steps.append((i, n)),
        **FAST,
    )
    frames = _frames(clip)
    assert frames.shape == (241, 64, 64, 3) and clip.frame_count == 241  # 240 → 241 (4n+1)
    assert (len(frames) - 1) % 4 == 0 and clip.fps == 24.0  # 241 frames at 24 fps: 10.04 s
    kw = seen[0]
    assert (kw["num_frames"], kw["base_num_frames"], kw["overlap_history"]) == (241, 97, 25)
    assert "last_image" not in kw  # diffusers fails on an end frame in long clips
    shot = clip.recipe["shot"]
    assert any("last_image" in i for i in shot["ignored"])
    assert any("3 diffusion-forcing windows of 97 frames" in a for a in shot["adjustments"]), shot["adjustments"]
    assert steps == [(1, 2), (2, 2)] * 3  # each window reports its steps
    # The loaded pipeline runs the image-to-video flow shift, not the checkpoint's text-to-video one.
    pipes = [p for key, p in _PIPELINES.items() if key[0] == ENGINE and key[2] == str(tiny)]
    assert pipes and all(p.scheduler.config.flow_shift == 5.0 for p in pipes)
    assert not np.all(frames == frames[:1])


def test_same_seed_same_frames(tiny, photos, tmp_path):
    def run(seed: int, name: str) -> np.ndarray:
        clip = stillmotion.animate(
            photos["coffee"],
            "steam rising",
            engine=ENGINE,
            model_path=tiny,
            duration=1,
            output=tmp_path / name,
            **dict(FAST, seed=seed),
        )
        return _frames(clip).astype(int)

    a, b, c = run(7, "a.mp4"), run(7, "b.mp4"), run(8, "c.mp4")
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
    args = ["animate", str(photos["coffee"]), "-p", "steam rising", "--engine", ENGINE, "--model-path", str(tiny)]
    res = CliRunner().invoke(
        app, [*args, "--size", "64x64", "--duration", "1", "--steps", "2", "--seed", "1", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert read_video(out).frames_thwc.shape == (25, 64, 64, 3)
