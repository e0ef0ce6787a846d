"""The calibration notebook executes headlessly on a real baseline log, so it cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from inspect_ai import eval as inspect_eval
from nbclient import NotebookClient

from packet_eval.evaluation.inspect_task import packet_extraction_task

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "calibration.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_notebook_executes_on_a_baseline_log(tmp_path, monkeypatch):
    log_dir = tmp_path / "logs"
    [log] = inspect_eval(packet_extraction_task(dataset=str(ROOT / "datasets" / "golden"), split="all",
                                                extractor="baseline"),
                         model="none", log_dir=str(log_dir), display="none")
    assert log.status == "success"
    monkeypatch.setenv("PACKET_EVAL_LOG_DIR", str(log_dir))
    fresh_dir = tmp_path / "fresh"
    [fresh_log] = inspect_eval(packet_extraction_task(dataset=str(ROOT / "datasets" / "fresh"), split="test",
                                                      extractor="baseline"),
                               model="none", log_dir=str(fresh_dir), display="none", limit=8)
    assert fresh_log.status == "success"
    monkeypatch.setenv("PACKET_EVAL_FRESH_LOG_DIR", str(fresh_dir))
    from packet_eval.evaluation.probes_task import packet_probes_task

    probe_dir = tmp_path / "probes"
    [probe_log] = inspect_eval(packet_probes_task(dataset=str(ROOT / "datasets" / "golden"), split="dev",
                                                  probes="superlatives,section_order"),
                               model="none", log_dir=str(probe_dir), display="none")
    assert probe_log.status == "success"
    monkeypatch.setenv("PACKET_EVAL_PROBE_LOG_DIR", str(probe_dir))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "image/png" in text  # the charts rendered
    assert "quadratic kappa" in text and "maintainer-a" in text
    assert "golden" in text and "fresh" in text and "gap" in text  # the side-by-side table rendered
    assert "superlatives" in text and "section_order" in text  # the probe table rendered
