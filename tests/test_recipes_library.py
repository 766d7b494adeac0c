"""Recipes as a personal library: `animate --recipe`, `recipes save/list/show/delete`, the API's recipe=.

Tiny real renders (living engine, 96×64, 1 s at 8 fps) on real photos; the
library lives in a temporary config folder (STILLMOTION_CONFIG_DIR).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stillmotion
from stillmotion import recipes
from stillmotion.cli import app
from stillmotion.recipe import read

TINY = ["--size", "96x64", "--duration", "1", "--fps", "8"]
# Request fields a new clip never takes from its recipe, or that differ by design.
_PER_CLIP = {"image", "output", "seed"}

runner = CliRunner()


def _cli(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(autouse=True)
def _library(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("STILLMOTION_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config" / "recipes"


@pytest.fixture
def first(photos, tmp_path) -> Path:
    """A clip of the coffee photo with settings away from the defaults; its recipe next to it."""
    out = tmp_path / "first.mp4"
    res = _cli(
        "animate", photos["coffee"], "-p", "slow push-in, steam rising", "-n", "camera shake",
        *TINY, "--motion-strength", "0.8", "--loop", "--aspect", "1:1", "-o", out,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def _settings(clip: Path) -> dict:
    request = json.loads(clip.with_suffix(".json").read_text())["request"]
    return {k: v for k, v in request.items() if k not in _PER_CLIP}


def test_recipe_json_gives_every_setting_and_a_new_seed(first, photos, tmp_path):
    out = tmp_path / "second.mp4"
    res = _cli("animate", photos["chelsea"], "--recipe", first.with_suffix(".json"), "-o", out)
    assert res.exit_code == 0, res.output
    assert _settings(out) == _settings(first)
    assert _settings(out)["motion_strength"] == 0.8 and _settings(out)["loop"] is True
    old, new = (json.loads(p.with_suffix(".json").read_text()) for p in (first, out))
    assert new["source"]["path"].endswith("chelsea.png") and new["seed"] != old["seed"]


def test_recipe_from_the_mp4_tag_with_same_seed_and_options_that_win(first, photos, tmp_path):
    first.with_suffix(".json").unlink()  # only the MP4's comment tag carries the recipe now
    out = tmp_path / "second.mp4"
    res = _cli(
        "animate", photos["chelsea"], "--recipe", first, "--same-seed", "--fps", "10", "-p", "gentle sway", "-o", out
    )
    assert res.exit_code == 0, res.output
    old, new = read(first), read(out)
    assert new["seed"] == old["seed"]
    assert new["request"]["fps"] == 10.0 and new["prompt"] == "gentle sway"
    assert new["negative_prompt"] == "camera shake" and new["request"]["aspect"] == "1:1"
    assert (new["output"]["width"], new["output"]["height"]) == (96, 64)


def test_a_field_that_no_longer_exists_is_dropped_with_one_note(photos, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {
                "stillmotion": "0.0.1",
                "request": {"prompt": "slow push-in", "duration": 1.0, "fps": 8, "size": "96x64", "wobble": 3},
            }
        )
    )
    res = _cli("animate", photos["chelsea"], "--recipe", old, "-o", tmp_path / "new.mp4")
    assert res.exit_code == 0, res.output
    notes = [line for line in res.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "wobble" in notes[0] and "0.0.1" in notes[0], res.stderr
    assert read(tmp_path / "new.mp4")["request"]["fps"] == 8.0


def test_values_and_files_of_the_old_clip_are_dropped_not_fatal():
    fields, notice = recipes.settings(
        {"request": {"prompt": "sway", "duration": 99, "mask": "/home/ana/mask.png", "image": "/x.png", "seed": 7}}
    )
    assert fields == {"prompt": "sway"}
    assert notice is not None and "duration" in notice and "mask" in notice and "image" not in notice
    assert recipes.settings({"request": {"prompt": "sway", "seed": 7}}, same_seed=True) == (
        {"prompt": "sway", "seed": 7},
        None,
    )


def test_a_preset_given_with_a_recipe_fills_its_own_fields():
    merged = recipes.merge_options({"aspect": "1:1", "duration": 3.0, "loop": False, "fps": 12}, {"preset": "reels"})
    request = stillmotion.AnimateRequest(image=Path("p.png"), **merged)
    assert request.aspect.value == "9:16" and request.duration == 6.0 and request.loop and request.fps == 12


def test_save_list_show_use_delete(first, photos, tmp_path, _library):
    res = _cli("recipes", "save", "steam.v1", first)
    assert res.exit_code == 0, res.output
    saved = _library / "steam.v1.json"
    text = saved.read_text()
    assert str(tmp_path) not in text  # recipe.public: file names, never this machine's folders
    assert [p.name for p in _library.iterdir()] == ["steam.v1.json"]  # no temp file left

    res = _cli("recipes", "list")
    assert res.exit_code == 0 and "steam.v1" in res.output and "slow push-in, steam rising" in res.output
    assert json.loads(_cli("recipes", "list", "--json").output)[0]["name"] == "steam.v1"
    shown = json.loads(_cli("recipes", "show", "steam.v1").output)
    assert shown["request"]["motion_strength"] == 0.8 and shown["request"]["image"] == "coffee.png"

    out = tmp_path / "again.mp4"
    res = _cli("animate", photos["china"], "--recipe", "steam.v1", "-o", out)
    assert res.exit_code == 0, res.output
    assert _settings(out) == _settings(first)

    res = _cli("recipes", "delete", "steam.v1")
    assert res.exit_code == 0 and not saved.exists()
    assert "no saved recipes" in _cli("recipes", "list").output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["recipes", "save", "../evil", "first.mp4"], "not valid"),
        (["recipes", "save", "ok", "missing.json"], "no such file or saved recipe"),
        (["recipes", "show", "absent"], "no saved recipe"),
        (["recipes", "delete", "absent"], "no saved recipe"),
        (["animate", "PHOTO", "--recipe", "absent"], "no such file or saved recipe"),
        (["animate", "PHOTO", "--recipe", "bad.json"], "not readable JSON"),
        (["animate", "PHOTO", "--recipe", "PHOTO"], "carries no recipe"),
        (["animate", "PHOTO", "--same-seed"], "give --recipe"),
    ],
)
def test_bad_names_and_files_are_one_error_line(args, words, photos, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    res = _cli(*[str(photos["chelsea"]) if a == "PHOTO" else a for a in args])
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ") and words in res.stderr, res.stderr
    assert "Traceback" not in res.output
    assert not list(tmp_path.glob("*.mp4"))


def test_api_takes_a_recipe(first, photos, tmp_path):
    recipe = json.loads(first.with_suffix(".json").read_text())
    recipe["request"]["wobble"] = 1
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(recipe))
    with pytest.warns(UserWarning, match="wobble"):
        clip = stillmotion.animate(photos["china"], recipe=path, same_seed=True, output=tmp_path / "api.mp4")
    assert clip.seed == recipe["seed"] and clip.recipe["prompt"] == "slow push-in, steam rising"
    assert _settings(clip.path) == _settings(first)


def test_the_studio_lists_saved_recipes(first, tmp_path):
    from fastapi import testclient

    from stillmotion.server.app import create_app
    from stillmotion.server.jobs import JobStore
    from stillmotion.server.keys import KeyStore

    assert _cli("recipes", "save", "steam", first).exit_code == 0
    data = tmp_path / "data"
    with testclient.TestClient(create_app(data, workers=0), base_url="http://127.0.0.1") as c:
        rows = c.get("/v1/recipes").json()  # the open loopback studio: its owner
    assert rows == [{"name": "steam", "engine": "living", "prompt": "slow push-in, steam rising"}]
    # With per-person keys the library stays the owner's: a plain key is refused, an admin sees it.
    store = KeyStore(JobStore(data))
    ana = store.add("ana")
    lee = store.add("lee", admin=True)
    with testclient.TestClient(create_app(data, workers=0), base_url="http://127.0.0.1") as c:
        assert c.get("/v1/recipes", headers={"Authorization": f"Bearer {ana}"}).status_code == 403
        assert c.get("/v1/recipes", headers={"Authorization": f"Bearer {lee}"}).json() == rows
