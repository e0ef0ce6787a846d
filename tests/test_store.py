"""The SQLite call log and cache: schema pin, migrations, WAL, concurrency, errors."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from packet_eval import store as store_mod
from packet_eval.errors import ConfigError
from packet_eval.store import Store

# The schema pin. Migrations are append-only: a change here must come with a NEW
# migration (and a new line in EXPECTED_MIGRATIONS), never an edit of a shipped one.
EXPECTED_COLUMNS = {
    "calls": ["id", "datetime_utc", "model", "prompt_version", "ladder_sha256", "packet_sha256",
              "request_hash", "attempt", "status", "error", "input_tokens", "output_tokens",
              "duration_ms", "cost_usd", "request_json", "response_json", "cache_read_tokens",
              "cache_write_tokens"],
    "cache": ["request_hash", "datetime_utc", "model", "prompt_version", "ladder_sha256",
              "packet_sha256", "assessment_json"],
    "batches": ["id", "datetime_utc", "provider", "provider_batch_id", "out_dir", "status",
                "request_json"],
}
EXPECTED_MIGRATIONS = ["_m001_calls", "_m002_cache", "_m003_batches", "_m004_cache_tokens"]
EXPECTED_TABLES = {"_migrations", "calls", "cache", "batches"}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def migrations(path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT name, applied_utc FROM _migrations ORDER BY rowid"))


def tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_blank_store_has_the_pinned_schema(home):
    s = Store()
    assert s.path == home / "logs.db" and s.path.exists()
    assert tables(s.path) == EXPECTED_TABLES
    for table, cols in EXPECTED_COLUMNS.items():
        assert s.columns(table) == cols, table
    assert [name for name, _ in migrations(s.path)] == EXPECTED_MIGRATIONS
    assert [fn.__name__ for fn in store_mod.MIGRATIONS] == EXPECTED_MIGRATIONS
    s.close()


def test_reopening_does_not_rerun_migrations(monkeypatch):
    ran: list[int] = []

    def _m999_probe(db: sqlite3.Connection) -> None:
        ran.append(1)
        db.execute("CREATE TABLE probe (x INTEGER)")

    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, _m999_probe])
    first = Store()
    first.log_call(model="m", status="ok")
    before = migrations(first.path)
    first.close()
    for _ in range(2):
        Store().close()
    assert ran == [1]
    assert migrations(first.path) == before  # same rows, same applied_utc
    assert [n for n, _ in before] == [*EXPECTED_MIGRATIONS, "_m999_probe"]
    assert Store().count_calls() == 1  # data survives reopening


def test_an_older_store_gets_only_the_missing_migrations(monkeypatch):
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:1])
    old = Store()
    old.log_call(model="m", status="ok")
    old.close()
    assert tables(old.path) == {"_migrations", "calls"}
    monkeypatch.undo()
    monkeypatch.setenv("PACKET_EVAL_HOME", str(old.path.parent))

    s = Store()
    assert [n for n, _ in migrations(s.path)] == EXPECTED_MIGRATIONS
    assert tables(s.path) == EXPECTED_TABLES and s.count_calls() == 1


def test_wal_mode_is_on():
    s = Store()
    with sqlite3.connect(s.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


def test_a_concurrent_reader_reads_while_the_store_writes():
    s = Store()
    n = 200
    done = threading.Event()
    counts: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(n):
                s.log_call(model="m", status="ok", attempt=i, request_json={"i": i})
                time.sleep(0.0002)  # let the reader interleave
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    def reader() -> None:
        # timeout=0: any lock the writer holds against readers fails at once.
        db = sqlite3.connect(s.path, timeout=0)
        try:
            while True:
                finished = done.is_set()
                counts.append(db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
                if finished:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert counts[-1] == n == s.count_calls()
    assert counts == sorted(counts)  # never saw rows disappear
    assert any(0 < c < n for c in counts)  # it really read while the writes went on
    s.close()


def test_a_reader_is_not_blocked_by_an_open_write_transaction():
    s = Store()
    s.log_call(model="m", status="ok")
    with s._tx() as db:  # a writer mid-transaction
        db.execute("INSERT INTO calls (id, datetime_utc, model, status) "
                   "VALUES ('x', 'now', 'm', 'ok')")
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(sqlite3.connect(s.path, timeout=0)
                                                        .execute("SELECT COUNT(*) FROM calls")
                                                        .fetchone()[0]))
        t.start()
        t.join(timeout=5)
        assert seen == [1]  # read at once, and only committed rows
    assert s.count_calls() == 2
    s.close()


def test_cache_round_trip():
    s = Store()
    assert s.get_cached("h1") is None
    s.put_cached("h1", '{"a": 1}', model="openai/m", prompt_version="p", ladder_sha256="l",
                 packet_sha256="k")
    assert s.get_cached("h1") == '{"a": 1}'
    s.put_cached("h1", '{"a": 2}', model="openai/m")  # refresh replaces
    assert s.get_cached("h1") == '{"a": 2}'
    assert s.get_cached("h2") is None
    s.close()
    reopened = Store()
    assert reopened.get_cached("h1") == '{"a": 2}'
    with sqlite3.connect(reopened.path) as db:
        assert db.execute("SELECT COUNT(*), model FROM cache").fetchone() == (1, "openai/m")


def test_log_call_round_trip_and_order():
    s = Store()
    ids = [s.log_call(model="openai/m", status="ok", attempt=i, input_tokens=10 * i,
                      request_json={"messages": [i]}) for i in range(1, 4)]
    time.sleep(0.002)
    last = s.log_call(model="openai/m", status="error", error="boom", attempt=9)
    rows = s.recent_calls(10)
    assert rows[0]["id"] == last and rows[0]["error"] == "boom"
    assert {r["id"] for r in rows} == {*ids, last}
    assert s.count_calls(status="ok") == 3 and s.count_calls(status="error") == 1
    with sqlite3.connect(s.path) as db:
        assert db.execute("SELECT request_json FROM calls WHERE attempt = 2").fetchone()[0] == \
            '{"messages": [2]}'


def test_unwritable_home_is_a_one_line_config_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PACKET_EVAL_HOME", str(blocker / "home"))
    with pytest.raises(ConfigError) as exc:
        Store()
    msg = str(exc.value)
    assert "\n" not in msg and "PACKET_EVAL_HOME" in msg and str(blocker) in msg


def test_a_database_path_that_is_a_directory_is_a_config_error(home):
    (home / "logs.db").mkdir(parents=True)
    with pytest.raises(ConfigError) as exc:
        Store()
    assert "\n" not in str(exc.value) and "PACKET_EVAL_HOME" in str(exc.value)
