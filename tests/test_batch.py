"""`stillmotion batch`: row checks before rendering, clips + reports + contact sheet, resume, failures, --json.

Real photos (scikit-image, scikit-learn) and the living engine at a tiny size: 96×64, 1 s at 8 fps.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stillmotion.batch import read_manifest, run_batch
from stillmotion.cli import app
from stillmotion.video import probe

runner = CliRunner()
TINY = ["--size", "96x64", "--duration", "1", "--fps", "8"]


def _batch(*args: str):
    return runner.invoke(app, ["batch", *args])


def _manifest(folder: Path, lines: list[str], name: str = "m.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _report(out: Path) -> list[dict]:
    return json.loads((out / "report.json").read_text())["rows"]


def _mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}


def test_bad_rows_are_reported_by_line_and_field_and_nothing_renders(tmp_path, photos):
    m = _manifest(
        tmp_path,
        [
            "image,name,prompt,duration,resolution",
            f"{photos['astronaut']},,slow push-in,2,",
            f"{photos['coffee']},,steam rises,99,",
            "missing.jpg,,x,,",
            f"{photos['chelsea']},,,,4k",
            f"{photos['china']},astronaut,,,",
        ],
    )
    out = tmp_path / "out"
    result = _batch(str(m), "--out", str(out), *TINY)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "error: m.csv line 3: --duration '99' is out of range: use a value in 1..30" in lines
    assert any(line.startswith("error: m.csv line 4: photo ") and "does not exist" in line for line in lines)
    assert any(line.startswith("error: m.csv line 5: --resolution '4k'") for line in lines)
    assert any(line.startswith("error: m.csv line 6: name 'astronaut' is also line 2's") for line in lines)
    assert "Traceback" not in result.output
    assert not out.exists() or not list(out.glob("*.mp4"))

    rows, problems = read_manifest(m, out)
    assert [r.row for r in rows] == [2]
    assert [(p.row, p.field) for p in problems] == [(3, "duration"), (4, "image"), (5, "resolution"), (6, "name")]


def test_unknown_column_and_engine_are_named(tmp_path, photos):
    m = _manifest(tmp_path, ["image,speed", f"{photos['coffee']},3"])
    _, problems = read_manifest(m, tmp_path / "out")
    assert [(p.row, p.field) for p in problems] == [(2, "speed")]
    m = _manifest(tmp_path, [json.dumps({"image": str(photos["coffee"]), "engine": "nope"}), "[1]"], name="m.jsonl")
    _, problems = read_manifest(m, tmp_path / "out")
    assert [(p.row, p.field) for p in problems] == [(1, "engine"), (2, "line")]
    assert "'nope' is unknown" in problems[0].message


def test_batch_writes_clips_reports_and_contact_sheet_then_resumes(tmp_path, photos):
    m = _manifest(
        tmp_path,
        [
            "image,name,prompt,seed",
            f"{photos['astronaut']},,slow push-in,3",
            f"{photos['coffee']},cup,steam rises,",
        ],
    )
    out = tmp_path / "out"
    result = _batch(str(m), "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    assert probe(out / "astronaut.mp4")["width"] == 96
    assert (out / "cup.mp4").exists() and (out / "cup.json").exists()
    rows = _report(out)
    assert [(r["row"], r["name"], r["status"], r["outputs"]) for r in rows] == [
        (2, "astronaut", "succeeded", ["astronaut.mp4"]),
        (3, "cup", "succeeded", ["cup.mp4"]),
    ]
    assert all(r["node"] and r["seconds"] > 0 and not r["resumed"] for r in rows)
    with (out / "report.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [t["status"] for t in table] == ["succeeded", "succeeded"]
    page = (out / "index.html").read_text()
    assert 'href="cup.mp4"' in page and 'src="cup.thumb.png"' in page and (out / "cup.thumb.png").exists()
    assert not [p for p in out.iterdir() if ".part" in p.name]

    # The same command again renders nothing.
    before = _mtimes(out)
    again = _batch(str(m), "--out", str(out), *TINY)
    assert again.exit_code == 0, again.output
    assert _mtimes(out) == before
    assert all(r["resumed"] and r["status"] == "succeeded" for r in _report(out))

    # A changed row (a new prompt) renders again; the other does not.
    m = _manifest(
        tmp_path,
        [
            "image,name,prompt,seed",
            f"{photos['astronaut']},,slow push-in,3",
            f"{photos['coffee']},cup,steam rises fast,",
        ],
    )
    changed = _batch(str(m), "--out", str(out), *TINY)
    assert changed.exit_code == 0, changed.output
    after = _mtimes(out)
    assert after["astronaut.mp4"] == before["astronaut.mp4"] and after["cup.mp4"] != before["cup.mp4"]
    assert [r["resumed"] for r in _report(out)] == [True, False]
    # So does a changed default from the command line.
    assert _batch(str(m), "--out", str(out), *TINY[:-1], "12").exit_code == 0
    assert not any(r["resumed"] for r in _report(out))


def test_a_failing_row_fails_alone_and_json_lines(tmp_path, photos, monkeypatch):
    broken = tmp_path / "broken.png"  # a readable header, a truncated body: fails only when rendered
    data = photos["chelsea"].read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    for name in ("astronaut", "coffee"):
        (photo_dir / f"{name}.png").write_bytes(photos[name].read_bytes())
    (photo_dir / "broken.png").write_bytes(broken.read_bytes())
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # a relative folder, as typed
    result = _batch("photos", "-p", "gentle breeze", "--out", "out", "--json", *TINY)
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(r["name"], r["status"]) for r in lines} == {
        ("astronaut", "succeeded"),
        ("broken", "failed"),
        ("coffee", "succeeded"),
    }
    failed = next(r for r in lines if r["status"] == "failed")
    assert "truncated or corrupt" in failed["error"] and failed["outputs"] == []
    assert not (out / "broken.mp4").exists() and not [p for p in out.iterdir() if ".part" in p.name]
    assert [r["status"] for r in _report(out)] == ["succeeded", "failed", "succeeded"]
    assert "truncated or corrupt" in (out / "index.html").read_text()


def test_skip_invalid_renders_the_rest(tmp_path, photos):
    m = _manifest(
        tmp_path,
        [json.dumps({"image": str(photos["coffee"]), "prompt": "steam rises"}), '{"image": "nothing.png"}'],
        name="m.jsonl",
    )
    out = tmp_path / "out"
    result = _batch(str(m), "--out", str(out), "--skip-invalid", *TINY)
    assert result.exit_code == 0, result.output
    assert "skipped: m.jsonl line 2: photo" in result.stderr
    assert [(r["row"], r["status"]) for r in _report(out)] == [(1, "succeeded"), (2, "skipped")]


def test_variations_resume_and_processes(tmp_path, photos):
    m = _manifest(tmp_path, ["image,variations", f"{photos['coffee']},2", f"{photos['astronaut']},1"])
    rows, problems = read_manifest(m, tmp_path / "out", {"size": "96x64", "duration": 1, "fps": 8})
    assert not problems
    results = run_batch(rows, tmp_path / "out", concurrency=2)
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    assert len(results[0].outputs) == 2 and all("_seed" in o for o in results[0].outputs)
    again = run_batch(rows, tmp_path / "out", concurrency=2)
    assert [r.resumed for r in again] == [True, True]
    assert [r.outputs for r in again] == [r.outputs for r in results]


@pytest.mark.parametrize("column", ["output", "show_regions"])
def test_batch_chooses_the_output_names(tmp_path, photos, column):
    m = _manifest(tmp_path, [f"image,{column}", f"{photos['coffee']},x.png"])
    _, problems = read_manifest(m, tmp_path / "out")
    assert [(p.row, p.field) for p in problems] == [(2, column)]


def test_ctrl_c_keeps_finished_rows_and_leaves_no_partial_file(tmp_path, photos):
    names = ["astronaut", "coffee", "chelsea", "china"]
    m = _manifest(tmp_path, ["image,prompt", *(f"{photos[n]},slow push-in" for n in names)])
    out = tmp_path / "out"
    args = [str(m), "--out", str(out), "--size", "320x214", "--duration", "3", "--fps", "24", "--seed", "1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "stillmotion", "batch", *args], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "report.json").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    finished = [r for r in _report(out) if r["status"] == "succeeded"]
    if proc.returncode == 0:
        pytest.skip("the batch finished before the interrupt arrived")
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    assert 1 <= len(finished) < len(names)
    assert not [p.name for p in out.iterdir() if ".part" in p.name or p.name.startswith(".")]
    assert sorted(p.stem for p in out.glob("*.mp4")) == sorted(r["name"] for r in finished)
    for r in finished:
        assert probe(out / r["outputs"][0])["frame_count"] == 72

    resumed = _batch(*args)
    assert resumed.exit_code == 0, resumed.output
    rows = _report(out)
    assert [r["resumed"] for r in rows] == [r["name"] in {f["name"] for f in finished} for r in rows]


def test_recipe_column_fills_rows_and_cells_and_options_win(tmp_path, photos):
    recipe = tmp_path / "steam.json"
    recipe.write_text(
        json.dumps({"request": {"prompt": "pan left", "fps": 8, "size": "96x64", "duration": 1, "wobble": 3}})
    )
    m = _manifest(
        tmp_path,
        [
            "image,recipe,duration",
            f"{photos['coffee']},steam.json,",  # relative to the manifest
            f"{photos['astronaut']},steam.json,2",  # the row's own cell wins
            f"{photos['chelsea']},,",  # no recipe: the options alone
        ],
    )
    out = tmp_path / "out"
    result = _batch(str(m), "--out", str(out), "--fps", "12", "--size", "112x64", "--duration", "1")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("wobble (no longer a setting)") == 2  # one note per row that used it
    got = {p.stem: json.loads(p.read_text())["request"] for p in out.glob("*.json") if p.stem != "report"}
    # The options given win over the recipe (fps, size); the recipe fills what they leave (prompt).
    assert got["coffee"]["prompt"] == "pan left" and got["coffee"]["fps"] == 12 and got["coffee"]["size"] == "112x64"
    assert got["astronaut"]["duration"] == 2 and got["astronaut"]["prompt"] == "pan left"
    assert got["chelsea"]["prompt"] != "pan left"
    assert probe(out / "coffee.mp4")["frame_count"] == 12

    bad = _manifest(tmp_path, ["image,recipe", f"{photos['coffee']},no-such-recipe"], name="bad.csv")
    refused = _batch(str(bad), "--out", str(tmp_path / "out2"))
    assert refused.exit_code == 2
    assert "bad.csv line 2: " in refused.stderr and "no-such-recipe" in refused.stderr
    assert not (tmp_path / "out2").exists() or not list((tmp_path / "out2").glob("*.mp4"))


def test_out_as_an_fsspec_url_uploads_rows_and_resumes_from_there(tmp_path, photos):
    """--out file:///… goes through fsspec exactly as s3://… would (LocalFileSystem instead of S3)."""
    from stillmotion.batch import RemoteOut

    m = _manifest(tmp_path, ["image,prompt", f"{photos['coffee']},steam rises", f"{photos['china']},slow push-in"])
    remote = tmp_path / "bucket" / "clips"
    url = f"file://{remote}"
    result = _batch(str(m), "--out", url, "--json", *TINY)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in remote.iterdir()) == sorted(
        f"{n}{ext}" for n in ("coffee", "china") for ext in (".mp4", ".json", ".thumb.png")
    ) + ["index.html", "report.csv", "report.json"]
    for name in ("coffee", "china"):
        recipe = json.loads((remote / f"{name}.json").read_text())
        assert recipe["request"]["output"] == f"{url}/{name}.mp4"  # the URL, not the staging folder
        assert probe(remote / f"{name}.mp4")["frame_count"] == 8
    staging = RemoteOut(url).staging
    assert not list(staging.glob("*.mp4")) and not list(staging.glob("*.thumb.png"))  # uploaded, then removed
    again = _batch(str(m), "--out", url, "--json", *TINY)
    assert again.exit_code == 0, again.output
    assert [json.loads(line)["resumed"] for line in again.stdout.splitlines()] == [True, True]
    assert [r["thumbnail"] for r in _report(remote)] == ["coffee.thumb.png", "china.thumb.png"]


def test_blank_spreadsheet_lines_are_not_rows(tmp_path, photos):
    m = _manifest(tmp_path, ["image,prompt,seed", f"{photos['coffee']},steam rises,1", ",,", "  ,  , ", ""])
    rows, problems = read_manifest(m, tmp_path / "out")
    assert not problems and [r.row for r in rows] == [2]
