"""``packet-eval assess`` (a whole cycle) and ``packet-eval agreement`` (against calibrators).

``register(app)`` adds both commands to the main typer app; it is idempotent so
tests and ``python -m packet_eval.cli_assess`` can call it too. The commands
are thin: options in, ``batch.run_batch`` / ``report.calibration.compare`` out,
then a short printed summary. Exit codes of ``assess``: 0 all done, 1 some
packet failed, 3 stopped early (``--max-cost``), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from packet_eval.cli import err, friendly, out
from packet_eval.errors import ConfigError, DatasetError


class AgreementFormat(str, Enum):  # noqa: UP042 - typer's choice type, as cli.Format
    text = "text"
    json = "json"
    markdown = "markdown"


def _print_summary(s: Any) -> None:
    from packet_eval.batch import EXIT_OK

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
    if s.batch_api:
        b = s.batch_api
        out.print(f"batch API: {b.get('batches', 0)} batch(es), {b.get('resubmitted', 0)} request(s) "
                  f"resubmitted, {b.get('fell_back', 0)} packet(s) finished with live calls",
                  highlight=False)
    for note in s.notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
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
    files = s.files
    if files.get("report"):
        out.print(f"report: {files['report']}", highlight=False)
    if s.exit_code == EXIT_OK:
        return
    raise typer.Exit(s.exit_code)


@friendly
def assess_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Packet files and/or directories (searched recursively).")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Run directory: results, summaries and report.html. Rerun with the same one to resume.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="'baseline' or provider/model, e.g. openai/gpt-4.1-mini. Default: an LLM if a key is set, else baseline.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio).")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Most LLM requests in flight at once; lowered automatically while the provider answers 429.")] = 8,
    target_level: Annotated[str | None, typer.Option("--target-level", "-t", help="One target level for every packet.")] = None,
    targets: Annotated[Path | None, typer.Option("--targets", help="CSV with packet_id (or path) and target_level columns.")] = None,
    ladder: Annotated[Path | None, typer.Option("--ladder", help="Ladder YAML (default: the built-in AI-engineering ladder).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not serve LLM calls from the local cache.")] = False,
    redact: Annotated[bool | None, typer.Option("--redact/--no-redact", help="Mask names, emails, phone numbers, URLs and employee ids before text leaves the machine. Default: on for any endpoint not on this machine.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="Spending ceiling in USD: refuse to start over it, stop cleanly before it.")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="The committee's calibration labels (JSONL); the report shows disagreements first.")] = None,
    calibrator: Annotated[str | None, typer.Option("--calibrator", help="Compare with this calibrator's labels (default: the first label of each packet).")] = None,
    batch_api: Annotated[bool, typer.Option("--batch-api", help="Submit through the provider's Batch API (openai/*, anthropic/*): about half price, results within 24 h.")] = False,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", help="How often to poll provider batches.")] = 30.0,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar (for logs).")] = False,
) -> None:
    """Assess a whole cycle of packets: concurrent, resumable, within budget, with a committee report."""
    from packet_eval.api import default_model
    from packet_eval.batch import run_batch

    chosen, notice = (model, None) if model else default_model()
    if notice:
        err.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    if calibrator and labels is None:
        raise ConfigError("--calibrator needs --labels")
    summary = asyncio.run(run_batch(
        paths, out_dir, model=chosen, base_url=base_url, concurrency=concurrency,
        target_level=target_level, targets_csv=targets, ladder=ladder, use_cache=not no_cache, redact=redact,
        max_cost_usd=max_cost, labels_path=labels, calibrator=calibrator,
        progress=not no_progress and sys.stderr.isatty(), batch_api=batch_api,
        poll_interval_s=poll_seconds))
    _print_summary(summary)


def read_assessments(path: Path) -> tuple[list[Any], list[str]]:
    """Assessments from a JSONL file, the last one per packet_id, and notes about the file."""
    from pydantic import ValidationError

    from packet_eval.schema import Assessment

    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except OSError as exc:
        raise ConfigError(f"cannot read assessments ({exc.strerror})", path) from None
    latest: dict[str, Any] = {}
    notes: list[str] = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            a = Assessment.model_validate_json(raw)
        except ValidationError as exc:
            if n == len(lines) and not raw.endswith(b"\n"):
                notes.append(f"ignored a torn last line ({len(raw)} bytes) left by an interrupted run")
                continue
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"line {n} is not an Assessment ({where}: {first['msg']})",
                              path) from None
        if a.packet_id in latest:
            notes.append(f"{a.packet_id} appears more than once; the last line is used")
        latest[a.packet_id] = a
    if not latest:
        raise ConfigError("no assessments in the file", path)
    return list(latest.values()), notes


@friendly
def agreement_cmd(
    labels: Annotated[Path, typer.Argument(help="The committee's labels (JSONL, the golden labels format).")],
    assessments: Annotated[Path, typer.Argument(help="assessments.jsonl from `packet-eval assess`.")],
    fmt: Annotated[AgreementFormat, typer.Option("--format", "-f", help="Output format.")] = AgreementFormat.text,
    ladder: Annotated[Path | None, typer.Option("--ladder", help="Ladder YAML (default: the built-in AI-engineering ladder).")] = None,
    calibrator: Annotated[str | None, typer.Option("--calibrator", help="Compare with this calibrator's labels (default: the first label of each packet).")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates for the 95% intervals.")] = 1000,
) -> None:
    """Agreement of assessments with the committee's labels, and the disagreements to discuss."""
    from packet_eval.batch.outdir import packet_text
    from packet_eval.labels import parse_labels
    from packet_eval.ladder import load_ladder
    from packet_eval.report.agreement_text import render_markdown, render_text
    from packet_eval.report.calibration import compare

    lad = load_ladder(ladder)
    parsed = parse_labels(labels, lad)
    if parsed.problems:
        more = f" (+{len(parsed.problems) - 1} more)" if len(parsed.problems) > 1 else ""
        raise DatasetError(f"{parsed.problems[0]}{more}")
    found, notes = read_assessments(assessments)
    labelled = {lb.packet_id for lb in parsed.labels}
    try:
        cal = compare(parsed.labels,
                      ((a, packet_text(a.source, a.packet_sha256) if a.packet_id in labelled
                        else None) for a in found),
                      lad, calibrator=calibrator, n_boot=n_boot)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if cal.n_compared == 0:
        raise ConfigError(f"no packet is in both {labels.name} ({len(labelled)} labelled) and "
                          f"{assessments.name} ({len(found)} assessed); packet ids must match")
    for note in notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    if fmt is AgreementFormat.json:
        sys.stdout.write(json.dumps(cal.to_dict(), indent=2) + "\n")
    elif fmt is AgreementFormat.markdown:
        sys.stdout.write(render_markdown(cal, lad))
    else:
        render_text(cal, lad, out)


def register(app: typer.Typer) -> None:
    """Add ``assess`` and ``agreement`` to ``app`` (a no-op for commands already there)."""
    names = {c.name for c in app.registered_commands}
    if "assess" not in names:
        app.command("assess")(assess_cmd)
    if "agreement" not in names:
        app.command("agreement")(agreement_cmd)


def main() -> None:  # pragma: no cover - ``python -m packet_eval.cli_assess``
    from packet_eval.cli import app

    register(app)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
