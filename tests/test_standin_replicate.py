"""The Replicate stand-in itself, driven only through the real ``replicate`` client (and plain httpx).

These tests pin what the stand-in does, so stillmotion's hosted-engine tests can trust it: the routes and
JSON the client needs, validation like the live service, the status clock, real MP4 outputs, and the faults.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import av
import httpx
import pydantic.v1
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError
from tests.standins import models
from tests.standins.replicate_api import ReplicateStandIn


@pytest.fixture()
def stand_in():
    with ReplicateStandIn() as s:
        yield s


@pytest.fixture()
def client(stand_in, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    c = replicate.Client(api_token=stand_in.token, base_url=stand_in.base_url)
    c.poll_interval = 0.01
    return c


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    import skimage.data as data

    p = tmp_path_factory.mktemp("standin") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).crop((0, 64, 512, 352)).save(p, quality=90)  # 512×288, 16:9
    return p


def _probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        return {
            "seconds": c.duration / 1_000_000,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "fps": float(v.average_rate),
            "frames": frames,
            "pix_fmt": v.codec_context.pix_fmt,
            "codec": v.codec_context.name,
            "audio": [a.codec_context.name for a in c.streams.audio],
        }


def _resolve(schema: dict, prop: dict) -> dict:
    """A property with cog's ``allOf: [{$ref}]`` enum indirection folded in."""
    out = dict(prop)
    for ref in prop.get("allOf", []):
        target = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
        out.update({k: v for k, v in target.items() if k in ("enum", "type")})
    return out


# -- schemas ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", sorted(models.MODELS))
def test_every_model_serves_a_schema_through_the_client(client, ref):
    m = client.models.get(ref)
    assert (m.owner, m.name) == tuple(ref.split("/"))
    schema = m.latest_version.openapi_schema
    inp = schema["components"]["schemas"]["Input"]
    assert set(inp["properties"]) == set(models.MODELS[ref].properties)
    assert set(inp["required"]) <= set(inp["properties"])
    assert schema["components"]["schemas"]["Output"] == {"type": "string", "format": "uri", "title": "Output"}
    orders = [p["x-order"] for p in inp["properties"].values()]
    assert orders == list(range(len(orders)))
    for prop in inp["properties"].values():
        assert "type" in _resolve(schema, prop)
    # the version route answers the same version
    v = client.models.get(ref).versions.get(m.latest_version.id)
    assert v.openapi_schema == schema


def test_enums_come_as_cog_refs_or_inline(client, stand_in):
    schema = client.models.get("kwaivgi/kling-v2.1").latest_version.openapi_schema
    duration = schema["components"]["schemas"]["Input"]["properties"]["duration"]
    assert duration["allOf"] == [{"$ref": "#/components/schemas/duration"}] and "enum" not in duration
    assert _resolve(schema, duration)["enum"] == [5, 10]
    with ReplicateStandIn(enum_style="inline") as s2:
        c2 = replicate.Client(api_token=s2.token, base_url=s2.base_url)
        inline = c2.models.get("kwaivgi/kling-v2.1").latest_version.openapi_schema
        assert inline["components"]["schemas"]["Input"]["properties"]["duration"]["enum"] == [5, 10]


# -- the happy path --------------------------------------------------------------------------------------------


def test_upload_create_poll_download(client, stand_in, photo):
    f = client.files.create(photo, metadata={"purpose": "test"})
    assert f.size == photo.stat().st_size and f.content_type == "image/jpeg" and f.name == "astronaut.jpg"
    assert f.metadata == {"purpose": "test"} and set(f.checksums) >= {"sha256"}
    head = httpx.get(f.urls["get"], headers={"Authorization": f"Bearer {stand_in.token}"})
    assert head.content == photo.read_bytes()

    p = client.models.predictions.create(
        "kwaivgi/kling-v2.1", input={"prompt": "she smiles", "start_image": f.urls["get"]}, wait=False
    )
    assert p.status == "starting" and p.model == "kwaivgi/kling-v2.1" and p.output is None
    assert "Prefer" not in stand_in.requests[-1].headers
    seen = [client.predictions.get(p.id).status for _ in range(3)]
    assert seen == ["processing", "processing", "succeeded"]
    done = client.predictions.get(p.id)
    assert done.metrics["predict_time"] > 0 and done.completed_at and done.started_at
    assert done.version == stand_in.latest_version("kwaivgi/kling-v2.1")["id"]

    clip = _probe(httpx.get(done.output).content)
    assert clip["codec"] == "h264" and clip["pix_fmt"] == "yuv420p"
    assert clip["seconds"] == pytest.approx(5.0, abs=0.05) and clip["frames"] == 120 and clip["fps"] == 24
    assert (clip["width"], clip["height"]) == (1280, 720)  # standard mode = 720p, the photo's 16:9
    assert clip["audio"] == []
    assert stand_in.token_leaks() == []


def test_path_input_is_uploaded_by_the_client_and_data_uris_decode(client, stand_in, photo):
    inp = {"image": photo, "num_frames": 81, "frames_per_second": 16}
    p = client.models.predictions.create("wan-video/wan-2.2-i2v-fast", input=inp)
    assert len(stand_in.requests_to("POST", "/v1/files")) == 1  # replicate.helpers.encode_json uploaded it
    assert stand_in.predictions[p.id].input["image"].startswith(stand_in.base_url)
    p.wait()
    clip = _probe(httpx.get(p.output).content)
    assert clip["seconds"] == pytest.approx(81 / 16, abs=0.07) and clip["height"] == 480  # 480p default

    with photo.open("rb") as fh:
        q = client.models.predictions.create(
            "ali-vilab/i2vgen-xl", input={"image": fh, "prompt": "x"}, file_encoding_strategy="base64"
        )
    assert stand_in.predictions[q.id].input["image"].startswith("data:image/jpeg;base64,")
    q.wait()
    assert q.status == "succeeded"
    assert _probe(httpx.get(q.output).content)["seconds"] == pytest.approx(2.0, abs=0.05)  # 16 frames at 8 fps


def test_sound_models_get_an_aac_track_and_mmaudio_muxes(client, photo):
    p = client.models.predictions.create(
        "kwaivgi/kling-v3-video",
        input={"prompt": "x", "start_image": photo, "duration": 3, "mode": "standard", "generate_audio": True},
    )
    p.wait()
    clip = httpx.get(p.output).content
    info = _probe(clip)
    assert info["audio"] == ["aac"] and info["seconds"] == pytest.approx(3.0, abs=0.1)

    silent = client.models.predictions.create(
        "minimax/video-01-live", input={"prompt": "x", "first_frame_image": photo}
    )
    silent.wait()
    sil = httpx.get(silent.output).content
    assert _probe(sil)["audio"] == [] and _probe(sil)["seconds"] == pytest.approx(6.0, abs=0.05)

    m = client.models.predictions.create("zsxkib/mmaudio", input={"video": io.BytesIO(sil), "prompt": "wind"})
    m.wait()
    muxed = _probe(httpx.get(m.output).content)
    assert muxed["audio"] == ["aac"] and muxed["frames"] == _probe(sil)["frames"]


def test_run_blocks_then_polls_and_returns_a_plain_url_for_http(client, stand_in, photo):
    out = client.run(
        "bytedance/seedance-1-pro", input={"prompt": "x", "image": photo, "duration": 2, "resolution": "480p"}
    )
    # run() sends "Prefer: wait"; the stand-in (GET clock) answers "starting", so run() polls until done.
    assert stand_in.requests_to("POST", "/v1/models/")[-1].headers["Prefer"] == "wait"
    # transform_output wraps only https:/data: URLs in FileOutput; the stand-in's http:// URL stays a str.
    assert isinstance(out, str)
    assert _probe(httpx.get(out).content)["seconds"] == pytest.approx(2.0, abs=0.05)


def test_prefer_wait_on_a_seconds_clock(monkeypatch, photo):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    with ReplicateStandIn(clock="seconds", processing_after=0.05, succeeded_after=0.2) as s:
        c = replicate.Client(api_token=s.token, base_url=s.base_url)
        p = c.models.predictions.create("cjwbw/pia", input={"prompt": "x", "image": photo}, wait=5)
        assert s.requests[-1].headers["Prefer"] == "wait=5"
        assert p.status == "succeeded" and p.output.endswith(".mp4")
        s.hang()
        t0 = time.monotonic()
        q = c.models.predictions.create("cjwbw/pia", input={"prompt": "x", "image": photo}, wait=1)
        assert q.status == "starting" and 0.9 < time.monotonic() - t0 < 3  # "starting" when the wait runs out


def test_version_route_output_as_list_and_schema_drift(client, stand_in, photo):
    ref = "runwayml/gen4-turbo"
    old = client.models.get(ref).latest_version.id
    p = client.predictions.create(version=old, input={"image": photo, "seed": 3})
    assert p.model == ref and p.version == old

    new = stand_in.drop_field(ref, "seed")
    assert new != old and client.models.get(ref).latest_version.id == new
    with pytest.raises(ReplicateError) as e:
        client.models.predictions.create(ref, input={"image": photo, "seed": 3})
    assert e.value.status == 422 and "seed" in e.value.detail
    client.predictions.create(version=old, input={"image": photo, "seed": 3})  # a pinned version still takes it

    stand_in.rename_field(ref, "image", "first_frame")
    schema = client.models.get(ref).latest_version.openapi_schema["components"]["schemas"]["Input"]
    assert "first_frame" in schema["properties"] and schema["required"] == ["first_frame"]

    stand_in.set_output_as_list("minimax/video-01-live")
    q = client.models.predictions.create("minimax/video-01-live", input={"prompt": "x", "first_frame_image": photo})
    q.wait()
    assert isinstance(q.output, list) and len(q.output) == 1 and q.output[0].endswith(".mp4")


# -- faults ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inp", "kind"),
    [
        ({"prompt": "x", "start_image": "https://x/a.png", "fps": 30}, "Additional property fps is not allowed"),
        ({"prompt": "x"}, "start_image is required"),
        ({"prompt": "x", "start_image": "https://x/a.png", "duration": 7}, "must be one of the following: 5, 10"),
        ({"prompt": "x", "start_image": "https://x/a.png", "duration": "5"}, "Expected: integer, given: string"),
        ({"prompt": "x", "start_image": "https://x/a.png", "mode": "ultra"}, 'one of the following: "standard"'),
        ({"prompt": "x", "start_image": "not a url"}, "Does not match format 'uri'"),
    ],
)
def test_invalid_input_is_a_422_problem(client, stand_in, inp, kind):
    with pytest.raises(ReplicateError) as e:
        client.models.predictions.create("kwaivgi/kling-v2.1", input=inp)
    assert e.value.status == 422 and e.value.title == "Input validation failed" and kind in e.value.detail
    assert stand_in.predictions == {}


def test_range_violation(client):
    with pytest.raises(ReplicateError) as e:
        client.models.predictions.create("kwaivgi/kling-v3-video", input={"prompt": "x", "duration": 16})
    assert e.value.status == 422 and "less than or equal to 15" in e.value.detail


def test_429_on_create_is_not_retried_by_the_client(client, stand_in):
    stand_in.throttle(1, retry_after=1)
    with pytest.raises(ReplicateError) as e:
        client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})
    assert e.value.status == 429 and "throttled" in e.value.detail
    assert len(stand_in.requests_to("POST", "/v1/models/")) == 1
    client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})  # the next one goes through


def test_429_and_503_on_get_are_retried_honouring_retry_after(client, stand_in):
    p = client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})
    stand_in.throttle(1, retry_after=1)
    t0 = time.monotonic()
    assert client.predictions.get(p.id).status == "processing"
    assert time.monotonic() - t0 >= 0.95  # it slept Retry-After, not its own 0.1 s backoff
    gets = stand_in.requests_to("GET", f"/v1/predictions/{p.id}")
    assert [r.status for r in gets] == [429, 200]

    stand_in.server_error(1, status=503)
    assert client.predictions.get(p.id).status == "processing"
    stand_in.server_error(1, status=500)  # 500 is not in RetryTransport's list
    with pytest.raises(ReplicateError) as e:
        client.predictions.get(p.id)
    assert e.value.status == 500


def test_failed_prediction_and_run_raises_model_error(client, stand_in):
    stand_in.fail_next("The input or output was flagged as sensitive.")
    p = client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})
    p.wait()
    assert p.status == "failed" and p.error == "The input or output was flagged as sensitive." and p.output is None
    stand_in.fail_next("out of memory")
    with pytest.raises(ModelError, match="out of memory"):
        client.run("kwaivgi/kling-v2.6", input={"prompt": "x"})


def test_model_side_rule_fails_the_prediction(client, photo):
    p = client.models.predictions.create(
        "kwaivgi/kling-v2.1", input={"prompt": "x", "start_image": photo, "end_image": photo}
    )
    p.wait()
    assert p.status == "failed" and "pro" in p.error


def test_cancel_a_hung_prediction(client, stand_in):
    stand_in.hang()
    p = client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})
    assert [client.predictions.get(p.id).status for _ in range(5)][-1] == "processing"
    c = client.predictions.cancel(p.id)
    assert c.status == "canceled" and c.completed_at
    assert client.predictions.get(p.id).status == "canceled"
    assert stand_in.predictions[p.id].status == "canceled"


def test_aborted_is_rejected_by_the_clients_model_but_readable_raw(client, stand_in):
    stand_in.abort_next()
    p = client.models.predictions.create("kwaivgi/kling-v2.6", input={"prompt": "x"})
    with pytest.raises(pydantic.v1.ValidationError, match="status"):
        client.predictions.get(p.id)  # Prediction.status is a Literal without "aborted"
    raw = httpx.get(f"{stand_in.base_url}/v1/predictions/{p.id}", headers={"Authorization": f"Bearer {stand_in.token}"})
    assert raw.status_code == 200 and raw.json()["status"] == "aborted" and raw.json()["output"] is None


def test_401_without_or_with_a_wrong_token(stand_in, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    for token in (None, "r8_wrong"):
        c = replicate.Client(api_token=token, base_url=stand_in.base_url)
        with pytest.raises(ReplicateError) as e:
            c.models.get("kwaivgi/kling-v2.1")
        assert e.value.status == 401 and e.value.title == "Unauthenticated"
    assert "Authorization" not in stand_in.requests[0].headers


def test_token_leaks_are_detected(stand_in):
    httpx.post(
        f"{stand_in.base_url}/v1/models/kwaivgi/kling-v2.6/predictions",
        json={"input": {"prompt": stand_in.token}},
        headers={"Authorization": f"Bearer {stand_in.token}"},
    )
    assert len(stand_in.token_leaks()) == 1


def test_concurrent_variations(client, stand_in, photo):
    from concurrent.futures import ThreadPoolExecutor

    def one(seed: int) -> str:
        p = client.models.predictions.create("wan-video/wan-2.2-i2v-fast", input={"image": photo, "seed": seed})
        p.wait()
        return p.output

    with ThreadPoolExecutor(3) as pool:
        outs = list(pool.map(one, [1, 2, 3]))
    assert len(set(outs)) == 3 and all(stand_in.predictions[u.split("/")[-2]].status == "succeeded" for u in outs)


@pytest.mark.parametrize(
    ("ref", "inp", "seconds", "short", "fps", "sound"),
    [
        ("kwaivgi/kling-v2.1", {"mode": "pro", "duration": 10}, 10, 1080, 24, False),
        ("kwaivgi/kling-v2.6", {}, 5, 720, 24, True),
        ("kwaivgi/kling-v3-video", {"duration": 7, "mode": "standard"}, 7, 720, 24, False),
        ("minimax/hailuo-2.3-fast", {"resolution": "1080p"}, 6, 1080, 25, False),
        ("wan-video/wan-2.2-i2v-fast", {"num_frames": 121, "frames_per_second": 24}, 121 / 24, 480, 24, False),
        ("wan-video/wan-2.2-i2v-fast", {"interpolate_output": True}, 81 / 16, 480, 30, False),
        ("wan-video/wan-2.5-i2v-fast", {"audio": "https://x/a.wav"}, 5, 720, 24, True),
        ("character-ai/ovi-i2v", {}, 5, 720, 24, True),
        ("openai/sora-2", {"seconds": 12}, 12, 720, 24, False),
        ("prunaai/p-video", {"fps": 48, "resolution": "1080p"}, 5, 1080, 48, False),
        ("cjwbw/pia", {"animation_length": 24, "max_size": 768}, 3, -768, 8, False),
        ("xai/grok-imagine-r2v", {}, 8, 480, 24, False),
    ],
)
def test_what_each_model_would_produce(ref, inp, seconds, short, fps, sound):
    m = models.MODELS[ref]
    assert (m.seconds(inp), m.short(inp), m.frame_rate(inp), m.has_sound(inp)) == (
        pytest.approx(seconds),
        short,
        fps,
        sound,
    )


def test_cancel_after_deadline_aborts_or_cancels(client, stand_in):
    def create(deadline: str) -> str:
        r = httpx.post(
            f"{stand_in.base_url}/v1/models/kwaivgi/kling-v2.6/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Authorization": f"Bearer {stand_in.token}", "Cancel-After": deadline},
        )
        assert r.status_code == 201
        return r.json()["id"]

    never_started = create("50ms")
    stand_in.hang()
    running = create("300ms")
    assert client.predictions.get(running).status == "processing"
    time.sleep(0.35)
    assert stand_in.predictions[never_started].status == "starting"  # deadlines apply when it is next looked at
    assert client.predictions.get(running).status == "canceled"
    raw = httpx.get(
        f"{stand_in.base_url}/v1/predictions/{never_started}", headers={"Authorization": f"Bearer {stand_in.token}"}
    )
    assert raw.json()["status"] == "aborted"  # the client's Prediction model would reject this one


def test_env_points_a_default_client_at_the_stand_in(stand_in, monkeypatch):
    for k, v in stand_in.env().items():
        monkeypatch.setenv(k, v)
    assert replicate.Client().models.get("prunaai/p-video").name == "p-video"
    assert stand_in.requests[-1].headers["Authorization"] == f"Bearer {stand_in.token}"
    assert stand_in.requests[-1].headers["User-Agent"].startswith("replicate-python/")
