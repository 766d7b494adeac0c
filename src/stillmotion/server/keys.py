"""Per-person API keys, quotas and spending caps of the studio (``stillmotion keys``, ``serve``).

A key is ``smk_`` + 43 URL-safe characters (256 random bits), printed once by
``stillmotion keys add`` and stored only as its SHA-256 in the ``keys`` table of
``DATA/jobs.db``, next to the jobs. Every job records the key that made it
(``jobs.owner``, the key's id); a key sees only its own jobs, an admin key all
of them. The single server token (``STILLMOTION_TOKEN`` / ``--token-file``) is
one more caller, ``token``, with admin rights; on an open loopback server (no
token, no keys) every request is the caller ``local``.

Quotas are checked when a job is submitted, inside the same ``BEGIN IMMEDIATE``
transaction that inserts it (so parallel submissions cannot slip past a limit):
jobs per hour, jobs waiting or running, and the hosted price estimates of the
last 24 hours (rolling, not a calendar day). Over a limit is
:class:`QuotaExceeded` with the HTTP status (429 for rates and counts, 402 for
money) and a message that names the limit. Open event streams per caller are
counted in the server process by :class:`StreamSlots`.

This module needs only the standard library, so the ``keys`` commands work
without the server extra.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..request import AnimateRequest
    from .jobs import JobStore

__all__ = [
    "KEY_PREFIX",
    "LOCAL",
    "MIN_TOKEN_CHARS",
    "TOKEN",
    "Caller",
    "KeyStore",
    "Quotas",
    "QuotaExceeded",
    "StreamSlots",
    "Tickets",
    "check_quota",
    "estimate_usd",
    "hash_key",
    "usage",
]

KEY_PREFIX = "smk_"
"""Every key starts with this, so a leaked one is easy to recognise (and to search for)."""
MIN_TOKEN_CHARS = 16
"""The single server token's minimum length."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0,
    max_jobs_per_hour INTEGER,
    max_cost_per_day REAL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_active_name ON keys(name) WHERE revoked_at IS NULL;
"""


def _now_iso(offset_s: float = 0.0) -> str:
    t = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=offset_s)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex.

    A fast unsalted hash is enough here, unlike for passwords: a key carries 256
    random bits, so no dictionary or brute-force search can find it from its hash
    (slow, salted hashes such as scrypt exist to protect *low*-entropy secrets).
    A plain hash also lets a request find its key with one indexed lookup.
    """
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Quotas:
    """The limits on one caller; ``None`` means no limit.

    Attributes:
        jobs_per_hour: jobs submitted in the last 60 minutes (429 beyond).
        queued: jobs waiting or running at once (429 beyond).
        cost_per_day: USD of hosted price estimates in the last 24 hours (402 beyond).
        streams: open ``/events`` streams at once (429 beyond).
    """

    jobs_per_hour: int | None = None
    queued: int | None = 20
    cost_per_day: float | None = None
    streams: int | None = 8

    def to_dict(self) -> dict:
        return {
            "jobs_per_hour": self.jobs_per_hour,
            "queued": self.queued,
            "cost_per_day_usd": self.cost_per_day,
            "streams": self.streams,
        }


@dataclass(frozen=True)
class Caller:
    """Who made a request: a key (``id`` = the key's id), the server token or the local user.

    Attributes:
        id: recorded as the owner of the caller's jobs (``k…``, ``token`` or ``local``).
        name: the key's name (``token`` / ``local`` otherwise).
        admin: sees, cancels and downloads every job.
        limits: the caller's quotas (the key's own over the server's defaults).
    """

    id: str
    name: str
    admin: bool
    limits: Quotas


TOKEN = Caller("token", "token", True, Quotas())
"""The holder of the single server token (its limits are the server's defaults)."""
LOCAL = Caller("local", "local", True, Quotas())
"""Everyone on an open loopback server (no token, no keys)."""


class QuotaExceeded(Exception):
    """A submission over a limit: ``status`` is 429 (rate, count, streams) or 402 (spending)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class KeyStore:
    """The ``keys`` table in the studio's database (``store.db_path``, next to the jobs).

    Example:
        >>> from stillmotion.server.jobs import JobStore
        >>> import tempfile
        >>> keys = KeyStore(JobStore(tempfile.mkdtemp()))
        >>> secret = keys.add("ana", max_jobs_per_hour=30)
        >>> keys.lookup(secret)["name"]
        'ana'
    """

    def __init__(self, store: JobStore) -> None:
        self.store = store  # its connections and write transactions serve the keys table too
        self.db_path = store.db_path
        with closing(store.connect()) as db:
            db.executescript(_SCHEMA)

    def add(
        self,
        name: str,
        *,
        admin: bool = False,
        max_jobs_per_hour: int | None = None,
        max_cost_per_day: float | None = None,
    ) -> str:
        """Create a key for ``name``; return the key itself (shown once, never stored).

        Raises:
            ValueError: a name that is not 1–64 letters, digits or ``_.@-``, a name
                that already has an active key, or a negative limit.
        """
        if not _NAME.match(name):
            raise ValueError(f"key name {name!r}: use 1 to 64 letters, digits, '_', '.', '@' or '-'")
        if max_jobs_per_hour is not None and max_jobs_per_hour < 0:
            raise ValueError(f"--max-jobs-per-hour {max_jobs_per_hour}: use 0 or more")
        if max_cost_per_day is not None and max_cost_per_day < 0:
            raise ValueError(f"--max-cost-per-day {max_cost_per_day:g}: use 0 or more (USD)")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM keys WHERE name=? AND revoked_at IS NULL", (name,)).fetchone():
                raise ValueError(f"{name!r} already has a key: revoke it first (stillmotion keys revoke {name})")
            db.execute(
                "INSERT INTO keys (id, name, hash, admin, max_jobs_per_hour, max_cost_per_day, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    "k" + secrets.token_hex(6),
                    name,
                    hash_key(key),
                    int(admin),
                    max_jobs_per_hour,
                    max_cost_per_day,
                    _now_iso(),
                ),
            )
        return key

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s active key (its jobs stay); False if it has none."""
        with self.store.transaction() as db:
            cur = db.execute("UPDATE keys SET revoked_at=? WHERE name=? AND revoked_at IS NULL", (_now_iso(), name))
            return cur.rowcount > 0

    def rows(self) -> list[dict]:
        """Every key, active and revoked, oldest first, without hashes."""
        with closing(self.store.connect()) as db:
            rows = db.execute(
                "SELECT id, name, admin, max_jobs_per_hour, max_cost_per_day, created_at, revoked_at "
                "FROM keys ORDER BY created_at, id"
            ).fetchall()
        return [dict(r) for r in rows]

    def lookup(self, key: str) -> dict | None:
        """The row of ``key`` (active or revoked), or None for an unknown key."""
        with closing(self.store.connect()) as db:
            row = db.execute("SELECT * FROM keys WHERE hash=?", (hash_key(key),)).fetchone()
        return dict(row) if row else None

    def any_active(self) -> bool:
        with closing(self.store.connect()) as db:
            return db.execute("SELECT 1 FROM keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def caller(self, row: dict, defaults: Quotas) -> Caller:
        """The caller of an active key row: its own limits over the server's ``defaults``."""
        limits = defaults
        if row["max_jobs_per_hour"] is not None:
            limits = replace(limits, jobs_per_hour=row["max_jobs_per_hour"])
        if row["max_cost_per_day"] is not None:
            limits = replace(limits, cost_per_day=row["max_cost_per_day"])
        return Caller(row["id"], row["name"], bool(row["admin"]), limits)

    def caller_by_id(self, caller_id: str, defaults: Quotas) -> Caller | None:
        """The caller ``caller_id`` (a key not revoked, ``token`` or ``local``) with its limits, or None."""
        if caller_id in (TOKEN.id, LOCAL.id):
            return replace(TOKEN if caller_id == TOKEN.id else LOCAL, limits=defaults)
        with closing(self.store.connect()) as db:
            row = db.execute("SELECT * FROM keys WHERE id=? AND revoked_at IS NULL", (caller_id,)).fetchone()
        return None if row is None else self.caller(dict(row), defaults)


# ---------------------------------------------------------------- quotas


def estimate_usd(request: AnimateRequest) -> float | None:
    """A hosted job's estimated price in USD from the model's price table, or None when unknown.

    Uses the row alone (no network): the duration snapped the way the model takes
    it (nearest allowed value, or clamped to its range) and the output's short
    side for prices by resolution. None for ``replicate:OWNER/NAME`` models and
    rows with no published price. Local engines cost nothing (0.0).
    """
    from ..engines.hosted.models import find_model
    from ..engines.registry import find_spec
    from ..request import parse_size

    spec = find_spec(request.engine)
    if spec is None or spec.runs_on != "hosted":
        return 0.0
    m = find_model(request.engine)
    if m is None or not (m.price.per_second or m.price.per_run or m.price.by_resolution):
        return None
    wanted = float(request.duration)
    d = m.duration
    if d.kind == "fixed":
        seconds = d.values[0] if d.values[0] > 0 else wanted
    elif d.kind == "enum":
        seconds = min(d.values, key=lambda v: (abs(v - wanted), v))
    elif d.kind == "range":
        seconds = min(max(round(wanted), d.values[0]), d.values[1])
    else:  # frames: about the length asked for
        seconds = wanted
    short = min(parse_size(request.size)) if request.size else request.resolution.short_side
    return m.price.estimate(seconds, short)


def _counts(db: sqlite3.Connection, owner: str) -> tuple[int, int, float]:
    """(jobs in the last hour, jobs waiting or running, USD estimated in the last 24 h) of ``owner``."""
    hour, day = _now_iso(-3600), _now_iso(-86400)
    row = db.execute(
        "SELECT "
        "COALESCE(SUM(created_at >= ?), 0) AS hour, "
        "COALESCE(SUM(status IN ('queued', 'running')), 0) AS pending, "
        # a job canceled before it started was never sent to a provider: it cost nothing
        "COALESCE(SUM(CASE WHEN created_at >= ? AND NOT (status = 'canceled' AND started_at IS NULL) "
        "THEN cost_usd ELSE 0 END), 0) AS spent "
        "FROM jobs WHERE owner=? AND (created_at >= ? OR status IN ('queued', 'running'))",
        (hour, day, owner, day),
    ).fetchone()
    return int(row[0]), int(row[1]), float(row[2])


def check_quota(db: sqlite3.Connection, caller: Caller, cost_usd: float | None) -> None:
    """Refuse one more job of ``caller`` over its limits (call inside the insert's transaction).

    Args:
        db: a connection to the studio's database.
        caller: who submits.
        cost_usd: the job's estimated price (0 for local engines, None when unknown).

    Raises:
        QuotaExceeded: 429 over jobs per hour or jobs waiting; 402 over the spending cap,
            or for a hosted model with no known price under a spending cap.
    """
    lim = caller.limits
    hour, pending, spent = _counts(db, caller.id)
    who = f"key {caller.name!r}" if caller.id not in (TOKEN.id, LOCAL.id) else "this server's user"
    if lim.jobs_per_hour is not None and hour >= lim.jobs_per_hour:
        raise QuotaExceeded(
            429,
            f"{who} submitted {hour} jobs in the last hour, the limit is {lim.jobs_per_hour} jobs per hour: try later",
        )
    if lim.queued is not None and pending >= lim.queued:
        raise QuotaExceeded(
            429,
            f"{who} has {pending} jobs waiting or running, the limit is {lim.queued}: "
            "wait for some to finish or cancel some",
        )
    if lim.cost_per_day is not None:
        if cost_usd is None:
            raise QuotaExceeded(
                402,
                f"{who} has a spending cap of ${lim.cost_per_day:.2f} a day and this model's price is unknown: "
                "pick a hosted model with a published price",
            )
        if spent + cost_usd > lim.cost_per_day + 1e-9:
            raise QuotaExceeded(
                402,
                f"{who} would spend ${spent + cost_usd:.2f} in 24 hours, over its cap of ${lim.cost_per_day:.2f} a day "
                f"(this job is estimated at ${cost_usd:.2f}, ${spent:.2f} so far): shorten the clip or try later",
            )


def usage(db: sqlite3.Connection, caller: Caller, open_streams: int) -> dict:
    """``GET /v1/usage``: the caller's use and limits."""
    hour, pending, spent = _counts(db, caller.id)
    return {
        "key": {"id": caller.id, "name": caller.name, "admin": caller.admin},
        "used": {
            "jobs_last_hour": hour,
            "queued": pending,
            "cost_last_24h_usd": round(spent, 4),
            "streams": open_streams,
        },
        "limits": caller.limits.to_dict(),
    }


# ---------------------------------------------------------------- event streams


class StreamSlots:
    """Open event streams per caller, counted in the server process (thread-safe)."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def open(self, caller_id: str) -> int:
        with self._lock:
            return self._open.get(caller_id, 0)

    def acquire(self, caller: Caller) -> None:
        """Take a slot, or raise :class:`QuotaExceeded` (429) at the caller's cap."""
        cap = caller.limits.streams
        with self._lock:
            n = self._open.get(caller.id, 0)
            if cap is not None and n >= cap:
                raise QuotaExceeded(
                    429, f"{n} event streams are open for this key, the limit is {cap}: close some (or poll the job)"
                )
            self._open[caller.id] = n + 1

    def release(self, caller_id: str) -> None:
        with self._lock:
            n = self._open.get(caller_id, 0) - 1
            if n > 0:
                self._open[caller_id] = n
            else:
                self._open.pop(caller_id, None)


class Tickets:
    """Short-lived signed tickets for one job's event stream (``?ticket=`` on ``/events``).

    ``EventSource`` cannot send an ``Authorization`` header, and the long-lived key
    must never appear in a URL, so the page asks for a ticket first: an HMAC-SHA256
    (with a secret made when the server starts) over the caller, the job and an
    expiry, valid for ``ttl_s`` seconds and for that job's events only.
    """

    def __init__(self, ttl_s: float = 60.0) -> None:
        self._secret = secrets.token_bytes(32)
        self.ttl_s = ttl_s

    def _sign(self, caller_id: str, job_id: str, expires: int) -> str:
        msg = f"{caller_id}\n{job_id}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def issue(self, caller_id: str, job_id: str) -> str:
        expires = int(time.time() + self.ttl_s)
        return f"{expires}.{caller_id}.{self._sign(caller_id, job_id, expires)}"

    def check(self, ticket: str, job_id: str) -> str | None:
        """The caller id of a valid, unexpired ticket for ``job_id``, else None."""
        parts = ticket.split(".")
        if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 12:
            return None
        expires, caller_id, sig = int(parts[0]), parts[1], parts[2]
        if expires < time.time() or not hmac.compare_digest(sig, self._sign(caller_id, job_id, expires)):
            return None
        return caller_id
