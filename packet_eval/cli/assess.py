"""``packet-eval assess``: a whole cycle of packets through ``packet_eval.run_batch``.

Options in, ``run_batch`` out, then a short printed summary. Exit codes: 0 all
done, 1 some packet failed, 3 stopped early (``--max-cost``), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from packet_eval.cli.console import err, note, out
from packet_eval.cli.options import (
    BaseUrlOpt,
    CalibratorOpt,
    LadderOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    RedactOpt,
    RosterOpt,
    TargetLevelOpt,
    TimeoutOpt,
    roster_names,
)

if TYPE_CHECKING:
    from packet_eval import BatchSummary


def assess(
    paths: Annotated[list[Path], typer.Argument(metavar="PATHS", help="Packet files and/or directories (searched recursively).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Run directory: results, summaries and report.html. Rerun with the same one to resume.")],
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", metavar="N", help="Most LLM requests in flight at once; lowered automatically while the provider answers 429.")] = 8,
    target_level: TargetLevelOpt = None,
    targets: Annotated[Path | None, typer.Option("--targets", metavar="CSV", help="CSV with packet_id (or path) and target_level columns.")] = None,
    ladder: LadderOpt = None,
    no_cache: NoCacheOpt = False,
    redact: RedactOpt = None,
    roster: RosterOpt = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", metavar="USD", help="Spending ceiling in USD: refuse to start over it, stop cleanly before it.")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", metavar="JSONL", help="The committee's calibration labels (JSONL); the report shows disagreements first.")] = None,
    calibrator: CalibratorOpt = None,
    batch_api: Annotated[bool, typer.Option("--batch-api", help="Submit through the provider's Batch API (openai/*, anthropic/*): about half price, results within 24 h.")] = False,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", metavar="SECONDS", help="How often to poll provider batches.")] = 30.0,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (for logs).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count packets and estimate the cost: no LLM call, nothing written.")] = False,
    timeout: TimeoutOpt = None,
    mode: ModeOpt = None,
) -> None:
    """Assess a whole cycle of packets: concurrent, resumable, within budget, with a committee report."""
    from packet_eval import ConfigError, resolve_model, run_batch

    names, redact = roster_names(roster, redact)
    chosen, notice = resolve_model(model, base_url)
    if calibrator and labels is None:
        raise ConfigError("--calibrator needs --labels")
    summary = asyncio.run(run_batch(
        paths, out_dir, model=chosen, base_url=base_url, concurrency=concurrency,
        target_level=target_level, targets_csv=targets, ladder=ladder, use_cache=not no_cache, redact=redact,
        redact_names=names,
        max_cost_usd=max_cost, labels_path=labels, calibrator=calibrator,
        progress=not no_progress and sys.stderr.isatty(), batch_api=batch_api,
        poll_interval_s=poll_seconds, dry_run=dry_run, timeout_s=timeout, mode=mode))
    if notice:  # after the checks, so a bad option or path is the only line
        note(notice)
    if dry_run:
        print_estimate(summary)
        return
    print_summary(summary)


def print_estimate(s: BatchSummary) -> None:
    """``--dry-run``: what the run would do and cost."""
    done = f", {s.skipped} already done in {s.out_dir}" if s.skipped else ""
    out.print(f"dry run: {s.total} packet(s){done}; {s.not_run} to assess with {s.model}"
              + (f" ({s.cached} from cache)" if s.model != "baseline" else ""), highlight=False)
    if s.model == "baseline":
        out.print("estimated cost $0.00 (offline baseline: nothing is sent)", highlight=False)
    elif not s.priced:
        out.print(f"estimated cost unknown: no price is known for {s.model}", highlight=False)
    else:
        out.print(f"estimated cost ${s.estimate_usd:.4f}", highlight=False)
    for f in s.failed:
        err.print(f"  {f.source}: {f.error}", highlight=False, soft_wrap=True, markup=False)
    if s.exit_code:
        raise typer.Exit(s.exit_code)


def print_summary(s: BatchSummary) -> None:
    """What the run did, on stdout; what went wrong, on stderr; then exit with its code."""
    from packet_eval import EXIT_OK

    _print_totals(s)
    for line in s.notes:
        note(line)
    if s.stop_reason == "budget":
        err.print(f"[yellow]stopped:[/] the next packet would take spend past --max-cost "
                  f"${s.max_cost_usd:.2f}; {s.not_run} packet(s) not assessed. Rerun with a higher "
                  "--max-cost to continue.", highlight=False, soft_wrap=True)
    elif s.stop_reason == "interrupted":
        err.print(f"[yellow]interrupted:[/] {s.not_run} packet(s) not assessed; rerun the same "
                  "command to continue.", highlight=False, soft_wrap=True)
    if s.failed:
        err.print(f"[red]failed ({len(s.failed)}):[/]", highlight=False)
        for f in s.failed[:20]:
            err.print(f"  {f.source}: {f.error}", highlight=False, soft_wrap=True, markup=False)
        if len(s.failed) > 20:
            err.print(f"  ... and {len(s.failed) - 20} more in errors.jsonl", highlight=False)
    if s.files.get("report"):
        out.print(f"report: {s.files['report']}", highlight=False)
    if s.exit_code != EXIT_OK:
        raise typer.Exit(s.exit_code)


def _print_totals(s: BatchSummary) -> None:
    bits = ([f"{s.cached} from cache"] if s.model != "baseline" else []) + \
        ([f"{s.skipped} already done"] if s.skipped else [])
    out.print(f"[bold]{s.done}[/] of {s.total} packet(s) assessed into {s.out_dir}"
              + (f" ({', '.join(bits)})" if bits else ""), highlight=False)
    if s.model != "baseline":
        est = f" (estimate ${s.estimate_usd:.4f})" if s.estimate_usd else ""
        out.print(f"cost ${s.cost_usd:.4f}{est} \u00b7 {s.input_tokens:,} in / {s.output_tokens:,} "
                  f"out tokens \u00b7 {s.calls} call(s) \u00b7 {s.wall_s:.1f} s"
                  + (f" \u00b7 {s.rate_limited} rate-limit answer(s) absorbed" if s.rate_limited else ""),
                  highlight=False)
    if s.cache_read_share is not None and s.cache_read_tokens:
        out.print(f"prompt cache: {s.cache_read_share:.0%} of input tokens read from the provider's "
                  f"cache (the estimate expected {s.expected_cache_read_share:.0%})",
                  highlight=False)
    if s.batch_api:
        b = s.batch_api
        out.print(f"batch API: {b.get('batches', 0)} batch(es), {b.get('resubmitted', 0)} request(s) "
                  f"resubmitted, {b.get('fell_back', 0)} packet(s) finished with live calls",
                  highlight=False)
