"""Compare two drafts of one packet: which dimensions moved, what evidence came and went.

An engineer revising a packet wants to know whether the new draft reads
better to a careful reader. Offsets differ between drafts, so evidence is
matched by its quote text with whitespace collapsed, within the same
dimension, and flags by flag id and quote text. ``DraftDiff`` is a pydantic
model, so its JSON form is ``model_dump_json()``; text and markdown renderers
sit alongside.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Literal, TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from packet_eval.ladder import NONE, Ladder
from packet_eval.schema import Assessment

Direction = Literal["up", "down", "same"]
K = TypeVar("K")
V = TypeVar("V")
ARROWS = {"up": "\u2191", "down": "\u2193", "same": "="}


class DimensionMove(BaseModel):
    dimension: str
    name: str
    old: str
    new: str
    direction: Direction
    old_evidence: int
    new_evidence: int


class EvidenceChange(BaseModel):
    dimension: str
    quote: str
    level: str
    strength: str
    attribution: str


class FlagChange(BaseModel):
    flag: str
    quote: str


class DraftDiff(BaseModel):
    """What changed between an older and a newer draft's assessments."""

    old_packet: str
    new_packet: str
    old_level: str
    new_level: str
    overall: Direction
    target_level: str | None = None
    dimensions: list[DimensionMove]
    evidence_gained: list[EvidenceChange]
    evidence_lost: list[EvidenceChange]
    evidence_kept: int
    flags_gained: list[FlagChange]
    flags_lost: list[FlagChange]
    gaps_closed: list[str]
    gaps_open: list[str]

    @property
    def moved(self) -> list[DimensionMove]:
        return [m for m in self.dimensions if m.direction != "same"]


def normalize_quote(quote: str) -> str:
    """Collapse runs of whitespace so re-wrapped lines still match."""
    return " ".join(quote.split())


def _direction(ladder: Ladder, old: str, new: str) -> Direction:
    delta = ladder.rank[new] - ladder.rank[old]
    return "up" if delta > 0 else "down" if delta < 0 else "same"


def _evidence(a: Assessment) -> list[tuple[tuple[str, str], EvidenceChange]]:
    return [((dim, normalize_quote(ev.quote)),
             EvidenceChange(dimension=dim, quote=ev.quote, level=ev.level, strength=ev.strength,
                            attribution=ev.attribution))
            for dim, f in a.dimensions.items() for ev in f.evidence]


def _unmatched(ours: Iterable[tuple[K, V]], theirs: Iterable[tuple[K, V]]) -> list[V]:
    """Items of ``ours`` with no partner in ``theirs``, as multisets (duplicates pair once)."""
    left = Counter(k for k, _ in theirs)
    out: list[V] = []
    for key, value in ours:
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(value)
    return out


def diff_assessments(old: Assessment, new: Assessment, ladder: Ladder) -> DraftDiff:
    """Compare two assessments of drafts of the same packet against ``ladder``.

    Args:
        old: the earlier draft's assessment.
        new: the later draft's assessment.
        ladder: the ladder both were assessed against (for level order and names).

    Returns:
        The overall and per-dimension level moves, evidence and flags gained and
        lost, and which gaps to the target level (the new draft's, else the old
        one's) were closed or remain open.
    """
    moves = []
    for dim in ladder.dimensions:
        o, n = old.dimensions.get(dim.id), new.dimensions.get(dim.id)
        o_lv, n_lv = (o.level if o else NONE), (n.level if n else NONE)
        moves.append(DimensionMove(
            dimension=dim.id, name=dim.name, old=o_lv, new=n_lv,
            direction=_direction(ladder, o_lv, n_lv),
            old_evidence=len(o.evidence) if o else 0, new_evidence=len(n.evidence) if n else 0))
    old_ev, new_ev = _evidence(old), _evidence(new)
    gained = _unmatched(new_ev, old_ev)
    lost = _unmatched(old_ev, new_ev)

    def flags(a: Assessment) -> list[tuple[tuple[str, str], FlagChange]]:
        return [((f.flag, normalize_quote(f.quote)), FlagChange(flag=f.flag, quote=f.quote))
                for f in a.flags]

    target = new.target_level or old.target_level
    closed: list[str] = []
    still: list[str] = []
    if target and target != NONE:
        need = ladder.rank[target]
        for m in moves:
            if ladder.rank[m.new] < need:
                still.append(m.dimension)
            elif ladder.rank[m.old] < need:
                closed.append(m.dimension)
    return DraftDiff(
        old_packet=old.packet_id, new_packet=new.packet_id, old_level=old.level,
        new_level=new.level, overall=_direction(ladder, old.level, new.level),
        target_level=target, dimensions=moves, evidence_gained=gained, evidence_lost=lost,
        evidence_kept=len(new_ev) - len(gained), flags_gained=_unmatched(flags(new), flags(old)),
        flags_lost=_unmatched(flags(old), flags(new)), gaps_closed=closed, gaps_open=still)


def _short(s: str, n: int = 140) -> str:
    s = normalize_quote(s)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def render_diff_text(d: DraftDiff, console: Console) -> None:
    """Print a diff to a rich console: levels table, then evidence, flags and gaps."""
    console.print(f"[bold]{d.old_packet}[/] \u2192 [bold]{d.new_packet}[/]  overall level: "
                  f"{d.old_level} \u2192 [bold]{d.new_level}[/] ({d.overall})")
    table = Table(header_style="bold")
    for col in ("dimension", "old", "new", "move", "evidence"):
        table.add_column(col, justify="right" if col == "evidence" else "left")
    style = {"up": "green", "down": "red", "same": "dim"}
    for m in d.dimensions:
        table.add_row(m.name, m.old, m.new,
                      f"[{style[m.direction]}]{ARROWS[m.direction]} {m.direction}[/]",
                      f"{m.old_evidence} \u2192 {m.new_evidence}")
    console.print(table)
    for title, items, mark, colour in (("Evidence gained", d.evidence_gained, "+", "green"),
                                       ("Evidence lost", d.evidence_lost, "-", "red")):
        console.print(f"[bold]{title}[/] ({len(items)})")
        for e in items:
            console.print(f"  [{colour}]{mark}[/] [cyan]{e.dimension}[/] ({e.level}, {e.strength}, "
                          f"{e.attribution}) \u201c{_short(e.quote)}\u201d", highlight=False)
    console.print(f"[dim]{d.evidence_kept} evidence span(s) unchanged.[/]")
    for title, flags, mark in (("Flags gained", d.flags_gained, "+"),
                               ("Flags cleared", d.flags_lost, "-")):
        if flags:
            console.print(f"[bold]{title}[/] ({len(flags)})")
            for f in flags:
                console.print(f"  {mark} [yellow]{f.flag}[/] \u201c{_short(f.quote, 110)}\u201d",
                              highlight=False)
    if d.target_level:
        console.print(f"[bold]Gaps to {d.target_level}[/]: closed "
                      f"{', '.join(d.gaps_closed) or 'none'}; still open "
                      f"{', '.join(d.gaps_open) or 'none'}")


def render_diff_markdown(d: DraftDiff) -> str:
    """A diff as markdown, for a PR description or a doc."""
    def cell(s: str) -> str:
        return normalize_quote(s).replace("|", "\\|")

    lines = [f"# {d.old_packet} \u2192 {d.new_packet}", "",
             f"Overall level: {d.old_level} \u2192 **{d.new_level}** ({d.overall})", "",
             "| dimension | old | new | move | evidence |", "|---|---|---|---|---|"]
    lines += [f"| {m.name} | {m.old} | {m.new} | {ARROWS[m.direction]} {m.direction} | "
              f"{m.old_evidence} \u2192 {m.new_evidence} |" for m in d.dimensions]
    for title, items in (("Evidence gained", d.evidence_gained),
                         ("Evidence lost", d.evidence_lost)):
        lines += ["", f"## {title} ({len(items)})", ""]
        lines += [f"- **{e.dimension}** ({e.level}, {e.strength}): \u201c{cell(e.quote)}\u201d"
                  for e in items] or ["_none_"]
    for title, flags in (("Flags gained", d.flags_gained), ("Flags cleared", d.flags_lost)):
        if flags:
            lines += ["", f"## {title} ({len(flags)})", ""]
            lines += [f"- **{f.flag}**: \u201c{cell(f.quote)}\u201d" for f in flags]
    if d.target_level:
        lines += ["", f"## Gaps to {d.target_level}", "",
                  f"- closed: {', '.join(d.gaps_closed) or 'none'}",
                  f"- still open: {', '.join(d.gaps_open) or 'none'}"]
    return "\n".join(lines) + "\n"


def format_diff(d: DraftDiff, fmt: str, width: int = 120) -> str:
    """A diff as a string: ``json``, ``markdown`` or plain ``text`` (rich, uncoloured)."""
    if fmt == "json":
        return d.model_dump_json(indent=2)
    if fmt == "markdown":
        return render_diff_markdown(d)
    if fmt != "text":
        raise ValueError(f"unsupported diff format {fmt!r}")
    console = Console(record=True, width=width, file=io.StringIO())
    render_diff_text(d, console)
    return console.export_text()
