"""``--roster FILE``: the names a committee lists are always masked, through preview and assess.

The fake provider records every request body; a roster name that no recogniser
finds alone ("Qwertina Zell") must reach it without the roster and must not with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.ladder import load_ladder
from packet_eval.redact.roster import read_roster
from tests.fakes.llm_server import FakeLLMServer, handler

runner = CliRunner()
MODEL = "openai/gpt-test"
PACKET = ("# Promotion packet\n\nI built the eval harness that every change to the assistant runs "
          "against. Later Qwertina approved the plan, and the Zell notes shaped the rubric.\n")


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))


def _empty_answer(req: dict) -> dict:
    dims = [{"dimension": d, "reasoning": "r", "evidence": [], "level": "none"}
            for d in load_ladder().dimension_ids]
    return {"dimensions": dims, "flags": []}


def _files(tmp_path: Path) -> tuple[Path, Path]:
    packet = tmp_path / "p.md"
    packet.write_text(PACKET, encoding="utf-8")
    roster = tmp_path / "roster.txt"
    roster.write_text("# candidates and reviewers\nQwertina Zell\n\n", encoding="utf-8")
    return packet, roster


def _args(command: str, packet: Path, tmp_path: Path, base_url: str) -> list[str]:
    out = ["--out", str(tmp_path / "run"), "--no-progress"] if command == "assess" else ["--format", "json"]
    return [command, str(packet), "--model", MODEL, "--base-url", base_url, "--no-cache", *out]


@pytest.mark.parametrize("command", ["preview", "assess"])
@pytest.mark.parametrize("with_roster", [False, True], ids=["no-roster", "roster"])
def test_roster_names_never_reach_the_wire(tmp_path, command, with_roster):
    packet, roster = _files(tmp_path)
    with FakeLLMServer() as srv:
        srv.script([handler(_empty_answer)])
        extra = ["--roster", str(roster)] if with_roster else []
        res = runner.invoke(app, [*_args(command, packet, tmp_path, srv.openai_base_url), *extra])
        wire = json.dumps([json.loads(r.body) for r in srv.model_requests], ensure_ascii=False)
    assert res.exit_code == 0, res.output
    assert "eval harness" in wire  # the packet was sent
    # A loopback server gets the text as it is; --roster turns redaction on for it.
    for name in ("Qwertina", "Zell"):
        assert (name in wire) is not with_roster, (name, with_roster)


@pytest.mark.parametrize("command", ["preview", "assess"])
@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p / "missing.txt", "file not found"),
    (lambda p: p, "is a folder"),
    (lambda p: (p / "bad.txt", (p / "bad.txt").write_bytes(b"\xff\xfeQ\x00\xe9"))[0], "not UTF-8"),
    (lambda p: (p / "empty.txt", (p / "empty.txt").write_text("# none\n\n"))[0], "holds no names"),
])
def test_a_bad_roster_file_is_one_line_and_nothing_is_sent(tmp_path, command, make, says):
    packet, _ = _files(tmp_path)
    folder = tmp_path / "r"
    folder.mkdir()
    bad = make(folder)
    with FakeLLMServer() as srv:
        srv.script([handler(_empty_answer)])
        res = runner.invoke(app, [*_args(command, packet, tmp_path, srv.openai_base_url),
                                  "--roster", str(bad)])
        calls = len(srv.model_requests)
    assert res.exit_code != 0 and calls == 0
    assert "Traceback" not in res.output
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: roster ") and str(bad) in line and says in line, line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["preview", "assess"])
def test_roster_with_no_redact_is_refused(tmp_path, command):
    packet, roster = _files(tmp_path)
    with FakeLLMServer() as srv:
        res = runner.invoke(app, [*_args(command, packet, tmp_path, srv.openai_base_url),
                                  "--roster", str(roster), "--no-redact"])
        calls = len(srv.model_requests)
    assert res.exit_code != 0 and calls == 0
    [line] = res.stderr.strip().splitlines()
    assert "--roster" in line and "--no-redact" in line


def test_read_roster_skips_comments_and_blanks_and_keeps_order(tmp_path):
    f = tmp_path / "r.txt"
    f.write_bytes("\ufeffNadia Kowalczyk\n# reviewers\n  Siobhán Ní Bhriain \n\nNadia Kowalczyk\n".encode())
    assert read_roster(f) == ("Nadia Kowalczyk", "Siobhán Ní Bhriain")


@pytest.mark.parametrize("with_roster", [False, True], ids=["no-roster", "roster"])
def test_roster_names_never_reach_a_provider_batch(tmp_path, with_roster):
    packet, roster = _files(tmp_path)
    with FakeLLMServer() as srv:
        srv.script([handler(_empty_answer)] * 4)
        extra = ["--roster", str(roster)] if with_roster else []
        res = runner.invoke(app, [*_args("assess", packet, tmp_path, srv.openai_base_url),
                                  "--batch-api", "--poll-seconds", "0.01", *extra])
        lines = json.dumps([line.json for line in srv.batch_lines], ensure_ascii=False)
    assert res.exit_code == 0, res.output
    assert "eval harness" in lines  # the packet went into a batch file
    for name in ("Qwertina", "Zell"):
        assert (name in lines) is not with_roster, (name, with_roster)
