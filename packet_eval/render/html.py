"""Self-contained HTML for one assessment, built from the shared Jinja2 templates.

``view_model`` is the single place that turns an Assessment into what the
result templates need, so ``preview --format html`` and ``packet-eval serve``
draw exactly the same view.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from packet_eval.assemble import HIDDEN_TEXT_FLAG, HIDDEN_TEXT_NAME
from packet_eval.ladder import Ladder
from packet_eval.render.highlight import Item, Segment, items_of, segments
from packet_eval.schema import Assessment

PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
           "#dc2626", "#4f46e5", "#ca8a04"]
_HEADING_LINE = re.compile(r"^(#{1,6}[ \t]+)(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Piece:
    """A run of packet text to draw: a segment, or a heading line outside every span."""

    text: str
    items: tuple[Item, ...]
    heading: int = 0  # markdown heading depth, 0 for body text
    marker: str = ""  # the "## " prefix of a heading line, drawn muted


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("packet_eval", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def pieces(text: str, segs: list[Segment]) -> list[Piece]:
    """Split uncovered segments so markdown heading lines can be drawn as headings.

    Only text outside every evidence span and flag is split, so no ``<mark>``
    ever crosses a heading, and the pieces still concatenate to ``text``.
    """
    out: list[Piece] = []
    pos = 0
    for seg in segs:
        start, pos = pos, pos + len(seg.text)
        if seg.items:
            out.append(Piece(seg.text, seg.items))
            continue
        cursor = 0
        for m in _HEADING_LINE.finditer(seg.text):
            at_line_start = m.start() > 0 or start == 0 or text[start - 1] == "\n"
            if not at_line_start:
                continue
            if m.start() > cursor:
                out.append(Piece(seg.text[cursor:m.start()], ()))
            depth = len(m.group(1).strip())
            out.append(Piece(m.group(2), (), heading=depth, marker=m.group(1)))
            cursor = m.end()
        if cursor < len(seg.text):
            out.append(Piece(seg.text[cursor:], ()))
    return out


def view_model(a: Assessment, ladder: Ladder, text: str, *, left_machine: bool | None = None
               ) -> dict[str, Any]:
    """Everything the result templates need, for the CLI file and the web app alike.

    Args:
        a: the Assessment to draw.
        ladder: the ladder it was made against (names, cells, colours).
        text: the packet's canonical text, which every evidence offset refers to.
        left_machine: override whether the packet left this machine; by default
            any extractor other than the baseline is assumed to have sent it out.
    """
    colours = {d.id: PALETTE[i % len(PALETTE)] for i, d in enumerate(ladder.dimensions)}
    names = {d.id: d.name for d in ladder.dimensions}
    flag_names = {HIDDEN_TEXT_FLAG: HIDDEN_TEXT_NAME, **{f.id: f.name for f in ladder.flags}}
    items = items_of(a)
    details: dict[str, dict[str, str]] = {}
    for i in items:
        title = names.get(i.dimension or "", "") if i.kind == "evidence" else \
            flag_names.get(i.label, i.label)
        details[i.key] = {"quote": text[i.start:i.end], "title": title,
                          "colour": colours.get(i.dimension or "", ""), **i.detail}
    segs = segments(text, items)
    first_evidence: dict[str, str] = {}
    for i in items:
        if i.kind == "evidence" and i.dimension:
            first_evidence.setdefault(i.dimension, i.key)
    flag_counts: dict[str, int] = {}
    for fl in a.flags:
        flag_counts[fl.flag] = flag_counts.get(fl.flag, 0) + 1
    return {
        "items_json": script_json(details),
        "a": a, "ladder": ladder, "colours": colours, "names": names,
        "flag_names": flag_names, "flag_counts": flag_counts, "scale": ladder.scale,
        "rank": ladder.rank, "segments": segs, "pieces": pieces(text, segs), "items": items,
        "first_evidence": first_evidence,
        "evidence_total": sum(len(f.evidence) for f in a.dimensions.values()),
        "core": set(ladder.level_rule.core_dimensions),
        "left_machine": a.extractor.name != "baseline" if left_machine is None else left_machine,
    }


_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: object) -> str:
    """JSON safe inside a <script> element, whatever strings it holds.

    Escaping only "</" is not enough: "<!--" followed by "<script" puts the
    HTML parser in the script-data-escaped state, and the element then runs
    past its own end tag. With no "<" left, no packet text can do either.
    """
    out = json.dumps(value)
    for ch, esc in _SCRIPT_ESCAPES.items():
        out = out.replace(ch, esc)
    return out


def render_html(a: Assessment, ladder: Ladder, text: str) -> str:
    """The self-contained result page that ``preview --format html`` writes."""
    return environment().get_template("preview.html.j2").render(**view_model(a, ladder, text))
