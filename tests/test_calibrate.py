"""Calibrating to a committee: the aggregation ceiling, the fitted level rule, calibrator panels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from packet_eval.agreement.ceiling import aggregation_ceiling
from packet_eval.agreement.levels import level_fit
from packet_eval.agreement.rulefit import TooFewLabels, fit_rule, rule_level
from packet_eval.cli import app
from packet_eval.dataset import DimensionLabel, Label, parse_labels
from packet_eval.ladder import load_ladder

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
FRESH = ROOT / "datasets" / "fresh"
SAMPLE = ROOT / "packet_eval" / "examples" / "sample-packet.md"
LADDER = load_ladder()
runner = CliRunner()
KNOWN = {"junior": (1, 0), "mid": (3, 1), "senior": (4, 2), "staff": (2, 2)}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))


def generated(n: int, rule: dict[str, tuple[int, int]], seed: int = 1) -> list[Label]:
    """Labels whose overall level is ``rule`` over random dimension levels (a known truth)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        top = int(rng.integers(0, 5))
        dims = {d: LADDER.scale[int(min(top, rng.integers(0, 5))) if rng.random() < 0.8
                                else int(rng.integers(0, 5))] for d in LADDER.dimension_ids}
        out.append(Label(f"p{i:03d}", "gen", None, rule_level(LADDER, rule, dims),
                         {d: DimensionLabel(lv, ("quote",) if lv != "none" else ())
                          for d, lv in dims.items()}, (), ""))
    return out


def write_labels(path: Path, labels: list[Label]) -> Path:
    path.write_text("".join(json.dumps({
        "packet_id": lb.packet_id, "calibrator": lb.calibrator, "target_level": lb.target_level,
        "level": lb.level, "flags": list(lb.flags), "notes": lb.notes,
        "dimensions": {d: {"level": dl.level, "evidence": list(dl.evidence)}
                       for d, dl in lb.dimensions.items()}}) + "\n" for lb in labels))
    return path


def golden_labels() -> list[Label]:
    return parse_labels(GOLDEN / "labels.jsonl", LADDER).labels


# --- metrics against reference implementations -------------------------------------------

def test_level_fit_matches_sklearn_and_hand_counts():
    rng = np.random.default_rng(3)
    gold = [LADDER.scale[i] for i in rng.integers(0, 5, 60)]
    pred = [LADDER.scale[max(0, min(4, LADDER.rank[g] + int(rng.integers(-2, 3))))] for g in gold]
    f = level_fit(gold, pred, LADDER.scale, n_boot=200)
    ranks = np.array([[LADDER.rank[g], LADDER.rank[p]] for g, p in zip(gold, pred, strict=True)])
    assert f.kappa_quadratic == pytest.approx(cohen_kappa_score(
        ranks[:, 0], ranks[:, 1], labels=list(range(5)), weights="quadratic"))
    assert f.exact == pytest.approx(np.mean(ranks[:, 0] == ranks[:, 1]))
    assert f.within_one == pytest.approx(np.mean(np.abs(ranks[:, 0] - ranks[:, 1]) <= 1))
    assert f.exact_ci[0] < f.exact < f.exact_ci[1]
    assert f.kappa_quadratic_ci[0] < f.kappa_quadratic < f.kappa_quadratic_ci[1]


# --- the aggregation ceiling -------------------------------------------------------------

def test_ceiling_is_perfect_on_labels_that_follow_the_rule():
    c = aggregation_ceiling(golden_labels(), LADDER, n_boot=100)
    assert c.off_rule == []
    assert (c.pooled.exact, c.pooled.within_one, c.pooled.kappa_quadratic) == (1.0, 1.0, 1.0)
    assert set(c.by_calibrator) == {"maintainer-a", "maintainer-b"}


def test_ceiling_counts_and_names_the_labels_that_depart_from_the_rule():
    labels = golden_labels()
    moved = {labels[i].packet_id for i in range(0, 30, 3)}
    off = [Label(lb.packet_id, lb.calibrator, lb.target_level,
                 LADDER.scale[LADDER.rank[lb.level] + 1 if LADDER.rank[lb.level] < 4 else 3],
                 lb.dimensions, lb.flags, lb.notes)
           if lb.packet_id in moved and lb.calibrator == "maintainer-a" else lb for lb in labels]
    c = aggregation_ceiling(off, LADDER, n_boot=100)
    assert {o.packet_id for o in c.off_rule} == moved
    assert c.by_calibrator["maintainer-a"].exact == pytest.approx(1 - len(moved) / 68)
    assert c.by_calibrator["maintainer-b"].exact == 1.0
    assert c.pooled.exact == pytest.approx(1 - len(moved) / len(labels))
    assert c.pooled.within_one == 1.0 and c.pooled.kappa_quadratic < 1.0


# --- fitting the rule --------------------------------------------------------------------

def test_fit_recovers_a_known_rule_and_cross_validates_it():
    fit = fit_rule(generated(200, KNOWN), LADDER, n_boot=100)
    assert fit.requirements == KNOWN
    assert fit.changed == ["mid", "senior", "staff"]
    assert fit.cross_validated.exact == 1.0 and fit.in_sample.exact == 1.0
    assert fit.shipped.exact < 0.9  # the shipped rule does not explain these labels


def test_fit_keeps_the_shipped_rule_when_the_labels_follow_it():
    shipped = {lv: (r.min_dimensions, r.min_core) for lv, r in LADDER.level_rule.requirements.items()}
    fit = fit_rule(generated(120, shipped, seed=5), LADDER, n_boot=50)
    assert fit.requirements == shipped and fit.changed == []


def test_fit_refuses_too_few_packets():
    with pytest.raises(TooFewLabels, match="3 labelled packet"):
        fit_rule(generated(3, KNOWN), LADDER)


def test_calibrate_cli_writes_a_fitted_ladder_that_assess_uses(tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl", generated(200, KNOWN))
    out = tmp_path / "fitted.yaml"
    res = runner.invoke(app, ["calibrate", str(labels), "--out", str(out), "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    assert "cross-validated" in res.output and "shipped" in res.output
    fitted = load_ladder(out)
    assert {lv: (r.min_dimensions, r.min_core) for lv, r in fitted.level_rule.requirements.items()} == KNOWN
    assert fitted.version != LADDER.version and fitted.version.startswith(LADDER.version + "+fit.")
    assert fitted.sha256 != LADDER.sha256
    assert fitted.fitted["from_ladder"]["sha256"] == LADDER.sha256
    assert fitted.fitted["labels"]["packets"] == 200 and fitted.fitted["labels"]["file"] == "labels.jsonl"
    assert fitted.fitted["fitted_rule_cross_validated"]["exact"] == 1.0
    assert fitted.fitted["shipped_rule"]["exact"] < 0.9
    # assess --ladder FITTED.yaml: the run names the fitted ladder and applies its rule.
    res = runner.invoke(app, ["preview", str(SAMPLE), "--model", "baseline", "--format", "json",
                              "--ladder", str(out)])
    assert res.exit_code == 0, res.output
    a = json.loads(res.stdout)
    assert a["ladder"] == {"id": fitted.id, "version": fitted.version, "sha256": fitted.sha256}
    dims = {d: f["level"] for d, f in a["dimensions"].items()}
    assert a["level"] == fitted.overall_level(dims) == rule_level(LADDER, KNOWN, dims)
    res = runner.invoke(app, ["assess", str(SAMPLE), "--out", str(tmp_path / "run"), "--model",
                              "baseline", "--ladder", str(out)])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "run" / "assessments.jsonl").read_text().splitlines()[0])
    assert row["ladder"]["version"] == fitted.version


def test_calibrate_on_the_golden_labels_reports_shipped_and_fitted(tmp_path):
    res = runner.invoke(app, ["calibrate", str(GOLDEN / "labels.jsonl"), "--out",
                              str(tmp_path / "f.yaml"), "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    rec = yaml.safe_load((tmp_path / "f.yaml").read_text())["fitted"]
    assert rec["labels"]["labels"] == 98 and rec["labels"]["packets"] == 68
    assert rec["shipped_rule"]["n"] == rec["fitted_rule_cross_validated"]["n"] == 98


def test_calibrate_warns_on_a_three_packet_file_and_writes_nothing(tmp_path):
    three = tmp_path / "three.jsonl"
    three.write_text("".join((GOLDEN / "labels.jsonl").read_text().splitlines(keepends=True)[:3]))
    out = tmp_path / "f.yaml"
    res = runner.invoke(app, ["calibrate", str(three), "--out", str(out)])
    assert res.exit_code == 1
    assert "warning:" in res.output and "3 labelled packet(s) is too few" in res.output
    assert not out.exists()


def one_error_line(res) -> str:
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    return lines[0]


def test_calibrate_bad_input_gets_one_line_each(tmp_path):
    good = (GOLDEN / "labels.jsonl").read_text().splitlines()
    out = str(tmp_path / "f.yaml")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*good[:5], "{not json", *good[5:]]) + "\n")
    line = one_error_line(runner.invoke(app, ["calibrate", str(broken), "--out", out]))
    assert "broken.jsonl:6: invalid JSON" in line
    row = json.loads(good[0])
    dim = next(d for d, v in row["dimensions"].items() if v["level"] != "none")
    row["dimensions"][dim]["evidence"] = []
    inconsistent = tmp_path / "inconsistent.jsonl"
    inconsistent.write_text("\n".join([json.dumps(row), *good[1:]]) + "\n")
    line = one_error_line(runner.invoke(app, ["calibrate", str(inconsistent), "--out", out]))
    assert f"inconsistent.jsonl:1: dimensions.{dim} is rated" in line and "no evidence" in line
    dup = tmp_path / "dup.jsonl"
    dup.write_text("\n".join([*good, good[0]]) + "\n")
    assert "duplicate label" in one_error_line(runner.invoke(app, ["calibrate", str(dup), "--out", out]))
    other = ROOT / "packet_eval" / "ladders" / "ml-craft.yaml"
    line = one_error_line(runner.invoke(app, ["calibrate", str(GOLDEN / "labels.jsonl"), "--out", out,
                                              "--ladder", str(other)]))
    assert "labels for another ladder" in line and "'ml-craft'" in line
    line = one_error_line(runner.invoke(app, ["calibrate", str(GOLDEN / "labels.jsonl"), "--out",
                                              str(tmp_path / "missing" / "f.yaml")]))
    assert "cannot write output" in line
    # A directory, and a path under a regular file (permission bits mean nothing to root).
    line = one_error_line(runner.invoke(app, ["calibrate", str(GOLDEN / "labels.jsonl"), "--out",
                                              str(tmp_path)]))
    assert "is a directory" in line
    line = one_error_line(runner.invoke(app, ["calibrate", str(GOLDEN / "labels.jsonl"), "--out",
                                              str(broken / "f.yaml")]))
    assert "cannot write output" in line
    assert not Path(out).exists()


# --- agreement and the committee report with two calibrators ------------------------------

PANEL_IDS = ["fr-002", "fr-004", "fr-030", "fr-034"]


@pytest.fixture
def two_calibrator_run(tmp_path):
    """Baseline on four doubly labelled fresh packets; fresh-b's fr-002 moved off the rule."""
    rows = [json.loads(x) for x in (FRESH / "labels.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["packet_id"] in PANEL_IDS]
    for r in rows:
        if r["packet_id"] == "fr-002" and r["calibrator"] == "fresh-b":
            rank = LADDER.rank[r["level"]]
            r["level"] = LADDER.scale[rank + 1]
            moved = r["level"]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    packets = [str(p) for p in sorted((FRESH / "packets").iterdir()) if p.stem in PANEL_IDS]
    out = tmp_path / "run"
    res = runner.invoke(app, ["assess", *packets, "--out", str(out), "--model", "baseline",
                              "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    return labels, out, moved


def test_agreement_shows_the_ceiling_and_the_calibrators_side_by_side(two_calibrator_run):
    labels, out, moved = two_calibrator_run
    res = runner.invoke(app, ["agreement", str(labels), str(out / "assessments.jsonl"),
                              "--format", "json", "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    ceiling = got["aggregation_ceiling"]
    assert ceiling["off_rule"] == [{"packet_id": "fr-002", "calibrator": "fresh-b", "level": moved,
                                    "rule_level": ceiling["off_rule"][0]["rule_level"]}]
    assert ceiling["by_calibrator"]["fresh-a"]["exact"] == 1.0
    assert ceiling["by_calibrator"]["fresh-b"]["exact"] == 0.75
    assert ceiling["pooled"]["exact"] == pytest.approx(7 / 8)
    panel = got["panel"]
    assert panel["calibrators"] == ["fresh-a", "fresh-b"] and panel["n_shared_packets"] == 4
    apart = {d["packet_id"] for d in panel["calibrator_disagreements"]}
    assert apart == {"fr-002", "fr-030", "fr-034"}  # the moved level and two real differences
    pair = panel["calibrator_vs_calibrator"]["pairs"][0]["report"]
    assert pair["dimensions"]["per_dimension"]["eval_design"]["kappa_quadratic"] == 1.0
    assert pair["dimensions"]["per_dimension"]["problem_framing"]["kappa_quadratic"] < 1.0
    assert set(panel["tool_vs_calibrator"]) == {"fresh-a", "fresh-b"}
    text = runner.invoke(app, ["agreement", str(labels), str(out / "assessments.jsonl"),
                               "--n-boot", "50"])
    flat = " ".join(text.output.split())  # rich wraps at the test terminal's 80 columns
    assert "aggregation ceiling (the ladder's rule" in flat and "fresh-a vs" in flat
    assert "Calibrators disagree with each other on 3 of 4" in flat
    assert "fr-030: overall fresh-a mid, fresh-b mid; Problem framing fresh-a mid" in flat
    md = runner.invoke(app, ["agreement", str(labels), str(out / "assessments.jsonl"),
                             "--format", "markdown", "--n-boot", "50"]).output
    assert "| tool vs fresh-b | fresh-a vs fresh-b |" in md and "| fr-030 |" in md


def test_committee_report_has_the_ceiling_and_the_calibrator_panel(two_calibrator_run):
    _, out, _ = two_calibrator_run
    html = (out / "report.html").read_text()
    assert 'id="aggregation-ceiling"' in html and "1 label(s) depart from the rule: fr-002" in html
    assert 'id="calibrator-panel"' in html and "<th class=\"num\">fresh-a vs fresh-b</th>" in html
    table = html[html.index('id="calibrator-disagreements"'):]
    table = table[:table.index("</table>")]
    assert [pid for pid in PANEL_IDS if f'data-packet="{pid}"' in table] == ["fr-002", "fr-030", "fr-034"]


def test_one_calibrator_gets_no_panel(tmp_path):
    rows = [x for x in (FRESH / "labels.jsonl").read_text().splitlines() if '"fresh-a"' in x]
    labels = tmp_path / "a.jsonl"
    labels.write_text("\n".join(r for r in rows if '"fr-001"' in r) + "\n")
    out = tmp_path / "run"
    packet = next(p for p in (FRESH / "packets").iterdir() if p.stem == "fr-001")
    res = runner.invoke(app, ["assess", str(packet), "--out", str(out), "--model", "baseline",
                              "--labels", str(labels)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    assert 'id="aggregation-ceiling"' in html and 'id="calibrator-panel"' not in html
