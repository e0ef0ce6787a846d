"""``diff_assessments`` and ``preview --diff OLD NEW`` on a weaker and a stronger draft."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from packet_eval import assess
from packet_eval.diff import diff_assessments, format_diff, normalize_quote
from packet_eval.ladder import load_ladder
from packet_eval.packet import packet_from_text

# The mentoring line moves and gains extra spaces in the stronger draft: offsets and
# whitespace differ, but it is the same evidence.
WEAK = """# Promotion packet: Sam Lee

## Eval design

- I added cases to the team's existing eval suite.
- We are passionate about quality and shipped 14 features this quarter.

## Production

- I mentored two new engineers through their first eval suites.
"""

STRONG = "\n".join([
    "# Promotion packet: Sam Lee",
    "",
    "## Summary",
    "",
    "I moved from adding features to deciding how we know the assistant works.",
    "",
    "## Eval design",
    "",
    "- In Q2 I built the failure-mode taxonomy and eval harness that every change to the "
    "assistant now runs against.",
    "",
    "## Production",
    "",
    "- In August the assistant started citing superseded policy wording. I traced it through "
    "retrieval and context assembly to an index shard that had stopped refreshing, fixed the "
    "shard, and added a freshness check so that class of failure cannot recur.",
    "- I mentored two new engineers   through their\tfirst eval suites.",
    "",
])


@pytest.fixture(scope="module")
def ladder():
    return load_ladder()


@pytest.fixture(scope="module")
def drafts(ladder):
    old = assess(packet_from_text(WEAK, "draft-1"), model="baseline", target_level="senior")
    new = assess(packet_from_text(STRONG, "draft-2"), model="baseline", target_level="senior")
    return old, new


def quotes(items, dimension):
    return [normalize_quote(e.quote) for e in items if e.dimension == dimension]


def test_dimensions_moved(drafts, ladder):
    old, new = drafts
    d = diff_assessments(old, new, ladder)
    moves = {m.dimension: (m.old, m.new, m.direction) for m in d.dimensions}
    assert list(moves) == ladder.dimension_ids
    assert moves["eval_design"] == ("junior", "senior", "up")
    assert moves["production_diagnosis"] == ("none", "senior", "up")
    assert not [m for m in d.dimensions if m.direction == "down"]
    assert (d.old_level, d.new_level, d.overall) == (old.level, new.level, "up")
    assert {m.dimension for m in d.moved} >= {"eval_design", "production_diagnosis"}
    assert set(d.gaps_closed) >= {"eval_design", "production_diagnosis"}
    assert not set(d.gaps_closed) & set(d.gaps_open)


def test_evidence_gained_and_lost_are_matched_by_quote_text(drafts, ladder):
    old, new = drafts
    d = diff_assessments(old, new, ladder)
    assert any(q.startswith("In Q2 I built the failure-mode taxonomy")
               for q in quotes(d.evidence_gained, "eval_design"))
    assert any("traced it through retrieval" in q
               for q in quotes(d.evidence_gained, "production_diagnosis"))
    assert "I added cases to the team's existing eval suite." in quotes(
        d.evidence_lost, "eval_design")
    mentoring = "I mentored two new engineers through their first eval suites."
    old_quotes = [normalize_quote(e.quote) for e in old.dimensions["governance_leverage"].evidence]
    new_quotes = [normalize_quote(e.quote) for e in new.dimensions["governance_leverage"].evidence]
    assert mentoring in old_quotes and mentoring in new_quotes
    assert mentoring not in quotes(d.evidence_gained, "governance_leverage")
    assert mentoring not in quotes(d.evidence_lost, "governance_leverage")
    assert d.evidence_kept >= 1
    assert d.evidence_kept + len(d.evidence_gained) == new.evidence_count()
    assert d.evidence_kept + len(d.evidence_lost) == old.evidence_count()


def test_flags_gained_and_lost(drafts, ladder):
    old, new = drafts
    d = diff_assessments(old, new, ladder)
    lost = {(f.flag, normalize_quote(f.quote)) for f in d.flags_lost}
    assert ("unsupported_claim",
            "We are passionate about quality and shipped 14 features this quarter.") in lost
    assert {f.flag for f in d.flags_gained} <= {f.flag for f in new.flags}


def test_identical_drafts_show_no_change(drafts, ladder):
    old, _ = drafts
    d = diff_assessments(old, old, ladder)
    assert d.overall == "same" and not d.moved
    assert not (d.evidence_gained or d.evidence_lost or d.flags_gained or d.flags_lost)
    assert d.evidence_kept == old.evidence_count()


def test_formats(drafts, ladder):
    d = diff_assessments(*drafts, ladder)
    assert json.loads(format_diff(d, "json"))["overall"] == "up"
    md = format_diff(d, "markdown")
    assert "| Eval design | junior | senior | \u2191 up |" in md and "## Evidence lost" in md
    text = format_diff(d, "text")
    assert "Evidence gained" in text and "Flags cleared" in text
    with pytest.raises(ValueError):
        format_diff(d, "html")


@pytest.fixture
def files(tmp_path):
    old, new = tmp_path / "draft-1.md", tmp_path / "draft-2.md"
    old.write_text(WEAK, encoding="utf-8")
    new.write_text(STRONG, encoding="utf-8")
    return old, new


def run(*args):
    from packet_eval.cli import app

    return CliRunner().invoke(app, ["preview", *args])


def test_cli_diff_text(files):
    old, new = files
    r = run("--diff", str(old), str(new), "--model", "baseline", "--target-level", "senior")
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())  # undo the console's line wrapping
    assert "draft-1 \u2192 draft-2" in out
    assert "Eval design" in out and "\u2191 up" in out
    assert "Evidence gained" in out and "Evidence lost" in out
    assert "I added cases to the team's existing eval suite." in out
    assert "Gaps to senior" in out


def test_cli_diff_json(files):
    old, new = files
    r = run("--diff", str(old), str(new), "-m", "baseline", "-t", "senior", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert (d["old_packet"], d["new_packet"], d["overall"]) == ("draft-1", "draft-2", "up")
    moved = {m["dimension"]: m["direction"] for m in d["dimensions"]}
    assert moved["eval_design"] == "up" and moved["production_diagnosis"] == "up"
    assert "I added cases to the team's existing eval suite." in [
        e["quote"] for e in d["evidence_lost"]]
    assert any(e["dimension"] == "eval_design" for e in d["evidence_gained"])


def test_cli_diff_markdown_to_file_and_errors(files, tmp_path):
    old, new = files
    out = tmp_path / "diff.md"
    r = run("--diff", str(old), str(new), "-m", "baseline", "-f", "markdown", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8").startswith("# draft-1 \u2192 draft-2")
    r = run("--diff", str(old), str(new), "-m", "baseline", "-f", "html")
    assert r.exit_code == 1 and "--diff prints text, json or markdown" in r.stderr
    r = run("--diff", str(tmp_path / "missing.md"), str(new), "-m", "baseline")
    assert r.exit_code == 1 and "file not found" in r.stderr and "Traceback" not in r.output
