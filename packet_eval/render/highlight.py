"""Split packet text into segments tagged with the evidence and flags that cover them.

Evidence spans can nest or cross (two dimensions may cite the same sentence),
so each item is drawn as one or more ``<mark>`` pieces that share its id;
joining an id's pieces in document order gives back its quote exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from packet_eval.schema import Assessment


@dataclass(frozen=True)
class Item:
    key: str  # "ev-3" or "fl-0"
    kind: str  # "evidence" | "flag"
    start: int
    end: int
    dimension: str | None
    label: str  # level or flag id
    detail: dict[str, str]


@dataclass(frozen=True)
class Segment:
    text: str
    items: tuple[Item, ...]  # outermost first


def items_of(assessment: Assessment) -> list[Item]:
    items: list[Item] = []
    n = 0
    for dim, finding in assessment.dimensions.items():
        for ev in finding.evidence:
            items.append(Item(f"ev-{n}", "evidence", ev.start, ev.end, dim, ev.level, {
                "dimension": dim, "level": ev.level, "strength": ev.strength,
                "attribution": ev.attribution, "match": ev.match, "rationale": ev.rationale}))
            n += 1
    for i, fl in enumerate(assessment.flags):
        items.append(Item(f"fl-{i}", "flag", fl.start, fl.end, None, fl.flag,
                          {"flag": fl.flag, "rationale": fl.rationale}))
    return items


def segments(text: str, items: list[Item]) -> list[Segment]:
    """Cut ``text`` at every item boundary; each piece lists the items covering it."""
    cuts = sorted({0, len(text), *(i.start for i in items), *(i.end for i in items)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a >= b:
            continue
        covering = tuple(sorted((i for i in items if i.start <= a and b <= i.end),
                                key=lambda i: (i.start, -i.end, i.key)))
        out.append(Segment(text[a:b], covering))
    return out
