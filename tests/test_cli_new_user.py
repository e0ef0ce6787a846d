"""What a new user hit on a fresh clone (issue 16), each checked through the CLI.

Every bad input must end in one line on stderr, the right exit code and no
traceback; every fix that changes what a command does is checked by its output.
The LLM cases run the real CLI against the in-process fake server (loopback only).
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.ladder import load_ladder
from packet_eval.schema import Assessment
from tests.fakes.answers import Q_PROD, SAMPLE, answer_quoting
from tests.fakes.llm_server import FakeLLMServer, reply

ROOT = Path(__file__).resolve().parent.parent
TEXT = ("I built the failure-mode taxonomy and the eval harness that every change to the "
        "assistant now runs against, and I chose its metrics myself.")
runner = CliRunner()


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(key, raising=False)


def one_error_line(result, code: int = 1) -> str:
    """The single stderr line of a failed command (and no traceback, no stdout)."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- --base-url without --model ---------------------------------------------------------------

def test_base_url_without_model_uses_the_servers_only_model():
    with FakeLLMServer() as srv:
        srv.served_models = ["qwen-local"]
        srv.script([reply(answer_quoting(Q_PROD))])
        res = runner.invoke(app, ["preview", str(SAMPLE), "--base-url", srv.openai_base_url,
                                  "--format", "json"])
        sent = [r.json["model"] for r in srv.model_requests]
    assert res.exit_code == 0, res.output
    a = Assessment.model_validate_json(res.stdout)
    assert a.extractor.name == "llm" and sent == ["qwen-local"]
    assert "qwen-local" in a.extractor.model
    assert res.stderr.count("note:") == 1 and "the one model" in res.stderr


@pytest.mark.parametrize(("served", "says"), [
    (["a-model", "b-model"], "several models (a-model, b-model)"),
    ([], "lists no models"),
])
@pytest.mark.parametrize("command", ["preview", "assess"])
def test_base_url_with_several_or_no_models_fails_in_one_line(served, says, command, tmp_path):
    out = tmp_path / "run"
    args = [str(SAMPLE)] + (["--out", str(out)] if command == "assess" else [])
    with FakeLLMServer() as srv:
        srv.served_models = served
        res = runner.invoke(app, [command, *args, "--base-url", srv.openai_base_url])
        calls = len(srv.model_requests)
    line = one_error_line(res)
    assert says in line and "--model" in line
    assert calls == 0 and res.stdout == "" and not out.exists()


def test_base_url_unreachable_without_model_fails_in_one_line():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    line = one_error_line(runner.invoke(app, ["preview", str(SAMPLE), "--base-url", url]))
    assert "cannot reach the server" in line and url in line


def test_base_url_with_the_baseline_is_refused():
    line = one_error_line(runner.invoke(app, ["preview", str(SAMPLE), "--model", "baseline",
                                              "--base-url", "http://127.0.0.1:9/v1"]))
    assert "--base-url needs an LLM model" in line


# --- packet files -----------------------------------------------------------------------------

def _pdf(text: str | None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if text:
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def _encrypted(raw: bytes, user: str, owner: str) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(raw)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_owner_password_pdf_opens_and_user_password_pdf_is_refused(tmp_path):
    owner_only = tmp_path / "owner.pdf"
    owner_only.write_bytes(_encrypted(_pdf(TEXT), "", "owner-secret"))
    res = runner.invoke(app, ["preview", str(owner_only), "--model", "baseline", "--format", "json"])
    assert res.exit_code == 0, res.output
    a = Assessment.model_validate_json(res.stdout)
    assert a.packet_id == "owner" and a.dimensions["eval_design"].evidence
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(_encrypted(_pdf(TEXT), "user-secret", "owner-secret"))
    line = one_error_line(runner.invoke(app, ["preview", str(locked), "--model", "baseline"]))
    assert "password-protected PDF" in line and "locked.pdf" in line


def test_image_only_pdf_says_it_has_no_text_layer(tmp_path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_pdf(None))
    line = one_error_line(runner.invoke(app, ["preview", str(scan), "--model", "baseline"]))
    assert "no text layer" in line and "OCR" in line and "scan.pdf" in line


def test_password_protected_docx_is_named_as_such(tmp_path):
    # Word writes an encrypted .docx as an OLE2 compound file, not a zip package.
    locked = tmp_path / "locked.docx"
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    line = one_error_line(runner.invoke(app, ["preview", str(locked), "--model", "baseline"]))
    assert "password-protected .docx" in line and "zip" not in line


def test_utf16_text_is_read(tmp_path):
    path = tmp_path / "notepad.txt"
    path.write_bytes(TEXT.encode("utf-16"))  # with its byte-order mark, as Notepad saves it
    res = runner.invoke(app, ["preview", str(path), "--model", "baseline", "--format", "json"])
    assert res.exit_code == 0, res.output
    a = Assessment.model_validate_json(res.stdout)
    assert a.dimensions["eval_design"].evidence, "the UTF-16 text was not read as text"


def test_mistyped_folder_is_not_found_and_assess_makes_no_out_dir(tmp_path):
    out = tmp_path / "run"
    line = one_error_line(runner.invoke(app, ["assess", str(tmp_path / "packtes"), "--out", str(out)]))
    assert "not found" in line and "packtes" in line and "(none)" not in line
    assert not out.exists()
    line = one_error_line(runner.invoke(app, ["preview", str(tmp_path / "packtes")]))
    assert "not found" in line and "unsupported" not in line


def test_preview_reads_stdin():
    res = runner.invoke(app, ["preview", "-", "--model", "baseline", "--format", "json"], input=TEXT)
    assert res.exit_code == 0, res.output
    a = Assessment.model_validate_json(res.stdout)
    assert a.packet_id == "stdin" and a.dimensions["eval_design"].evidence


# --- what the terminal shows ------------------------------------------------------------------

def test_gaps_show_dimension_names_and_the_whole_need():
    res = runner.invoke(app, ["preview", str(SAMPLE), "--model", "baseline", "--target-level", "staff"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.stdout.split())
    gaps = flat.split("Gaps to staff", 1)[1]
    lad = load_ladder(None)
    shown = [d for d in lad.dimensions if f"{d.name} " in gaps]
    assert shown, gaps
    for d in lad.dimensions:
        assert f"{d.id} " not in gaps  # raw ids are gone
    for d in shown:
        need = " ".join(d.cells["staff"].behaviour.split())
        assert need[1:] in gaps, f"the need of {d.name} is cut"


def test_levels_match_in_any_case_and_are_listed_in_help():
    res = runner.invoke(app, ["preview", str(SAMPLE), "--model", "baseline", "-t", "Senior",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["target_level"] == "senior"
    line = one_error_line(runner.invoke(app, ["preview", str(SAMPLE), "-t", "principal"]))
    assert "unknown level 'principal'" in line
    helptext = " ".join(runner.invoke(app, ["preview", "--help"]).stdout.split())
    assert "junior, mid, senior, staff" in helptext and "any case" in helptext


def test_help_shows_names_not_python_types_and_version_and_completion():
    helptext = runner.invoke(app, ["assess", "--help"]).stdout
    assert "PATHS}..." in helptext and "--out DIR" in helptext
    assert "list[Path]" not in helptext and "<str>" not in helptext and "<float>" not in helptext
    ver = runner.invoke(app, ["--version"])
    assert ver.exit_code == 0 and ver.stdout.startswith("packet-eval 0.")
    top = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in top and "--quiet" in top and "--verbose" in top


def test_quiet_drops_the_notes_and_keeps_errors():
    loud = runner.invoke(app, ["preview", str(SAMPLE), "--format", "json"])
    quiet = runner.invoke(app, ["--quiet", "preview", str(SAMPLE), "--format", "json"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "note:" in loud.stderr and quiet.stderr == ""
    assert json.loads(quiet.stdout)["packet_id"] == "sample-packet"
    line = one_error_line(runner.invoke(app, ["--quiet", "preview", "missing.md"]))
    assert "file not found" in line


def test_dataset_stats_is_one_line_per_property():
    res = runner.invoke(app, ["dataset", "stats", str(ROOT / "datasets" / "golden")])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    levels = next(ln for ln in lines if ln.strip().startswith("levels"))
    assert "junior" in levels and "staff" in levels
    assert "{" not in res.stdout and "┏" not in res.stdout


# --- assess -----------------------------------------------------------------------------------

def test_rerun_into_the_same_out_with_another_target_is_refused(tmp_path):
    out = tmp_path / "run"
    first = runner.invoke(app, ["assess", str(SAMPLE), "--out", str(out), "--model", "baseline",
                                "-t", "senior", "--no-progress"])
    assert first.exit_code == 0, first.output
    before = (out / "assessments.jsonl").read_bytes()
    line = one_error_line(runner.invoke(app, ["assess", str(SAMPLE), "--out", str(out),
                                              "--model", "baseline", "-t", "staff"]))
    assert "another target (senior)" in line and "new --out" in line
    assert (out / "assessments.jsonl").read_bytes() == before
    again = runner.invoke(app, ["assess", str(SAMPLE), "--out", str(out), "--model", "baseline",
                                "-t", "SENIOR", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert (out / "assessments.jsonl").read_bytes() == before  # resumed: nothing appended


def test_max_cost_with_the_baseline_is_a_note_not_an_error(tmp_path):
    res = runner.invoke(app, ["assess", str(SAMPLE), "--out", str(tmp_path / "r"), "--model",
                              "baseline", "--max-cost", "1", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "--max-cost ignored" in res.stderr and "pricing.py" not in res.output


def test_max_cost_with_a_self_hosted_model_is_a_note(tmp_path):
    with FakeLLMServer() as srv:
        srv.script([reply(answer_quoting(Q_PROD))])
        res = runner.invoke(app, ["assess", str(SAMPLE), "--out", str(tmp_path / "r"), "--model",
                                  "qwen-local", "--base-url", srv.openai_base_url, "--max-cost", "1",
                                  "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "--max-cost ignored" in res.stderr and "pricing.py" not in res.output


def test_dry_run_estimates_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["assess", str(ROOT / "datasets" / "golden" / "packets"), "--out",
                              str(out), "--model", "openai/gpt-4.1-mini", "--dry-run"])
    # No key is needed to estimate; nothing is sent and --out is not created.
    assert res.exit_code == 0, res.output
    assert "dry run: 68 packet(s)" in res.stdout
    cost = float(res.stdout.split("estimated cost $", 1)[1].split()[0])
    assert cost > 0
    assert not out.exists()


def _luminance(hex_colour: str) -> float:
    def chan(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * chan(r) + 0.7152 * chan(g) + 0.0722 * chan(b)


def test_report_junior_bar_stands_out_from_the_track_and_labels_wrap(tmp_path):
    import re

    from packet_eval.report.committee import TRACK_BG

    out = tmp_path / "run"
    res = runner.invoke(app, ["assess", str(ROOT / "tests" / "fixtures" / "junior-packet.md"),
                              "--out", str(out), "--model", "baseline", "--no-progress"])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    fill = re.search(r'class="lab">junior</div><div class="track"><div class="fill" '
                     r'style="width:[\d.]+%;background:(#[0-9a-f]{6})', html)
    assert fill, "no junior bar in the level chart"
    hi, lo = sorted([_luminance(fill.group(1)), _luminance(TRACK_BG)], reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 1.5, fill.group(1)  # blue-100 on the track was 1.13
    assert re.search(r"\.bars \.lab \{[^}]*white-space:normal", html)
    assert "text-overflow:ellipsis; }\n.bars .track" not in html
