"""The command line as a whole: the public API it stands on, --verbose, and text to a file."""

from __future__ import annotations

import ast
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import packet_eval
from packet_eval.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "packet_eval" / "examples" / "sample-packet.md"
runner = CliRunner()


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(key, raising=False)


def preview_json(*global_options: str):
    return runner.invoke(app, [*global_options, "preview", str(SAMPLE), "--model", "baseline",
                               "--format", "json", "--target-level", "senior"])


def test_verbose_shows_debug_lines_on_stderr_and_keeps_stdout_clean():
    result = preview_json("--verbose")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["packet_id"] == "sample-packet"
    lines = result.stderr.splitlines()
    assert any("packet_eval.packet: loaded" in ln and "sample-packet.md" in ln for ln in lines)
    assert any("packet_eval.api: assess sample-packet with baseline" in ln for ln in lines)
    assert any("packet_eval.extractors.baseline:" in ln for ln in lines)


def test_without_verbose_nothing_is_printed_on_stderr():
    result = preview_json()
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout)["packet_id"] == "sample-packet"


def test_verbose_is_undone_when_the_command_ends():
    logger = logging.getLogger("packet_eval")
    handlers, level = list(logger.handlers), logger.level
    assert preview_json("-v").exit_code == 0
    assert logger.handlers == handlers and logger.level == level


def test_verbose_in_a_real_process():
    """The console script's own stderr: debug lines with --verbose, silence without."""
    cmd = [sys.executable, "-m", "packet_eval", "preview", str(SAMPLE), "-m", "baseline",
           "-f", "json"]
    quiet = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    loud = subprocess.run([*cmd[:3], "--verbose", *cmd[3:]], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert quiet.returncode == 0 and loud.returncode == 0, loud.stderr
    assert quiet.stderr == ""
    assert "packet_eval.packet: loaded" in loud.stderr
    strip = lambda out: {k: v for k, v in json.loads(out).items() if k != "created_utc"}  # noqa: E731
    assert strip(loud.stdout) == strip(quiet.stdout)


def test_preview_text_to_a_file_is_the_plain_rendering(tmp_path):
    out = tmp_path / "preview.txt"
    result = runner.invoke(app, ["preview", str(SAMPLE), "-m", "baseline", "-t", "senior",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "sample-packet" in text and "\x1b[" not in text  # no terminal colour codes
    assert result.stdout == "" and f"wrote {out}" in result.stderr


def test_every_public_name_resolves():
    for name in packet_eval.__all__:
        assert getattr(packet_eval, name) is not None, name
    assert set(packet_eval.__all__) <= set(dir(packet_eval))
    with pytest.raises(AttributeError):
        packet_eval.no_such_name  # noqa: B018


def test_importing_the_cli_loads_no_heavy_stack():
    code = ("import sys, packet_eval.cli; print(sorted(m for m in ('starlette', 'jinja2', "
            "'pandas', 'numpy', 'openai', 'anthropic', 'instructor', 'inspect_ai') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_commands_import_only_the_public_api():
    """packet_eval.cli stands on `packet_eval` alone, like any other user of the library."""
    bad = []
    for path in sorted((ROOT / "packet_eval" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{path.name}: {n}" for n in names
                    if n.startswith("packet_eval.") and not n.startswith("packet_eval.cli")]
    assert bad == []
