"""Faults: random SIGKILLs, readers during a batch, a provider outage, a full disk.

Each ends in a clear message and a correct final state: every packet has exactly
one result, or is listed as failed with its reason, and a rerun completes the rest.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from packet_eval.batch import run_batch
from packet_eval.providers import RetryPolicy
from packet_eval.store import Store
from tests.fakes.llm_server import FakeLLMServer, handler
from tests.test_batch import (
    MODEL,
    ROOT,
    assess_cmd,
    grounded_answer,
    lines_of,
    start_echo_server,
    write_packets,
)

FAST = RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.05, max_total_s=5)


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(var, raising=False)


def one_result_each(results: Path, paths: list[Path]) -> None:
    sources = [d["source"] for d in lines_of(results)]
    assert len(sources) == len(set(sources)), "a result was written twice"
    assert sorted(sources) == sorted(str(p.resolve()) for p in paths), "a result was lost"


@pytest.mark.parametrize("trial", range(3))
def test_random_sigkills_then_resume_leave_exactly_one_result_per_packet(tmp_path, trial):
    rng = random.Random(trial)  # seeded: a failure names its trial and reproduces
    paths = write_packets(tmp_path / "cycle", 16)
    out = tmp_path / "run"
    server, url = start_echo_server(latency_ms=80)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = assess_cmd(tmp_path / "cycle", out, url)
    try:
        for _ in range(2):  # two kills at random moments, possibly before any result
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
    finally:
        # Teardown only: a loaded machine may need longer than 10 s to stop the server.
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    one_result_each(out / "assessments.jsonl", paths)
    assert not (out / "errors.jsonl").exists() or not lines_of(out / "errors.jsonl")


def test_readers_never_block_a_batch_and_see_it_progress(tmp_path):
    paths = write_packets(tmp_path / "cycle", 20)
    store_path = tmp_path / "home" / "logs.db"
    Store(store_path).close()  # create the database before the reader starts
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                with sqlite3.connect(store_path, timeout=1) as db:
                    seen.append(db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
            except sqlite3.Error as exc:  # "database is locked" would land here
                errors.append(str(exc))
            time.sleep(0.005)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        with FakeLLMServer(default=handler(grounded_answer), latency_s=0.05) as srv:
            summary = asyncio.run(run_batch(paths, tmp_path / "run", model=MODEL,
                                            base_url=srv.openai_base_url, concurrency=4,
                                            progress=False, retry=FAST))
    finally:
        stop.set()
        thread.join()
    assert summary.failed == [] and errors == []
    with sqlite3.connect(store_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with sqlite3.connect(store_path) as db:
        final = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    # The reader ran throughout, saw the log only grow, and saw it mid-batch, not just before and after.
    assert final >= 20 and seen == sorted(seen) and any(0 < c < final for c in seen)


def test_a_provider_outage_midway_fails_cleanly_and_a_rerun_completes(tmp_path):
    paths = write_packets(tmp_path / "cycle", 12)
    out = tmp_path / "run"
    srv = FakeLLMServer(default=handler(grounded_answer), latency_s=0.05)
    srv.start()
    port = srv.port

    async def outage() -> object:
        run = asyncio.create_task(run_batch(paths, out, model=MODEL, base_url=srv.openai_base_url,
                                            concurrency=2, progress=False, retry=FAST))
        results = out / "assessments.jsonl"
        while not (results.exists() and len(lines_of(results)) >= 3):
            await asyncio.sleep(0.01)
        await asyncio.to_thread(srv.stop)  # from now on: connection refused
        return await run

    summary = asyncio.run(outage())
    done, failed = lines_of(out / "assessments.jsonl"), lines_of(out / "errors.jsonl")
    assert 3 <= len(done) < 12 and len(done) + len(failed) == 12
    assert all("cannot reach the provider" in e["error"] for e in failed), failed[0]
    assert len(summary.failed) == len(failed)
    # The provider comes back on the same address; the rerun finishes only what failed.
    with FakeLLMServer(default=handler(grounded_answer), port=port) as back:
        again = asyncio.run(run_batch(paths, out, model=MODEL, base_url=back.openai_base_url,
                                      concurrency=2, progress=False, retry=FAST))
        assert back.calls == len(failed)
    assert again.failed == []
    one_result_each(out / "assessments.jsonl", paths)


def test_a_full_disk_is_a_clear_error_and_nothing_half_written_counts(tmp_path, monkeypatch):
    from packet_eval.batch import outdir

    paths = write_packets(tmp_path / "cycle", 6)
    out = tmp_path / "run"
    real_write = outdir.os.write
    writes = {"n": 0}

    def full_after_two(fd: int, data: bytes) -> int:
        if str(fd) in full_fds:
            writes["n"] += 1
            if writes["n"] > 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    full_fds: set[str] = set()
    real_open = outdir.os.open

    def tracking_open(path, flags, *args):  # only results files hit the full disk
        fd = real_open(path, flags, *args)
        if str(path).endswith("assessments.jsonl"):
            full_fds.add(str(fd))
        return fd

    monkeypatch.setattr(outdir.os, "open", tracking_open)
    monkeypatch.setattr(outdir.os, "write", full_after_two)
    from packet_eval.errors import PacketEvalError

    with pytest.raises(PacketEvalError) as caught:
        asyncio.run(run_batch(paths, out, model="baseline", progress=False))
    message = str(caught.value)
    assert "No space left on device" in message and "\n" not in message
    monkeypatch.undo()
    # After space is freed, a rerun completes with exactly one result per packet.
    summary = asyncio.run(run_batch(paths, out, model="baseline", progress=False))
    assert summary.failed == []
    one_result_each(out / "assessments.jsonl", paths)


def test_an_unwritable_output_directory_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = subprocess.run([sys.executable, "-m", "packet_eval", "assess",
                          "packet_eval/examples/sample-packet.md", "--out", str(blocker / "run"),
                          "--model", "baseline", "--no-progress"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and "cannot write to the output directory" in line
    assert json.dumps(str(blocker)).strip('"') in line
