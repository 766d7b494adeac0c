"""The durable job queue: one SQLite table in WAL mode at ``DATA/jobs.db``.

A job moves ``queued → running → succeeded | failed | canceled``. A worker
claims the oldest queued job inside ``BEGIN IMMEDIATE`` (so two workers never
claim the same row), takes a lease (``lease_expires_at``, renewed by
heartbeats) and bumps ``attempts``. Every later write by that worker is
fenced by ``(claimed_by, attempts)``: a worker whose job was taken away
cannot overwrite the new attempt. :meth:`JobStore.sweep` re-queues running
jobs whose lease expired or whose worker process is gone (``attempts <
max_attempts``) or fails them with the reason.

Files live next to the database: ``inputs/<id>.<ext>`` (the photo),
``inputs/<id>.thumb.png`` (its preview), ``outputs/<id>.mp4`` +
``outputs/<id>.json`` (written atomically by :func:`stillmotion.api.run`)
and ``outputs/<id>.png`` (a frame of the clip). The folders are 0700 and the
database 0600: photos, clips and prompts are the studio owner's alone.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing, contextmanager
from pathlib import Path

__all__ = ["FINAL", "JobStore", "LEASE_S", "MAX_ATTEMPTS", "STATUSES", "pid_alive"]

STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
FINAL = frozenset({"succeeded", "failed", "canceled"})
LEASE_S = float(os.environ.get("STILLMOTION_LEASE_S", "30"))
"""Seconds a claim stays valid without a heartbeat (workers renew it every few seconds)."""
MAX_ATTEMPTS = 3
"""Attempts per job; a job interrupted this many times fails with the reason."""

HOST = socket.gethostname()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    eta_s REAL,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    request TEXT NOT NULL,
    input_ext TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    lease_expires_at REAL,
    recipe TEXT,
    submissions TEXT,
    lane TEXT NOT NULL DEFAULT 'local',
    owner TEXT,
    cost_usd REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
"""


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pid_alive(pid: int) -> bool:
    """True if process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed child not yet reaped is a zombie ('Z'), as good as dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def worker_alive(claimed_by: str | None) -> bool:
    """Whether the worker ``host:pid`` may still be running (always True for another host)."""
    if not claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != HOST or not pid.isdigit():
        return True
    return pid_alive(int(pid))


class JobStore:
    """The queue in ``data/jobs.db`` and the folders beside it.

    Every method opens its own short-lived connection, so one store can be
    shared by threads and each process (server, workers) opens its own.
    """

    def __init__(self, data: str | os.PathLike) -> None:
        self.data = Path(data).resolve()
        self.inputs = self.data / "inputs"
        self.outputs = self.data / "outputs"
        for d in (self.data, self.inputs, self.outputs):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(d, 0o700)  # also a folder made before this rule, or under a loose umask
        self.db_path = self.data / "jobs.db"
        if not self.db_path.exists():
            os.close(os.open(self.db_path, os.O_WRONLY | os.O_CREAT, 0o600))
        with closing(self.connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            if "submissions" not in columns:  # a queue made before hosted engines
                db.execute("ALTER TABLE jobs ADD COLUMN submissions TEXT")
            if "lane" not in columns:
                db.execute("ALTER TABLE jobs ADD COLUMN lane TEXT NOT NULL DEFAULT 'local'")
            if "owner" not in columns:  # a queue made before per-person keys: its jobs belong to no key
                db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
                db.execute("ALTER TABLE jobs ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0")
            db.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, seq)")
            db.execute("CREATE INDEX IF NOT EXISTS jobs_status_owner ON jobs(status, owner)")
        for f in (self.db_path, self.db_path.with_name("jobs.db-wal"), self.db_path.with_name("jobs.db-shm")):
            try:
                os.chmod(f, 0o600)
            except FileNotFoundError:
                pass

    # ------------------------------------------------------------ plumbing

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def transaction(self):
        """A write transaction taken with BEGIN IMMEDIATE (read-then-write without SQLITE_BUSY)."""
        with closing(self.connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ------------------------------------------------------------ paths

    def input_path(self, job: dict) -> Path:
        return self.inputs / f"{job['id']}.{job['input_ext']}"

    def thumb_path(self, job_id: str) -> Path:
        return self.inputs / f"{job_id}.thumb.png"

    def video_path(self, job_id: str) -> Path:
        return self.outputs / f"{job_id}.mp4"

    def preview_path(self, job_id: str) -> Path:
        return self.outputs / f"{job_id}.png"

    # ------------------------------------------------------------ API side

    @staticmethod
    def new_id() -> str:
        return "j" + secrets.token_hex(8)

    def create(
        self,
        job_id: str,
        request: dict,
        input_ext: str,
        idempotency_key: str | None = None,
        lane: str = "local",
        *,
        owner: str | None = None,
        cost_usd: float = 0.0,
        admit: Callable[[sqlite3.Connection], None] | None = None,
    ) -> tuple[dict, bool]:
        """Insert a queued job; return (job, created). An existing idempotency key returns that job.

        ``lane`` is ``local`` (rendered here: CPU/GPU work) or ``hosted`` (a provider renders it; the
        worker only waits): each lane has its own workers, so hosted jobs never hold local ones.
        ``owner`` is the id of the key that made it, ``cost_usd`` its estimated price; ``admit(db)``
        runs inside the insert's transaction and may raise to refuse the job (quotas)."""
        with self.transaction() as db:
            if idempotency_key is not None:
                row = db.execute("SELECT * FROM jobs WHERE idempotency_key=?", (idempotency_key,)).fetchone()
                if row is not None:
                    return dict(row), False
            if admit is not None:
                admit(db)
            db.execute(
                "INSERT INTO jobs (id, status, created_at, max_attempts, request, input_ext, idempotency_key, lane, "
                "owner, cost_usd) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    _now_iso(),
                    MAX_ATTEMPTS,
                    json.dumps(request),
                    input_ext,
                    idempotency_key,
                    lane,
                    owner,
                    cost_usd,
                ),
            )
            return dict(db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()), True

    def by_key(self, idempotency_key: str) -> dict | None:
        with closing(self.connect()) as db:
            row = db.execute("SELECT * FROM jobs WHERE idempotency_key=?", (idempotency_key,)).fetchone()
        return dict(row) if row else None

    def get(self, job_id: str) -> dict | None:
        with closing(self.connect()) as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return dict(row) if row else None

    def get_many(self, job_ids: list[str]) -> dict[str, dict]:
        """The rows of ``job_ids`` (those that exist) in one query, by id."""
        if not job_ids:
            return {}
        with closing(self.connect()) as db:
            rows = db.execute(
                f"SELECT * FROM jobs WHERE id IN ({','.join('?' * len(job_ids))})", list(job_ids)
            ).fetchall()
        return {r["id"]: dict(r) for r in rows}

    def queued(self) -> int:
        """How many jobs wait in the queue (all lanes)."""
        with closing(self.connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE status='queued'").fetchone()[0])

    def page(self, limit: int, before_seq: int | None, owner: str | None = None) -> tuple[list[dict], int | None]:
        """Newest first (only ``owner``'s jobs when given); returns (jobs, the seq to pass as cursor
        for the next page or None)."""
        before = before_seq if before_seq is not None else 2**62
        with closing(self.connect()) as db:
            if owner is None:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?", (before, limit + 1)
                ).fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE owner=? AND seq < ? ORDER BY seq DESC LIMIT ?",
                    (owner, before, limit + 1),
                ).fetchall()
        jobs = [dict(r) for r in rows[:limit]]
        return jobs, (jobs[-1]["seq"] if len(rows) > limit else None)

    def cancel(self, job_id: str) -> dict | None:
        """Queued → canceled now; running → flag the worker (it stops within a frame)."""
        with self.transaction() as db:
            row = db.execute("SELECT status FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["status"] == "queued":
                db.execute(
                    "UPDATE jobs SET status='canceled', finished_at=?, eta_s=NULL WHERE id=?", (_now_iso(), job_id)
                )
            elif row["status"] == "running":
                db.execute("UPDATE jobs SET cancel_requested=1 WHERE id=?", (job_id,))
        return self.get(job_id)

    def counts(self) -> dict[str, int]:
        with closing(self.connect()) as db:
            rows = db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return dict.fromkeys(STATUSES, 0) | {r["status"]: r["n"] for r in rows}

    # ------------------------------------------------------------ worker side

    def claim(self, worker: str, lane: str | None = None) -> dict | None:
        """Take a queued job for ``worker`` ("host:pid") in ``lane`` (any when None), or None.

        Fair share between keys: the job taken belongs to the owner with the
        fewest jobs running now, oldest first among that owner's; so one key
        that queues many jobs delays the others by at most one job per
        worker, not by its whole backlog.
        """
        fair = (
            "SELECT j.id FROM jobs j WHERE j.status='queued'{lane} ORDER BY "
            "(SELECT COUNT(*) FROM jobs r WHERE r.status='running' AND r.owner IS j.owner), j.seq LIMIT 1"
        )
        with self.transaction() as db:
            if lane is None:
                row = db.execute(fair.format(lane="")).fetchone()
            else:
                row = db.execute(fair.format(lane=" AND j.lane=?"), (lane,)).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, claimed_by=?, lease_expires_at=?, "
                "started_at=COALESCE(started_at, ?), progress=0, eta_s=NULL, error=NULL WHERE id=?",
                (worker, time.time() + LEASE_S, _now_iso(), row["id"]),
            )
            return dict(db.execute("SELECT * FROM jobs WHERE id=?", (row["id"],)).fetchone())

    def heartbeat(self, job: dict, progress: float | None = None, eta_s: float | None = None) -> tuple[bool, bool]:
        """Renew the lease (and record progress); return (still ours, cancel requested)."""
        sets, args = "lease_expires_at=?", [time.time() + LEASE_S]
        if progress is not None:
            sets += ", progress=?, eta_s=?"
            args += [min(max(progress, 0.0), 1.0), eta_s]
        with closing(self.connect()) as db:
            cur = db.execute(
                f"UPDATE jobs SET {sets} WHERE id=? AND status='running' AND claimed_by=? AND attempts=?",
                (*args, job["id"], job["claimed_by"], job["attempts"]),
            )
            if cur.rowcount == 0:
                return False, True
            row = db.execute("SELECT cancel_requested FROM jobs WHERE id=?", (job["id"],)).fetchone()
        return True, bool(row["cancel_requested"])

    def submission(self, job_id: str, key: str) -> str | None:
        """The provider's job id a hosted engine submitted for this job under ``key``, or None."""
        with closing(self.connect()) as db:
            row = db.execute("SELECT submissions FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if row is None or not row["submissions"] else json.loads(row["submissions"]).get(key)

    def record_submission(self, job_id: str, key: str, remote_id: str) -> None:
        """Remember a hosted engine's submitted job (its prediction id) before waiting for it, so a
        run restarted after a crash resumes it instead of paying for another."""
        with self.transaction() as db:
            row = db.execute("SELECT submissions FROM jobs WHERE id=?", (job_id,)).fetchone()
            known = json.loads(row["submissions"]) if row is not None and row["submissions"] else {}
            known[key] = remote_id
            db.execute("UPDATE jobs SET submissions=? WHERE id=?", (json.dumps(known), job_id))

    def cancel_requested(self, job: dict) -> bool:
        """True if the job was canceled or is no longer this worker's attempt."""
        with closing(self.connect()) as db:
            row = db.execute(
                "SELECT status, cancel_requested, claimed_by, attempts FROM jobs WHERE id=?", (job["id"],)
            ).fetchone()
        return (
            row is None
            or bool(row["cancel_requested"])
            or row["status"] != "running"
            or row["claimed_by"] != job["claimed_by"]
            or row["attempts"] != job["attempts"]
        )

    def finish(
        self,
        job: dict,
        status: str,
        *,
        error: str | None = None,
        recipe: dict | None = None,
        requeue: bool = False,
        count_attempt: bool = False,
    ) -> bool:
        """Record the end of this worker's attempt; False if the job is no longer ours.

        ``requeue=True`` puts the job back: not counting the attempt (a graceful worker
        shutdown), or counting it with ``count_attempt`` (a cluster task that was lost).
        """
        fence = "WHERE id=? AND status='running' AND claimed_by=? AND attempts=?"
        key = (job["id"], job["claimed_by"], job["attempts"])
        with self.transaction() as db:
            if requeue:
                cur = db.execute(
                    f"UPDATE jobs SET status='queued', attempts=attempts-{0 if count_attempt else 1}, "
                    f"claimed_by=NULL, lease_expires_at=NULL, progress=0, eta_s=NULL {fence}",
                    key,
                )
            else:
                cur = db.execute(
                    f"UPDATE jobs SET status=?, error=?, recipe=?, finished_at=?, lease_expires_at=NULL, "
                    f"eta_s=NULL, progress=CASE WHEN ?='succeeded' THEN 1 ELSE progress END {fence}",
                    (status, error, json.dumps(recipe) if recipe is not None else None, _now_iso(), status, *key),
                )
            return cur.rowcount == 1

    # ------------------------------------------------------------ recovery

    def sweep(self, dead_workers: frozenset[str] = frozenset()) -> list[str]:
        """Re-queue or fail running jobs whose lease expired or whose worker is gone.

        A job's worker is gone when it is in ``dead_workers`` or is a process
        on this host that no longer exists. Returns the ids it touched.
        """
        now = time.time()
        touched = []
        with self.transaction() as db:
            for row in db.execute("SELECT * FROM jobs WHERE status='running'").fetchall():
                expired = row["lease_expires_at"] is None or row["lease_expires_at"] < now
                if not (expired or row["claimed_by"] in dead_workers or not worker_alive(row["claimed_by"])):
                    continue
                touched.append(row["id"])
                if row["cancel_requested"]:
                    db.execute(
                        "UPDATE jobs SET status='canceled', finished_at=?, claimed_by=NULL, "
                        "lease_expires_at=NULL, eta_s=NULL WHERE id=?",
                        (_now_iso(), row["id"]),
                    )
                elif row["attempts"] < row["max_attempts"]:
                    db.execute(
                        "UPDATE jobs SET status='queued', claimed_by=NULL, lease_expires_at=NULL, "
                        "progress=0, eta_s=NULL WHERE id=?",
                        (row["id"],),
                    )
                else:
                    db.execute(
                        "UPDATE jobs SET status='failed', finished_at=?, claimed_by=NULL, lease_expires_at=NULL, "
                        "eta_s=NULL, error=? WHERE id=?",
                        (
                            _now_iso(),
                            f"interrupted: the worker stopped (crash, kill or out of memory) during "
                            f"each of {row['attempts']} attempts",
                            row["id"],
                        ),
                    )
        for job_id in touched:  # their workers are gone: what they half-wrote is garbage
            self.remove_parts_of(job_id)
        return touched

    def remove_parts_of(self, job_id: str) -> int:
        """Delete the half-written files of one job (``outputs/.<id>.*``: the clip, its sidecar,
        its preview frame, a finishing step's intermediate). Call only when no worker runs it."""
        n = 0
        for p in self.outputs.glob(f".{job_id}.*"):
            n += _remove(p)
        return n

    def remove_stale_parts(self) -> int:
        """At server start: delete what crashed processes left behind.

        Half-written ``outputs/.*.part.*`` files of jobs no live worker is running, and the
        server's own temporaries (``inputs/.upload-*.part``, ``.analyze-*/`` folders), which only
        requests in flight use, and there are none before the server starts.
        """
        with closing(self.connect()) as db:
            running = {
                r["id"]
                for r in db.execute("SELECT id, claimed_by FROM jobs WHERE status='running'").fetchall()
                if worker_alive(r["claimed_by"])
            }
        n = 0
        for p in self.outputs.glob(".*.part*"):
            if p.name[1:].split(".", 1)[0] not in running:
                n += _remove(p)
        for p in self.inputs.glob(".upload-*.part"):
            n += _remove(p)
        for p in self.data.glob(".analyze-*"):
            n += _remove(p)
        return n


def _remove(path: Path) -> int:
    """Delete a file or a folder tree; 1 if something was deleted, 0 if it was already gone."""
    import shutil

    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return 0
    return 1
