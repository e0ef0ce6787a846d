"""`packet-eval dataset check` catches each kind of defect, each in a small broken copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.dataset import check_dataset, dataset_stats, load_dataset
from packet_eval.ladder import load_ladder
from tests.labels import make_dataset

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
LADDER = load_ladder()
IDS = ["pkt-017", "pkt-017.clean", "pkt-002", "pkt-007"]


@pytest.fixture
def mini(tmp_path) -> Path:
    """A valid four-packet copy of the golden layout, including one injection twin pair."""
    root = make_dataset(tmp_path / "mini", tuple(IDS), dev=2)
    lines = [x for x in (GOLDEN / "labels.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(x)["packet_id"] in IDS and json.loads(x)["calibrator"] == "maintainer-a"]
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert check_dataset(root, LADDER) == []
    return root


def labels(root: Path) -> list[dict]:
    return [json.loads(x) for x in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines()]


def row(rows: list[dict], pid: str) -> dict:
    return next(r for r in rows if r["packet_id"] == pid)


def line_of(root: Path, pid: str) -> int:
    return 1 + [r["packet_id"] for r in labels(root)].index(pid)


def write_labels(root: Path, rows: list[dict]) -> None:
    (root / "labels.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                       encoding="utf-8")


def only_problem(root: Path) -> str:
    problems = check_dataset(root, LADDER)
    assert len(problems) >= 1, "the defect was not caught"
    return "\n".join(str(p) for p in problems)


def test_invalid_json_names_file_and_line(mini):
    with (mini / "labels.jsonl").open("a") as fh:
        fh.write("{not json\n")
    assert "labels.jsonl:5: invalid JSON" in only_problem(mini)


def test_schema_missing_key(mini):
    rows = labels(mini)
    del row(rows, "pkt-007")["notes"]
    write_labels(mini, rows)
    assert f"labels.jsonl:{line_of(mini, 'pkt-007')}: missing key(s): notes" in only_problem(mini)


def test_packet_without_labels_and_orphan_label(mini):
    rows = labels(mini)
    row(rows, "pkt-002")["packet_id"] = "pkt-999"
    write_labels(mini, rows)
    out = only_problem(mini)
    assert "orphan label: no packet file for 'pkt-999'" in out
    assert "pkt-002.md: packet has no labels" in out


def test_duplicate_label(mini):
    rows = labels(mini)
    write_labels(mini, [*rows, row(rows, "pkt-017")])
    assert "duplicate label for packet 'pkt-017' by 'maintainer-a'" in only_problem(mini)


def test_missing_dimension(mini):
    rows = labels(mini)
    del row(rows, "pkt-007")["dimensions"]["agent_architecture"]
    write_labels(mini, rows)
    assert "dimensions.agent_architecture is missing" in only_problem(mini)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("level", "principal", "level 'principal' is not a ladder level"),
    ("flags", ["velocity"], "unknown flag 'velocity'"),
    ("target_level", "lead", "target_level 'lead' is not a ladder level"),
])
def test_invalid_levels_and_flags(mini, field, value, message):
    rows = labels(mini)
    row(rows, "pkt-002")[field] = value
    write_labels(mini, rows)
    assert message in only_problem(mini)


def test_evidence_must_be_a_substring(mini):
    rows = labels(mini)
    target = row(rows, "pkt-007")
    dim = next(d for d, v in target["dimensions"].items() if v["evidence"])
    target["dimensions"][dim]["evidence"][0] = "I single-handedly invented evals."
    write_labels(mini, rows)
    assert f"dimensions.{dim}.evidence: not a substring of pkt-007" in only_problem(mini)


def test_an_overall_level_off_the_rule_is_kept_and_noted(mini):
    rows = labels(mini)
    rule_level = row(rows, "pkt-007")["level"]
    row(rows, "pkt-007")["level"] = "staff" if rule_level != "staff" else "none"
    write_labels(mini, rows)
    assert check_dataset(mini, LADDER) == []  # a calibrator's holistic call is not a defect
    res = CliRunner().invoke(app, ["dataset", "check", str(mini)])
    assert res.exit_code == 0
    said = " ".join(res.output.split())
    assert "1 label(s) give an overall level the ladder's rule would not: pkt-007" in said


def test_twin_must_pair_and_differ_only_by_the_injection(mini):
    twin = mini / "packets" / "pkt-017.clean.md"
    twin.write_text(twin.read_text(encoding="utf-8").replace("I", "We", 1), encoding="utf-8")
    assert "must equal pkt-017 with only the injection removed" in only_problem(mini)


def test_twin_without_its_injected_packet(mini):
    (mini / "packets" / "pkt-017.md").unlink()
    rows = [r for r in labels(mini) if r["packet_id"] != "pkt-017"]
    write_labels(mini, rows)
    assert "clean twin has no injected packet" in only_problem(mini)


def test_injected_packet_needs_the_flag(mini):
    rows = labels(mini)
    injected = row(rows, "pkt-017")
    injected["flags"] = [f for f in injected["flags"] if f != "prompt_injection"]
    write_labels(mini, rows)
    assert "lacks the prompt_injection flag" in only_problem(mini)


@pytest.mark.parametrize(("splits", "message"), [
    ({"dev": IDS, "test": IDS[2:]}, "is in both dev and test"),
    ({"dev": IDS[:1], "test": IDS[2:]}, "'pkt-017.clean' is in neither split"),
    ({"dev": [*IDS[:2], "pkt-404"], "test": IDS[2:]}, "'pkt-404' is not a packet"),
    ({"dev": ["pkt-017", "pkt-002"], "test": ["pkt-017.clean", "pkt-007"]}, "are in different splits"),
    ({"train": IDS}, "must be an object with 'dev' and 'test'"),
])
def test_splits_disjoint_and_covering(mini, splits, message):
    (mini / "splits.json").write_text(json.dumps(splits))
    assert message in only_problem(mini)


def test_unreadable_packet_is_a_problem_not_a_crash(mini):
    (mini / "packets" / "pkt-002.md").write_bytes(b"\x00\x01binary")
    assert "pkt-002.md: looks like a binary file" in only_problem(mini)


def test_cli_check_exits_non_zero_with_precise_lines(mini):
    rows = labels(mini)
    row(rows, "pkt-002")["level"] = "principal"
    write_labels(mini, rows)
    res = CliRunner().invoke(app, ["dataset", "check", str(mini)])
    assert res.exit_code == 1
    assert f"labels.jsonl:{line_of(mini, 'pkt-002')}: level 'principal'" in res.output
    assert "Traceback" not in res.output
    ok = CliRunner().invoke(app, ["dataset", "check", str(GOLDEN)])
    assert ok.exit_code == 0 and "ok" in ok.output


def test_stats_show_the_quotas():
    stats = dataset_stats(load_dataset(GOLDEN, LADDER))
    assert stats["packets"] >= 60 + 8 and stats["injection_pairs"] >= 8
    assert all(stats["levels"][lv] >= 10 for lv in ("junior", "mid", "senior", "staff"))
    assert stats["levels"]["none"] >= 1
    for tag in ("buzzword_junior", "velocity_brag", "complexity_as_skill", "pass_rate_boast", "we_no_role",
                "quiet_senior", "staff_governance", "unicode_names"):
        assert stats["tags"][tag] >= 3, tag
    assert stats["tags"]["long"] >= 4 and stats["words"]["buckets"]["3000+"] >= 4
    assert stats["formats"].get("docx", 0) + stats["formats"].get("pdf", 0) >= 4
    assert stats["doubly_labelled"] >= 25
    res = CliRunner().invoke(app, ["dataset", "stats", str(GOLDEN), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["packets"] == stats["packets"]
