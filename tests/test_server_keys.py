"""Per-person keys, ownership, quotas and spending caps of the studio (``stillmotion keys``, ``serve``).

The API runs in-process (FastAPI's TestClient, no workers) on the real SQLite
queue; the event-stream cap, tickets, the token file and the off-loopback rule
run against a real ``stillmotion serve`` process, since EventSource-style streams
stay open.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stillmotion.cli import app as cli_app

httpx = pytest.importorskip("httpx")
testclient = pytest.importorskip("fastapi.testclient")
pytest.importorskip("uvicorn")

from stillmotion.server.app import create_app  # noqa: E402
from stillmotion.server.keys import Quotas  # noqa: E402

runner = CliRunner()
TINY = {"size": "256x170", "duration": "1", "fps": "8", "prompt": "slow push-in", "seed": "7"}


def _cli(*args: str):
    return runner.invoke(cli_app, list(args))


def _add(data: Path, name: str, *extra: str) -> str:
    r = _cli("keys", "add", name, "--data", str(data), *extra)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _submit(c, photo: bytes, key: str | None, headers=None, **fields):
    data = TINY | {k: str(v) for k, v in fields.items()}
    h = (_auth(key) if key else {}) | (headers or {})
    return c.post("/v1/jobs", files={"image": ("coffee.png", photo, "image/png")}, data=data, headers=h)


@pytest.fixture(scope="module")
def coffee(photos) -> bytes:
    return photos["coffee"].read_bytes()


def _client(data: Path, **kw):
    return testclient.TestClient(create_app(data, workers=0, **kw), base_url="http://127.0.0.1")


# ---------------------------------------------------------------- the keys command


def test_keys_cli_prints_the_key_once_and_stores_only_its_hash(tmp_path):
    data = tmp_path / "data"
    r = _cli("keys", "add", "ana", "--data", str(data), "--max-jobs-per-hour", "5", "--max-cost-per-day", "1.5")
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert key.startswith("smk_") and len(key) >= 40 and "\n" not in key
    assert "only this once" in r.stderr
    admin_key = _add(data, "boss", "--admin")
    assert admin_key != key
    # Only the SHA-256 is in the database: not the key, in no file of the data folder.
    db = sqlite3.connect(data / "jobs.db")
    rows = db.execute(
        "SELECT name, hash, admin, max_jobs_per_hour, max_cost_per_day FROM keys ORDER BY name"
    ).fetchall()
    assert rows == [
        ("ana", hashlib.sha256(key.encode()).hexdigest(), 0, 5, 1.5),
        ("boss", hashlib.sha256(admin_key.encode()).hexdigest(), 1, None, None),
    ]
    db.close()
    for f in data.rglob("*"):
        if f.is_file():
            assert key.encode() not in f.read_bytes() and admin_key.encode() not in f.read_bytes(), f
    # list shows names and limits, never a secret
    listed = _cli("keys", "list", "--data", str(data))
    assert listed.exit_code == 0 and "ana" in listed.stdout and "boss" in listed.stdout and "admin" in listed.stdout
    assert key not in listed.stdout and "smk_" not in listed.stdout and rows[0][1] not in listed.stdout
    as_json = _cli("keys", "list", "--json", "--data", str(data))
    assert "hash" not in as_json.stdout and "smk_" not in as_json.stdout
    # one active key per name; revoke; revoking twice is an error line
    again = _cli("keys", "add", "ana", "--data", str(data))
    assert again.exit_code == 2 and "revoke it first" in again.stderr
    assert _cli("keys", "revoke", "ana", "--data", str(data)).exit_code == 0
    twice = _cli("keys", "revoke", "ana", "--data", str(data))
    assert twice.exit_code == 2 and "no active key" in twice.stderr and len(twice.stderr.strip().splitlines()) == 1
    assert "revoked" in _cli("keys", "list", "--data", str(data)).stdout
    bad = _cli("keys", "add", "a b", "--data", str(data))
    assert bad.exit_code == 2 and "key name" in bad.stderr


# ---------------------------------------------------------------- ownership


def test_keys_see_only_their_own_jobs_admin_sees_all(tmp_path, coffee):
    data = tmp_path / "data"
    ana, bob, boss = _add(data, "ana"), _add(data, "bob"), _add(data, "boss", "--admin")
    with _client(data) as c:
        assert c.get("/v1/jobs").status_code == 401  # keys exist: no key, no access (even on loopback)
        r = _submit(c, coffee, ana)
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        assert c.get(f"/v1/jobs/{jid}", headers=_auth(ana)).status_code == 200
        assert [j["id"] for j in c.get("/v1/jobs", headers=_auth(ana)).json()["jobs"]] == [jid]
        # bob: the job does not exist for him (404, not 403: ids do not leak)
        assert c.get("/v1/jobs", headers=_auth(bob)).json()["jobs"] == []
        for method, path in [
            ("GET", f"/v1/jobs/{jid}"),
            ("GET", f"/v1/jobs/{jid}/preview"),
            ("GET", f"/v1/jobs/{jid}/video"),
            ("GET", f"/v1/jobs/{jid}/events"),
            ("POST", f"/v1/jobs/{jid}/cancel"),
            ("POST", f"/v1/jobs/{jid}/ticket"),
        ]:
            r = c.request(method, path, headers=_auth(bob))
            assert r.status_code == 404, (method, path, r.status_code)
            assert r.json()["error"] == f"no job {jid!r}"
        assert c.get(f"/v1/jobs/{jid}", headers=_auth(ana)).json()["status"] == "queued"  # bob's cancel did nothing
        # the same Idempotency-Key from two people makes two jobs
        k = {"Idempotency-Key": "same"}
        a1, b1 = _submit(c, coffee, ana, headers=k), _submit(c, coffee, bob, headers=k)
        assert (a1.status_code, b1.status_code) == (201, 201) and a1.json()["id"] != b1.json()["id"]
        assert _submit(c, coffee, bob, headers=k).json()["id"] == b1.json()["id"]
        # the admin sees, lists and cancels everyone's
        seen = {j["id"] for j in c.get("/v1/jobs", headers=_auth(boss)).json()["jobs"]}
        assert {jid, a1.json()["id"], b1.json()["id"]} <= seen
        assert c.get(f"/v1/jobs/{jid}/preview", headers=_auth(boss)).status_code == 200
        assert c.post(f"/v1/jobs/{jid}/cancel", headers=_auth(boss)).json()["status"] == "canceled"
        # the owner is recorded in the row
        db = sqlite3.connect(data / "jobs.db")
        owners = dict(db.execute("SELECT id, owner FROM jobs").fetchall())
        key_ids = dict(db.execute("SELECT name, id FROM keys").fetchall())
        db.close()
        assert owners[jid] == owners[a1.json()["id"]] == key_ids["ana"] and owners[b1.json()["id"]] == key_ids["bob"]
        # a revoked key gets 401 at once; an unknown one too
        assert _cli("keys", "revoke", "ana", "--data", str(data)).exit_code == 0
        r = c.get("/v1/jobs", headers=_auth(ana))
        assert r.status_code == 401 and "revoked" in r.json()["error"]
        assert c.get("/v1/jobs", headers=_auth("smk_" + "x" * 43)).status_code == 401
        assert c.get("/v1/jobs", headers=_auth("not-a-key")).status_code == 401
        assert c.get("/v1/jobs", headers=_auth(bob)).status_code == 200


def test_open_loopback_server_and_the_host_check(tmp_path, coffee):
    """No token and no keys: open on loopback as before, and only on loopback names."""
    data = tmp_path / "data"
    with _client(data) as c:
        assert _submit(c, coffee, None).status_code == 201
        assert c.get("/v1/jobs", headers={"Host": "evil.example"}).status_code == 403
        assert c.get("/v1/usage").json()["key"]["name"] == "local"


def test_token_is_an_admin_caller_and_must_be_long(tmp_path, coffee):
    data = tmp_path / "data"
    with pytest.raises(ValueError, match="at least 16"):
        create_app(data, workers=0, token="short")
    token = "t" * 16
    ana = _add(data, "ana")
    with _client(data, token=token, loopback_only=False) as c:
        jid = _submit(c, coffee, ana).json()["id"]
        assert c.get(f"/v1/jobs/{jid}", headers=_auth(token)).status_code == 200  # the token sees all
        assert c.get("/v1/jobs").status_code == 401
        assert c.get("/v1/jobs", headers={"Host": "studio.example", **_auth(token)}).status_code == 200


# ---------------------------------------------------------------- quotas


def test_quotas_refuse_with_429_and_the_limit(tmp_path, coffee):
    data = tmp_path / "data"
    ana = _add(data, "ana", "--max-jobs-per-hour", "3")
    bob = _add(data, "bob")
    with _client(data, quotas=Quotas(queued=2, jobs_per_hour=100)) as c:
        # bob: 2 waiting at most (the server's --max-queued-per-key)
        ids = [_submit(c, coffee, bob).json()["id"] for _ in range(2)]
        r = _submit(c, coffee, bob)
        assert r.status_code == 429, r.text
        assert "bob" in r.json()["error"] and "limit is 2" in r.json()["error"]
        c.post(f"/v1/jobs/{ids[0]}/cancel", headers=_auth(bob))
        assert _submit(c, coffee, bob).status_code == 201  # one slot free again
        # ana: her own limit of 3 jobs per hour, counted even when canceled
        for _ in range(3):
            j = _submit(c, coffee, ana)
            assert j.status_code == 201, j.text
            c.post(f"/v1/jobs/{j.json()['id']}/cancel", headers=_auth(ana))
        r = _submit(c, coffee, ana)
        assert r.status_code == 429 and "3 jobs per hour" in r.json()["error"], r.text
        # nothing of a refused job stays behind
        db = sqlite3.connect(data / "jobs.db")
        assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 6
        db.close()
        inputs = {p.name.split(".")[0] for p in (data / "inputs").iterdir()}
        assert len(inputs) == 6, inputs
        u = c.get("/v1/usage", headers=_auth(ana)).json()
        assert u["key"]["name"] == "ana" and not u["key"]["admin"]
        assert u["used"] == {"jobs_last_hour": 3, "queued": 0, "cost_last_24h_usd": 0.0, "streams": 0}
        assert u["limits"] == {"jobs_per_hour": 3, "queued": 2, "cost_per_day_usd": None, "streams": 8}
        assert c.get("/v1/usage", headers=_auth(bob)).json()["used"]["queued"] == 2


def test_spending_cap_refuses_with_402(tmp_path, coffee):
    """gen4-turbo is priced per second ($0.05/s, 5 s clips): $0.25 a job against a $0.60 cap."""
    data = tmp_path / "data"
    ana = _add(data, "ana", "--max-cost-per-day", "0.6")
    with _client(data) as c:
        for _ in range(2):
            r = _submit(c, coffee, ana, engine="gen4-turbo", duration=5)
            assert r.status_code == 201, r.text
        r = _submit(c, coffee, ana, engine="gen4-turbo", duration=5)
        assert r.status_code == 402, r.text
        msg = r.json()["error"]
        assert "$0.60" in msg and "$0.25" in msg and "$0.50 so far" in msg, msg
        assert c.get("/v1/usage", headers=_auth(ana)).json()["used"]["cost_last_24h_usd"] == 0.5
        # local engines cost nothing and pass
        assert _submit(c, coffee, ana).status_code == 201
        # a hosted model with no published price cannot run under a cap
        r = _submit(c, coffee, ana, engine="video-01-live")
        assert r.status_code == 402 and "price is unknown" in r.json()["error"], r.text
        # a job canceled before it started cost nothing: its budget comes back
        first = c.get("/v1/jobs", headers=_auth(ana)).json()["jobs"][-1]["id"]
        c.post(f"/v1/jobs/{first}/cancel", headers=_auth(ana))
        assert _submit(c, coffee, ana, engine="gen4-turbo", duration=5).status_code == 201


# ---------------------------------------------------------------- a real server: streams, tickets, token file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, *args: str, env_token: str | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "STILLMOTION_TOKEN"}
    if env_token:
        env["STILLMOTION_TOKEN"] = env_token
    cmd = [sys.executable, "-m", "stillmotion.cli", "serve", "--port", str(port), "--data", str(data), "--workers", "0"]
    proc = subprocess.Popen([*cmd, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            httpx.get(url + "/", timeout=2)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError("the server did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_token_comes_from_env_or_file_never_the_command_line(tmp_path):
    data = str(tmp_path / "data")
    r = _cli("serve", "--token", "x" * 32, "--data", data)
    assert r.exit_code == 2 and "STILLMOTION_TOKEN" in r.stderr and "--token-file" in r.stderr
    short = runner.invoke(cli_app, ["serve", "--data", data], env={"STILLMOTION_TOKEN": "abc"})
    assert short.exit_code == 2 and "at least 16" in short.stderr and len(short.stderr.strip().splitlines()) == 1
    f = tmp_path / "token"
    f.write_text("tooshort\n")
    r = _cli("serve", "--token-file", str(f), "--data", data)
    assert r.exit_code == 2 and "at least 16" in r.stderr and "tooshort" not in r.stderr
    r = _cli("serve", "--token-file", str(tmp_path / "none"), "--data", data)
    assert r.exit_code == 2 and "--token-file" in r.stderr
    # off loopback without a token or keys: refused before starting
    r = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0", "--data", data], env={"STILLMOTION_TOKEN": ""})
    assert r.exit_code == 2 and "keys add" in r.stderr and "STILLMOTION_TOKEN" in r.stderr


def test_real_server_token_file_keys_tickets_and_stream_cap(tmp_path, coffee):
    data = tmp_path / "data"
    token = "0123456789abcdef-token"
    (tmp_path / "token").write_text(token + "\n")
    ana, bob = _add(data, "ana"), _add(data, "bob")
    proc, url = _serve(data, "--token-file", str(tmp_path / "token"), "--max-streams-per-key", "2")
    try:
        with httpx.Client(base_url=url, timeout=10) as c:
            assert c.get("/v1/jobs", headers=_auth(token)).status_code == 200
            assert c.get("/v1/jobs").status_code == 401
            jid = _submit(c, coffee, ana).json()["id"]  # queued for ever: no workers
            # EventSource cannot send a header: a ticket for this job, from this key
            t = c.post(f"/v1/jobs/{jid}/ticket", headers=_auth(ana)).json()
            assert t["expires_in_s"] == 60 and ana not in t["events"] and t["events"].startswith(f"/v1/jobs/{jid}/")
            assert c.get(f"/v1/jobs/{jid}/events", params={"ticket": "1.x.y"}).status_code == 401
            assert c.get(f"/v1/jobs/{jid}/events", params={"ticket": t["ticket"] + "0"}).status_code == 401
            other = _submit(c, coffee, bob).json()["id"]  # a ticket is for one job only
            assert c.get(f"/v1/jobs/{other}/events", params={"ticket": t["ticket"]}).status_code == 401
            with ExitStack() as streams:
                first = streams.enter_context(httpx.stream("GET", url + t["events"], timeout=10))
                assert first.status_code == 200 and first.headers["content-type"].startswith("text/event-stream")
                lines = first.iter_lines()  # kept: a dropped iterator closes the stream
                line = next(lines)
                assert line.startswith("data: ") and jid in line
                second = streams.enter_context(
                    httpx.stream("GET", f"{url}/v1/jobs/{jid}/events", headers=_auth(ana), timeout=10)
                )
                assert second.status_code == 200
                assert c.get("/v1/usage", headers=_auth(ana)).json()["used"]["streams"] == 2
                third = c.get(f"/v1/jobs/{jid}/events", headers=_auth(ana))
                assert third.status_code == 429 and "limit is 2" in third.json()["error"]
                # another key has its own streams
                with httpx.stream("GET", f"{url}/v1/jobs/{other}/events", headers=_auth(bob), timeout=10) as b:
                    assert b.status_code == 200
            deadline = time.monotonic() + 10  # closed streams give their slots back
            while c.get("/v1/usage", headers=_auth(ana)).json()["used"]["streams"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert c.get("/v1/usage", headers=_auth(ana)).json()["used"]["streams"] == 0
            # a revoked key's ticket stops working too
            t2 = c.post(f"/v1/jobs/{jid}/ticket", headers=_auth(ana)).json()
            assert _cli("keys", "revoke", "ana", "--data", str(data)).exit_code == 0
            assert c.get(t2["events"]).status_code == 401
    finally:
        _stop(proc)
    log = proc.stderr.read().decode()
    assert token not in log and ana not in log and bob not in log


def test_off_loopback_with_keys_needs_a_key(tmp_path):
    data = tmp_path / "data"
    ana = _add(data, "ana")
    proc, url = _serve(data, "--host", "0.0.0.0")
    try:
        r = httpx.get(url + "/v1/jobs", headers={"Host": "studio.example"})
        assert r.status_code == 401 and "key" in r.json()["error"]
        assert httpx.get(url + "/v1/jobs", headers={"Host": "studio.example", **_auth(ana)}).status_code == 200
        assert httpx.get(url + "/").status_code == 200  # the page itself is public: it asks for the key
    finally:
        _stop(proc)


def test_workers_share_out_fairly_between_keys(tmp_path):
    """One key's backlog does not hold the others back: a worker takes the job of the
    owner with the fewest jobs running, oldest first."""
    from stillmotion.server.jobs import JobStore

    store = JobStore(tmp_path / "data")
    flood = [store.create(JobStore.new_id(), {"n": k}, ".png", owner="mallory")[0]["id"] for k in range(5)]
    first = store.claim("w:1")
    assert first is not None and first["id"] == flood[0]  # nobody else is waiting: oldest first
    alice = store.create(JobStore.new_id(), {"n": 9}, ".png", owner="alice")[0]["id"]
    second = store.claim("w:2")
    assert second is not None and second["id"] == alice  # mallory already has one running
    third = store.claim("w:3")
    assert third is not None and third["id"] == flood[1]
