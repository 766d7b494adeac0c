"""Every registered engine meets the contract of stillmotion.engines.base.

Parametrised over the registry (as timm's tests are over ``list_models``): an
engine added to ``ENGINES`` is tested here without touching this file.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path
from typing import get_args

import cv2
import numpy as np
import pytest

import stillmotion
from stillmotion.engines import base
from stillmotion.engines.base import Availability, AvailabilityState, Engine, RenderJob, RunsOn, Shot
from stillmotion.engines.registry import ENGINES, engine_rows, get_engine
from stillmotion.errors import InputError
from stillmotion.image import load_image
from stillmotion.plan.prompt import parse_prompt
from stillmotion.request import AnimateRequest
from stillmotion.scene import Scene

NAMES = list(ENGINES)


@pytest.fixture(scope="module")
def small_scene(photos) -> Scene:
    """coffee.png at 96×72: prepare() runs in a blink on it."""
    rgb = cv2.resize(load_image(photos["coffee"]).rgb, (96, 72), interpolation=cv2.INTER_AREA)
    return Scene(rgb)


@pytest.mark.parametrize("name", NAMES)
def test_spec_gives_one_verdict_with_its_reason_and_fix(name):
    spec = ENGINES[name]
    assert spec.name == name == name.lower() and spec.family and spec.summary
    assert spec.runs_on in get_args(RunsOn) and spec.max_duration_s > 0 and spec.size_multiple >= 2
    verdict = spec.availability()
    assert isinstance(verdict, Availability) and verdict.state in get_args(AvailabilityState)
    assert verdict.reason.strip() and "\n" not in verdict.reason + verdict.fix
    if verdict.state != "ready":
        assert verdict.fix.strip(), verdict
    assert spec.available() == (
        verdict.runnable,
        "ready" if verdict.state == "ready" else f"{verdict.reason}; {verdict.fix}",
    )


@pytest.mark.parametrize("name", NAMES)
def test_factory_builds_an_engine_with_one_prepare_signature(name):
    engine = ENGINES[name].factory()
    assert isinstance(engine, Engine) and engine.name == name
    assert list(inspect.signature(engine.prepare).parameters) == ["job"]


@pytest.fixture
def provider_env(request, monkeypatch, tmp_path):
    """Hosted engines prepare against the live schema: point them at the local Replicate stand-in."""
    if ENGINES[request.node.callspec.params["name"]].runs_on != "hosted":
        yield None
        return
    pytest.importorskip("replicate")
    from standins.replicate_api import ReplicateStandIn

    with ReplicateStandIn() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        monkeypatch.setenv("FAL_KEY", "fal-test-key")  # fal's prepare needs no network (the row decides)
        yield server


@pytest.mark.parametrize("name", NAMES)
def test_prepare_returns_a_shot(name, small_scene, provider_env):
    """prepare() is cheap for every engine (nothing loads, renders, uploads or is paid for until
    frames are asked for) and its Shot has what api.run reads: size, frame count, fps, JSON-ready
    info, warnings, words. An engine that cannot run here refuses in prepare with the reason."""
    spec = ENGINES[name]
    if not spec.availability().runnable:
        job = RenderJob(scene=small_scene, size=(96, 64), frame_count=24, fps=24.0, seed=1, prompt="push-in")
        with pytest.raises(stillmotion.EngineUnavailable, match=re.escape(spec.availability().reason[:20])):
            spec.factory().prepare(job)
        return
    plan = parse_prompt("slow push-in") if spec.takes_plan else None
    job = RenderJob(
        scene=small_scene, size=(96, 64), frame_count=24, fps=24.0, seed=1, plan=plan, prompt="slow push-in"
    )
    if spec.family == "hosted":
        from stillmotion.engines.hosted.models import find_model

        model = find_model(name)
        if model is not None and model.motion_video:  # it needs a driving video, and says which flag
            with pytest.raises(InputError, match="--motion-video"):
                spec.factory().prepare(job)
            return
    shot = spec.factory().prepare(job)
    assert isinstance(shot, Shot) and shot.progress in ("frame", "step")
    w, h = shot.size
    assert w % spec.size_multiple == 0 and h % spec.size_multiple == 0
    assert shot.frame_count >= 2 and shot.fps > 0
    if spec.native_fps is not None:
        assert shot.fps == spec.native_fps
    json.dumps(shot.info)
    assert all(isinstance(x, str) for x in shot.warnings)
    assert shot.describe().strip()
    if provider_env is not None:  # nothing was uploaded or created by prepare
        assert provider_env.predictions == {} and provider_env.requests_to("POST", "/v1/files") == []


def test_engine_rows_are_json_ready():
    rows = engine_rows()
    assert [r["name"] for r in rows] == NAMES
    assert json.loads(json.dumps(rows)) == rows
    for row in rows:
        assert {
            "name",
            "family",
            "summary",
            "runs_on",
            "takes_plan",
            "capabilities",
            "needs",
            "licence",
            "availability",
        } <= set(row)
        assert {"state", "label", "runnable", "reason", "fix"} == set(row["availability"])
        assert {"camera_control", "loop", "end_frame", "audio", "max_duration_s", "native_size", "native_fps"} <= set(
            row["capabilities"]
        )


def test_the_verdict_says_what_a_diffusion_engine_lacks_here(tmp_path, monkeypatch):
    """With an empty Hugging Face cache, no diffusion engine is "ready": without a GPU the
    verdict is needs-gpu (and says the weights are missing too), with one needs-weights."""
    import huggingface_hub.constants as hf
    import torch

    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(tmp_path / "hub"))
    gpu = torch.cuda.is_available()
    diffusion = [s for s in ENGINES.values() if s.runs_on == "gpu"]
    assert diffusion
    for spec in diffusion:
        verdict = spec.availability()
        assert verdict.runnable  # a tiny --model-path model still runs (the diffusion tests do)
        if gpu:
            assert verdict.state == "needs-weights" and "--model-path" in verdict.fix, verdict
        else:
            assert verdict.state == "needs-gpu" and "not in the Hugging Face cache" in verdict.reason, verdict
            assert "GB VRAM" in verdict.fix


def test_get_engine_takes_any_case_and_names_the_choices():
    spec, engine = get_engine("Living")
    assert spec is ENGINES["living"] and isinstance(engine, Engine)
    with pytest.raises(InputError, match=r"--engine 'nope' is unknown: use one of .*living"):
        get_engine("nope")


def test_diffusion_options_default_to_the_request():
    """The diffusion family's options live in its own folder; their defaults are AnimateRequest's
    and its specs build them for the job (the contract itself knows no family's options)."""
    from stillmotion.engines.diffusion.common import DiffusionOptions

    request = AnimateRequest.build(image="x.png", steps=7)
    assert DiffusionOptions() == DiffusionOptions.from_request(AnimateRequest.build(image="x.png"))
    assert ENGINES["wan2.2-ti2v-5b"].job_options(request) == DiffusionOptions(steps=7)
    assert ENGINES["living"].job_options(request) is None
    assert not hasattr(base, "DiffusionOptions")


def test_api_does_no_duck_typing():
    """api.run talks to engines through the contract only: no hasattr/getattr in api.py."""
    tree = ast.parse((Path(stillmotion.__file__).parent / "api.py").read_text())
    calls = [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("hasattr", "getattr")
    ]
    assert calls == []


def test_render_job_checks_its_inputs(small_scene):
    with pytest.raises(ValueError, match="frame_count"):
        RenderJob(scene=small_scene, size=(96, 64), frame_count=1, fps=24.0, seed=0)
    with pytest.raises(ValueError, match="mask must be H×W"):
        RenderJob(
            scene=small_scene, size=(96, 64), frame_count=2, fps=24.0, seed=0, mask=np.zeros((4, 4, 3), np.float32)
        )
