"""Hosted engines end to end, offline: stillmotion → the real ``replicate`` client → a local stand-in
that follows Replicate's documented HTTP API (tests/standins). No live service is called."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("replicate")

import stillmotion
from standins.replicate_api import ReplicateStandIn
from stillmotion.engines.hosted.models import MODELS, find_model
from stillmotion.engines.registry import ENGINES
from stillmotion.errors import Canceled, EngineUnavailable, GenerationError, InputError
from stillmotion.video import VideoWriter, probe

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HOSTED = [name for name, spec in ENGINES.items() if spec.family == "hosted"]
ON_REPLICATE = [m.name for m in MODELS if m.replicate]


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """A running stand-in, the environment pointing stillmotion at it, a fresh schema cache.
    Predictions finish on their first poll, so no test sleeps the 2 s poll interval."""
    server = ReplicateStandIn(processing_after=0, succeeded_after=1).start()
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    monkeypatch.delenv("STILLMOTION_OFFLINE", raising=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def motion_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("drive") / "dance.mp4"
    with VideoWriter(path, 160, 120, 24) as writer:
        for i in range(48):
            frame = np.zeros((120, 160, 3), np.uint8)
            frame[:, (i * 3) % 160 :] = 200
            writer.write(frame)
        writer.close()
    return path


def _created(server: ReplicateStandIn) -> list:
    return list(server.predictions.values())


def _no_token_anywhere(server: ReplicateStandIn, *paths: Path, text: str = "") -> None:
    assert server.token_leaks() == []
    assert server.token not in text
    for p in paths:
        if p.exists():
            assert server.token.encode() not in p.read_bytes(), p


@pytest.mark.parametrize("name", ON_REPLICATE)
def test_each_model_runs_end_to_end(name, stand_in, tmp_path, motion_video):
    """The photo goes into the model's own field, the clip comes back decodable with its recipe,
    only declared fields are sent, and the token appears nowhere but the Authorization header."""
    model = find_model(name)
    assert model is not None
    extra = {"motion_video": motion_video} if model.motion_video else {}
    out = tmp_path / "clip.mp4"
    clip = stillmotion.animate(
        EXAMPLES / "china.jpg",
        "slow push-in, waves rolling in",
        engine=name,
        duration=5,
        seed=3,
        resolution="720p",
        output=out,
        **extra,
    )
    info = probe(clip.path)
    assert info["faststart"] and info["frame_count"] >= 2 and clip.path == out
    (prediction,) = _created(stand_in)
    sent = prediction.input
    schema = stand_in.latest_version(model.replicate)["openapi_schema"]["components"]["schemas"]["Input"]
    assert set(sent) <= set(schema["properties"]), set(sent) - set(schema["properties"])
    photo_field = model.image or model.references
    value = sent[photo_field]
    first = value[0] if isinstance(value, list) else value
    assert isinstance(first, str) and first.startswith(stand_in.base_url), first  # uploaded with the file API
    recipe = json.loads(clip.sidecar.read_text())
    assert recipe["engine"] == name and recipe["shot"]["provider"] == "replicate"
    assert recipe["shot"]["prediction_id"] == prediction.id and recipe["shot"]["model"] == model.replicate
    assert recipe["shot"]["cost_estimate_usd"] >= 0 and recipe["plan"] is None
    assert recipe["shot"]["version"] == stand_in.latest_version(model.replicate)["id"]
    if model.makes_audio:
        assert info["audio"] and recipe["output"]["audio"] is True
    _no_token_anywhere(stand_in, clip.path, clip.sidecar)


@pytest.mark.parametrize(
    ("name", "asked", "field", "sent", "made"),
    [
        ("kling-v2.1", 7.0, "duration", 5, 5.0),
        ("kling-v2.1", 9.0, "duration", 10, 10.0),
        ("seedance-1-pro", 7.0, "duration", 7, 7.0),
        ("seedance-1-pro", 20.0, "duration", 12, 12.0),
        ("sora-2", 6.0, "seconds", 4, 4.0),
    ],
)
def test_duration_maps_to_the_nearest_allowed(name, asked, field, sent, made, stand_in, tmp_path):
    clip = stillmotion.animate(
        EXAMPLES / "coffee.jpg", "steam rising", engine=name, duration=asked, output=tmp_path / "c.mp4"
    )
    (prediction,) = _created(stand_in)
    assert int(prediction.input[field]) == sent
    assert abs(probe(clip.path)["duration_s"] - made) < 0.6
    changed = [w for w in clip.warnings if w.startswith(f"--duration {asked:g}")]
    assert bool(changed) == (sent != asked), clip.warnings


def test_wan_2_2_takes_frames_and_fps(stand_in, tmp_path):
    """Wan 2.2 Fast has no duration field: 5 s becomes num_frames at frames_per_second."""
    stillmotion.animate(
        EXAMPLES / "china.jpg",
        "clouds drifting",
        engine="wan-2.2-i2v-fast",
        duration=5,
        fps=16,
        output=tmp_path / "w.mp4",
    )
    (prediction,) = _created(stand_in)
    frames, fps = prediction.input["num_frames"], prediction.input["frames_per_second"]
    assert 81 <= frames <= 121 and abs(frames / fps - 5) < 0.25


def test_controls_go_to_their_fields_or_are_reported_ignored(stand_in, tmp_path):
    clip = stillmotion.animate(
        EXAMPLES / "china.jpg",
        "static camera, waves",
        engine="seedance-1-pro",
        negative_prompt="zoom",
        output=tmp_path / "s.mp4",
    )
    sent = _created(stand_in)[0].input
    assert sent["camera_fixed"] is True and "negative_prompt" not in sent
    assert any("no negative prompt" in w for w in clip.warnings)
    stillmotion.animate(EXAMPLES / "china.jpg", "waves", engine="wan-2.5-i2v-fast", output=tmp_path / "w.mp4")
    wan = _created(stand_in)[1].input
    assert wan["enable_prompt_expansion"] is False  # the motion prompt is used as written


def test_schema_drift_fails_in_one_line_before_any_prediction(stand_in, tmp_path):
    stand_in.rename_field("kwaivgi/kling-v2.1", "start_image", "first_frame")
    with pytest.raises(
        EngineUnavailable,
        match=r"kling-v2\.1: the live schema of kwaivgi/kling-v2\.1 has no input "
        r"'start_image'",
    ) as err:
        stillmotion.animate(EXAMPLES / "china.jpg", "push-in", engine="kling-v2.1", output=tmp_path / "k.mp4")
    assert "\n" not in str(err.value)
    assert stand_in.requests_to("POST", "/v1/models/kwaivgi/kling-v2.1/predictions") == []
    assert not list(tmp_path.glob("*"))


def test_throttled_create_is_retried_honouring_retry_after(stand_in, tmp_path):
    """The client does not retry a 429 on a POST; stillmotion's transport does (Retry-After: 0.2 s)."""
    stand_in.throttle(3, retry_after=0.2)
    clip = stillmotion.animate(EXAMPLES / "coffee.jpg", "steam", engine="gen4-turbo", output=tmp_path / "g.mp4")
    assert clip.path.exists()
    assert sum(1 for r in stand_in.requests if r.status == 429) == 3


def test_a_failed_prediction_is_one_line_and_writes_nothing(stand_in, tmp_path):
    stand_in.fail_next("The input or output was flagged as sensitive.")
    with pytest.raises(GenerationError, match="failed: The input or output was flagged as sensitive"):
        stillmotion.animate(EXAMPLES / "coffee.jpg", "steam", engine="kling-v2.6", output=tmp_path / "f.mp4")
    assert not list(tmp_path.glob("*"))


def test_an_aborted_prediction_is_reported(stand_in, tmp_path):
    stand_in.abort_next()
    with pytest.raises(GenerationError, match="aborted"):
        stillmotion.animate(EXAMPLES / "coffee.jpg", "steam", engine="kling-v2.6", output=tmp_path / "a.mp4")


def test_cancel_cancels_the_prediction_on_the_provider(stand_in, tmp_path):
    stand_in.hang()
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 3

    with pytest.raises(Canceled):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg", "steam", engine="kling-v2.1", should_stop=should_stop, output=tmp_path / "x.mp4"
        )
    (prediction,) = _created(stand_in)
    assert prediction.status == "canceled"
    assert len(stand_in.requests_to("POST", f"/v1/predictions/{prediction.id}/cancel")) == 1
    assert not list(tmp_path.glob("*"))


def test_end_frame_on_a_model_without_one_is_an_input_error(stand_in, tmp_path):
    with pytest.raises(InputError, match=r"--last-image: gen4-turbo takes no end frame; models that do: kling-v2\.1"):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg",
            "steam",
            engine="gen4-turbo",
            last_image=EXAMPLES / "china.jpg",
            output=tmp_path / "e.mp4",
        )
    clip = stillmotion.animate(
        EXAMPLES / "coffee.jpg",
        "steam",
        engine="seedance-1-pro",
        last_image=EXAMPLES / "china.jpg",
        output=tmp_path / "e2.mp4",
    )
    assert _created(stand_in)[-1].input["last_frame_image"].startswith(stand_in.base_url) and clip.path.exists()


def test_max_cost_refuses_before_anything_is_sent(stand_in, tmp_path):
    with pytest.raises(InputError, match=r"--max-cost 0\.01: kling-v2\.1 is estimated at \$0\.28"):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg",
            "steam",
            engine="kling-v2.1",
            duration=5,
            resolution="720p",
            max_cost=0.01,
            output=tmp_path / "m.mp4",
        )
    assert _created(stand_in) == [] and stand_in.requests_to("POST", "/v1/files") == []


def test_unknown_input_names_the_models_inputs(stand_in, tmp_path):
    with pytest.raises(InputError, match=r"--input cfg=…: kling-v2\.1 has no input 'cfg'; its inputs are "):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg", "steam", engine="kling-v2.1", input=["cfg=1"], output=tmp_path / "i.mp4"
        )
    stillmotion.animate(
        EXAMPLES / "coffee.jpg", "steam", engine="kling-v2.1", input=["mode=pro"], output=tmp_path / "i2.mp4"
    )
    assert _created(stand_in)[0].input["mode"] == "pro"


def test_generated_sound_is_kept(stand_in, tmp_path):
    clip = stillmotion.animate(
        EXAMPLES / "coffee.jpg",
        "steam, a soft hiss",
        engine="kling-v2.6",
        generate_audio=True,
        output=tmp_path / "s.mp4",
    )
    assert _created(stand_in)[0].input["generate_audio"] is True
    assert probe(clip.path)["audio"]


def test_display_names_are_engine_names(stand_in, tmp_path):
    clip = stillmotion.animate(EXAMPLES / "coffee.jpg", "steam", engine="Kling v2.1", output=tmp_path / "d.mp4")
    assert clip.recipe["engine"] == "kling v2.1" and clip.recipe["shot"]["engine"] == "kling-v2.1"


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stillmotion", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_cli_runs_a_hosted_engine_and_says_what_leaves_the_machine(stand_in, tmp_path):
    env = dict(os.environ)
    res = _cli(
        ["animate", str(EXAMPLES / "coffee.jpg"), "-p", "steam rising", "--engine", "kling-v2.1", "-o", "k.mp4"],
        env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "the photo is uploaded to Replicate" in res.stderr and "estimated cost $" in res.stderr
    _no_token_anywhere(stand_in, tmp_path / "k.mp4", tmp_path / "k.json", text=res.stdout + res.stderr)


def test_cli_without_a_token_or_offline_exits_3(stand_in, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REPLICATE_API_TOKEN"}
    res = _cli(["animate", str(EXAMPLES / "coffee.jpg"), "--engine", "kling-v2.1"], env, tmp_path)
    assert res.returncode == 3 and "REPLICATE_API_TOKEN" in res.stderr and "Traceback" not in res.stderr
    env = dict(os.environ, STILLMOTION_OFFLINE="1")
    res = _cli(["animate", str(EXAMPLES / "coffee.jpg"), "--engine", "kling-v2.1"], env, tmp_path)
    assert res.returncode == 3 and "STILLMOTION_OFFLINE" in res.stderr
    assert not list(tmp_path.glob("*.mp4"))


def test_engines_lists_hosted_models_with_their_verdict(stand_in, monkeypatch):
    from stillmotion.engines.registry import engine_rows

    rows = {r["name"]: r for r in engine_rows()}
    assert rows["kling-v2.1"]["runs_on"] == "hosted" and rows["kling-v2.1"]["ready"]
    assert "the photo is uploaded" in rows["kling-v2.1"]["summary"] and "$" in rows["kling-v2.1"]["summary"]
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    verdict = {r["name"]: r for r in engine_rows()}["kling-v2.1"]["availability"]
    assert verdict["state"] == "needs-token" and "REPLICATE_API_TOKEN" in verdict["fix"]


def test_compare_runs_local_and_hosted_on_the_same_photo(stand_in, tmp_path):
    env = dict(os.environ)
    res = _cli(
        [
            "animate",
            str(EXAMPLES / "china.jpg"),
            "-p",
            "slow push-in",
            "--engines",
            "living,kling-v2.1",
            "--resolution",
            "480p",
            "--duration",
            "2",
            "-o",
            "cmp.mp4",
        ],
        env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "cmp_compare.mp4").exists() and "kling-v2.1" in res.stdout
    cost_row = next(line for line in res.stdout.splitlines() if line.startswith("estimated cost"))
    assert "local" in cost_row and "$0.28" in cost_row  # Kling makes 5 s (not the 2 asked) at 720p, $0.056/s
    assert any(line.startswith("time [s]") for line in res.stdout.splitlines())


def test_studio_resumes_a_submitted_prediction_after_a_crash(stand_in, tmp_path, photos):
    """A studio job already submitted to the provider survives kill -9 of the server and its worker:
    the restarted worker polls the same prediction (one prediction created, one paid for), the token
    stays out of the job database and the API's answers."""
    import signal

    from test_server import Server, _wait

    stand_in.hang()  # the prediction runs until we let it finish
    data = tmp_path / "data"
    srv = Server(data, workers=1).start()  # inherits the stand-in's environment
    try:
        with srv.client() as c:
            files = {"image": ("coffee.png", photos["coffee"].read_bytes(), "image/png")}
            job_id = c.post("/v1/jobs", files=files, data={"engine": "kling-v2.1", "prompt": "steam"}).json()["id"]
            deadline = time.monotonic() + 30
            while not stand_in.predictions and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(stand_in.predictions) == 1
            time.sleep(0.3)  # the worker records the prediction id right after creating it
            pids = [w["pid"] for w in c.get("/v1/health").json()["workers"]]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        (prediction,) = stand_in.predictions.values()
        stand_in.hang(False)
        prediction.fate = "succeeded"  # the provider finishes the job while the studio is down
        srv = Server(data, workers=1).start()
        with srv.client() as c:
            job = _wait(c, job_id, timeout=60)
            assert job["status"] == "succeeded", job
            assert job["result"]["recipe"]["shot"]["prediction_id"] == prediction.id
            assert job["result"]["recipe"]["shot"]["resumed"] is True
            api_text = c.get(f"/v1/jobs/{job_id}").text
        assert len(stand_in.predictions) == 1 and job["attempts"] >= 2
        assert stand_in.token not in api_text
        assert stand_in.token.encode() not in (data / "jobs.db").read_bytes()
    finally:
        srv.stop()


def test_variations_run_concurrently_on_the_provider(stand_in, tmp_path):
    """--variations 3 on a hosted engine: three predictions in flight at once (none finished before the
    last was created), collected in seed order, one clip each; a failing one cancels the batch."""
    import threading

    stand_in.hang()
    result: dict = {}

    def go() -> None:
        try:
            result["clip"] = stillmotion.animate(
                EXAMPLES / "coffee.jpg",
                "steam",
                engine="seedance-1-pro",
                variations=3,
                seed=10,
                output=tmp_path / "v.mp4",
            )
        except Exception as err:  # surfaced below
            result["error"] = err

    runner = threading.Thread(target=go)
    runner.start()
    deadline = time.monotonic() + 30
    while len(stand_in.predictions) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(stand_in.predictions) == 3 and all(p.status != "succeeded" for p in stand_in.predictions.values())
    for p in stand_in.predictions.values():
        p.fate = "succeeded"
    runner.join(60)
    assert "error" not in result, result.get("error")
    clips = result["clip"].variations
    assert [c.seed for c in clips] == [10, 11, 12]
    assert sorted(p.input["seed"] for p in stand_in.predictions.values()) == [10, 11, 12]
    assert all(c.path.exists() for c in clips)


def test_a_failed_variation_leaves_nothing(stand_in, tmp_path):
    stand_in.fail_next("The input or output was flagged as sensitive.")
    with pytest.raises(GenerationError, match="flagged"):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg", "steam", engine="seedance-1-pro", variations=3, seed=1, output=tmp_path / "v.mp4"
        )
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.json"))


@pytest.fixture
def living_clip(tmp_path) -> Path:
    return stillmotion.animate(
        EXAMPLES / "china.jpg",
        "slow push-in",
        size="320x212",
        duration=2,
        fps=12,
        seed=1,
        output=tmp_path / "living.mp4",
    ).path


def test_sound_is_generated_on_the_provider_and_muxed_in(stand_in, living_clip, tmp_path):
    from stillmotion.post.hosted import sound_file

    out = sound_file(living_clip, tmp_path / "with-sound.mp4", prompt="waves on a pebble beach")
    info = probe(out)
    assert info["audio"] and info["frame_count"] == probe(living_clip)["frame_count"]
    (prediction,) = _created(stand_in)
    assert prediction.model == "zsxkib/mmaudio" and prediction.input["prompt"] == "waves on a pebble beach"
    assert prediction.input["video"].startswith(stand_in.base_url)
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["engine"] == "living" and recipe["finish"][-1]["step"] == "sound"
    assert recipe["finish"][-1]["prediction_id"] == prediction.id
    _no_token_anywhere(stand_in, out, out.with_suffix(".json"))


@pytest.mark.parametrize(
    ("engine", "model", "field", "tier"),
    [
        ("real-esrgan-video", "lucataco/real-esrgan-video", "resolution", "FHD"),
        ("topaz-video-upscale", "topazlabs/video-upscale", "target_resolution", "720p"),
    ],
)
def test_upscale_on_the_provider(engine, model, field, tier, stand_in, living_clip, tmp_path):
    res = _cli(
        ["upscale", str(living_clip), "--engine", engine, "--scale", "2", "-o", "up.mp4"], dict(os.environ), tmp_path
    )
    assert res.returncode == 0, res.stderr
    (prediction,) = _created(stand_in)
    assert prediction.model == model and prediction.input[field] == tier
    assert probe(tmp_path / "up.mp4")["height"] > probe(living_clip)["height"]


def test_hosted_finishing_without_a_token_exits_3(stand_in, living_clip, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REPLICATE_API_TOKEN"}
    res = _cli(["sound", str(living_clip), "-p", "rain"], env, tmp_path)
    assert res.returncode == 3 and "REPLICATE_API_TOKEN" in res.stderr
    assert [p.name for p in tmp_path.glob("*.mp4")] == ["living.mp4"]


@pytest.mark.parametrize(
    ("ref", "photo_field"),
    [
        ("wan-video/wan-2.2-i2v-fast", "image"),
        ("minimax/video-01-live", "first_frame_image"),
        ("kwaivgi/kling-v2.1", "start_image"),
    ],
)
def test_any_replicate_model_is_mapped_from_its_schema(ref, photo_field, stand_in, tmp_path):
    clip = stillmotion.animate(
        EXAMPLES / "coffee.jpg", "steam rising", engine=f"replicate:{ref}", duration=5, output=tmp_path / "g.mp4"
    )
    (prediction,) = _created(stand_in)
    assert prediction.model == ref and prediction.input[photo_field].startswith(stand_in.base_url)
    assert probe(clip.path)["frame_count"] >= 2 and clip.recipe["shot"]["model"] == ref


def test_an_unknown_replicate_model_is_one_line(stand_in, tmp_path):
    with pytest.raises(EngineUnavailable, match=r"Replicate model nobody/nothing cannot be read \(404"):
        stillmotion.animate(
            EXAMPLES / "coffee.jpg", "steam", engine="replicate:nobody/nothing", output=tmp_path / "u.mp4"
        )
    with pytest.raises(InputError, match="--engine 'replicate:not a ref' is unknown"):
        stillmotion.animate(EXAMPLES / "coffee.jpg", "steam", engine="replicate:not a ref", output=tmp_path / "u.mp4")


def test_studio_runs_hosted_jobs_in_their_own_lane(stand_in, tmp_path, photos):
    """Hosted jobs only wait on the provider: they have their own workers, so a long hosted job never
    holds up a local one; canceling it in the studio cancels the prediction on the provider."""
    from test_server import TINY, Server, _wait

    stand_in.hang()
    srv = Server(tmp_path / "data", workers=1).start()
    try:
        with srv.client() as c:
            files = {"image": ("coffee.png", photos["coffee"].read_bytes(), "image/png")}
            hosted = c.post("/v1/jobs", files=files, data={"engine": "Kling v2.1", "prompt": "steam"}).json()
            local = c.post("/v1/jobs", files=files, data=TINY).json()
            assert _wait(c, local["id"], timeout=60)["status"] == "succeeded"
            assert c.get(f"/v1/jobs/{hosted['id']}").json()["status"] == "running"
            lanes = sorted(w["lane"] for w in c.get("/v1/health").json()["workers"])
            assert lanes == ["hosted", "hosted", "local"]
            c.post(f"/v1/jobs/{hosted['id']}/cancel")
            assert _wait(c, hosted["id"], timeout=30)["status"] == "canceled"
        (prediction,) = stand_in.predictions.values()
        assert prediction.status == "canceled"
    finally:
        srv.stop()


def test_the_coach_knows_each_models_controls():
    """Coaching for a hosted engine: engine-neutral prompt advice plus what that model would ignore or
    change (no network: from the model's row)."""
    report = stillmotion.analyze(
        EXAMPLES / "china.jpg",
        "static camera, waves rolling in",
        negative_prompt="zoom",
        engine="gen4-turbo",
        duration=7,
    )
    controls = [lint.message for lint in report.prompt.lints if lint.code == "engine-control"]
    assert any("gen4-turbo has no negative prompt: 'zoom' is ignored" in m for m in controls), controls
    assert any("--duration 7 becomes 5" in m for m in controls), controls
    assert any("no camera lock" in m for m in controls), controls
    assert not any("living engine" in lint.message for lint in report.prompt.lints)
    seedance = stillmotion.analyze(EXAMPLES / "china.jpg", "static camera, waves", engine="Seedance 1 Pro")
    assert any("camera lock (camera_fixed)" in lint.message for lint in seedance.prompt.lints)
    living = stillmotion.analyze(EXAMPLES / "china.jpg", "static camera, waves", engine="living")
    assert not [lint for lint in living.prompt.lints if lint.code == "engine-control"]
    with pytest.raises(InputError, match="--engine 'nope' is unknown"):
        stillmotion.analyze(EXAMPLES / "china.jpg", "waves", engine="nope")


@pytest.fixture
def fal_stand_in():
    pytest.importorskip("fal_client")
    from standins.fal_api import FalStandIn

    with FalStandIn() as server:
        yield server


def _fal_env(server, tmp_path: Path) -> dict[str, str]:
    # fal-client reads its hosts when it is imported: each run is a fresh process pointed at the stand-in.
    return dict(os.environ, **server.env(), XDG_CACHE_HOME=str(tmp_path / "cache"))


def test_pika_runs_on_fal(fal_stand_in, tmp_path):
    """Pika 2.2 (on fal only) through the real fal client: the photo inline as a data URI under 1 MB,
    queue polling, the result downloaded and remuxed with its recipe; the key stays in the header."""
    res = _cli(
        [
            "animate",
            str(EXAMPLES / "coffee.jpg"),
            "-p",
            "steam rising",
            "--engine",
            "Pika 2.2",
            "--duration",
            "7",
            "-o",
            "p.mp4",
        ],
        _fal_env(fal_stand_in, tmp_path),
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "uploaded to fal" in res.stderr and "estimated cost $0.20" in res.stderr
    (request,) = fal_stand_in.requests.values()
    assert request.endpoint == "fal-ai/pika/v2.2/image-to-video"
    assert request.input["image_url"].startswith("data:image/jpeg;base64,") and len(request.input["image_url"]) < 1.4e6
    assert request.input["duration"] == 5 and request.input["prompt"] == "steam rising"
    recipe = json.loads((tmp_path / "p.json").read_text())
    assert recipe["shot"]["provider"] == "fal" and recipe["shot"]["prediction_id"] == request.id
    assert recipe["shot"]["schema_checked"] is False
    assert probe(tmp_path / "p.mp4")["frame_count"] == 120
    assert fal_stand_in.key_leaks() == []
    for p in (tmp_path / "p.mp4", tmp_path / "p.json"):
        assert fal_stand_in.key.encode() not in p.read_bytes()
    assert fal_stand_in.key not in res.stdout + res.stderr


def test_fal_failure_and_unmapped_routes_are_one_line(fal_stand_in, tmp_path):
    fal_stand_in.fail_next()
    env = _fal_env(fal_stand_in, tmp_path)
    res = _cli(["animate", str(EXAMPLES / "coffee.jpg"), "--engine", "pika-2.2", "-o", "f.mp4"], env, tmp_path)
    assert res.returncode == 1 and "Content policy violation" in res.stderr and "Traceback" not in res.stderr
    assert not list(tmp_path.glob("*.mp4"))
    res = _cli(
        ["animate", str(EXAMPLES / "coffee.jpg"), "--engine", "video-01-live", "--provider", "fal"],
        dict(env, REPLICATE_API_TOKEN="r8_x"),
        tmp_path,
    )
    assert res.returncode == 2 and "--provider fal: its fal route" in res.stderr  # the i2v path is unconfirmed
    res = _cli(
        ["animate", str(EXAMPLES / "coffee.jpg"), "--engine", "gen4-turbo", "--provider", "fal"],
        dict(env, REPLICATE_API_TOKEN="r8_x"),
        tmp_path,
    )
    assert res.returncode == 2 and "--provider fal: it is not on fal" in res.stderr


FAL_ROUTED = [m.name for m in MODELS if m.fal_fields]


@pytest.mark.parametrize("name", FAL_ROUTED)
def test_provider_fal_runs_the_models_fal_also_hosts(name, fal_stand_in, tmp_path, motion_video):
    """--provider fal with only FAL_KEY set: the fal endpoint gets fal's own field names (the photo
    inline under 1 MB), and the clip comes back with its recipe."""
    from stillmotion.engines.hosted.models import fal_route

    model = find_model(name)
    assert model is not None
    routed = fal_route(model)
    assert routed is not None and routed.image
    env = {k: v for k, v in _fal_env(fal_stand_in, tmp_path).items() if k != "REPLICATE_API_TOKEN"}
    extra = ["--motion-video", str(motion_video)] if routed.motion_video else []
    res = _cli(
        [
            "animate",
            str(EXAMPLES / "coffee.jpg"),
            "-p",
            "steam rising",
            "--engine",
            name,
            "--provider",
            "fal",
            "--duration",
            "5",
            "-o",
            "f.mp4",
            *extra,
        ],
        env,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    (request,) = fal_stand_in.requests.values()
    assert request.endpoint == model.fal
    assert request.input[routed.image].startswith("data:image/jpeg;base64,")
    if routed.duration.as_text:
        assert isinstance(request.input[routed.duration.field], str)
    recipe = json.loads((tmp_path / "f.json").read_text())
    assert recipe["shot"]["provider"] == "fal" and recipe["shot"]["model"] == model.fal
    assert probe(tmp_path / "f.mp4")["frame_count"] >= 2
    assert fal_stand_in.key_leaks() == []


def test_ctrl_c_cancels_the_prediction_and_exits_130(stand_in, tmp_path):
    import signal

    stand_in.hang()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stillmotion",
            "animate",
            str(EXAMPLES / "coffee.jpg"),
            "-p",
            "steam",
            "--engine",
            "kling-v2.1",
            "-o",
            "c.mp4",
        ],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not stand_in.predictions and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stand_in.predictions, "no prediction was created"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    (prediction,) = stand_in.predictions.values()
    assert prediction.status == "canceled" and "Traceback" not in err
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.json"))


def test_the_recipe_records_inputs_with_local_paths(stand_in, tmp_path):
    clip = stillmotion.animate(
        EXAMPLES / "coffee.jpg",
        "steam",
        engine="seedance-1-pro",
        last_image=EXAMPLES / "china.jpg",
        output=tmp_path / "r.mp4",
    )
    inputs = clip.recipe["shot"]["inputs"]
    assert inputs["image"].startswith(str(EXAMPLES / "coffee.jpg")) and "cropped to" in inputs["image"]
    assert inputs["last_frame_image"] == str(EXAMPLES / "china.jpg")
    assert _created(stand_in)[0].input["image"].startswith(stand_in.base_url)  # what was sent: the upload
