"""The studio's recipe library over HTTP: ``GET/POST /v1/recipes``, ``GET/DELETE /v1/recipes/{name}``.

The API runs in-process (FastAPI's TestClient) with one real worker process, which
renders a tiny clip whose recipe is then saved, listed, loaded for a new photo and
deleted. The library is a tmp folder (``STILLMOTION_CONFIG_DIR``): nothing touches
the real config. Callers are real keys (`stillmotion keys add`, one ``--admin``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stillmotion.cli import app as cli_app

testclient = pytest.importorskip("fastapi.testclient")
pytest.importorskip("uvicorn")

from stillmotion.server.app import create_app  # noqa: E402
from stillmotion.server.limits import Limits  # noqa: E402

TINY = {"size": "256x170", "duration": "1", "fps": "8", "prompt": "slow push-in, steam rising", "seed": "7"}
FINAL = {"succeeded", "failed", "canceled"}


def _key(data: Path, name: str, *extra: str) -> dict[str, str]:
    r = CliRunner().invoke(cli_app, ["keys", "add", name, "--data", str(data), *extra])
    assert r.exit_code == 0, r.output
    return {"Authorization": f"Bearer {r.stdout.strip()}"}


@pytest.fixture(scope="module")
def studio(tmp_path_factory, photos):
    """(client, admin headers, non-admin headers, succeeded job id, canceled job id, library folder, photo bytes)."""
    root = tmp_path_factory.mktemp("recipes-studio")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STILLMOTION_CONFIG_DIR", str(root / "config"))  # the worker process inherits it too
        data = root / "data"
        boss, ana = _key(data, "boss", "--admin"), _key(data, "ana")
        app = create_app(data, workers=1, hosted_workers=0, limits=Limits(max_rate=1000))  # requests in bursts
        with testclient.TestClient(app, base_url="http://127.0.0.1") as c:
            photo = photos["coffee"].read_bytes()

            def submit(**fields) -> str:
                files = {"image": ("coffee.png", photo, "image/png")}
                r = c.post("/v1/jobs", files=files, data=TINY | fields, headers=boss)
                assert r.status_code == 201, r.text
                return r.json()["id"]

            done = submit()
            deadline = time.monotonic() + 120
            while (job := c.get(f"/v1/jobs/{done}", headers=boss).json())["status"] not in FINAL:
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            assert job["status"] == "succeeded", job
            canceled = submit(duration="30")
            assert c.post(f"/v1/jobs/{canceled}/cancel", headers=boss).status_code == 200
            yield c, boss, ana, done, canceled, root / "config" / "recipes", photo


def test_save_list_get_and_delete(studio):
    c, boss, _, done, _, library, photo = studio
    r = c.post("/v1/recipes", json={"name": "steam.v1", "job_id": done}, headers=boss)
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "steam.v1", "prompt": TINY["prompt"], "engine": "living"}
    saved = library / "steam.v1.json"
    text = saved.read_text()
    # The public copy: the photo and the outputs by file name, never the server's data folder.
    assert str(Path(c.app.state.store.data)) not in text and '"/' not in text, text
    assert json.loads(text)["request"]["prompt"] == TINY["prompt"]

    assert {"name": "steam.v1", "engine": "living", "prompt": TINY["prompt"]} in c.get(
        "/v1/recipes", headers=boss
    ).json()

    got = c.get("/v1/recipes/steam.v1", headers=boss).json()
    assert got["name"] == "steam.v1" and got["notice"] is None, got  # a clip of this version: nothing dropped
    s = got["settings"]
    assert s["prompt"] == TINY["prompt"] and s["engine"] == "living" and s["size"] == "256x170"
    assert s["duration"] == 1 and s["fps"] == 8
    assert "seed" not in s and "image" not in s and "output" not in s  # a new photo draws its own seed
    assert c.get("/v1/recipes/steam.v1?same_seed=true", headers=boss).json()["settings"]["seed"] == 7

    # The settings submit as they are: a new job from the recipe, which takes them.
    form = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in s.items() if v is not None}
    r = c.post("/v1/jobs", files={"image": ("new.png", photo, "image/png")}, data=form, headers=boss)
    assert r.status_code == 201, r.text
    assert {k: r.json()["request"][k] for k in ("prompt", "size", "duration")} == {
        "prompt": TINY["prompt"],
        "size": "256x170",
        "duration": 1,
    }
    assert c.post(f"/v1/jobs/{r.json()['id']}/cancel", headers=boss).status_code == 200

    r = c.delete("/v1/recipes/steam.v1", headers=boss)
    assert r.status_code == 204 and not saved.exists()
    r = c.delete("/v1/recipes/steam.v1", headers=boss)
    assert r.status_code == 404 and r.json() == {"error": "no saved recipe 'steam.v1': see GET /v1/recipes"}
    assert "steam.v1" not in [x["name"] for x in c.get("/v1/recipes", headers=boss).json()]


def test_a_dropped_field_is_named_in_the_notice(studio):
    c, boss, *_, library, _ = studio
    library.mkdir(parents=True, exist_ok=True)
    old = {
        "stillmotion": "0.0.1",
        "request": {
            "prompt": "waves rolling in",
            "engine": "living",
            "duration": 2,
            "sparkle": 0.7,  # a field no version of this one has
            "mask": "/home/someone/mask.png",
            "steps": 30,  # a command-line setting a studio job cannot take
        },
    }
    (library / "old-one.json").write_text(json.dumps(old))
    got = c.get("/v1/recipes/old-one", headers=boss).json()
    assert got["settings"] == {"prompt": "waves rolling in", "engine": "living", "duration": 2}
    notice = got["notice"]
    assert "made by stillmotion 0.0.1" in notice
    assert "sparkle (no longer a setting)" in notice
    assert "mask (a file of the old clip" in notice and "/home/someone" not in notice
    assert "steps (not a setting of the studio's jobs)" in notice


def test_replace_needs_saying(studio):
    c, boss, _, done, _, library, _ = studio
    assert c.post("/v1/recipes", json={"name": "mine", "job_id": done}, headers=boss).status_code == 201
    (library / "mine.json").write_text(json.dumps({"prompt": "hand edited"}))
    r = c.post("/v1/recipes", json={"name": "mine", "job_id": done}, headers=boss)
    assert r.status_code == 409
    assert r.json()["error"] == "a recipe named 'mine' exists: choose another name, or send \"replace\": true"
    assert json.loads((library / "mine.json").read_text()) == {"prompt": "hand edited"}  # untouched
    r = c.post("/v1/recipes", json={"name": "mine", "job_id": done, "replace": True}, headers=boss)
    assert r.status_code == 201
    assert json.loads((library / "mine.json").read_text())["request"]["prompt"] == TINY["prompt"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"name": "../evil", "job_id": "J"}, 400, "recipe name '../evil' is not valid"),
        ({"name": "ok", "job_id": "jnosuchjob"}, 404, "no job 'jnosuchjob'"),
        ({"name": "ok", "job_id": "C"}, 409, "is canceled: only a finished clip has a recipe"),
        ({"name": "ok", "jobid": "J"}, 400, "unknown field jobid (did you mean job_id?)"),
        ({"name": 5, "job_id": "J"}, 400, "name: Input should be a valid string"),
        (["ok", "J"], 400, "send a JSON object"),
    ],
)
def test_save_errors(studio, body, status, error):
    c, boss, _, done, canceled, library, _ = studio
    swap = {"J": done, "C": canceled}
    if isinstance(body, dict):
        body = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = sorted(p.name for p in library.glob("*")) if library.is_dir() else []
    r = c.post("/v1/recipes", json=body, headers=boss)
    assert r.status_code == status, r.text
    assert error in r.json()["error"]
    assert (sorted(p.name for p in library.glob("*")) if library.is_dir() else []) == before


def test_bad_and_unknown_names(studio):
    c, boss, *_ = studio
    r = c.get("/v1/recipes/..hidden", headers=boss)
    assert r.status_code == 400 and "recipe name '..hidden' is not valid" in r.json()["error"]
    r = c.get("/v1/recipes/absent", headers=boss)
    assert r.status_code == 404 and r.json() == {"error": "no saved recipe 'absent': see GET /v1/recipes"}
    assert c.delete("/v1/recipes/..hidden", headers=boss).status_code == 400


def test_only_admin_callers_use_the_library(studio):
    c, boss, ana, done, _, library, _ = studio
    assert c.post("/v1/recipes", json={"name": "boss-only", "job_id": done}, headers=boss).status_code == 201
    refused = "the saved recipes are the server owner's: an admin key or the token sees them"
    for method, path, body in [
        ("GET", "/v1/recipes", None),
        ("GET", "/v1/recipes/boss-only", None),
        ("POST", "/v1/recipes", {"name": "ana", "job_id": done}),
        ("DELETE", "/v1/recipes/boss-only", None),
    ]:
        r = c.request(method, path, json=body, headers=ana)
        assert r.status_code == 403 and r.json() == {"error": refused}, (method, path, r.text)
    assert (library / "boss-only.json").is_file() and not (library / "ana.json").exists()
    assert c.get("/v1/recipes", headers={}).status_code == 401  # keys exist: no key, no answer
