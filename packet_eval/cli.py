"""The ``packet-eval`` command line: a thin typer layer over the Python API.

Each command parses options, calls the library and prints. Errors a user can
fix are ``PacketEvalError``s: they print as one line on stderr and exit
non-zero, with no traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from packet_eval.errors import PacketEvalError

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False,
                  help="Grounded evidence from AI-engineering promotion packets.")
ladder_app = typer.Typer(no_args_is_help=True, help="Inspect ladders.")
app.add_typer(ladder_app, name="ladder")
dataset_app = typer.Typer(no_args_is_help=True, help="Validate and describe golden datasets.")
app.add_typer(dataset_app, name="dataset")

out = Console(soft_wrap=False)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    # Messages carry file names, which may contain [brackets]: never read them as markup.
    err.print(f"[red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def say_retry(attempt: int, seconds: float, why: str) -> None:
    """Print one line per transport retry, so a slow provider never looks like a hang."""
    err.print(f"[dim]retrying in {seconds:.1f}s (attempt {attempt + 1}): {why}[/]", highlight=False,
              soft_wrap=True)


def friendly(fn: F) -> F:
    """Turn PacketEvalError (and Ctrl-C) into a one-line message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PacketEvalError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper  # type: ignore[return-value]


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


LadderOpt = Annotated[Path | None, typer.Option("--ladder", help="Ladder YAML (default: the built-in AI-engineering ladder).")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="'baseline' or provider/model, e.g. openai/gpt-4.1-mini. Default: an LLM if a key is set, else baseline.")]


@app.command()
@friendly
def preview(
    packet: Annotated[Path, typer.Argument(help="Packet file: .md .txt .docx .pdf .html")],
    target_level: Annotated[str | None, typer.Option("--target-level", "-t", help="Level the packet asks for; gaps are shown against it.")] = None,
    model: ModelOpt = None,
    ladder: LadderOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not serve LLM calls from the local cache.")] = False,
    redact: Annotated[bool | None, typer.Option("--redact/--no-redact", help="Mask names, emails, phone numbers, URLs and employee ids before text leaves the machine. Default: on for any endpoint not on this machine.")] = None,
    diff_old: Annotated[Path | None, typer.Option("--diff", metavar="OLD", help="An earlier draft: show which dimensions moved and which evidence was gained or lost from OLD to PACKET (text, json or markdown).")] = None,
) -> None:
    """Assess one packet and show the evidence, flags and gaps (or, with --diff OLD, what changed)."""
    from packet_eval.api import assess, check_target_level, default_model
    from packet_eval.ladder import load_ladder
    from packet_eval.packet import load_packet
    from packet_eval.render import render_html, render_markdown, render_text

    lad = load_ladder(ladder)
    check_target_level(lad, target_level)  # before any notice, so a bad value is the only line
    pkt = load_packet(packet)
    # --diff OLD: read the older draft first so a bad path fails before any LLM call.
    old_pkt = load_packet(diff_old) if diff_old is not None else None
    if old_pkt is not None and fmt is Format.html:
        raise PacketEvalError("--diff prints text, json or markdown, not html")
    chosen, notice = (model, None) if model else default_model()
    if notice:
        err.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    a = assess(pkt, model=chosen, ladder=lad, target_level=target_level, base_url=base_url,
               use_cache=not no_cache, on_retry=say_retry, redact=redact)
    if old_pkt is not None:
        from packet_eval.diff import diff_assessments, format_diff, render_diff_text

        old = assess(old_pkt, model=chosen, ladder=lad, target_level=target_level,
                     base_url=base_url, use_cache=not no_cache, on_retry=say_retry, redact=redact)
        d = diff_assessments(old, a, lad)
        if fmt is Format.text and out_path is None:
            render_diff_text(d, out)
        else:
            _emit(format_diff(d, fmt.value), out_path)
        return
    if fmt is Format.text and out_path is None:
        render_text(a, lad, out)
        return
    if fmt is Format.json:
        body = a.model_dump_json(indent=2)
    elif fmt is Format.markdown:
        body = render_markdown(a, lad)
    elif fmt is Format.html:
        body = render_html(a, lad, pkt.text)
    else:
        console = Console(record=True, width=120, file=open("/dev/null", "w"))  # noqa: SIM115
        render_text(a, lad, console)
        body = console.export_text()
    _emit(body, out_path)


def _emit(body: str, out_path: Path | None) -> None:
    if out_path is None:
        sys.stdout.write(body if body.endswith("\n") else body + "\n")
        return
    try:
        out_path.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise PacketEvalError(f"cannot write output ({exc.strerror})", out_path) from None
    err.print(f"wrote {out_path}", highlight=False)


@ladder_app.command("show")
@friendly
def ladder_show(
    ladder: LadderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the validated ladder as JSON.")] = False,
) -> None:
    """Print a ladder: its levels, dimensions, cells, flags and level rule."""
    from rich.table import Table

    from packet_eval.ladder import load_ladder

    lad = load_ladder(ladder)
    if as_json:
        sys.stdout.write(json.dumps(lad.model_dump(), indent=2) + "\n")
        return
    out.print(f"[bold]{lad.title or lad.id}[/] ({lad.id} {lad.version}, sha256 {lad.sha256[:12]})")
    out.print(lad.description.strip())
    for dim in lad.dimensions:
        table = Table(title=f"{dim.name} ({dim.id})", show_lines=True, title_justify="left")
        table.add_column("level")
        table.add_column("behaviour")
        table.add_column("example evidence")
        for lv in lad.levels:
            cell = dim.cells[lv]
            table.add_row(lv, cell.behaviour, cell.evidence[0])
        out.print(table)
    out.print("[bold]Flags[/]")
    for fl in lad.flags:
        out.print(f"  [yellow]{fl.id}[/]: {fl.definition}")
    rule = lad.level_rule
    out.print("[bold]Overall level rule[/]: the highest level L where, for L and every level below, "
              "at least min_dimensions dimensions are at L or above, min_core of them core "
              f"({', '.join(rule.core_dimensions)}).")
    for lv in lad.levels:
        r = rule.requirements[lv]
        out.print(f"  {lv}: min_dimensions={r.min_dimensions}, min_core={r.min_core}")


@app.command()
@friendly
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent calls.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Show recent LLM calls from the local call log: tokens, latency, cost, status."""
    from rich.table import Table

    from packet_eval.store import Store

    store = Store()
    rows = store.recent_calls(limit)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"Recent LLM calls ({store.path})", title_justify="left")
    for col in ("datetime_utc", "model", "status", "in", "out", "ms", "cost_usd", "packet"):
        table.add_column(col, justify="right" if col in ("in", "out", "ms", "cost_usd") else "left")
    for r in rows:
        table.add_row(r["datetime_utc"][:19], r["model"], r["status"] if not r["error"] else
                      f"{r['status']}: {r['error'][:60]}", str(r["input_tokens"] or 0),
                      str(r["output_tokens"] or 0), str(r["duration_ms"] or 0),
                      f"{r['cost_usd'] or 0:.5f}", (r["packet_sha256"] or "")[:10])
    out.print(table)
    total = sum((r["cost_usd"] or 0) for r in rows)
    out.print(f"{len(rows)} call(s), estimated cost ${total:.4f}")


@dataset_app.command("check")
@friendly
def dataset_check(
    directory: Annotated[Path, typer.Argument(help="A dataset directory in the golden layout.")],
    ladder: LadderOpt = None,
) -> None:
    """Validate a dataset: schema, coverage, levels, flags, evidence substrings, twins, splits."""
    from packet_eval.dataset import check_dataset
    from packet_eval.ladder import load_ladder

    problems = check_dataset(directory, load_ladder(ladder))
    for p in problems:
        err.print(f"[red]error:[/] {escape(str(p))}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print(f"{directory}: ok")


@dataset_app.command("stats")
@friendly
def dataset_stats_cmd(
    directory: Annotated[Path, typer.Argument(help="A dataset directory in the golden layout.")],
    ladder: LadderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Print the distribution of levels, flags, styles, tags, formats and lengths."""
    from rich.table import Table

    from packet_eval.dataset import dataset_stats, load_dataset
    from packet_eval.ladder import load_ladder

    stats = dataset_stats(load_dataset(directory, load_ladder(ladder)))
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    out.print(f"[bold]{directory}[/]: {stats['packets']} packets, {stats['labels']} labels, "
              f"{stats['doubly_labelled']} doubly labelled, {stats['injection_pairs']} injection pairs, "
              f"splits {stats['splits']}")
    for key in ("levels", "target_levels", "flags", "styles", "tags", "formats", "calibrators"):
        table = Table(title=key, title_justify="left")
        table.add_column("value")
        table.add_column("count", justify="right")
        for k, v in stats[key].items():
            table.add_row(str(k), str(v))
        out.print(table)
    w = stats["words"]
    out.print(f"words: min {w['min']}, max {w['max']}, buckets {w['buckets']}")


def _register_subcommands() -> None:
    from packet_eval import cli_assess, cli_eval, cli_serve

    cli_assess.register(app)
    cli_eval.register(app)
    cli_serve.register(app)


_register_subcommands()


def main() -> None:  # pragma: no cover - console-script entry point
    app()
