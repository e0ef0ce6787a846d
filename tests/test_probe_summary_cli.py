"""The probe summary through the CLI: every probe by name, its invariance, and the packets it moved.

A length-biased extractor (the baseline, one level higher on long packets) is probed on a
small golden-layout copy; only padding and hidden_text make packets longer, so only they
may move, and the summary must say which packets they moved.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.dataset import load_dataset
from packet_eval.evaluation.probes_task import packet_probes_task, register_extractor
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet
from tests.fakes.biased import length_biased

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
IDS = ["pkt-010", "pkt-014", "pkt-017", "pkt-017.clean", "pkt-024"]
NAMED = ("name_swap", "padding", "superlatives", "section_order", "format", "injection",
         "hidden_text")
runner = CliRunner()


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("probe-summary")
    mini = root / "mini"
    (mini / "packets").mkdir(parents=True)
    ds = load_dataset(GOLDEN, load_ladder())
    for pid in IDS:
        shutil.copy(ds.packet_files[pid], mini / "packets" / ds.packet_files[pid].name)
    labels = [json.loads(x) for x in (GOLDEN / "labels.jsonl").read_text().splitlines()]
    (mini / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels
                                               if x["packet_id"] in IDS))
    (mini / "splits.json").write_text(json.dumps({"dev": [], "test": IDS}))
    limit = max(load_packet(p).words for p in (mini / "packets").iterdir()) + 60


    register_extractor("summary_length_bias", length_biased(limit))
    out = {}
    for name in ("baseline", "summary_length_bias"):
        [log] = inspect_eval(packet_probes_task(dataset=str(mini), split="test", extractor=name,
                                                name_groups="white_woman,black_man"),
                             model="none", log_dir=str(root / name), display="none")
        assert log.status == "success", log.error
        out[name] = Path(log.location)
    return out


def rows(text: str) -> dict[str, list[str]]:
    """The summary table's rows by probe name: [packets, invariance, up/down, changed]."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in NAMED:
            out[cells[0]] = cells[1:]
    return out


def test_the_summary_names_every_probe_and_the_packets_a_biased_extractor_moved(logs):
    res = runner.invoke(app, ["eval", "probes", str(logs["summary_length_bias"])])
    assert res.exit_code == 0, res.output
    table = rows(res.stdout)
    assert set(table) == set(NAMED), res.stdout  # each probe by its own name
    packets, invariance, updown, changed = table["padding"]
    assert invariance.startswith("0.000 [0.000, 0.000]")
    up, down = (int(x) for x in updown.split(" / "))
    assert up > 0 and down == 0
    # Every packet the padding probe applies to is long once padded, so every one moved.
    assert sorted(changed.split(", ")) == sorted({"pkt-010", "pkt-014", "pkt-017.clean",
                                                  "pkt-024"}), changed
    assert int(packets) == 4
    for probe in ("name_swap", "superlatives", "section_order"):
        assert table[probe][1].startswith("1.000"), (probe, table[probe])
        assert table[probe][3] == "none", (probe, table[probe])
    # Under the table, each moved packet with what moved, e.g. "pkt-010: padding:...: level up".
    detail = res.stdout.split("**padding** changed 4 packet(s):", 1)[1]
    assert re.search(r"^- pkt-010: padding\S*: .*\bup\b", detail, re.M), detail


def test_an_invariant_extractor_lists_no_changed_packet_and_the_gate_shows_the_summary(logs):
    res = runner.invoke(app, ["eval", "probes", str(logs["baseline"])])
    assert res.exit_code == 0, res.output
    table = rows(res.stdout)
    assert set(table) == set(NAMED)
    assert all(r[3] == "none" and r[1].startswith("1.000") for r in table.values()), table
    assert "impact ratio min 1.000" in table["name_swap"][1]
    gate = runner.invoke(app, ["eval", "gate", str(logs["baseline"]), "--baseline",
                               str(logs["baseline"].parent / "no-baseline.json")])
    assert gate.exit_code == 0, gate.output
    assert "### Probe summary" in gate.stdout and set(rows(gate.stdout)) == set(NAMED)


def test_a_log_that_is_not_a_probes_log_is_one_line(tmp_path):
    bad = tmp_path / "x.eval"
    bad.write_text("not a log")
    for path, what in ((bad, "not a readable inspect eval log"),
                       (tmp_path / "missing.eval", "eval log not found")):
        res = runner.invoke(app, ["eval", "probes", str(path)])
        assert res.exit_code == 1 and "Traceback" not in res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and what in lines[0], lines
