"""`packet-eval assess` over a cycle: isolation, 429 storms, SIGKILL + resume, budget, Batch APIs,
and `packet-eval agreement` against the harness's own metrics.

Every model answer here is scripted by ``grounded_answer`` (it quotes the packet's own lines),
served by tests.fakes.llm_server over the real OpenAI / Anthropic wire formats.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from packet_eval.agreement import agreement_report, record_from_assessment, record_from_label
from packet_eval.batch import run_batch
from packet_eval.batch.budget import Budget
from packet_eval.batch.jobs import expand_paths, read_targets
from packet_eval.batch.outdir import OutDir, RunKey
from packet_eval.dataset import parse_labels
from packet_eval.errors import BudgetExceeded, ConfigError
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet
from packet_eval.providers import RetryPolicy
from packet_eval.providers.pricing import cost_usd
from packet_eval.providers.throttle import AdaptiveLimiter
from packet_eval.schema import Assessment
from tests.fakes.llm_server import FakeLLMServer, handler, status

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "datasets" / "golden"
MODEL = "openai/gpt-4.1-mini"
FAST = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05, max_total_s=10)
LADDER = load_ladder()
FLAKY = {"on": False}  # in-process switch for the resume test


# ------------------------------------------------------------------ the scripted model


def _packet_text(req: dict[str, Any]) -> str:
    user = next(m for m in req["messages"] if m["role"] == "user")["content"]
    if isinstance(user, list):
        user = user[0]["text"]
    m = re.search(r"<packet-(\w+)>\n(.*)\n</packet-\1>", user, re.S)
    assert m, "the packet is sent between its nonce markers"
    return m.group(2)


def grounded_answer(req: dict[str, Any]) -> Any:
    """A scripted ExtractionAnswer quoting the packet's own lines (also the CLI server's handler).

    Markers in the packet text script failures: FAIL-500 always answers 500; FLAKY answers 500
    while FLAKY["on"]; UNGROUNDED quotes something absent until it is re-asked.
    """
    text = _packet_text(req)
    if "FAIL-500" in text or ("FLAKY" in text and FLAKY["on"]):
        return status(500)
    reasked = len(req["messages"]) > (1 if "system" in req else 2)
    lines = [ln.strip("- ").strip() for ln in text.splitlines() if len(ln.split()) >= 6]
    dims = []
    for i, d in enumerate(LADDER.dimension_ids):
        quote = lines[i % len(lines)] if i < 3 and lines else None
        if i == 0 and "UNGROUNDED" in text and not reasked:
            quote = "I single-handedly invented the transformer architecture last year."
        ev = [{"quote": quote, "rationale": "scripted", "level": ("senior", "mid", "junior")[i],
               "strength": "strong", "attribution": "individual"}] if quote else []
        dims.append({"dimension": d, "reasoning": "scripted", "evidence": ev,
                     "level": ev[0]["level"] if ev else "none"})
    return {"dimensions": dims, "flags": []}


def write_packets(folder: Path, n: int, *, extra: dict[str, str] | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"cand-{i:03d}.md"
        p.write_text(
            f"# Candidate {i}\n\n"
            f"- I built evaluation harness {i} for the claims assistant; it gates every release.\n"
            f"- I traced regression {i} in retrieval to a stale index shard and added a check.\n"
            f"- I wrote design doc {i} for context assembly and three teams adopted it.\n",
            encoding="utf-8")
        paths.append(p)
    for name, body in (extra or {}).items():
        (folder / name).write_text(body, encoding="utf-8")
    return paths


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(var, raising=False)
    FLAKY["on"] = False


@pytest.fixture
def srv():
    with FakeLLMServer(default=handler(grounded_answer)) as server:
        yield server


def cli_app() -> typer.Typer:
    from packet_eval.cli import app

    return app


# ------------------------------------------------------------------ isolation


def test_mixed_good_and_bad_inputs_are_isolated_and_listed(srv, tmp_path, monkeypatch):
    folder = tmp_path / "cycle"
    good = write_packets(folder, 5)
    (folder / "broken-500.md").write_text("- FAIL-500: the provider errors on this every time.\n")
    (folder / "binary.md").write_bytes(b"\x00\x01\x02\x03 not text at all")
    (folder / "empty.md").write_text("")
    notes = tmp_path / "notes.rtf"
    notes.write_text("{\\rtf1 an explicitly named unsupported file}")
    # The CLI's default retry policy waits minutes on a server that 500s forever.
    monkeypatch.setattr("packet_eval.batch.runner.RetryPolicy", lambda: FAST)
    out = tmp_path / "run"
    result = CliRunner().invoke(cli_app(), [
        "assess", str(folder), str(notes), str(tmp_path / "missing.md"), "--out", str(out),
        "--model", MODEL, "--base-url", srv.openai_base_url, "--concurrency", "3",
        "--target-level", "senior"])
    assert result.exit_code == 1, result.output
    for name in ("broken-500.md", "binary.md", "empty.md", "notes.rtf", "missing.md"):
        assert name in result.output, f"{name} is not listed in the summary"
    done = lines_of(out / "assessments.jsonl")
    assert sorted(Path(d["source"]).name for d in done) == sorted(p.name for p in good)
    for d in done:
        a = Assessment.model_validate(d)
        a.check_grounded(load_packet(a.source).text)
        assert a.target_level == "senior" and a.extractor.model == MODEL
    errors = {Path(e["source"]).name: e for e in lines_of(out / "errors.jsonl")}
    assert set(errors) == {"broken-500.md", "binary.md", "empty.md", "notes.rtf", "missing.md"}
    assert "500" in errors["broken-500.md"]["error"]
    assert errors["broken-500.md"]["stage"] == "assess"
    assert "binary" in errors["binary.md"]["error"] and "not found" in errors["missing.md"]["error"]
    assert "unsupported file type" in errors["notes.rtf"]["error"]
    import pandas as pd

    for df in (pd.read_csv(out / "summary.csv"), pd.read_parquet(out / "summary.parquet")):
        assert len(df) == 10 and (df["status"] == "done").sum() == 5
        assert (df["status"] == "failed").sum() == 5
        row = df[df["packet_id"] == "cand-000"].iloc[0]
        assert row["eval_design"] == "senior" and row["evidence_total"] == 3
        assert row["cost_usd"] > 0 and not row["cached"]
    run = json.loads((out / "run.json").read_text())
    assert run["exit_code"] == 1 and len(run["failed"]) == 5
    assert "broken-500" in (out / "report.html").read_text()


def test_a_429_storm_slows_the_whole_run_and_every_packet_completes(tmp_path):
    write_packets(tmp_path / "cycle", 30)
    with FakeLLMServer(default=handler(grounded_answer), max_concurrency=3, retry_after="0.05",
                       latency_s=0.05) as server:
        s = asyncio.run(run_batch(
            [tmp_path / "cycle"], tmp_path / "run", model=MODEL, base_url=server.openai_base_url,
            concurrency=12, retry=RetryPolicy(max_attempts=6, base_s=0.05, cap_s=0.5),
            progress=False))
        rejected, max_in_flight = server.rejected_429, server.max_in_flight
    assert s.failed == [] and s.done == 30
    assert len(lines_of(tmp_path / "run" / "assessments.jsonl")) == 30
    assert s.throttled > 0, "the shared RateGate paused the workers"
    assert s.lowest_concurrency is not None and s.lowest_concurrency <= 4
    assert max_in_flight <= 3
    # Twelve workers against a cap of three: the first burst draws ~9 429s; after that the
    # adaptive limit keeps requests under the cap. Without it, ~60 and some packets fail.
    assert 0 < rejected <= 20, rejected
    assert s.rate_limited == rejected


# ------------------------------------------------------------------ crash safety


def start_echo_server(latency_ms: int) -> tuple[subprocess.Popen[str], str]:
    # The schema-driven echo answer (no evidence) is enough here, and starts fast.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--latency-ms", str(latency_ms),
         "--echo-handler", "echo"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://"), proc.stderr.read() if proc.stderr else url
    return proc, url


def assess_cmd(folder: Path, out: Path, url: str, concurrency: int = 3) -> list[str]:
    return [sys.executable, "-m", "packet_eval", "assess", str(folder),
            "--out", str(out), "--model", MODEL, "--base-url", f"{url}/v1",
            "--concurrency", str(concurrency), "--no-progress"]


def _wait_for_results(results: Path, at_least: int, run: subprocess.Popen[Any]) -> None:
    """Until ``results`` holds ``at_least`` lines; fails if the run ends before that."""
    while True:
        alive = run.poll() is None  # before reading: an exited run has written all it will
        if results.exists() and len(results.read_bytes().splitlines()) >= at_least:
            return
        if not alive:
            raise AssertionError(f"the run exited {run.returncode} with fewer than {at_least} "
                                 "results")
        time.sleep(0.02)


def test_sigint_then_sigkill_mid_run_then_resume_leaves_exactly_one_result_per_packet(tmp_path):
    paths = write_packets(tmp_path / "cycle", 24)
    out = tmp_path / "run"
    results = out / "assessments.jsonl"
    server, url = start_echo_server(latency_ms=120)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = assess_cmd(tmp_path / "cycle", out, url)
    try:
        # Ctrl-C: no new packets start, in-flight ones finish, outputs are written, exit 130.
        first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        _wait_for_results(results, 3, first)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=30)
        assert first.returncode == 130, err
        after_int = len(lines_of(results))
        assert 3 <= after_int < 24
        assert json.loads((out / "run.json").read_text())["stop_reason"] == "interrupted"
        # SIGKILL: nothing runs after it, so it is the torn-write case.
        second = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        _wait_for_results(results, after_int + 3, second)
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        before = len(lines_of(results))
        assert after_int + 3 <= before < 24, f"the kill should land mid-run, got {before}"
        # Simulate the one write a SIGKILL can tear: half a line with no newline.
        with results.open("ab") as fh:
            fh.write(b'{"packet_id": "cand-0')
        rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{before} already done" in rerun.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        _, stats = server.communicate(timeout=10)
    done = lines_of(results)
    sources = [d["source"] for d in done]
    assert len(sources) == len(set(sources)) == 24, "exactly one result per packet"
    assert sorted(sources) == sorted(str(p.resolve()) for p in paths)
    for d in done:
        Assessment.model_validate(d)
    calls = json.loads(stats.strip().splitlines()[-1])["calls"]
    # Finished packets are never asked again; only those in flight at the kill are redone.
    assert calls <= 24 + 3, calls
    assert not (out / "errors.jsonl").exists()


def test_a_torn_last_line_is_cut_and_duplicates_are_ignored(tmp_path):
    out = OutDir(tmp_path)
    a = {"packet_id": "p", "source": "/x/p.md", "packet_sha256": "s", "extractor": {"model": "m"},
         "ladder": {"sha256": "l"}, "target_level": None}
    b = {**a, "packet_id": "q", "source": "/x/q.md"}
    good = (json.dumps(a) + "\n" + json.dumps(b) + "\n" + json.dumps(a) + "\n").encode()
    out.results.write_bytes(good + b'{"packet_id": "r", "sou')
    loaded = out.load_results()
    assert out.results.read_bytes() == good
    assert loaded.repaired_bytes == len(b'{"packet_id": "r", "sou')
    assert loaded.duplicates == 1 and len(loaded.refs) == 2
    ref = loaded.refs[RunKey.of_assessment(b).digest]
    assert out.read_result(ref)["packet_id"] == "q"


def test_one_run_at_a_time_per_output_directory(tmp_path):
    first, second = OutDir(tmp_path / "run"), OutDir(tmp_path / "run")
    first.lock()
    try:
        with pytest.raises(ConfigError, match="another packet-eval run"):
            second.lock()
    finally:
        first.unlock()
    second.lock()
    second.unlock()


# ------------------------------------------------------------------ budget and resume


def test_max_cost_refuses_an_estimate_over_the_ceiling_before_any_call(srv, tmp_path):
    write_packets(tmp_path / "cycle", 6)
    with pytest.raises(BudgetExceeded, match="exceeds --max-cost"):
        asyncio.run(run_batch([tmp_path / "cycle"], tmp_path / "run", model=MODEL,
                              base_url=srv.openai_base_url, max_cost_usd=0.001, progress=False))
    assert srv.calls == 0


def test_max_cost_stops_the_run_cleanly_and_a_rerun_continues(srv, tmp_path):
    paths = write_packets(tmp_path / "cycle", 16)
    kw = {"model": MODEL, "base_url": srv.openai_base_url, "concurrency": 2, "progress": False}
    # Two packets already in the cache: the run may start although the estimate is over.
    asyncio.run(run_batch(paths[:2], tmp_path / "warm", **kw))
    calls_before = srv.calls
    # The fake server caches the static prefix as OpenAI does, so calls cost less than at
    # full input price; the ceiling is set where it stops this run part way.
    s = asyncio.run(run_batch([tmp_path / "cycle"], tmp_path / "run", max_cost_usd=0.01, **kw))
    assert s.stop_reason == "budget" and s.exit_code == 3
    assert s.estimate_usd > 0.01
    assert s.cost_usd <= 0.01, s.cost_usd
    assert s.cached == 2 and 2 < s.done < 16 and s.not_run == 16 - s.done
    assert srv.calls - calls_before == s.done - 2
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["stop_reason"] == "budget" and run["not_run"] == 16 - s.done
    assert "--max-cost" in (tmp_path / "run" / "report.html").read_text()
    again = asyncio.run(run_batch([tmp_path / "cycle"], tmp_path / "run", max_cost_usd=1.0, **kw))
    assert again.exit_code == 0 and again.skipped == s.done and again.assessed == 16 - s.done
    assert len(lines_of(tmp_path / "run" / "assessments.jsonl")) == 16


def test_a_rerun_retries_only_the_failed_packets(srv, tmp_path):
    write_packets(tmp_path / "cycle", 6, extra={
        "flaky-1.md": "- FLAKY: I built the retrieval evaluation that now gates every release.\n",
        "flaky-2.md": "- FLAKY: I traced the outage to a stale shard and fixed its refresh job.\n"})
    kw = {"model": MODEL, "base_url": srv.openai_base_url, "retry": FAST, "progress": False}
    FLAKY["on"] = True
    first = asyncio.run(run_batch([tmp_path / "cycle"], tmp_path / "run", **kw))
    assert first.exit_code == 1
    assert sorted(f.packet_id for f in first.failed) == ["flaky-1", "flaky-2"]
    assert len(lines_of(tmp_path / "run" / "errors.jsonl")) == 2
    FLAKY["on"] = False
    srv.reset()
    second = asyncio.run(run_batch([tmp_path / "cycle"], tmp_path / "run", **kw))
    asked = sorted(Path(_packet_text(r.json).split(":")[0]).name for r in srv.model_requests)
    assert asked == ["- FLAKY", "- FLAKY"], "only the two failed packets are asked again"
    assert second.exit_code == 0 and second.skipped == 6 and second.assessed == 2
    assert not (tmp_path / "run" / "errors.jsonl").exists(), "resolved failures are cleared"
    assert len(lines_of(tmp_path / "run" / "assessments.jsonl")) == 8


def test_budget_scales_estimates_up_when_answers_run_long():
    b = Budget(max_usd=1.0)
    assert b.try_reserve(0.3) == pytest.approx(0.3)
    b.settle(0.3, 0.3, 0.6)  # the model answered twice as long as estimated
    assert b.expected(0.2) == pytest.approx(0.4)
    assert b.try_reserve(0.2) == pytest.approx(0.4)
    assert b.try_reserve(0.2) is None, "0.6 spent + 0.4 reserved leaves nothing"
    b.settle(0.4, 0.2, 0.1)
    assert b.try_reserve(0.0) == 0.0, "cached packets never need budget"


async def test_the_adaptive_limit_halves_on_429s_and_creeps_back():
    lim = AdaptiveLimiter(8)
    epochs = [await lim.acquire() for _ in range(8)]
    for e in epochs[:6]:
        lim.release(429, e)  # one burst: one multiplicative cut, then capped by what is in flight
    assert lim.decreases == 1 and lim.allowed <= 2 and lim.rate_limited == 6
    for e in epochs[6:]:
        lim.release(200, e)
    before = lim.limit
    for _ in range(20):
        lim.release(200, await lim.acquire())
    assert before < lim.limit <= 8


def test_paths_expand_recursively_sorted_and_skip_the_output_directory(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.md").write_text("x")
    (tmp_path / "b" / "c.pdf").write_bytes(b"%PDF")
    (tmp_path / "b" / "skip.rtf").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.md").write_text("x")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "report.html").write_text("<html>")
    got = expand_paths([tmp_path, tmp_path / "a.md"], exclude=tmp_path / "run")
    assert got == [(tmp_path / "a.md").resolve(), (tmp_path / "b" / "c.pdf").resolve()]


def test_targets_csv_by_packet_id_or_path(tmp_path):
    csv_path = tmp_path / "targets.csv"
    csv_path.write_text("packet_id,target_level\npkt-001,senior\npkt-002,staff\n")
    assert read_targets(csv_path, LADDER) == {"pkt-001": "senior", "pkt-002": "staff"}
    csv_path.write_text("path,target_level\npackets/x.md,mid\n")
    assert read_targets(csv_path, LADDER) == {str((tmp_path / "packets/x.md").resolve()): "mid"}
    csv_path.write_text("packet_id,target_level\npkt-001,principal\n")
    with pytest.raises(ConfigError, match="line 2: unknown target level"):
        read_targets(csv_path, LADDER)


# ------------------------------------------------------------------ provider Batch APIs


@pytest.mark.parametrize("model", [MODEL, "anthropic/claude-haiku-4-5"])
def test_the_batch_api_path(model, srv, tmp_path):
    wire = "anthropic" if model.startswith("anthropic") else "openai"
    url = srv.anthropic_base_url if wire == "anthropic" else srv.openai_base_url
    folder = tmp_path / "cycle"
    write_packets(folder, 4, extra={
        "reask.md": "- UNGROUNDED: I built the retrieval evaluation that gates every release.\n",
        "broken.md": "- FAIL-500: the provider errors on this packet every time it is asked.\n"})
    # The live request for one packet, to prove batch lines are the same request (in a store of
    # its own, so the batch run does not find this packet in the cache).
    from packet_eval.api import assess_async
    from packet_eval.store import Store

    asyncio.run(assess_async(folder / "cand-000.md", model=model, base_url=url,
                             store=Store(tmp_path / "elsewhere.db")))
    live = srv.model_requests[-1].json
    srv.reset()
    s = asyncio.run(run_batch([folder], tmp_path / "run", model=model, base_url=url,
                              batch_api=True, poll_interval_s=0.01, retry=FAST, progress=False))
    assert s.done == 5 and [f.packet_id for f in s.failed] == ["broken"] and s.exit_code == 1
    b = s.batch_api
    assert b is not None and b["provider"] == wire and b["reasked"] == 1 and b["fell_back"] == 1
    assert b["resubmitted"] == 2, "the failing request is resubmitted up to the bound"
    lines = srv.batch_lines
    assert {line.provider for line in lines} == {wire}
    first = next(line.json for line in lines if "Candidate 0\n" in _packet_text(line.json))
    assert first == live, "a batch line is exactly the request the live extractor sends"
    # After the batches gave up on it, the broken packet was tried live (and failed there too).
    assert any("FAIL-500" in _packet_text(r.json) for r in srv.model_requests)
    results = {Path(d["source"]).name: Assessment.model_validate(d)
               for d in lines_of(tmp_path / "run" / "assessments.jsonl")}
    reask = results["reask.md"]
    assert reask.usage.validation_retries == 1 and reask.usage.calls == 2
    assert reask.dimensions["eval_design"].evidence, "the re-asked answer grounded"
    reask.check_grounded(load_packet(folder / "reask.md").text)
    a = results["cand-001.md"]
    cache = {"cache_read": a.usage.cache_read_tokens, "cache_write": a.usage.cache_write_tokens}
    assert a.usage.cache_read_tokens > 0, "the static prefix is read from the provider's cache"
    assert a.usage.cost_usd == pytest.approx(
        cost_usd(model, a.usage.input_tokens, a.usage.output_tokens, batch=True, **cache))
    assert a.usage.cost_usd < cost_usd(model, a.usage.input_tokens, a.usage.output_tokens, **cache)
    if wire == "anthropic":
        assert first["system"][-1]["cache_control"] == {"type": "ephemeral"}
    # Batch results land in the same cache entry as live ones: a live rerun makes no calls.
    srv.reset()
    again = asyncio.run(run_batch([folder / "cand-001.md"], tmp_path / "live", model=model,
                                  base_url=url, progress=False))
    assert again.cached == 1 and srv.calls == 0
    from packet_eval.store import Store

    assert Store().pending_batches(wire, str((tmp_path / "run").resolve())) == []


def test_batches_survive_the_process_and_a_rerun_collects_them(tmp_path):
    folder = tmp_path / "cycle"
    write_packets(folder, 3)
    with FakeLLMServer(default=handler(grounded_answer), batch_polls_until_done=10**6) as server:
        kw = {"model": MODEL, "base_url": server.openai_base_url, "batch_api": True,
              "poll_interval_s": 0.01, "progress": False}

        async def die_while_waiting() -> None:
            await asyncio.wait_for(run_batch([folder], tmp_path / "run", **kw), timeout=2.0)

        with pytest.raises(TimeoutError):
            asyncio.run(die_while_waiting())
        assert len(server.requests_to("/v1/batches")) == 1
        assert not (tmp_path / "run" / "assessments.jsonl").read_text()
        server.batch_polls_until_done = 1  # the provider finishes the batch
        s = asyncio.run(run_batch([folder], tmp_path / "run", **kw))
        creates = [r for r in server.requests_to("/v1/batches") if r.method == "POST"]
    assert s.exit_code == 0 and s.done == 3
    assert s.batch_api is not None and s.batch_api["resumed"] == 1 and s.batch_api["batches"] == 0
    assert len(creates) == 1, "the pending batch is collected, not submitted again"
    assert len(lines_of(tmp_path / "run" / "assessments.jsonl")) == 3


# ------------------------------------------------------------------ agreement


def test_agreement_values_equal_the_harness_on_the_same_data(tmp_path):
    packets = sorted((GOLDEN / "packets").glob("pkt-00*.md"))[:6]
    labels_path = GOLDEN / "labels.jsonl"
    s = asyncio.run(run_batch(packets, tmp_path / "run", model="baseline",
                              labels_path=labels_path, progress=False))
    assert s.exit_code == 0
    result = CliRunner().invoke(cli_app(), [
        "agreement", str(labels_path), str(tmp_path / "run" / "assessments.jsonl"),
        "--format", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    # The harness's way: first label per packet, records via agreement/records.py, agreement_report.
    labels = parse_labels(labels_path, LADDER).labels
    first = {}
    for lb in labels:
        first.setdefault(lb.packet_id, lb)
    gold, pred = [], []
    for d in lines_of(tmp_path / "run" / "assessments.jsonl"):
        a = Assessment.model_validate(d)
        gold.append(record_from_label(first[a.packet_id], load_packet(a.source).text))
        pred.append(record_from_assessment(a))
    expected = agreement_report(gold, pred, levels=LADDER.scale, dimensions=LADDER.dimension_ids,
                                flags=LADDER.flag_ids, n_boot=1000, seed=0)
    assert got["report"] == json.loads(json.dumps(expected.to_dict()))
    assert got["n_compared"] == 6 == expected.n_packets
    wrong = {d["packet_id"] for d in got["disagreements"]}
    assert {r.packet_id for r, p in zip(gold, pred, strict=True) if r.level != p.level} <= wrong
    for fmt, needle in (("text", "weighted kappa"), ("markdown", "| dimension |")):
        shown = CliRunner().invoke(cli_app(), ["agreement", str(labels_path),
                                               str(tmp_path / "run" / "assessments.jsonl"),
                                               "--format", fmt])
        assert shown.exit_code == 0 and needle in shown.stdout


def test_agreement_with_no_overlap_is_a_one_line_error(tmp_path):
    s = asyncio.run(run_batch([ROOT / "packet_eval" / "examples" / "sample-packet.md"], tmp_path / "run",
                              model="baseline", progress=False))
    assert s.exit_code == 0
    result = CliRunner().invoke(cli_app(), ["agreement", str(GOLDEN / "labels.jsonl"),
                                            str(tmp_path / "run" / "assessments.jsonl")])
    assert result.exit_code == 1 and "packet ids must match" in result.output
