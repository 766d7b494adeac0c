"""`stillmotion batch --ray`: rows as tasks on a real two-node Ray cluster (tests/ray_cluster.py).

The photos travel with the tasks and the clips come back; a node killed mid-batch loses no row.
Living engine at small sizes; a node is one CPU.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ray_cluster as rc
from stillmotion.batch import read_manifest, run_batch
from stillmotion.cli import app
from stillmotion.recipe import from_tags, read
from stillmotion.video import probe

runner = CliRunner()
NAMES = ["astronaut", "coffee", "chelsea", "china"]


def _manifest(folder: Path, photos: dict[str, Path], names: list[str]) -> Path:
    # The photos are copied where only this machine has them: a node must get them from the task.
    own = folder / "photos"
    own.mkdir()
    lines = ["image,name,prompt,seed"]
    for i, name in enumerate(names):
        (own / f"{name}.png").write_bytes(photos[name.split("-")[0]].read_bytes())
        lines.append(f"photos/{name}.png,{name},slow push-in,{i + 1}")
    path = folder / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _nodes(folder: Path) -> set[str]:
    """The Ray node ids (8 hex digits) of the live nodes of the cluster in ``folder``."""
    import ray

    from stillmotion.cluster import connect

    connect((folder / "address").read_text().strip())
    try:
        return {n["NodeID"][:8] for n in ray.nodes() if n["Alive"]}
    finally:
        ray.shutdown()


def test_batch_on_the_cluster_ships_photos_and_brings_clips_back(ray_cluster, photos, tmp_path):
    folder, address = ray_cluster
    m = _manifest(tmp_path, photos, NAMES)
    out = tmp_path / "out"
    args = [str(m), "--out", str(out), "--ray", address, "--size", "160x96", "--duration", "1", "--fps", "12"]
    result = runner.invoke(app, ["batch", *args, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["name"] for r in rows) == sorted(NAMES)
    assert {r["status"] for r in rows} == {"succeeded"}
    # Both nodes rendered (each has one CPU and four rows were in flight); the node is HOST/NODE_ID.
    assert {r["node"].split("/")[-1] for r in rows} == _nodes(folder)
    for name in NAMES:
        clip = out / f"{name}.mp4"
        info = probe(clip)
        assert (info["width"], info["height"], info["frame_count"]) == (160, 96, 12)
        # The recipe names this machine's photo and output, in the tags and the sidecar alike,
        # not the node's temporary copy.
        photo = str((tmp_path / "photos" / f"{name}.png").resolve())
        for recipe in (from_tags(info["metadata"]), json.loads((out / f"{name}.json").read_text())):
            assert recipe["request"]["image"] == photo
            assert recipe["request"]["output"] == str(clip.resolve())
            assert recipe["source"]["path"] == photo
        assert (out / f"{name}.thumb.png").exists()
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["succeeded"] == len(NAMES)
    assert not [p for p in out.iterdir() if ".part" in p.name or p.name.startswith(".")]

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}
    again = runner.invoke(app, ["batch", *args, "--json"])
    assert again.exit_code == 0, again.output
    assert all(json.loads(line)["resumed"] for line in again.stdout.splitlines())
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}

    # A changed row renders again, on the cluster; the others stay done.
    m.write_text(m.read_text().replace("china,slow push-in", "china,pan left"))
    changed = runner.invoke(app, ["batch", *args, "--json"])
    assert changed.exit_code == 0, changed.output
    by_name = {r["name"]: r for r in map(json.loads, changed.stdout.splitlines())}
    assert [n for n, r in by_name.items() if not r["resumed"]] == ["china"]
    assert read(out / "china.mp4")["request"]["prompt"] == "pan left"


def test_a_node_killed_mid_batch_loses_no_row(ray_cluster, photos, tmp_path):
    """The second node's raylet is SIGKILLed once it has finished a row; Ray retries its task on the
    head; every row succeeds and the report shows rows from both nodes."""
    folder, address = ray_cluster
    names = [f"{n}-{i}" for i in range(2) for n in NAMES]
    m = _manifest(tmp_path, photos, names)
    out = tmp_path / "out"
    rows, problems = read_manifest(m, out, {"size": "320x192", "duration": 2, "fps": 24}, cluster=True)
    assert not problems
    head = _head_node(folder)
    killed: list[int] = []
    lock = threading.Lock()

    def on_row(result, done, total):
        with lock:
            if not killed and result.node.split("/")[-1] != head:
                killed.append(rc.kill_raylet(folder))

    try:
        results = run_batch(rows, out, ray_address=address, on_row=on_row)
    finally:
        if killed:  # the later tests get their second node back
            rc.add_node(folder, f"node-{killed[0]}")
            rc.wait_nodes(address, 2)
    assert killed, "no row finished on the second node: the kill never happened"
    assert [r.status for r in results] == ["succeeded"] * len(names), [r.error for r in results]
    ran_on = {r.node.split("/")[-1] for r in results}
    assert head in ran_on and len(ran_on) == 2
    for r in results:
        assert probe(out / r.outputs[0])["frame_count"] == 48
    assert not [p for p in out.iterdir() if ".part" in p.name]


def test_nodes_upload_straight_to_an_fsspec_url(ray_cluster, photos, tmp_path):
    """--out file:///… on the cluster: each node uploads its row itself; nothing comes back here but
    the result, and the reports are written at the URL."""
    _, address = ray_cluster
    m = _manifest(tmp_path, photos, NAMES[:2])
    remote = tmp_path / "bucket"
    url = f"file://{remote}"
    args = [str(m), "--out", url, "--ray", address, "--size", "160x96", "--duration", "1", "--fps", "8", "--json"]
    result = runner.invoke(app, ["batch", *args])
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["status"] for line in result.stdout.splitlines()} == {"succeeded"}
    for name in NAMES[:2]:
        assert probe(remote / f"{name}.mp4")["frame_count"] == 8
        tags = from_tags(probe(remote / f"{name}.mp4")["metadata"])
        assert tags["request"]["output"] == f"{url}/{name}.mp4"
        assert tags["request"]["image"] == str((tmp_path / "photos" / f"{name}.png").resolve())
    assert json.loads((remote / "report.json").read_text())["summary"]["succeeded"] == 2
    again = runner.invoke(app, ["batch", *args])
    assert all(json.loads(line)["resumed"] for line in again.stdout.splitlines())


def _head_node(folder: Path) -> str:
    import ray

    from stillmotion.cluster import connect

    connect((folder / "address").read_text().strip())
    try:
        return next(n["NodeID"][:8] for n in ray.nodes() if n["Alive"] and n["Resources"].get("node:__internal_head__"))
    finally:
        ray.shutdown()


def test_no_cluster_at_the_address_is_one_clear_line(photos, tmp_path):
    pytest.importorskip("ray")
    m = _manifest(tmp_path, photos, ["coffee"])
    result = runner.invoke(app, ["batch", str(m), "--out", str(tmp_path / "out"), "--ray", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert "no Ray cluster answers at '127.0.0.1:1'" in result.stderr and "Traceback" not in result.output
