"""End to end against a real model server: llama.cpp (llama-cpp-python) with SmolLM2-135M.

The server is started by ``tools/llama_server.sh start`` (``.ci/run`` does it) and named by
``PACKET_EVAL_LLAMA_URL``; without it these tests skip. The model is tiny and writes poor
quotes, so nothing here asserts what it says: only what must hold whatever it says
(grounded quotes, dropped junk counted, one call-log row per HTTP call with the server's own
token counts, a harness log the gate reads, one clear line for a prompt over the context).
Requests go through a counting loopback proxy, so the test sees exactly what reached the
server and how many calls were made.

Bounded for a CPU server (a few tokens/s): the grammar ends each answer (see
``extractors.grammar_bounds``), output is capped (``PACKET_EVAL_MAX_TOKENS``) and the first
answer is final (``PACKET_EVAL_MAX_REASKS=0``): its ungrounded quotes are dropped and
counted, which is the guarantee under test. One live extraction per run: the harness test
scores that same answer from packet-eval's response cache (the preview wrote it), which a
CPU server's minutes per call make worth it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from packet_eval.extractors.grammar_bounds import bounded_answer_model
from packet_eval.grounding import ground
from packet_eval.ladder import load_ladder

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
URL = os.environ.get("PACKET_EVAL_LLAMA_URL", "").rstrip("/")
MODEL = os.environ.get("PACKET_EVAL_LLAMA_MODEL", "smollm2")
PACKET = "pkt-054"  # the shortest test-split packet, about 2,400 chars
MAX_TOKENS = os.environ.get("PACKET_EVAL_MAX_TOKENS", "1500")
BIN = Path(sys.executable).parent
# The server's own log (tools/llama_server.sh writes it): where it says how much of each
# prompt it reused from the previous one.
SERVER_LOG = Path(os.environ.get("PACKET_EVAL_LLAMA_LOG") or Path(
    os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "packet-eval" / "llama" /
    "server.log")

pytestmark = pytest.mark.skipif(
    not URL, reason="no real model server: set PACKET_EVAL_LLAMA_URL (tools/llama_server.sh "
    "start prints it; .ci/run starts the server and sets it)")


class Proxy:
    """Forwards to the real server, keeping each request body and each answer's usage."""

    def __init__(self, upstream: str,
                 rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.upstream = upstream
        self.rewrite = rewrite  # applied to each request body on its way to the server
        self.paths: list[str] = []
        self.in_flight = self.most_in_flight = 0  # model calls at once
        lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.usages: list[dict[str, Any] | None] = []
        self.contents: list[str] = []  # each answer's message content
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._forward(None)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                self._forward(body)

            def _forward(self, body: bytes | None) -> None:
                path = self.path
                proxy.paths.append(f"{self.command} {path}")
                if body is not None:
                    sent = json.loads(body)
                    if proxy.rewrite is not None:
                        sent = proxy.rewrite(sent)
                        body = json.dumps(sent).encode()
                    proxy.requests.append(sent)
                req = urllib.request.Request(proxy.upstream.removesuffix("/v1") + path, data=body,
                                             method=self.command,
                                             headers={"content-type": "application/json"})
                with lock:
                    proxy.in_flight += body is not None
                    proxy.most_in_flight = max(proxy.most_in_flight, proxy.in_flight)
                try:
                    with urllib.request.urlopen(req, timeout=900) as r:  # noqa: S310 - loopback
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                finally:
                    with lock:
                        proxy.in_flight -= body is not None
                if body is not None:
                    try:
                        answer = json.loads(data)
                    except ValueError:
                        answer = {}
                    proxy.usages.append(answer.get("usage"))
                    if answer.get("choices"):
                        proxy.contents.append(answer["choices"][0]["message"]["content"])
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    """One preview of a short golden packet through the counting proxy, shared by the tests."""
    home = tmp_path_factory.mktemp("home")
    p = Proxy(URL)
    packet = GOLDEN / "packets" / f"{PACKET}.md"
    try:
        r = run([str(BIN / "packet-eval"), "preview", str(packet), "--model", MODEL,
                 "--base-url", p.url, "--mode", "json", "--format", "json", "--no-cache"], home)
    finally:
        p.close()
    return r, p, home, packet.read_text(encoding="utf-8")


def run(args: list[str], home: Path, timeout: int = 1500,
        **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACKET_EVAL_HOME": str(home),
           "PACKET_EVAL_TIMEOUT": os.environ.get("PACKET_EVAL_TIMEOUT", "900"),
           "PACKET_EVAL_MAX_TOKENS": MAX_TOKENS, "PACKET_EVAL_MAX_REASKS": "0",
           "NO_COLOR": "1", "COLUMNS": "200", **env_vars}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT, check=False)


def calls(home: Path) -> list[dict[str, Any]]:
    r = run([str(BIN / "packet-eval"), "log", "--json", "-n", "1000"], home)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def one_line_failure(r: subprocess.CompletedProcess[str]) -> None:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "retrying" not in ln
             and "still waiting" not in ln]
    assert "Traceback" not in r.stderr
    assert len(lines) == 1, r.stderr


def test_preview_grounds_every_quote_and_logs_each_call(preview):
    r, proxy, tmp_path, text = preview
    assert proxy.requests, "no request reached the server"
    if r.returncode != 0:  # a tiny model may never give a valid answer: then one clear line
        one_line_failure(r)
        assert len(calls(tmp_path)) == len(proxy.requests)
        return
    a = json.loads(r.stdout)
    shown = [e for d in a["dimensions"].values() for e in d["evidence"]]
    canonical = a.get("packet_text") or text
    for e in shown:
        assert e["quote"] == canonical[e["start"]:e["end"]]
        assert e["level"] != "none"
    u = a["usage"]
    # Every HTTP call is one call-log row, carrying the token counts the server reported.
    rows = [c for c in calls(tmp_path) if c["status"] == "ok"]
    answered = [x for x in proxy.usages if x]
    assert u["calls"] == len(proxy.requests) == len(calls(tmp_path))
    assert sorted(c["input_tokens"] for c in rows) == sorted(x["prompt_tokens"] for x in answered)
    assert sorted(c["output_tokens"] for c in rows) == sorted(
        x["completion_tokens"] for x in answered)
    assert all(c["input_tokens"] > 0 for c in rows)
    junk_dropped_and_counted(proxy, shown, text, u)


def junk_dropped_and_counted(proxy: Proxy, shown: list[dict[str, Any]], text: str,
                             usage: dict[str, Any]) -> None:
    """A junk quote is dropped and counted, never shown: with no re-asks the one answer the
    server sent is final, so each of its quotes that does not ground is dropped."""
    assert len(proxy.contents) == 1 and usage["validation_retries"] == 0
    final = json.loads(proxy.contents[-1], strict=False)  # raw newlines in strings: see bounds
    quotes = [e["quote"] for d in final["dimensions"] for e in d["evidence"]] + [
        f["quote"] for f in final["flags"]]
    junk = [q for q in quotes if not ground(q, text, 0)]
    shown_quotes = {e["quote"] for e in shown}
    assert not shown_quotes & set(junk)
    assert usage["dropped_ungrounded"] == len(junk)


def test_the_schema_that_reaches_the_server(preview):
    _, proxy, _, _ = preview
    assert proxy.requests, "no request reached the server"
    body = proxy.requests[0]
    # llama-cpp-python's own form: the schema it turns into a grammar.
    assert body["response_format"]["type"] == "json_object"
    schema = body["response_format"]["schema"]
    sent = json.dumps(schema)
    assert "$ref" not in sent and "$defs" not in sent
    dim = schema["properties"]["dimensions"]["items"]
    assert list(dim["properties"]) == ["dimension", "reasoning", "evidence", "level"]
    assert dim["required"] == ["dimension", "reasoning", "evidence", "level"]
    assert schema["required"] == ["dimensions", "flags"]
    assert body["max_tokens"] == int(MAX_TOKENS)
    # The grammar ends: each dimension once, ids and levels from the ladder, capped strings.
    n = len(load_ladder().dimension_ids)
    assert schema["properties"]["dimensions"]["maxItems"] == n == len(dim["properties"][
        "dimension"]["enum"])
    assert dim["properties"]["level"]["enum"] == list(load_ladder().scale)
    assert dim["properties"]["reasoning"]["maxLength"] > 0


def test_prompt_over_the_context_is_one_clear_line(tmp_path):
    big = tmp_path / "big.md"
    # Digits tokenize at about two characters a token, not the four the chunker assumes, so
    # a chunk within the token budget is still about 8,000 tokens: over the server's 8,192
    # with the ladder prompt. Only the server can tell; it must not be cut silently.
    digits = " ".join(str((i * 7919) % 10) for i in range(7800))
    big.write_text(f"# Packet\n\n{digits}\n", encoding="utf-8")
    r = run([str(BIN / "packet-eval"), "preview", str(big), "--model", MODEL,
             "--base-url", URL, "--mode", "json", "--no-cache"], tmp_path)
    assert r.returncode != 0
    one_line_failure(r)
    assert "context window is" in r.stderr and "tokens" in r.stderr


def one_packet_dataset(tmp_path: Path) -> Path:
    """A golden-layout directory holding only PACKET and its labels."""
    ds = tmp_path / "ds"
    (ds / "packets").mkdir(parents=True)
    shutil.copy(GOLDEN / "packets" / f"{PACKET}.md", ds / "packets")
    labels = [ln for ln in (GOLDEN / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if json.loads(ln)["packet_id"] == PACKET]
    (ds / "labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (ds / "splits.json").write_text(json.dumps({"dev": [], "test": [PACKET]}), encoding="utf-8")
    return ds


def test_harness_scores_the_real_model_and_the_gate_reads_it(tmp_path, preview):
    r0, _, home, _ = preview
    if r0.returncode != 0:
        pytest.fail(f"the preview found no valid answer, so there is none to score: {r0.stderr}")
    ds = one_packet_dataset(tmp_path)
    logs = tmp_path / "logs"
    p = Proxy(URL)
    try:
        # The project's own client straight to the server (-T base_url): the bridge cannot
        # carry the grammar's bounds, see evaluation/inspect_task.py. Same request as the
        # preview's, so it is the real model's answer, served from the response cache.
        r = run([str(BIN / "inspect"), "eval", "packet_eval/packet_extraction",
                 "-T", "extractor=llm", "-T", f"dataset={ds}", "-T", "mode=json",
                 "-T", f"base_url={p.url}", "-T", f"server_model={MODEL}",
                 "--model", "none", "--log-dir", str(logs), "--display", "plain",
                 "--no-log-realtime", "--log-format", "json"], home)
    finally:
        p.close()
    assert r.returncode == 0, r.stderr[-2000:]
    assert p.requests == []  # from the cache: the request matched the preview's exactly
    log_file = sorted(logs.glob("*.json"))[-1]
    log = json.loads(log_file.read_text(encoding="utf-8"))
    assert log["status"] == "success", log.get("error")
    assert log["results"]["completed_samples"] == log["results"]["total_samples"] == 1
    [sample] = log["samples"]
    scored = next(iter(sample["scores"].values()))
    assert scored["answer"] == json.loads(r0.stdout)["level"]  # the preview's answer, scored
    g = run([str(BIN / "packet-eval"), "eval", "gate", str(log_file)], tmp_path)
    assert "Traceback" not in g.stderr
    assert "level/" in g.stdout  # the gate read the log's metrics (floors may not be met)


def short_packet(tmp_path: Path) -> Path:
    p = tmp_path / "short.md"
    p.write_text("# Promotion packet\n\nI wrote the onboarding guide for the data platform team "
                 "and ran its first two sessions.\n", encoding="utf-8")
    return p


def preview_args(packet: Path, base_url: str) -> list[str]:
    return [str(BIN / "packet-eval"), "preview", str(packet), "--model", MODEL,
            "--base-url", base_url, "--mode", "json", "--no-cache"]


def test_harness_scores_samples_through_inspects_bridge(tmp_path, preview):
    """inspect's own llama-cpp-python provider and agent bridge: one live call, scored."""
    ds = one_packet_dataset(tmp_path)
    logs = tmp_path / "logs"
    p = Proxy(URL)
    try:
        r = run([str(BIN / "inspect"), "eval", "packet_eval/packet_extraction",
                 "-T", "extractor=llm", "-T", f"dataset={ds}", "-T", "mode=json",
                 "-T", "cache=false", "--model", f"llama-cpp-python/{MODEL}",
                 "--model-base-url", p.url, "--timeout", "900", "--log-dir", str(logs),
                 "--display", "plain", "--no-log-realtime", "--log-format", "json"], tmp_path)
    finally:
        p.close()
    assert r.returncode == 0, r.stderr[-2000:]
    # One call, carrying the bounded grammar in the server's own form and the output cap.
    [body] = p.requests
    assert body["response_format"] == {
        "type": "json_object", "schema": bounded_answer_model(load_ladder()).model_json_schema()}
    assert body["max_tokens"] == int(MAX_TOKENS)
    log = json.loads(sorted(logs.glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert log["status"] == "success", log.get("error")
    assert log["results"]["completed_samples"] == log["results"]["total_samples"] == 1
    [sample] = log["samples"]
    assert next(iter(sample["scores"].values()))["answer"] in load_ladder().scale
    a = sample["metadata"]["assessment"]
    shown = [e for d in a["dimensions"].values() for e in d["evidence"]]
    text = sample["input"]
    assert all(text[e["start"]:e["end"]] == e["quote"] and e["level"] != "none" for e in shown)
    junk_dropped_and_counted(p, shown, text, a["usage"])


def test_a_batch_keeps_to_the_servers_one_slot_and_counts_its_calls(tmp_path):
    cycle = tmp_path / "cycle"
    cycle.mkdir()
    for i in range(3):  # three packets, each cut off at one output token: each fails
        (cycle / f"p{i}.md").write_text(short_packet(tmp_path).read_text().replace(
            "two", ["two", "three", "four"][i]), encoding="utf-8")
    p = Proxy(URL)
    try:
        r = run([str(BIN / "packet-eval"), "assess", str(cycle), "--out", str(tmp_path / "run"),
                 "--model", MODEL, "--base-url", p.url, "--mode", "json", "--concurrency", "2",
                 "--no-cache", "--no-progress"], tmp_path, PACKET_EVAL_MAX_TOKENS="1")
    finally:
        p.close()
    assert "Traceback" not in r.stderr
    assert "runs 1 request(s) at a time: --concurrency lowered from 2 to 1" in r.stdout + r.stderr
    assert "GET /openapi.json" in p.paths  # llama-cpp-python's server, known to hold one lock
    assert p.most_in_flight == 1  # never more than its one slot
    summary = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert len(summary["failed"]) == 3
    # The summary counts the failed packets' calls as the call log does (it once said 0).
    assert summary["calls"] == len(calls(tmp_path)) == len(p.requests) == 3


def test_the_ladder_prefix_is_reused_across_packets(tmp_path, preview):
    _, first, _, _ = preview
    if not SERVER_LOG.is_file():
        pytest.skip(f"no server log at {SERVER_LOG}: set PACKET_EVAL_LLAMA_LOG")
    assert first.requests, "no request reached the server"
    static = first.requests[0]["messages"][0]["content"]
    # The static part's length as the server counts it (its own chat template).
    probe = urllib.request.Request(
        URL + "/chat/completions", headers={"content-type": "application/json"},
        data=json.dumps({"model": MODEL, "max_tokens": 1, "temperature": 0,
                         "messages": [{"role": "system", "content": static}]}).encode())
    with urllib.request.urlopen(probe, timeout=900) as resp:  # noqa: S310 - loopback
        static_tokens = json.loads(resp.read())["usage"]["prompt_tokens"]
    before = SERVER_LOG.stat().st_size
    p = Proxy(URL)
    try:  # a different packet; one output token is enough for the server to reuse the prefix
        r = run(preview_args(short_packet(tmp_path), p.url), tmp_path,
                PACKET_EVAL_MAX_TOKENS="1")
    finally:
        p.close()
    one_line_failure(r)  # cut off at one token
    [body] = p.requests
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert system == static  # byte-identical for every packet
    nonce = re.search(r"<packet-([0-9a-z]+)", user)
    assert nonce and nonce.group(1) not in static  # the packet's marker is after the prefix
    logged = SERVER_LOG.read_bytes()[before:].decode("utf-8", "replace")
    hits = [int(n) for n in re.findall(r"(\d+) prefix-match hit", logged)]
    assert hits, logged[-2000:]
    # All of it reused but the template's few tokens where the user turn begins.
    assert max(hits) >= static_tokens - 8 > 2000


def test_a_request_the_server_always_refuses_fails_fast(tmp_path):
    def standard_form(body: dict[str, Any]) -> dict[str, Any]:
        # The standard response format, which llama-cpp-python 0.3.36 answers with HTTP 500.
        rf = body.get("response_format")
        if rf and rf.get("type") == "json_object":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "ExtractionAnswer", "schema": rf["schema"]}}
        return body

    p = Proxy(URL, rewrite=standard_form)
    try:
        r = run(preview_args(short_packet(tmp_path), p.url), tmp_path)
    finally:
        p.close()
    assert r.returncode != 0
    one_line_failure(r)
    assert "HTTP 500" in r.stderr and "--mode tools" in r.stderr
    assert len(p.requests) == 2  # the same 500 twice, then no more retries


def test_a_timeout_is_one_clear_line_naming_it(tmp_path):
    # Last in the module: the server keeps working on the requests the client gave up on.
    r = run(preview_args(short_packet(tmp_path), URL), tmp_path, PACKET_EVAL_TIMEOUT="0.5",
            PACKET_EVAL_MAX_TOKENS="200")
    assert r.returncode != 0
    one_line_failure(r)
    assert "within the 0.5 s timeout" in r.stderr and "PACKET_EVAL_TIMEOUT" in r.stderr
