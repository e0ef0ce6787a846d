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
import shutil
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from packet_eval.grounding import ground
from packet_eval.ladder import load_ladder

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
URL = os.environ.get("PACKET_EVAL_LLAMA_URL", "").rstrip("/")
MODEL = os.environ.get("PACKET_EVAL_LLAMA_MODEL", "smollm2")
PACKET = "pkt-054"  # the shortest test-split packet, about 2,400 chars
MAX_TOKENS = os.environ.get("PACKET_EVAL_MAX_TOKENS", "1500")
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not URL, reason="no real model server: set PACKET_EVAL_LLAMA_URL (tools/llama_server.sh "
    "start prints it; .ci/run starts the server and sets it)")


class Proxy:
    """Forwards to the real server, keeping each request body and each answer's usage."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
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
                path = self.path.removeprefix("/v1")
                req = urllib.request.Request(proxy.upstream + path, data=body, method=self.command,
                                             headers={"content-type": "application/json"})
                if body is not None:
                    proxy.requests.append(json.loads(body))
                try:
                    with urllib.request.urlopen(req, timeout=900) as r:  # noqa: S310 - loopback
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
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


def run(args: list[str], home: Path, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACKET_EVAL_HOME": str(home),
           "PACKET_EVAL_TIMEOUT": os.environ.get("PACKET_EVAL_TIMEOUT", "900"),
           "PACKET_EVAL_MAX_TOKENS": MAX_TOKENS, "PACKET_EVAL_MAX_REASKS": "0",
           "NO_COLOR": "1", "COLUMNS": "200"}
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
    # A junk quote is dropped and counted, never shown: with no re-asks the one answer the
    # server sent is final, so each of its quotes that does not ground is dropped.
    assert len(proxy.contents) == 1 and u["validation_retries"] == 0
    final = json.loads(proxy.contents[-1], strict=False)  # raw newlines in strings: see bounds
    quotes = [e["quote"] for d in final["dimensions"] for e in d["evidence"]] + [
        f["quote"] for f in final["flags"]]
    junk = [q for q in quotes if not ground(q, text, 0)]
    shown_quotes = {e["quote"] for e in shown}
    assert not shown_quotes & set(junk)
    assert u["dropped_ungrounded"] == len(junk)


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


def test_harness_scores_the_real_model_and_the_gate_reads_it(tmp_path, preview):
    r0, _, home, _ = preview
    if r0.returncode != 0:
        pytest.fail(f"the preview found no valid answer, so there is none to score: {r0.stderr}")
    ds = tmp_path / "ds"
    (ds / "packets").mkdir(parents=True)
    shutil.copy(GOLDEN / "packets" / f"{PACKET}.md", ds / "packets")
    labels = [ln for ln in (GOLDEN / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if json.loads(ln)["packet_id"] == PACKET]
    (ds / "labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (ds / "splits.json").write_text(json.dumps({"dev": [], "test": [PACKET]}), encoding="utf-8")
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
