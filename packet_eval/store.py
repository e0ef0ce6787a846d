"""The local SQLite store: one row per LLM call, the response cache and the batch ledger.

Modelled on simonw/llm's logs.db: every HTTP call to a provider leaves a row
(ULID id, ``datetime_utc``, model, prompt version, ladder and packet hashes,
request hash, tokens, ``duration_ms``, ``cost_usd``, attempt, status, error),
and an identical request is served from ``cache`` instead of the provider.
The database runs in WAL mode so readers (``packet-eval log``) never block a
batch. Migrations are append-only named functions; never edit one that has
shipped, add a new one.

``Store`` is the only code that runs SQL on this database: the live extractor's
call rows and cache, provider batches of a run directory (``batches``), and what
a failed packet's calls cost all go through its methods.

Where it lives: ``PACKET_EVAL_HOME``, then ``$XDG_DATA_HOME/packet-eval``, then
``~/.local/share/packet-eval``. Tests point ``PACKET_EVAL_HOME`` at a temp dir.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ulid import ULID

from packet_eval.errors import ConfigError


def home_dir() -> Path:
    explicit = os.environ.get("PACKET_EVAL_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "packet-eval"


def db_path() -> Path:
    return home_dir() / "logs.db"


def _m001_calls(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE calls (
            id TEXT PRIMARY KEY,
            datetime_utc TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT,
            ladder_sha256 TEXT,
            packet_sha256 TEXT,
            request_hash TEXT,
            attempt INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL,
            error TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            duration_ms INTEGER,
            cost_usd REAL,
            request_json TEXT,
            response_json TEXT
        )""")
    db.execute("CREATE INDEX calls_datetime ON calls (datetime_utc)")
    db.execute("CREATE INDEX calls_request ON calls (request_hash)")


def _m002_cache(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE cache (
            request_hash TEXT PRIMARY KEY,
            datetime_utc TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT,
            ladder_sha256 TEXT,
            packet_sha256 TEXT,
            assessment_json TEXT NOT NULL
        )""")


def _m003_batches(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            datetime_utc TEXT NOT NULL,
            provider TEXT NOT NULL,
            provider_batch_id TEXT NOT NULL,
            out_dir TEXT NOT NULL,
            status TEXT NOT NULL,
            request_json TEXT
        )""")


def _m004_cache_tokens(db: sqlite3.Connection) -> None:
    # Of input_tokens: those the provider read from, or wrote to, its prompt cache.
    db.execute("ALTER TABLE calls ADD COLUMN cache_read_tokens INTEGER")
    db.execute("ALTER TABLE calls ADD COLUMN cache_write_tokens INTEGER")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_calls, _m002_cache, _m003_batches, _m004_cache_tokens]


def now_utc() -> str:
    """The one clock format of packet-eval: the call log's, and every ``*_utc`` a run writes."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class PendingBatch:
    """A provider batch submitted for a run directory and not yet collected."""

    row_id: str
    provider_batch_id: str
    request: dict[str, Any]


class Store:
    """A thread-safe handle on the call log and cache."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the packet-eval store ({exc}); set PACKET_EVAL_HOME "
                              "to a writable directory", self.path) from None
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_utc TEXT)")
            done = {r[0] for r in db.execute("SELECT name FROM _migrations")}
            for fn in MIGRATIONS:
                if fn.__name__ not in done:
                    fn(db)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (fn.__name__, now_utc()))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def columns(self, table: str) -> list[str]:
        with self._lock:
            return [r[1] for r in self._db.execute(f"PRAGMA table_info({table})")]

    def log_call(self, **row: Any) -> str:
        """Insert one call row; returns its ULID."""
        row = {"id": str(ULID()), "datetime_utc": now_utc(), **row}
        for key in ("request_json", "response_json"):
            if key in row and not isinstance(row[key], str | type(None)):
                row[key] = json.dumps(row[key], default=str)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._tx() as db:
            db.execute(f"INSERT INTO calls ({cols}) VALUES ({marks})", tuple(row.values()))
        return str(row["id"])

    def recent_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, datetime_utc, model, prompt_version, packet_sha256, attempt, status, "
                "error, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
                "duration_ms, cost_usd FROM calls "
                "ORDER BY id DESC LIMIT ?", (limit,))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def count_calls(self, **where: Any) -> int:
        clause = " AND ".join(f"{k} = ?" for k in where) or "1"
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM calls WHERE {clause}",
                                        tuple(where.values())).fetchone()[0])

    def get_cached(self, request_hash: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT assessment_json FROM cache WHERE request_hash = ?",
                                   (request_hash,)).fetchone()
        return row[0] if row else None

    def put_cached(self, request_hash: str, assessment_json: str, **meta: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO cache (request_hash, datetime_utc, model, prompt_version, "
                "ladder_sha256, packet_sha256, assessment_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request_hash, now_utc(), meta.get("model", ""), meta.get("prompt_version"),
                 meta.get("ladder_sha256"), meta.get("packet_sha256"), assessment_json))

    def logged_cost(self, request_hash: str, since_utc: str) -> float:
        """What the call log says calls for ``request_hash`` cost since ``since_utc``."""
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE request_hash = ? "
                    "AND datetime_utc >= ?", (request_hash, since_utc)).fetchone()
        except sqlite3.Error:
            return 0.0
        return float(row[0] or 0.0)

    def cache_shares(self, model: str, prompt_version: str,
                     limit: int = 200) -> tuple[float, float] | None:
        """Of the input tokens of the latest ``limit`` ok calls, the shares read from and
        written to the provider's prompt cache; None before any such call.
        """
        with self._lock:
            row = self._db.execute(
                "SELECT SUM(input_tokens), SUM(COALESCE(cache_read_tokens, 0)), "
                "SUM(COALESCE(cache_write_tokens, 0)) FROM (SELECT input_tokens, "
                "cache_read_tokens, cache_write_tokens FROM calls WHERE model = ? AND "
                "prompt_version = ? AND status = 'ok' AND input_tokens > 0 ORDER BY id DESC "
                "LIMIT ?)", (model, prompt_version, limit)).fetchone()
        if not row or not row[0]:
            return None
        return float(row[1] or 0) / float(row[0]), float(row[2] or 0) / float(row[0])

    def logged_usage(self, request_hash: str, since_utc: str) -> tuple[int, int, int, float]:
        """Calls, input and output tokens and cost the call log holds for ``request_hash``."""
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), "
                    "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM calls "
                    "WHERE request_hash = ? AND datetime_utc >= ?",
                    (request_hash, since_utc)).fetchone()
        except sqlite3.Error:
            return 0, 0, 0, 0.0
        return int(row[0]), int(row[1] or 0), int(row[2] or 0), float(row[3] or 0.0)

    # ------------------------------------------------------------------ batch ledger
    def add_batch(self, provider: str, provider_batch_id: str, out_dir: str,
                  request: dict[str, Any]) -> str:
        """Record a submitted provider batch of the run in ``out_dir``; returns its row id."""
        row_id = str(ULID())
        with self._tx() as db:
            db.execute(
                "INSERT INTO batches (id, datetime_utc, provider, provider_batch_id, out_dir, "
                "status, request_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row_id, now_utc(), provider, provider_batch_id, out_dir, "submitted",
                 json.dumps(request)))
        return row_id

    def pending_batches(self, provider: str, out_dir: str) -> list[PendingBatch]:
        """Batches of ``provider`` for ``out_dir`` not yet collected, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, provider_batch_id, request_json FROM batches WHERE provider = ? AND "
                "out_dir = ? AND status != 'collected' ORDER BY id", (provider, out_dir)).fetchall()
        return [PendingBatch(r[0], r[1], json.loads(r[2] or "{}")) for r in rows]

    def set_batch_status(self, row_id: str, status: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE batches SET status = ? WHERE id = ?", (status, row_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()
