"""The inspect harness: reference extractors, the LLM path through the agent bridge, the gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.evaluation.gate import read_summary, run_gate
from packet_eval.evaluation.inspect_task import packet_extraction_task
from packet_eval.ladder import load_ladder

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
THRESHOLDS = ROOT / "evals" / "thresholds.toml"


def small_dataset(tmp_path: Path, ids: list[str]) -> Path:
    """A golden-layout copy of a few dev packets: the harness must accept any such directory."""
    root = tmp_path / "mini"
    (root / "packets").mkdir(parents=True)
    files = {p.name[: -len(p.suffix)]: p for p in (GOLDEN / "packets").iterdir()}
    for pid in ids:
        shutil.copy(files[pid], root / "packets" / files[pid].name)
    labels = [json.loads(x) for x in (GOLDEN / "labels.jsonl").read_text().splitlines()]
    (root / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels if x["packet_id"] in ids))
    (root / "splits.json").write_text(json.dumps({"dev": ids[:1], "test": ids[1:]}))
    return root


def run(task, tmp_path, model="none", **kw):
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path / "logs"), display="none", **kw)
    return log


def metrics(log) -> dict[str, float]:
    return {f"{m.group}/{m.name}": m.value for s in log.results.scores for m in s.metrics.values()}


@pytest.fixture(autouse=True)
def offline_token_estimates(monkeypatch):
    """mockllm estimates usage with tiktoken, which downloads o200k_base on first use.

    Nothing may download at run time, so tests count four characters per token.
    Real providers report usage themselves and never take this path.
    """
    import inspect_ai.model._model as model_module

    monkeypatch.setattr(model_module, "count_text_tokens", lambda text: max(1, len(text) // 4))


@pytest.fixture(scope="module")
def dev_ids() -> list[str]:
    return json.loads((GOLDEN / "splits.json").read_text())["dev"]


def test_oracle_scores_one_on_every_agreement_metric(tmp_path):
    log = run(packet_extraction_task(dataset=str(GOLDEN), split="dev", extractor="oracle"), tmp_path)
    assert log.status == "success"
    got = metrics(log)
    for name in ("level/accuracy", "level/within_one", "level/kappa", "level/kappa_quadratic",
                 "level/alpha_ordinal", "dimension/pooled_kappa_quadratic", "evidence/recall",
                 "evidence/precision", "evidence/grounding_rate", "injection/unchanged_rate",
                 "flags/velocity_proxy_recall", "flags/velocity_proxy_precision"):
        assert got[name] == pytest.approx(1.0), name
    assert got["level/mae"] == 0.0
    assert run_gate(log.location, THRESHOLDS).passed


def test_constant_scores_at_chance(tmp_path):
    log = run(packet_extraction_task(dataset=str(GOLDEN), split="all", extractor="constant"), tmp_path)
    got = metrics(log)
    assert got["level/kappa"] == pytest.approx(0.0, abs=1e-9)
    assert got["level/kappa_quadratic"] == pytest.approx(0.0, abs=1e-9)
    assert got["dimension/pooled_kappa_quadratic"] == pytest.approx(0.0, abs=1e-9)
    assert got["evidence/recall"] == 0.0
    # Accuracy equals the share of the most frequent level, which is well below 1.
    assert 0.1 < got["level/accuracy"] < 0.5


def test_baseline_runs_on_any_dataset_dir_and_the_gate_follows_thresholds(tmp_path, dev_ids):
    ids = [i for i in dev_ids if not i.endswith(".clean")][:4]
    root = small_dataset(tmp_path, ids)
    log = run(packet_extraction_task(dataset=str(root), split="all", extractor="baseline"), tmp_path)
    assert log.status == "success" and log.results.total_samples == 4
    summary = read_summary(log.location)
    lenient = tmp_path / "lenient.toml"
    lenient.write_text('[baseline]\n"evidence/grounding_rate" = 1.0\n"level/within_one" = 0.0\n')
    assert run_gate(log.location, lenient).passed
    strict = tmp_path / "strict.toml"
    strict.write_text('[baseline]\n"level/kappa_quadratic" = 1.01\n')
    result = run_gate(log.location, strict)
    assert not result.passed and "below its threshold" in result.failures[0]
    # A regression against a committed baseline fails even when the floor passes.
    base = tmp_path / "baseline.json"
    value = summary.metrics["level/within_one"]
    base.write_text(json.dumps({"baseline/mini/all": {"level/within_one": value + 0.2}}))
    regressed = run_gate(log.location, lenient, base)
    assert not regressed.passed and "regressed" in regressed.failures[0]
    # The CLI prints the markdown table and exits 1 on failure.
    res = CliRunner().invoke(app, ["eval", "gate", log.location, "--thresholds", str(strict),
                                   "--baseline", str(base)])
    assert res.exit_code == 1 and "| level/kappa_quadratic |" in res.output


def _answer(text: str) -> dict:
    """A valid extraction quoting the packet's first long line, at the level the label gives."""
    ladder = load_ladder()
    quote = next(line.strip("-* ") for line in text.splitlines() if len(line.split()) > 8)
    dims = [{"dimension": d, "reasoning": "scripted", "evidence": [], "level": "none"}
            for d in ladder.dimension_ids]
    dims[0]["evidence"] = [{"quote": quote, "rationale": "scripted", "level": "junior",
                            "strength": "moderate", "attribution": "individual"}]
    dims[0]["level"] = "junior"
    return {"dimensions": dims, "flags": []}


def test_llm_extractor_runs_through_the_bridge_end_to_end(tmp_path, dev_ids, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    ids = [i for i in dev_ids if not i.endswith(".clean")][:2]
    root = small_dataset(tmp_path, ids)
    from packet_eval.packet import load_packet

    texts = [load_packet(next((root / "packets").glob(f"{i}.*"))).text for i in sorted(ids)]
    outputs = [ModelOutput.for_tool_call(model="mockllm/model", tool_name="ExtractionAnswer",
                                         tool_arguments=_answer(t)) for t in texts]
    model = get_model("mockllm/model", custom_outputs=outputs)
    log = run(packet_extraction_task(dataset=str(root), split="all", extractor="llm", cache=False),
              tmp_path, model=model, max_samples=1)
    assert log.status == "success", log.error
    got = metrics(log)
    assert got["evidence/grounding_rate"] == 1.0
    assert got["usage/calls_per_packet"] == 1.0
    from inspect_ai.log import read_eval_log

    full = read_eval_log(log.location, resolve_attachments=True)
    for sample in full.samples:
        a = sample.metadata["assessment"]
        assert a["extractor"]["name"] == "llm" and a["extractor"]["model"] == "compatible/inspect"
        assert a["dimensions"]["eval_design"]["evidence"][0]["quote"] in sample.input
        # The model call went through inspect: the transcript has a model event with the packet.
        events = [e for e in sample.events if e.event == "model"]
        assert events and "<packet-" in json.dumps(events[0].input[-1].model_dump())


def test_gate_fails_on_an_errored_log(tmp_path, dev_ids, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    root = small_dataset(tmp_path, [i for i in dev_ids if not i.endswith(".clean")][:2])
    bad = [ModelOutput.from_content(model="mockllm/model", content="not a tool call")] * 10
    model = get_model("mockllm/model", custom_outputs=bad)
    log = run(packet_extraction_task(dataset=str(root), split="all", extractor="llm", cache=False),
              tmp_path, model=model)
    assert log.status == "error"
    result = run_gate(log.location, THRESHOLDS)
    assert not result.passed and "status is 'error'" in result.failures[0]


def test_the_agreement_report_is_bootstrapped_once_per_eval(tmp_path, dev_ids, monkeypatch):
    """level/, dimension/, evidence/ and flags/ read one report; only the ceiling needs another."""
    from collections import OrderedDict

    from packet_eval.evaluation import metrics as m

    calls: list[list[str]] = []
    real = m.agreement_report

    def counting(gold, pred, **kw):
        calls.append([r.packet_id for r in gold])
        return real(gold, pred, **kw)

    monkeypatch.setattr(m, "agreement_report", counting)
    monkeypatch.setattr(m, "_reports", OrderedDict())
    ids = [i for i in dev_ids if not i.endswith(".clean")][:4]
    log = run(packet_extraction_task(dataset=str(small_dataset(tmp_path, ids)), split="all",
                                     extractor="baseline"), tmp_path)
    assert log.status == "success"
    extractor_reports = [c for c in calls if all("#" in pid for pid in c)]  # (sample, epoch) ids
    # On a slow machine inspect also shows interim metrics over the samples done so far; those
    # partial sets are not the final report, which every metric group must share.
    assert sum(len(c) == len(ids) for c in extractor_reports) == 1
    assert len(calls) - len(extractor_reports) <= 1  # the calibrator-versus-calibrator ceiling
    groups = {mm.group for sc in log.results.scores for mm in sc.metrics.values()}
    assert {"level", "dimension", "evidence", "flags"} <= groups


def test_bad_task_arguments_are_clear(tmp_path):
    from packet_eval.errors import PacketEvalError

    with pytest.raises(PacketEvalError, match="extractor must be one of"):
        packet_extraction_task(extractor="magic")
    with pytest.raises(PacketEvalError, match="dataset directory not found"):
        packet_extraction_task(dataset=str(tmp_path / "nope"))


def test_epochs_give_self_consistency_and_compare_shows_deltas(tmp_path, dev_ids):
    ids = [i for i in dev_ids if not i.endswith(".clean")][:3]
    root = small_dataset(tmp_path, ids)
    base = run(packet_extraction_task(dataset=str(root), split="all", extractor="baseline"), tmp_path,
               epochs=2)
    got = metrics(base)
    # The baseline is deterministic, so two epochs agree perfectly with each other.
    assert got["consistency/epochs"] == 2.0 and got["consistency/epoch_mean_pairwise_exact"] == 1.0
    const = run(packet_extraction_task(dataset=str(root), split="all", extractor="constant"),
                tmp_path / "c")
    res = CliRunner().invoke(app, ["eval", "compare", base.location, const.location])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("| level/kappa_quadratic |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    a, b, delta = float(cells[1]), float(cells[2]), float(cells[3])
    assert b == 0.0 and delta == pytest.approx(b - a, abs=1e-3)
    # The pooled interval is pooled kappa's own, never shown beside pooled accuracy.
    row = {x.split("|")[1].strip(): [c.strip() for c in x.strip("|").split("|")]
           for x in res.output.splitlines() if x.startswith("| dimension/pooled")}
    assert row["dimension/pooled_kappa_quadratic"][4].startswith("[")
    assert row["dimension/pooled_accuracy"][4] == ""


def off_rule_copy(tmp_path: Path, every: int = 3) -> tuple[Path, int]:
    """A copy of the golden set with every ``every``-th first label's overall level moved one step.

    Returns the directory and how many test-split packets' first labels now depart from the rule.
    """
    root = tmp_path / "off-rule"
    shutil.copytree(GOLDEN, root)
    scale = load_ladder().scale
    test_ids = set(json.loads((GOLDEN / "splits.json").read_text())["test"])
    rows = [json.loads(x) for x in (GOLDEN / "labels.jsonl").read_text().splitlines()]
    seen: set[str] = set()
    changed = 0
    for i, row in enumerate(rows):
        first = row["packet_id"] not in seen
        seen.add(row["packet_id"])
        if first and i % every == 0:
            r = scale.index(row["level"])
            row["level"] = scale[r + 1] if r + 1 < len(scale) else scale[r - 1]
            changed += row["packet_id"] in test_ids
    (root / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
    return root, changed


def test_oracle_is_the_labels_verbatim_even_where_they_depart_from_the_rule(tmp_path):
    root, changed = off_rule_copy(tmp_path)
    assert changed >= 5
    log = run(packet_extraction_task(dataset=str(root), split="test", extractor="oracle"), tmp_path)
    got = metrics(log)
    for name in ("level/accuracy", "level/within_one", "level/kappa", "level/kappa_quadratic",
                 "level/alpha_ordinal", "dimension/pooled_kappa_quadratic", "evidence/recall",
                 "evidence/precision", "evidence/grounding_rate", "flags/velocity_proxy_recall",
                 "flags/velocity_proxy_precision"):
        assert got[name] == pytest.approx(1.0), name
    assert got["level/mae"] == 0.0
    assert run_gate(log.location, THRESHOLDS).passed
    # The rule, not the oracle, misses the moved levels: the aggregation ceiling shows it.
    n = log.results.total_samples
    assert got["aggregation/off_rule_packets"] == changed
    assert got["aggregation/accuracy"] == pytest.approx(1 - changed / n)
    assert got["aggregation/within_one"] == pytest.approx(1.0)
    assert got["aggregation/accuracy_ci_lo"] < got["aggregation/accuracy"] < 1.0


def test_aggregation_ceiling_is_perfect_when_labels_follow_the_rule(tmp_path):
    log = run(packet_extraction_task(dataset=str(GOLDEN), split="test", extractor="baseline"), tmp_path)
    got = metrics(log)
    assert got["aggregation/off_rule_packets"] == 0.0
    for name in ("accuracy", "within_one", "kappa_quadratic", "all_accuracy", "all_kappa_quadratic"):
        assert got[f"aggregation/{name}"] == pytest.approx(1.0), name
    assert got["aggregation/all_labels"] > log.results.total_samples  # the second calibrator too
