"""`stillmotion serve --ray`: the studio's jobs dispatched to a real two-node Ray cluster.

The SQLite queue stays the source of truth; the photo travels to a node, the clip comes back
into the data folder, the job keeps its lease while the task runs, and a cancel stops the task.
"""

from __future__ import annotations

import subprocess
import sys

import ray_cluster as rc
from stillmotion.video import read_video
from test_server import Server, _submit, _wait


def test_jobs_render_on_the_cluster_and_cancel_there(ray_cluster, photos, tmp_path):
    folder, address = ray_cluster
    coffee = photos["coffee"].read_bytes()
    srv = Server(tmp_path / "data", workers=2, args=("--ray", address)).start()
    try:
        with srv.client() as c:
            ids = [_submit(c, coffee, seed=i).json()["id"] for i in range(3)]
            done = [_wait(c, i, timeout=120) for i in ids]
            assert [j["status"] for j in done] == ["succeeded"] * 3, [j.get("error") for j in done]
            nodes = {j["result"]["recipe"]["node"].split("/")[-1] for j in done}
            assert nodes and nodes <= _live_nodes(address)
            for job in done:
                recipe = job["result"]["recipe"]
                assert "/" not in recipe["source"]["path"]  # the public recipe: no server paths
                assert 0.0 < recipe["evaluation"]["score"] <= 1.0  # judged here, after the clip came back
                clip = read_video(tmp_path / "data" / "outputs" / f"{job['id']}.mp4")
                assert clip.frames_thwc.shape == (8, 170, 256, 3) and clip.frames_thwc.std() > 10
            health = c.get("/v1/health").json()
            assert health["ok"] and len(health["workers"]) >= 2

            long = _submit(c, coffee, duration=20, fps=24, size="512x340").json()
            _wait(c, long["id"], statuses=("running",), timeout=60)
            assert c.post(f"/v1/jobs/{long['id']}/cancel").status_code == 200
            assert _wait(c, long["id"], timeout=60)["status"] == "canceled"
            assert not (tmp_path / "data" / "outputs" / f"{long['id']}.mp4").exists()
    finally:
        srv.stop()
    assert not list((tmp_path / "data" / "outputs").glob(".*.part*"))
    assert rc.groups(folder)  # the cluster the tests started is still the one in use


def test_serve_with_no_cluster_is_one_clear_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", "serve", "--data", str(tmp_path / "d"), "--ray", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no Ray cluster answers at '127.0.0.1:1'" in proc.stderr and "Traceback" not in proc.stderr


def _live_nodes(address: str) -> set[str]:
    import ray

    from stillmotion.cluster import connect

    connect(address)
    try:
        return {n["NodeID"][:8] for n in ray.nodes() if n["Alive"]}
    finally:
        ray.shutdown()
