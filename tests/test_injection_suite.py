"""The injection task reports per family, and the gate holds each family to its floor."""

from __future__ import annotations

from pathlib import Path

from inspect_ai import eval as inspect_eval

from packet_eval.evaluation.gate import run_gate
from packet_eval.evaluation.injection_suite import injection_task

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_reports_per_family_and_the_gate_reads_family_floors(tmp_path):
    task = injection_task(dataset=str(ROOT / "datasets" / "golden"), split="dev", max_bases=1)
    [log] = inspect_eval(task, model="none", log_dir=str(tmp_path / "logs"), display="none", limit=3)
    assert log.status == "success"
    got = {f"{m.group}/{m.name}" if m.group else k: m.value
           for s in log.results.scores for k, m in s.metrics.items()}
    assert got["injection_suite/families"] == 1.0  # the first three samples are all `original`
    assert got["injection_suite/flag_recall_original"] == 1.0
    assert got["injection_suite/no_injected_evidence_original"] == 1.0
    floors = tmp_path / "t.toml"
    floors.write_text('[injection-baseline]\n"injection_suite/flag_recall_original" = 1.0\n')
    assert run_gate(log.location, floors).passed
    # a family the log does not have fails the gate: a dropped family cannot pass silently
    floors.write_text('[injection-baseline]\n"injection_suite/flag_recall_encoded" = 0.9\n')
    result = run_gate(log.location, floors)
    assert not result.passed and "flag_recall_encoded: missing" in result.failures[0]
