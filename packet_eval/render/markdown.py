"""Markdown output, for pasting into a doc or a CI summary."""

from __future__ import annotations

from packet_eval.ladder import Ladder
from packet_eval.schema import Assessment

EMPTY = "\u2014"


def _cell(s: str) -> str:
    return " ".join(s.split()).replace("|", "\\|")


def render_markdown(a: Assessment, ladder: Ladder) -> str:
    lines = [f"# {a.packet_id}: demonstrated level **{a.level}**", ""]
    if a.target_level:
        lines += [f"Target level: **{a.target_level}**", ""]
    lines += [f"Extractor: `{a.extractor.model}` \u00b7 ladder `{a.ladder.id}` {a.ladder.version}", "",
              "| dimension | level | evidence (verbatim) |", "|---|---|---|"]
    for dim in ladder.dimensions:
        f = a.dimensions[dim.id]
        quotes = "<br>".join(f"\u201c{_cell(e.quote)}\u201d ({e.level}, {e.strength})"
                             for e in f.evidence[:3])
        lines.append(f"| {dim.name} | {f.level} | {quotes or EMPTY} |")
    if a.flags:
        lines += ["", "## Flags", ""] + [f"- **{fl.flag}**: \u201c{_cell(fl.quote)}\u201d" for fl in a.flags]
    if a.gaps:
        lines += ["", f"## Gaps to {a.target_level}", ""]
        lines += [f"- **{g.dimension}**: {g.advice}" for g in a.gaps]
    lines += ["", "_Evidence for a human decision, not a verdict._", ""]
    return "\n".join(lines)
