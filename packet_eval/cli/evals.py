"""``packet-eval eval gate`` and ``eval compare``: CI checks over inspect eval logs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer


def gate(
    log: Annotated[Path, typer.Argument(metavar="LOG", help="An inspect eval log (.eval or .json).")],
    thresholds: Annotated[Path, typer.Option(metavar="TOML", help="Floors per extractor.")] = Path("evals/thresholds.toml"),
    baseline: Annotated[Path | None, typer.Option(metavar="JSON", help="Committed figures to check regressions against.")] = Path("evals/baseline.json"),
    update_baseline: Annotated[bool, typer.Option("--update-baseline", help="Record this log's gated metrics as the new baseline (after it passes).")] = False,
) -> None:
    """Fail (exit 1) if the eval errored, a metric is below its threshold, or it regressed.

    On a probes log it also prints the probe summary (see ``eval probes``).
    """
    from packet_eval import (
        gate_markdown,
        probe_summary_markdown,
        read_probe_summary,
        run_gate,
        update_gate_baseline,
    )

    result = run_gate(log, thresholds, baseline)
    text = gate_markdown(result)
    if result.summary.extractor.startswith("probes-") and result.summary.status == "success":
        text += "\n" + probe_summary_markdown(read_probe_summary(log))
    sys.stdout.write(text)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(text)
    if not result.passed:
        raise typer.Exit(1)
    if update_baseline and baseline is not None:
        update_gate_baseline(result.summary, baseline,
                             [r.metric for r in result.rows if r.threshold is not None])
        sys.stderr.write(f"updated {baseline}\n")


def compare(
    log_a: Annotated[Path, typer.Argument(metavar="LOG_A", help="The reference log (A).")],
    log_b: Annotated[Path, typer.Argument(metavar="LOG_B", help="The candidate log (B).")],
) -> None:
    """Print two logs' metrics side by side with deltas and 95% CIs."""
    from packet_eval import compare_logs_markdown, read_log_summary

    sys.stdout.write(compare_logs_markdown(read_log_summary(log_a), read_log_summary(log_b)))


def probes(
    log: Annotated[Path, typer.Argument(metavar="LOG", help="A log of `inspect eval packet_eval/probes`.")],
) -> None:
    """Each probe by name: its invariance, changes up/down, and which packets changed."""
    from packet_eval import probe_summary_markdown, read_probe_summary

    sys.stdout.write(probe_summary_markdown(read_probe_summary(log)))
