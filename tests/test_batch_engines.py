"""`stillmotion batch` with mixed engines in one manifest: the living engine, a tiny diffusion model
and a hosted model on the local Replicate stand-in, through the real CLI.

Nothing is downloaded and no live service is called: the diffusion row runs a tiny Stable Video
Diffusion pipeline built from configs (tests/tiny_pipelines.py) and saved as a ``model_path``
folder; the hosted row goes through the real ``replicate`` client to tests/standins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("diffusers")
pytest.importorskip("transformers")
pytest.importorskip("replicate")

from standins import models as standin_models
from standins.replicate_api import ReplicateStandIn
from stillmotion.cli import app
from stillmotion.video import probe
from tiny_pipelines import tiny_svd

runner = CliRunner()
HOSTED = "replicate:pia"  # the stand-in's cjwbw/pia makes short 8 fps clips, 512 px on the long side
HOSTED_REF = "cjwbw/pia"
LIVING = {"size": (96, 64), "fps": 8}
DIFFUSION = {"size": (64, 64), "steps": 2}
DURATION = 1
SEED = 1
ENGINES = {"living": "living", "diffusion": "svd-xt", "hosted": HOSTED}


@pytest.fixture(scope="module")
def svd_folder(tmp_path_factory) -> Path:
    """A diffusers-format folder of an untrained, tiny SVD pipeline (as a user's downloaded weights)."""
    import warnings

    folder = tmp_path_factory.mktemp("tiny_svd") / "svd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiny_svd().save_pretrained(folder)
    return folder


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """A running Replicate stand-in, the environment pointing stillmotion at it, a fresh schema cache.
    Predictions finish on their first poll."""
    server = ReplicateStandIn(processing_after=0, succeeded_after=1).start()
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STILLMOTION_OFFLINE", raising=False)
    yield server
    server.stop()


def _manifest(folder: Path, photos: dict[str, Path], svd: Path) -> Path:
    """One CSV: cells left empty take the command line's defaults (--duration, --seed).
    The model folder is given relative to the manifest, as a user would write it next to the weights."""
    model = os.path.relpath(svd, folder)
    lines = [
        "image,name,engine,model_path,size,fps,steps,prompt",
        f"{photos['astronaut']},living,living,,{'x'.join(map(str, LIVING['size']))},{LIVING['fps']},,slow push-in",
        f"{photos['coffee']},diffusion,svd-xt,{model},{'x'.join(map(str, DIFFUSION['size']))},,{DIFFUSION['steps']},",
        f"{photos['china']},hosted,{HOSTED},,,,,waves rolling in",
    ]
    path = folder / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _batch(manifest: Path, out: Path, *more: str):
    args = ["batch", str(manifest), "--out", str(out), "--duration", str(DURATION), "--seed", str(SEED), *more]
    return runner.invoke(app, args)


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def _rows(out: Path) -> dict[str, dict]:
    return {r["name"]: r for r in _report(out)["rows"]}


def _mtimes(out: Path) -> dict[str, int]:
    """The clips, their recipes and thumbnails (not the reports, which every run rewrites)."""
    return {
        p.name: p.stat().st_mtime_ns
        for p in out.glob("*")
        if p.suffix in (".mp4", ".json", ".png") and not p.name.startswith("report")
    }


def _photo_size(photo: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(photo) as im:
        return im.size


def _check_clip(out: Path, name: str, stand_in: ReplicateStandIn, photo: Path, svd: Path) -> None:
    """The row's clip is a readable video of the size and length its engine makes for this request."""
    clip = out / f"{name}.mp4"
    info = probe(clip)
    recipe = json.loads(clip.with_suffix(".json").read_text())
    assert recipe["engine"] == ENGINES[name] == recipe["request"]["engine"]
    assert recipe["output"]["frames"] == info["frame_count"]
    assert recipe["seed"] == SEED and recipe["request"]["duration"] == DURATION  # the command line's defaults
    if name == "living":
        assert (info["width"], info["height"]) == LIVING["size"]
        assert info["frame_count"] == LIVING["fps"] * DURATION and info["fps"] == LIVING["fps"]
        assert recipe["plan"] is not None
    elif name == "diffusion":
        shot = recipe["shot"]
        assert (info["width"], info["height"]) == DIFFUSION["size"] == tuple(shot["size"])
        assert shot["model"] == str(svd.resolve()) and shot["num_inference_steps"] == DIFFUSION["steps"]
        # SVD makes its own frame rate; 1 s of it.
        assert info["frame_count"] == shot["frames"] == round(shot["fps"] * DURATION) and info["fps"] == shot["fps"]
    else:
        shot = recipe["shot"]
        (prediction,) = [p for p in stand_in.predictions.values() if p.id == shot["prediction_id"]]
        assert shot["provider"] == "replicate" and shot["model"] == HOSTED_REF == prediction.model
        assert prediction.input["seed"] == SEED and prediction.input["image"].startswith(stand_in.base_url)
        model = standin_models.MODELS[HOSTED_REF]  # what the stand-in makes for the inputs it was sent
        frames = round(model.seconds(prediction.input) * model.frame_rate(prediction.input))
        assert info["frame_count"] == frames and info["fps"] == model.frame_rate(prediction.input)
        long_side = -model.short(prediction.input)  # PIA's size field is the long side
        assert max(info["width"], info["height"]) == long_side
        pw, ph = _photo_size(photo)
        assert abs(info["width"] / info["height"] - pw / ph) < 0.02  # the photo's shape


def test_mixed_engines_render_report_and_resume(tmp_path, photos, svd_folder, stand_in):
    manifest = _manifest(tmp_path, photos, svd_folder)
    out = tmp_path / "out"
    result = _batch(manifest, out)
    assert result.exit_code == 0, result.output

    report = _report(out)
    assert report["summary"] == {"succeeded": 3, "failed": 0, "skipped": 0}
    rows = _rows(out)
    assert [(r["row"], r["name"]) for r in report["rows"]] == [(2, "living"), (3, "diffusion"), (4, "hosted")]
    sources = {"living": photos["astronaut"], "diffusion": photos["coffee"], "hosted": photos["china"]}
    for name, row in rows.items():
        assert row["status"] == "succeeded" and row["error"] is None and not row["resumed"], row
        assert row["outputs"] == [f"{name}.mp4"] and row["seconds"] > 0 and row["node"]
        assert row["thumbnail"] == f"{name}.thumb.png" and (out / row["thumbnail"]).stat().st_size > 0
        _check_clip(out, name, stand_in, sources[name], svd_folder)
    assert len(stand_in.predictions) == 1  # only the hosted row went to the provider

    page = (out / "index.html").read_text()
    assert "3 succeeded, 0 failed, 0 skipped" in page
    for name in ENGINES:
        assert f"<b>{name}</b>" in page and f'href="{name}.mp4"' in page and f'src="{name}.thumb.png"' in page
    assert not [p for p in out.iterdir() if ".part" in p.name or p.name.startswith(".")]
    for p in out.iterdir():  # the provider's token is nowhere in what the batch wrote
        assert stand_in.token.encode() not in p.read_bytes(), p
    assert stand_in.token_leaks() == []

    # The same command again renders nothing: every row is found done, nothing is rewritten but the reports.
    before = _mtimes(out)
    again = _batch(manifest, out)
    assert again.exit_code == 0, again.output
    assert _mtimes(out) == before
    assert len(stand_in.predictions) == 1  # no new prediction on the provider
    resumed = _rows(out)
    assert all(r["resumed"] and r["status"] == "succeeded" for r in resumed.values()), resumed
    assert {n: r["outputs"] for n, r in resumed.items()} == {n: r["outputs"] for n, r in rows.items()}
    # A resumed row reports the render time its recipe recorded.
    for name, row in resumed.items():
        recorded = json.loads((out / f"{name}.json").read_text())["timings_s"]["total"]
        assert row["seconds"] == pytest.approx(recorded)


def test_a_hosted_row_failing_at_the_provider_fails_alone(tmp_path, photos, svd_folder, stand_in):
    reason = "The input or output was flagged as sensitive. Please try again."
    stand_in.fail_next(reason)
    manifest = _manifest(tmp_path, photos, svd_folder)
    out = tmp_path / "out"
    result = _batch(manifest, out, "--json")
    assert result.exit_code == 1, result.output
    lines = {r["name"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert {n: r["status"] for n, r in lines.items()} == {
        "living": "succeeded",
        "diffusion": "succeeded",
        "hosted": "failed",
    }
    (prediction,) = stand_in.predictions.values()
    assert prediction.status == "failed" and prediction.error == reason

    report = _report(out)
    assert report["summary"] == {"succeeded": 2, "failed": 1, "skipped": 0}
    rows = _rows(out)
    failed = rows["hosted"]
    assert reason in failed["error"] and "\n" not in failed["error"] and failed["error"] == lines["hosted"]["error"]
    assert failed["outputs"] == [] and failed["thumbnail"] is None
    assert not [p for p in out.iterdir() if p.name.startswith("hosted")]
    assert not [p for p in out.iterdir() if ".part" in p.name or p.name.startswith(".")]
    sources = {"living": photos["astronaut"], "diffusion": photos["coffee"]}
    for name, photo in sources.items():
        assert rows[name]["error"] is None and rows[name]["outputs"] == [f"{name}.mp4"]
        _check_clip(out, name, stand_in, photo, svd_folder)
    page = (out / "index.html").read_text()
    assert '<figure class="failed">' in page and reason.split(".")[0] in page
    assert page.count('<figure class="succeeded">') == 2

    # Run again: the provider now succeeds; only the failed row renders, the others are found done.
    before = _mtimes(out)
    again = _batch(manifest, out)
    assert again.exit_code == 0, again.output
    rows = _rows(out)
    assert {n: (r["status"], r["resumed"]) for n, r in rows.items()} == {
        "living": ("succeeded", True),
        "diffusion": ("succeeded", True),
        "hosted": ("succeeded", False),
    }
    assert {k: v for k, v in _mtimes(out).items() if not k.startswith("hosted")} == before
    assert len(stand_in.predictions) == 2
    _check_clip(out, "hosted", stand_in, photos["china"], svd_folder)


def test_hosted_rows_keep_to_their_own_concurrency_cap(tmp_path, photos, monkeypatch):
    """Five hosted rows, --hosted-concurrency 2, predictions that take 1 s each on the stand-in's clock:
    never more than two are open at the provider at once, and two are (the cap is used, not just kept)."""
    server = ReplicateStandIn(clock="seconds", processing_after=0.1, succeeded_after=1.0).start()
    try:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("STILLMOTION_OFFLINE", raising=False)
        names = ["astronaut", "coffee", "chelsea", "china", "motorcycle"]
        m = tmp_path / "hosted.csv"
        m.write_text("image,engine,prompt\n" + "".join(f"{photos[n]},{HOSTED},waves\n" for n in names))
        out = tmp_path / "out"
        result = _batch(m, out, "--hosted-concurrency", "2", "--json")
        assert result.exit_code == 0, result.output
        assert _report(out)["summary"]["succeeded"] == len(names)
        spans = [(p.created_at, p.completed_at) for p in server.predictions.values()]
    finally:
        server.stop()
    assert len(spans) == len(names) and all(end is not None for _, end in spans)
    open_at = [sum(1 for s, e in spans if s <= t < e) for t, _ in spans]  # open predictions as each starts
    assert max(open_at) == 2, spans
