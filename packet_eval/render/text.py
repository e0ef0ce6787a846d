"""Terminal output: a rich table of dimensions, then flags and gaps."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from packet_eval.ladder import Ladder
from packet_eval.schema import Assessment


def _short(s: str, n: int = 110) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def render_text(a: Assessment, ladder: Ladder, console: Console) -> None:
    console.print(f"[bold]{a.packet_id}[/]  demonstrated level: [bold]{a.level}[/]"
                  + (f"  (target: {a.target_level})" if a.target_level else "")
                  + f"  \u00b7 extractor: {a.extractor.model}")
    table = Table(show_lines=False, header_style="bold")
    table.add_column("dimension")
    table.add_column("level")
    table.add_column("n", justify="right")
    table.add_column("strongest evidence (verbatim)")
    for dim in ladder.dimensions:
        f = a.dimensions[dim.id]
        best = f.evidence[0] if f.evidence else None
        quote = f"\u201c{_short(best.quote)}\u201d [dim]({best.strength}, {best.attribution})[/]" \
            if best else "[dim]no evidence found[/]"
        table.add_row(dim.name, f.level, str(len(f.evidence)), quote)
    console.print(table)
    if a.flags:
        console.print("[bold]Flags[/]")
        for fl in a.flags:
            console.print(f"  [yellow]{fl.flag}[/] \u201c{_short(fl.quote, 90)}\u201d")
    if a.gaps:
        console.print(f"[bold]Gaps to {a.target_level}[/]")
        names = {d.id: d.name for d in ladder.dimensions}
        for g in a.gaps:
            # What the target needs is the point of a gap: shown whole, only the example is cut.
            marker = f"{g.needed} needs: "
            needs = g.advice.split(marker, 1)[-1]
            behaviour, _, example = needs.partition(" Evidence that would show it reads like: ")
            console.print(f"  [cyan]{escape(names.get(g.dimension, g.dimension))}[/] "
                          f"{g.demonstrated} \u2192 {g.needed}; needs: {escape(behaviour)}",
                          highlight=False)
            if example:
                console.print(f"    [dim]e.g. {escape(_short(example, 160))}[/]", highlight=False)
    console.print("[dim]Evidence for a human decision, not a verdict. Every quote is verbatim "
                  "from the packet.[/]")
