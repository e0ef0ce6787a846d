"""The installed ``packet-eval`` command against a local fake LLM server, in a subprocess.

The CLI runs as a user runs it (``uv run --frozen packet-eval ...``) with its own
PACKET_EVAL_HOME and no provider key; only the transport is local. Every answer is
scripted test data from ``tests.fakes.llm_server``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from packet_eval.packet import load_packet
from packet_eval.schema import Assessment
from tests.fakes.answers import Q_PROD, SAMPLE, answer_quoting
from tests.fakes.llm_server import FakeLLMServer, reply

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/test-model"

BAD = "I personally rewrote every service in the company in a single afternoon"
DIMENSIONS = ["eval_design", "retrieval_quality", "context_engineering", "agent_architecture",
              "problem_framing", "production_diagnosis", "governance_leverage"]

# Test-only: the default policy backs off for up to ~30 s against a down server. This
# shrinks only the backoff timings (the attempt count stays), loaded at interpreter start.
FAST_BACKOFF = """\
import dataclasses
import packet_eval.providers as _p
_names = [f.name for f in dataclasses.fields(_p.RetryPolicy)]
_defaults = dict(zip(_names, _p.RetryPolicy.__init__.__defaults__))
_defaults.update(base_s=0.01, cap_s=0.05)
_p.RetryPolicy.__init__.__defaults__ = tuple(_defaults[n] for n in _names)
"""


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL",
                        "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "PYTHONPATH")}
    env["PACKET_EVAL_HOME"] = str(tmp_path / "home")
    env["NO_COLOR"] = "1"
    return env


def packet_eval(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["uv", "run", "--frozen", "packet-eval", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_preview_against_a_fake_server_and_the_log_shows_every_call(cli_env):
    with FakeLLMServer() as srv:
        # One ungrounded quote (re-asked), then a grounded answer: two HTTP calls.
        srv.script([reply(answer_quoting(BAD)), reply(answer_quoting(Q_PROD))])
        res = packet_eval("preview", str(SAMPLE.relative_to(ROOT)), "--model", MODEL,
                          "--base-url", srv.openai_base_url, "--format", "json", env=cli_env)
        requests = srv.model_requests
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "error" not in res.stderr.lower()

    a = Assessment.model_validate_json(res.stdout)
    a.check_grounded(load_packet(SAMPLE).text)
    assert a.extractor.name == "llm" and a.extractor.model == MODEL
    assert set(a.dimensions) == set(DIMENSIONS)
    assert [e.quote for e in a.dimensions["production_diagnosis"].evidence] == [Q_PROD]
    assert a.usage.validation_retries == 1 and a.usage.calls == len(requests) == 2
    # No key was set: the CLI sent the local-server placeholder, never a real key.
    assert all(r.headers.get("authorization") == "Bearer not-needed" for r in requests)

    log = packet_eval("log", "--json", env=cli_env)
    assert log.returncode == 0, log.stderr
    rows = json.loads(log.stdout)
    assert len(rows) == len(requests)
    assert {r["model"] for r in rows} == {MODEL} and {r["status"] for r in rows} == {"ok"}
    assert {r["packet_sha256"] for r in rows} == {a.packet_sha256}
    assert sum(r["input_tokens"] for r in rows) == a.usage.input_tokens > 0


def test_a_down_server_is_a_one_line_error(cli_env, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAST_BACKOFF)
    cli_env["PYTHONPATH"] = str(site)
    url = f"http://127.0.0.1:{closed_port()}/v1"

    res = packet_eval("preview", str(SAMPLE), "--model", MODEL, "--base-url", url,
                      "--format", "json", env=cli_env)
    assert res.returncode != 0
    assert res.stdout == ""
    *retries, last = res.stderr.strip().splitlines()
    # One line per retry so the wait is never silent, then exactly one error line.
    assert len(retries) == 5 and all(r.startswith("retrying in ") for r in retries), res.stderr
    # Each wait is the patched policy's (at most 0.05 s), not the default's seconds to minutes.
    assert all(float(r.split()[2].removesuffix("s")) <= 0.05 for r in retries), retries
    assert last.startswith("error: ") and MODEL in last
    assert "cannot reach the provider" in last and "--base-url" in last
    assert "Traceback" not in res.stderr

    # Every failed attempt is still in the call log, each as an error row.
    rows = json.loads(packet_eval("log", "--json", env=cli_env).stdout)
    assert len(rows) == 6 and {r["status"] for r in rows} == {"error"}  # default max_attempts


def test_an_unwritable_home_is_a_one_line_error(cli_env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cli_env["PACKET_EVAL_HOME"] = str(blocker / "home")
    res = packet_eval("log", env=cli_env)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "PACKET_EVAL_HOME" in lines[0]
