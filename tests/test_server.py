"""The HTTP job API against a real `stillmotion serve` process on loopback.

Covers a real render end to end, cancel, idempotency, paging, auth, upload
validation, crash recovery (kill -9 of the workers and the server mid-job,
then a restart on the same data) and a short Schemathesis run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stillmotion.evaluate import CAMERA_MOVES

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from stillmotion.video import read_video  # noqa: E402

FINAL = {"succeeded", "failed", "canceled"}
TINY = {"size": "256x170", "duration": "1", "fps": "8", "prompt": "slow push-in", "seed": "7"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m stillmotion.cli serve` as a child process."""

    def __init__(self, data: Path, *, workers: int = 1, token: str | None = None, args: tuple[str, ...] = ()) -> None:
        self.data, self.workers, self.token, self.args = data, workers, token, args
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        cmd = [
            sys.executable,
            "-m",
            "stillmotion.cli",
            "serve",
            "--port",
            str(self.port),
            "--data",
            str(self.data),
            "--workers",
            str(self.workers),
            # These tests send requests in quick bursts; the rate limit has its own test.
            "--max-rate",
            "1000",
            *self.args,
        ]
        env = {k: v for k, v in os.environ.items() if k != "STILLMOTION_TOKEN"}
        env["STILLMOTION_CONFIG_DIR"] = str(self.data.parent / "config")  # fuzzed DELETE /v1/recipes/…: not yours
        if self.token:
            env["STILLMOTION_TOKEN"] = self.token  # never on the command line, where ps shows it
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            try:
                if httpx.get(self.url + "/v1/engines", headers=headers, timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the server did not start")

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("serve") / "data", workers=1).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def coffee(photos) -> bytes:
    return photos["coffee"].read_bytes()


def _submit(client, photo: bytes, headers=None, **fields) -> httpx.Response:
    data = TINY | {k: str(v) for k, v in fields.items()}
    return client.post("/v1/jobs", files={"image": ("coffee.png", photo, "image/png")}, data=data, headers=headers)


def _wait(client, job_id: str, statuses=FINAL, timeout: float = 40) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} still {job['status']}")


def test_job_renders_and_video_decodes(server, coffee, tmp_path):
    with server.client() as c:
        r = _submit(c, coffee)
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["status"] in ("queued", "running") and job["result"] is None
        assert job["request"]["size"] == "256x170" and job["request"]["seed"] == 7
        assert c.get(f"/v1/jobs/{job['id']}/preview").headers["content-type"] == "image/png"
        done = _wait(c, job["id"])
        assert done["status"] == "succeeded", done.get("error")
        assert done["progress"] == 1.0 and done["attempts"] == 1 and done["finished_at"].endswith("Z")
        assert done["result"]["video"] == f"/v1/jobs/{job['id']}/video"
        assert done["result"]["recipe"]["seed"] == 7
        assert "/" not in done["result"]["recipe"]["source"]["path"]  # no server paths leak
        ev = done["result"]["recipe"]["evaluation"]  # measured by the worker (stillmotion.evaluate)
        assert 0.0 < ev["score"] <= 1.0 and ev["camera_move"] in CAMERA_MOVES, ev
        assert ev["metrics"]["flicker"]["verdict"] in ("good", "fair", "poor"), ev
        assert "fidelity_psnr" in ev["metrics"]  # the uploaded photo is the source
        video = c.get(done["result"]["video"])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        (tmp_path / "clip.mp4").write_bytes(video.content)
        clip = read_video(tmp_path / "clip.mp4")
        assert clip.frames_thwc.shape == (8, 170, 256, 3)
        assert clip.frames_thwc.std() > 10  # a photo, not a blank frame
        preview = c.get(done["result"]["preview"])
        assert preview.status_code == 200 and preview.content[:8] == b"\x89PNG\r\n\x1a\n"
        # Server-Sent Events of a finished job: one event, then the stream ends.
        events = c.get(f"/v1/jobs/{job['id']}/events")
        assert events.headers["content-type"].startswith("text/event-stream")
        assert events.text.count("data: ") == 1 and '"succeeded"' in events.text


def test_cancel_queued_and_running(server, coffee):
    with server.client() as c:
        long = _submit(c, coffee, duration=20, fps=24, size="512x340").json()
        queued = _submit(c, coffee).json()
        r = c.post(f"/v1/jobs/{queued['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "canceled"
        _wait(c, long["id"], {"running"} | FINAL)
        t0 = time.monotonic()
        c.post(f"/v1/jobs/{long['id']}/cancel")
        done = _wait(c, long["id"], timeout=10)
        assert done["status"] == "canceled", done
        assert time.monotonic() - t0 < 5
        assert c.get(f"/v1/jobs/{long['id']}/video").status_code == 409
        assert not (server.data / "outputs" / f"{long['id']}.mp4").exists()
        assert c.post("/v1/jobs/nope/cancel").status_code == 404


def test_idempotency_and_paging(server, coffee):
    with server.client() as c:
        key = {"Idempotency-Key": "abc-123"}
        first, again = _submit(c, coffee, headers=key), _submit(c, coffee, headers=key)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        ids = [_submit(c, coffee).json()["id"] for _ in range(3)]
        page = c.get("/v1/jobs", params={"limit": 2}).json()
        assert [j["id"] for j in page["jobs"]] == ids[::-1][:2] and page["next_cursor"]
        page2 = c.get("/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        assert page2["jobs"][0]["id"] == ids[0]
        seen, cursor = [], None
        while True:
            p = c.get("/v1/jobs", params={"limit": 2} | ({"cursor": cursor} if cursor else {})).json()
            seen += [j["id"] for j in p["jobs"]]
            cursor = p["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
        assert c.get("/v1/jobs", params={"cursor": "x"}).status_code == 400


def test_bad_uploads_are_one_line_errors(server, coffee):
    with server.client() as c:
        r = c.post("/v1/jobs", files={"image": ("notes.png", b"hello, not a photo\n", "image/png")})
        assert r.status_code == 400 and "\n" not in r.json()["error"] and "notes.png" in r.json()["error"]
        r = _submit(c, coffee, duration=99)
        assert r.status_code == 400 and "duration" in r.json()["error"]
        r = _submit(c, coffee, engine="nope")
        assert r.status_code == 400 and "nope" in r.json()["error"]
        r = c.post("/v1/jobs", files={"image": ("big.png", b"\0" * (31 * 2**20), "image/png")})
        assert r.status_code == 413 and "limit" in r.json()["error"]
        assert c.get("/v1/jobs/missing").status_code == 404
        r = c.post(
            "/v1/jobs", files={"image": ("c.png", coffee, "image/png")}, headers={"Origin": "http://evil.example"}
        )
        assert r.status_code == 403  # cross-site form posts cannot queue work
        report = c.post(
            "/v1/analyze", files={"image": ("coffee.png", coffee, "image/png")}, data={"prompt": "make it move"}
        )
        assert report.status_code == 200 and report.json()["path"] == "coffee.png" and report.json()["prompt"]
        engines = c.get("/v1/engines").json()
        assert {"name", "family", "ready", "reason", "capabilities", "availability", "licence", "summary"} <= set(
            engines[0]
        )
        assert any(e["name"] == "living" and e["ready"] for e in engines)


def test_auth(tmp_path, coffee):
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "stillmotion.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(_free_port()),
            "--data",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "--token" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    srv = Server(tmp_path / "data", workers=0, token="s3cret-token-0123456789").start()
    try:
        assert httpx.get(srv.url + "/v1/jobs").status_code == 401
        assert httpx.get(srv.url + "/v1/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert "error" in httpx.get(srv.url + "/v1/jobs").json()
        with srv.client() as c:
            assert c.get("/v1/jobs").status_code == 200
    finally:
        srv.stop()


def test_crash_recovery(tmp_path, coffee):
    """kill -9 of the workers and the server mid-job: after a restart every job ends, videos intact."""
    data = tmp_path / "data"
    srv = Server(data, workers=2).start()
    try:
        with srv.client() as c:
            ids = [_submit(c, coffee, duration=2, fps=24, seed=i).json()["id"] for i in range(4)]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # wait until a job is rendering
                jobs = [c.get(f"/v1/jobs/{i}").json() for i in ids]
                if any(j["status"] == "running" and j["progress"] > 0 for j in jobs):
                    break
                time.sleep(0.02)
            pids = [w["pid"] for w in c.get("/v1/health").json()["workers"]]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        interrupted = [j["id"] for j in jobs if j["status"] == "running"]
        assert interrupted
        srv = Server(data, workers=2).start()
        with srv.client() as c:
            done = {i: _wait(c, i, timeout=60) for i in ids}
        for job_id, job in done.items():
            assert job["status"] in ("succeeded", "failed"), job
            if job["status"] == "failed":
                assert job["error"] and job["attempts"] >= 1
                continue
            clip = read_video(data / "outputs" / f"{job_id}.mp4")
            assert clip.frames_thwc.shape[0] == 48
        assert any(done[i]["attempts"] >= 2 for i in interrupted)  # re-queued, not lost
        assert not list((data / "outputs").glob(".*.part.*"))
    finally:
        srv.stop()


@pytest.mark.skipif(
    shutil.which("st", path=str(Path(sys.executable).parent)) is None,
    reason="schemathesis is not installed (pip install schemathesis)",
)
def test_schemathesis_finds_no_server_errors(server, tmp_path):
    st = str(Path(sys.executable).parent / "st")
    out = subprocess.run(
        [
            st,
            "run",
            server.url + "/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--phases",
            "examples,fuzzing",
            "--exclude-operation-id",
            "create_job_v1_jobs_post",
            "--exclude-operation-id",
            "cancel_job_v1_jobs__job_id__cancel_post",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # its .schemathesis/ cache goes there
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
