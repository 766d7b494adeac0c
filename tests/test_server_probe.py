"""What an attack probe found in the studio (issue 15), each with its regression test, and the
studio's bounds (:mod:`stillmotion.server.limits`).

In-process tests use FastAPI's TestClient on the real app and a real SQLite queue; memory,
chunked uploads, event streams, a render's file tags and file modes use a real
`stillmotion serve` process (``Server`` from test_server.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from stillmotion.server.app import create_app  # noqa: E402
from stillmotion.server.jobs import HOST, JobStore  # noqa: E402
from stillmotion.server.limits import MAX_WORK_CEILING, Limits, parse_host  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_server import TINY, Server, _wait  # noqa: E402

LOCAL = "http://127.0.0.1:7860"


def _client(data: Path, **limits) -> TestClient:
    return TestClient(create_app(data, workers=0, limits=Limits(**limits)), base_url=LOCAL)


def _png(width: int, height: int) -> bytes:
    """An all-black PNG: a few hundred KB that decode to width × height × 3 bytes."""
    buf = io.BytesIO()
    Image.new("L", (width, height)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.fixture(scope="module")
def coffee(photos) -> bytes:
    return photos["coffee"].read_bytes()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = _png(9000, 9000)  # 81 MP: under the library's 100 MP cap, over the server's 40 MP
    assert len(data) < 400_000
    return data


# ---------------------------------------------------------------- photos


def _rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_small_upload_of_many_pixels_is_refused_before_decoding(tmp_path, bomb):
    """Issue 15: a 236 KB 9000×9000 PNG cost ~1 GB per /v1/analyze, four at once +3.6 GB.
    Now the header's pixel count is checked first: 413, and the server's peak memory barely moves."""
    srv = Server(tmp_path / "data", workers=0).start()
    try:
        with srv.client() as c:  # warm up the routes and imports first
            assert c.post("/v1/analyze", files={"image": ("b.png", bomb, "image/png")}).status_code == 413
        before = _rss_peak_kb(srv.proc.pid)

        def post(path: str) -> httpx.Response:
            with srv.client() as c:
                return c.post(path, files={"image": ("bomb.png", bomb, "image/png")}, data={"prompt": "sway"})

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(post, ["/v1/analyze", "/v1/analyze", "/v1/jobs", "/v1/analyze"]))
        for r in answers:
            assert r.status_code == 413, r.text
            msg = r.json()["error"]
            assert "9000×9000" in msg and "81.0 MP" in msg and "40 MP" in msg and "bomb.png" in msg
        grown_mb = (_rss_peak_kb(srv.proc.pid) - before) / 1024
        assert grown_mb < 100, f"peak memory grew {grown_mb:.0f} MB for four refused photos"  # was ~3,600 MB
    finally:
        srv.stop()


def test_pixel_budget_is_configurable(tmp_path, coffee):
    with _client(tmp_path / "d", max_pixels=100_000) as c:  # coffee is 600×400 = 240,000 pixels
        r = c.post("/v1/analyze", files={"image": ("coffee.png", coffee, "image/png")})
        assert r.status_code == 413 and "600×400" in r.json()["error"] and "0.1 MP" in r.json()["error"]
    with _client(tmp_path / "e", max_pixels=300_000) as c:
        assert c.post("/v1/analyze", files={"image": ("coffee.png", coffee, "image/png")}).status_code == 200
    with pytest.raises(ValueError, match="max_work"):
        Limits(max_work=MAX_WORK_CEILING + 1)


def test_mpo_photos_are_accepted_like_the_cli(tmp_path, photos):
    """A JPEG with a multi-picture block (phones, gain-map HDR) was '400 MPO photos are not accepted'."""
    rgb = Image.open(photos["coffee"]).convert("RGB")
    path = tmp_path / "phone.jpg"
    rgb.save(path, format="MPO", save_all=True, append_images=[rgb.resize((300, 200))])
    with Image.open(path) as im:
        assert im.format == "MPO" and im.n_frames == 2
    mpo = path.read_bytes()
    with _client(tmp_path / "d") as c:
        report = c.post("/v1/analyze", files={"image": ("phone.jpg", mpo, "image/jpeg")})
        assert report.status_code == 200, report.text
        r = c.post("/v1/jobs", files={"image": ("phone.jpg", mpo, "image/jpeg")}, data=TINY)
        assert r.status_code == 201, r.text
        stored = tmp_path / "d" / "inputs" / f"{r.json()['id']}.jpg"
        with Image.open(stored) as im:
            assert im.size == (600, 400)  # the first picture, not the preview


# ---------------------------------------------------------------- requests the probe broke


def test_odd_cursor_and_static_paths_are_clean_errors(tmp_path):
    with _client(tmp_path / "d") as c:
        for cursor in ("¹", "١٢", "-1", "1" * 19, "x"):  # "¹".isdigit() is True in Python
            r = c.get("/v1/jobs", params={"cursor": cursor})
            assert r.status_code == 400 and "cursor" in r.json()["error"], (cursor, r.text)
        for path in ("/static/%00", "/static/" + "a" * 5000, "/static/a%00b.js", "/static/../app.py"):
            r = c.get(path)
            assert r.status_code == 404, (path[:30], r.status_code, r.text[:200])
            assert "Traceback" not in r.text and len(r.json()["error"]) < 200
        assert c.get("/static/app.js").status_code == 200


def test_temporaries_of_crashed_processes_are_removed_at_start(tmp_path):
    data = tmp_path / "data"
    store = JobStore(data)
    store.create("jlive000000000000", {}, "png")
    store.create("jdead000000000000", {}, "png")
    live = store.claim(f"{HOST}:{os.getpid()}")  # a worker that is still running: its files stay
    assert live is not None and live["id"] == "jlive000000000000"
    leftovers = [
        store.inputs / ".upload-abc123.part",
        store.outputs / ".jdead000000000000.mp4.1a2b.part.mp4",
        store.outputs / ".jdead000000000000.json.1a2b.part.json",
    ]
    (data / ".analyze-xyz").mkdir()
    (data / ".analyze-xyz" / "photo.png").write_bytes(b"x")
    kept = store.outputs / ".jlive000000000000.mp4.9f9f.part.mp4"
    for p in [*leftovers, kept]:
        p.write_bytes(b"half")
    with _client(data):  # the app's start (lifespan) cleans up
        pass
    assert not any(p.exists() for p in leftovers) and not (data / ".analyze-xyz").exists()
    assert kept.exists()


def test_temporaries_of_a_requeued_job_are_removed(tmp_path):
    store = JobStore(tmp_path / "data")
    store.create("jkilled0000000000", {}, "png")
    store.create("jother00000000000", {}, "png")
    gone = _dead_pid()
    killed = store.claim(f"{HOST}:{gone}")
    other = store.claim(f"{HOST}:{os.getpid()}")
    assert killed and other
    part = store.outputs / ".jkilled0000000000.mp4.77aa.part.mp4"
    raw = store.outputs / ".jkilled0000000000.raw.mp4"
    theirs = store.outputs / ".jother00000000000.mp4.77aa.part.mp4"
    for p in (part, raw, theirs):
        p.write_bytes(b"half")
    assert store.sweep() == ["jkilled0000000000"]
    assert store.get("jkilled0000000000")["status"] == "queued"
    assert not part.exists() and not raw.exists()
    assert theirs.exists()  # a job still running in another worker keeps its files


def _dead_pid() -> int:
    import subprocess

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_chunked_upload_over_the_limit_is_413(tmp_path):
    """A body without Content-Length over the limit got '400 There was an error parsing the body'."""
    srv = Server(tmp_path / "data", workers=0).start()
    try:
        boundary = "x" * 16
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()

        def chunks():
            yield head
            for _ in range(32):
                yield b"\0" * 2**20
            yield f"\r\n--{boundary}--\r\n".encode()

        with srv.client() as c:
            r = c.post(
                "/v1/jobs", content=chunks(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
            )
            assert "content-length" not in {k.lower() for k in r.request.headers}
            assert r.status_code == 413, r.text
            assert "limit" in r.json()["error"] and r.headers["x-content-type-options"] == "nosniff"
            assert c.get("/v1/health").status_code == 200
    finally:
        srv.stop()


# ---------------------------------------------------------------- a render: tags and file modes


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_clip_carries_the_public_recipe_and_files_are_private(tmp_path, coffee):
    from stillmotion.recipe import read as read_recipe
    from stillmotion.video import probe

    data = tmp_path / "data"
    srv = Server(data, workers=1).start()
    try:
        with srv.client() as c:
            job = c.post("/v1/jobs", files={"image": ("coffee.png", coffee, "image/png")}, data=TINY).json()
            done = _wait(c, job["id"], timeout=60)
            assert done["status"] == "succeeded", done
            video = c.get(done["result"]["video"]).content
    finally:
        srv.stop()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(video)
    comment = probe(clip)["metadata"]["comment"]
    assert str(data) not in comment and str(data.resolve()) not in comment  # was …/data/inputs/<id>.png
    recipe = read_recipe(clip)
    assert recipe["request"]["image"] == f"{job['id']}.png" and recipe["seed"] == 7
    assert recipe["source"]["path"] == f"{job['id']}.png"
    sidecar = data / "outputs" / f"{job['id']}.json"
    if sidecar.exists():
        assert str(data.resolve()) not in sidecar.read_text()
    # The data folder and everything in it: the owner's alone.
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for d in ("inputs", "outputs"):
        assert stat.S_IMODE((data / d).stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert files and {p.name for p in files} >= {"jobs.db", f"{job['id']}.mp4", f"{job['id']}.png"}
    loose = {str(p.relative_to(data)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert all(m == "0o600" for m in loose.values()), loose


# ---------------------------------------------------------------- limits


def test_work_budget_and_queue_cap(tmp_path, coffee):
    upload = {"image": ("coffee.png", coffee, "image/png")}
    tiny_work = 256 * 170 * 8  # TINY: 256×170, 1 s at 8 fps
    with _client(tmp_path / "a", max_work=tiny_work - 1) as c:
        r = c.post("/v1/jobs", files=upload, data=TINY)
        assert r.status_code == 400, r.text
        assert "256×170 pixels × 8 frames" in r.json()["error"] and "--max-work" in r.json()["error"]
    with _client(tmp_path / "b", max_work=tiny_work, max_queued=2) as c:
        assert [c.post("/v1/jobs", files=upload, data=TINY).status_code for _ in range(2)] == [201, 201]
        r = c.post("/v1/jobs", files=upload, data=TINY)
        assert r.status_code == 429 and "2 jobs waiting" in r.json()["error"]
        c.post(f"/v1/jobs/{c.get('/v1/jobs').json()['jobs'][0]['id']}/cancel")
        assert c.post("/v1/jobs", files=upload, data=TINY).status_code == 201  # room again


def test_event_streams_are_capped_cheap_and_released(tmp_path, coffee):
    """Issue 15: 800 open /events streams took the health check from 5 ms to 730 ms."""
    n = 256
    # One caller opens them all: lift the per-key cap (8) to reach the server's (256).
    srv = Server(tmp_path / "data", workers=0, args=("--max-streams-per-key", "1000")).start()
    try:
        with srv.client() as c:
            job = c.post("/v1/jobs", files={"image": ("coffee.png", coffee, "image/png")}, data=TINY).json()
            baseline = _latencies(c, 10)

        async def scenario() -> tuple[list[float], int, int]:
            limits = httpx.Limits(max_connections=n + 20, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=srv.url, timeout=30, limits=limits) as ac:
                streams = []
                for _ in range(n):
                    req = ac.build_request("GET", f"/v1/jobs/{job['id']}/events")
                    resp = await ac.send(req, stream=True)
                    assert resp.status_code == 200
                    chunks = resp.aiter_text()  # kept: a dropped iterator closes its stream
                    first = await chunks.__anext__()
                    assert first.startswith("data: ") and '"queued"' in first
                    streams.append((resp, chunks))
                over = (await ac.get(f"/v1/jobs/{job['id']}/events")).status_code
                with ThreadPoolExecutor(1) as pool:  # the health check, from another client, while all are open
                    loop = asyncio.get_running_loop()
                    with srv.client() as c2:
                        lat = await loop.run_in_executor(pool, _latencies, c2, 20)
                # A change reaches every stream (one poll of the queue serves them all).
                with srv.client() as c2:
                    assert c2.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "canceled"
                got = 0
                for _, chunks in streams[:20]:
                    async for chunk in chunks:
                        if '"canceled"' in chunk:
                            got += 1
                            break
                for resp, _ in streams:
                    await resp.aclose()
                return lat, over, got

        lat, over, got = asyncio.run(scenario())
        assert over == 429 and got == 20
        assert statistics.median(lat) < max(0.1, 5 * statistics.median(baseline)), (lat, baseline)
        deadline = time.monotonic() + 10  # the slots come back when the clients go
        with srv.client() as c:
            other = c.post("/v1/jobs", files={"image": ("coffee.png", coffee, "image/png")}, data=TINY).json()
            while time.monotonic() < deadline:
                with c.stream("GET", f"/v1/jobs/{other['id']}/events") as r:
                    if r.status_code == 200:
                        break
                time.sleep(0.2)
            assert r.status_code == 200
    finally:
        srv.stop()


def _latencies(c, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        assert c.get("/v1/health").status_code == 200
        out.append(time.perf_counter() - t)
    return out


# ---------------------------------------------------------------- HTTP hygiene


def test_security_headers_on_every_answer(tmp_path):
    with _client(tmp_path / "d") as c:
        for r in (c.get("/"), c.get("/static/app.js"), c.get("/v1/health"), c.get("/v1/jobs/nope"), c.get("/nope")):
            assert r.headers["x-content-type-options"] == "nosniff", r.url
            assert r.headers["referrer-policy"] == "no-referrer"
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in c.get("/docs").headers["content-security-policy"]
        refused = TestClient(c.app, base_url="http://evil.example").get("/v1/health")
        assert refused.status_code == 403 and refused.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["a b", "[::1", "x:99999", "x:", "127.0.0.1:80:80", "ex!ample", "[nothex]:1"])
def test_malformed_host_is_400(tmp_path, host):
    with _client(tmp_path / "d") as c:
        r = c.get("/v1/health", headers={"host": host})
        assert r.status_code == 400 and "Host" in r.json()["error"]


def test_host_parsing():
    assert parse_host("127.0.0.1:7860") == ("127.0.0.1", 7860)
    assert parse_host("[::1]:7860") == ("[::1]", 7860)
    assert parse_host("studio.example.com") == ("studio.example.com", None)
    assert parse_host("my_box:65535") == ("my_box", 65535)
    for bad in ("", "a b", "[::1", "x:99999", "x:-1", "x:１", "é.example", "[::1]x"):
        with pytest.raises(ValueError):
            parse_host(bad)


def test_unknown_form_fields_are_named(tmp_path, coffee):
    upload = {"image": ("coffee.png", coffee, "image/png")}
    with _client(tmp_path / "d") as c:
        r = c.post("/v1/jobs", files=upload, data={"prompt": "sway", "durration": "3"})
        assert r.status_code == 400 and "unknown field durration (did you mean duration?)" in r.json()["error"]
        r = c.post("/v1/analyze", files=upload, data={"promt": "sway"})
        assert r.status_code == 400 and "promt" in r.json()["error"]
        assert c.get("/v1/jobs").json()["jobs"] == []  # nothing was queued


def test_openapi_says_what_the_server_answers(tmp_path):
    with _client(tmp_path / "d") as c:
        schema = c.get("/openapi.json").json()
        text = json.dumps(schema)
        assert '"422"' not in text and "HTTPValidationError" not in text
        paths = schema["paths"]
        submit = paths["/v1/jobs"]["post"]["responses"]
        assert {"201", "400", "413", "429"} <= set(submit)
        assert "404" in paths["/v1/jobs/{job_id}"]["get"]["responses"]
        assert "429" in paths["/v1/jobs/{job_id}/events"]["get"]["responses"]
        assert "413" in paths["/v1/analyze"]["post"]["responses"]
        r = c.post("/v1/jobs/nope/cancel")
        assert r.status_code == 404  # documented above
        r = c.delete("/v1/jobs")
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
        assert c.put("/v1/health").headers["allow"] == "GET"


def test_floods_are_refused_before_the_body_is_read(tmp_path, coffee):
    """Per-key request rate: bursts of 4× the rate, then 429 with Retry-After; reads are not counted."""
    with _client(tmp_path / "data", max_rate=1) as c:
        upload = {"image": ("coffee.png", coffee, "image/png")}
        codes = [c.post("/v1/jobs", files=upload, data=TINY).status_code for _ in range(5)]
        assert codes[:4] == [201] * 4 and codes[4] == 429, codes
        r = c.post("/v1/jobs", files=upload, data=TINY)
        assert r.status_code == 429 and "1 per second per key" in r.json()["error"]
        assert int(r.headers["Retry-After"]) >= 1
        assert all(c.get("/v1/jobs").status_code == 200 for _ in range(10))  # reads are free
        time.sleep(1.1)
        assert c.post("/v1/jobs", files=upload, data=TINY).status_code == 201  # the bucket refills


def test_workers_render_at_a_lower_cpu_priority_than_the_server(tmp_path):
    """Rendering is batch work: the API keeps its priority while every worker is busy."""
    from stillmotion.server.worker import WORKER_NICENESS

    srv = Server(tmp_path / "data", workers=1).start()
    try:
        workers: list[dict] = []
        with srv.client() as c:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not workers:
                workers = [w for w in c.get("/v1/health").json()["workers"] if w["alive"] and w["pid"]]
                time.sleep(0.2)
        assert workers, "no worker started"
        server_nice = os.getpriority(os.PRIO_PROCESS, srv.proc.pid)
        deadline = time.monotonic() + 20  # the worker lowers its own priority as it starts
        while time.monotonic() < deadline:
            worker_nice = os.getpriority(os.PRIO_PROCESS, workers[0]["pid"])
            if worker_nice >= server_nice + WORKER_NICENESS:
                break
            time.sleep(0.2)
        assert worker_nice >= server_nice + min(WORKER_NICENESS, 19 - server_nice), (worker_nice, server_nice)
    finally:
        srv.stop()
