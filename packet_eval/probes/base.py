"""What every probe returns, and the offset bookkeeping that keeps gold evidence grounded.

A probe transforms a packet's canonical text in a way that must not change
its levels. The calibrator's evidence strings are exact substrings of the
original text; after the transformation they must still be exact substrings
of the new text, or an oracle (or a committee) could not find them. So every
transformation reports, with its new text, the transformed evidence strings
and a relabelled copy of the gold label.

Most probes are a list of :class:`Edit` (replace or insert at an offset);
:func:`apply_edits` applies them and returns an offset map, and
:func:`remap_label` moves each evidence span through it. Probes that cannot
track offsets (re-rendering a file format) use :func:`reground_label`, which
finds each evidence string again with the production grounding rules.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from packet_eval.dataset import DimensionLabel, Label
from packet_eval.grounding import ground_one

OffsetMap = Callable[[int, bool], int]
"""Maps an offset of the original text to the new text; the flag says "this is a span start"."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new`` (``start == end`` inserts)."""

    start: int
    end: int
    new: str


@dataclass(frozen=True)
class Variant:
    """One transformed packet.

    Attributes:
        probe: The transformation's name (``name_swap``, ``padding`` ...).
        name: This variant's id within its probe, e.g. ``name_swap:east_asian_woman``.
        text: The transformed canonical text.
        label: The gold label with every evidence string mapped into ``text``
            (``None`` when no label was given).
        evidence: Original evidence string -> transformed evidence string, or
            ``None`` where the string could not be found again.
        group: The name group (name_swap only), else ``None``.
        fmt: The file format the text was read back from (format only; else ``md``).
        details: Probe-specific facts for the log (names swapped, sections moved ...).
    """

    probe: str
    name: str
    text: str
    label: Label | None
    evidence: dict[str, str | None] = field(default_factory=dict)
    group: str | None = None
    fmt: str = "md"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def grounded(self) -> tuple[int, int]:
        """(gold evidence strings that are substrings of ``text``, total)."""
        values = list(self.evidence.values())
        return sum(1 for v in values if v is not None and v in self.text), len(values)


def derive_seed(seed: int, *parts: str) -> int:
    """A stable per-packet (per-probe) seed: Python's ``hash`` is salted per process."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def apply_edits(text: str, edits: list[Edit]) -> tuple[str, OffsetMap]:
    """Apply non-overlapping edits; return the new text and an offset map.

    Inserts at a span's start land before the span and inserts at its end land
    after it, so a mapped evidence span never swallows inserted filler at its
    edges, while a replacement or insert strictly inside a span becomes part of it.

    Raises:
        ValueError: If two edits overlap (two inserts at one offset are fine).
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise ValueError(f"overlapping edits at {a.start}-{a.end} and {b.start}-{b.end}")
    pieces: list[str] = []
    cursor = 0
    # (old_start, old_end, new_start, new_end) per edit, in order.
    spans: list[tuple[int, int, int, int]] = []
    out_len = 0
    for e in ordered:
        pieces.append(text[cursor:e.start])
        out_len += e.start - cursor
        spans.append((e.start, e.end, out_len, out_len + len(e.new)))
        pieces.append(e.new)
        out_len += len(e.new)
        cursor = e.end
    pieces.append(text[cursor:])
    new_text = "".join(pieces)
    starts = [s[0] for s in spans]

    def mapping(offset: int, is_start: bool) -> int:
        # Shift by every edit before the offset; an edit touching it decides the side.
        delta = 0
        for old_s, old_e, new_s, new_e in spans[:bisect.bisect_right(starts, offset)]:
            if old_s == old_e == offset:  # inserts exactly here: a start goes after them all
                if not is_start:
                    return new_s
                delta = new_e - old_e
            elif old_e <= offset:
                delta = new_e - old_e
            elif offset == old_s:
                return new_s
            else:  # strictly inside a replacement: the span takes all of it
                return new_s if is_start else new_e
        return offset + delta

    return new_text, mapping


def _first_span(quote: str, text: str) -> tuple[int, int] | None:
    pos = text.find(quote)
    return None if pos == -1 else (pos, pos + len(quote))


def _relabel(label: Label, mapped: dict[str, str | None]) -> Label:
    dims = {d: DimensionLabel(dl.level, tuple(mapped.get(q) or q for q in dl.evidence))
            for d, dl in label.dimensions.items()}
    return replace(label, dimensions=dims)


def evidence_strings(label: Label | None) -> list[str]:
    """Every distinct evidence string of a label, in label order."""
    if label is None:
        return []
    return list(dict.fromkeys(q for dl in label.dimensions.values() for q in dl.evidence))


def remap_label(label: Label | None, text: str, new_text: str,
                mapping: OffsetMap) -> tuple[Label | None, dict[str, str | None]]:
    """Move every evidence string of ``label`` through an offset map into ``new_text``."""
    out: dict[str, str | None] = {}
    for q in evidence_strings(label):
        span = _first_span(q, text)
        if span is None:
            out[q] = None
            continue
        start, end = mapping(span[0], True), mapping(span[1], False)
        out[q] = new_text[start:end]
    return (_relabel(label, out) if label is not None else None), out


def reground_label(label: Label | None,
                   new_text: str) -> tuple[Label | None, dict[str, str | None]]:
    """Find every evidence string again in ``new_text`` with the production grounding rules.

    Used where the transformation re-renders the text (a .docx or .pdf round
    trip joins wrapped lines and drops emphasis), so offsets cannot be tracked.
    """
    out: dict[str, str | None] = {}
    for q in evidence_strings(label):
        if q in new_text:
            out[q] = q
            continue
        span = ground_one(q, new_text)
        out[q] = span.quote if span is not None else None
    return (_relabel(label, out) if label is not None else None), out
