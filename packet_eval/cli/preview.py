"""``packet-eval preview``: one packet's evidence, flags and gaps (or what changed since a draft)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from packet_eval.cli.console import emit, note, out, say_retry, say_wait
from packet_eval.cli.options import (
    BaseUrlOpt,
    Format,
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


def preview(
    packet: Annotated[Path, typer.Argument(metavar="PACKET", help="Packet file: .md .txt .docx .pdf .html, or - for text on stdin.")],
    target_level: TargetLevelOpt = None,
    model: ModelOpt = None,
    ladder: LadderOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", metavar="text|json|markdown|html", help="Output format.")] = Format.text,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write to this file instead of stdout.")] = None,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    redact: RedactOpt = None,
    roster: RosterOpt = None,
    timeout: TimeoutOpt = None,
    mode: ModeOpt = None,
    diff_old: Annotated[Path | None, typer.Option("--diff", metavar="OLD", help="An earlier draft: show which dimensions moved and which evidence was gained or lost from OLD to PACKET (text, json or markdown).")] = None,
) -> None:
    """Assess one packet and show the evidence, flags and gaps (or, with --diff OLD, what changed)."""
    from packet_eval import (
        PacketEvalError,
        assess,
        check_target_level,
        load_ladder,
        read_packet,
        render_html,
        render_markdown,
        render_text,
        resolve_model,
    )

    lad = load_ladder(ladder)
    # Before any notice, so a bad value is the only line.
    target_level = check_target_level(lad, target_level)
    pkt = read_packet(packet)
    # --diff OLD: read the older draft first so a bad path fails before any LLM call.
    old_pkt = read_packet(diff_old) if diff_old is not None else None
    names, redact = roster_names(roster, redact)
    if old_pkt is not None and fmt is Format.html:
        raise PacketEvalError("--diff prints text, json or markdown, not html")
    chosen, notice = resolve_model(model, base_url)
    if notice:
        note(notice)
    options = {"model": chosen, "ladder": lad, "target_level": target_level, "base_url": base_url,
               "use_cache": not no_cache, "on_retry": say_retry, "redact": redact}
    if chosen != "baseline":
        options |= {"timeout_s": timeout, "mode": mode, "on_wait": say_wait, "redact_names": names}
    a = assess(pkt, **options)
    if old_pkt is not None:
        from packet_eval import diff_assessments, format_diff, render_diff_text

        d = diff_assessments(assess(old_pkt, **options), a, lad)
        if fmt is Format.text and out_path is None:
            render_diff_text(d, out)
        else:
            emit(format_diff(d, fmt.value), out_path)
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
        # Plain text for a file: record what the terminal renderer would draw, show nothing.
        console = Console(record=True, width=120, file=io.StringIO())
        render_text(a, lad, console)
        body = console.export_text()
    emit(body, out_path)
