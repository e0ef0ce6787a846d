"""Split canonical text into sentence-sized units with their offsets.

Units are what the baseline extractor rates and what it quotes, so each is a
span of the canonical text with list markers, heading hashes and table pipes
trimmed from its ends. Headings are returned separately so callers know which
section a unit sits in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Markdown emphasis may close a sentence ("**Quality.** Before launch ..."): the
# same words rendered to docx or pdf lose the asterisks, and must split the same.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\*{1,3}|_{1,3})?[\"'\u201d\u2019)]?\s+"
                           r"(?=(?:\*{1,3}|_{1,3})?[\"'\u201c\u2018(]?[A-Z0-9\u00c0-\u024f])")
_LEAD = re.compile(r"^\s*(?:[-*+>]\s+|\d+[.)]\s+|\|\s*|#{1,6}\s+|\[\^?\w+\]:\s*)*")
_TRAIL = re.compile(r"[\s|]+$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
HEADING_WORDS = 10


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    section: str
    is_heading: bool = False


def _standalone_title(lines: list[str], i: int) -> bool:
    """A short line alone in its paragraph, with no closing punctuation, reads as a heading.

    A docx or pdf rendering keeps a heading's words but not its hashes, so this
    makes the same words a heading in every format.
    """
    line = lines[i]
    if re.match(r"^\s*(?:[-*+>|]|\d+[.)])\s", line) and not re.match(r"^\s*\d+[.)]\s+[A-Z]", line):
        return False
    alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())
    # A wholly bold line is a paragraph of its own once rendered, so it is a title wherever it sits.
    alone = alone or bool(re.fullmatch(r"\s*(\*\*|__)[^*_]+\1\s*", line))
    body = _LEAD.sub("", line).strip().strip("*_").strip()
    return (alone and bool(body) and len(body.split()) <= HEADING_WORDS
            and body[-1] not in ".!?:;,\"'\u201d\u2019)")


def split_units(text: str) -> list[Unit]:
    """Return sentence units (and heading units) in document order."""
    units: list[Unit] = []
    section = ""
    offset = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        line_start = offset
        offset += len(line) + 1
        if not line.strip() or _TABLE_RULE.match(line):
            continue
        heading = re.match(r"^\s*#{1,6}\s+(.*)$", line) or (
            _standalone_title(lines, i) and re.match(r"^\s*(?:\d+[.)]\s+)?(.*)$", line))
        lead = _LEAD.match(line)
        body_start = line_start + (lead.end() if lead else 0)
        body = text[body_start:line_start + len(line)]
        trail = _TRAIL.search(body)
        body_end = body_start + (trail.start() if trail else len(body))
        if body_end <= body_start:
            continue
        if heading:
            section = heading.group(1).strip().strip("#").strip()
            units.append(Unit(body_start, body_end, section, is_heading=True))
            continue
        piece_start = body_start
        for m in _SENTENCE_END.finditer(text, body_start, body_end):
            end = m.start()
            if end > piece_start:
                units.append(Unit(piece_start, end, section))
            piece_start = m.end()
        if body_end > piece_start:
            units.append(Unit(piece_start, body_end, section))
    return units
