"""API keys never appear in output, errors, the call log, the cache or reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.llm_server import FakeLLMServer, status

ROOT = Path(__file__).resolve().parent.parent
# Built at run time so no key-shaped literal is ever committed.
KEY = "sk-" + "proj" + "-Zq7" + "X" * 28


def _run(args: list[str], home: Path, key_var: str = "OPENAI_API_KEY") -> subprocess.CompletedProcess:
    env = {**os.environ, "PACKET_EVAL_HOME": str(home), key_var: KEY}
    env.pop("ANTHROPIC_API_KEY" if key_var == "OPENAI_API_KEY" else "OPENAI_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "packet_eval", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("reply", [
    status(401, body={"error": {"message": f"Incorrect API key provided: {KEY}",
                                "type": "invalid_request_error"}}),
    status(400, body={"error": {"message": f"bad request for key {KEY}", "type": "invalid_request_error"}}),
])
def test_a_key_echoed_by_the_provider_is_never_repeated(tmp_path, reply):
    out = tmp_path / "a.html"
    with FakeLLMServer(default=reply) as srv:
        res = _run(["preview", "packet_eval/examples/sample-packet.md", "--model", "openai/gpt-test",
                    "--base-url", srv.openai_base_url, "--format", "html", "-o", str(out)], tmp_path / "home")
        assert srv.requests and srv.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was used
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert KEY not in res.stdout + res.stderr
    assert KEY.encode() not in _all_bytes(tmp_path / "home")


def test_a_successful_run_stores_no_key(tmp_path):
    out = tmp_path / "report.html"
    with FakeLLMServer() as srv:
        res = _run(["preview", "packet_eval/examples/sample-packet.md", "--model", "openai/gpt-test",
                    "--base-url", srv.openai_base_url, "--format", "html", "-o", str(out)], tmp_path / "home")
        log = _run(["log", "--json"], tmp_path / "home")
    assert res.returncode == 0, res.stderr
    assert out.exists() and KEY not in out.read_text(encoding="utf-8")
    for text in (res.stdout, res.stderr, log.stdout, log.stderr):
        assert KEY not in text
    assert KEY.encode() not in _all_bytes(tmp_path / "home")
