"""What agreement compares: one packet's levels, evidence spans and flags, from either side.

Assessments and calibrator labels both become :class:`Record`s here, so the
harness, ``packet-eval agreement`` and the batch report compare an extractor
with calibrators the same way everywhere. Label evidence strings are located in
the canonical text (they are exact substrings, which ``dataset check``
enforces); a string that is missing is skipped rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packet_eval.dataset.labels import Label
from packet_eval.schema import Assessment

Span = tuple[int, int]


@dataclass(frozen=True)
class Record:
    """One packet's labels, from either a calibrator or the extractor.

    Attributes:
        packet_id: Identifier used to align gold and predicted records.
        level: Overall level (one of the caller's ordered levels).
        dimensions: Dimension id -> level.
        evidence: Dimension id -> evidence spans as ``(start, end)`` character
            offsets into the packet text (end exclusive).
        flags: Flag names raised for the packet.
    """

    packet_id: str
    level: str
    dimensions: Mapping[str, str]
    evidence: Mapping[str, Sequence[Span]]
    flags: frozenset[str]


def record_from_assessment(a: Assessment) -> Record:
    """The extractor's side: levels, grounded evidence spans and flags of an Assessment."""
    return Record(
        packet_id=a.packet_id,
        level=a.level,
        dimensions={d: f.level for d, f in a.dimensions.items()},
        evidence={d: [(e.start, e.end) for e in f.evidence] for d, f in a.dimensions.items()},
        flags=frozenset(f.flag for f in a.flags),
    )


def label_spans(label: Label, text: str) -> dict[str, list[Span]]:
    """Where each of a label's evidence strings first occurs in ``text``, per dimension."""
    spans: dict[str, list[Span]] = {}
    for d, dl in label.dimensions.items():
        found = []
        for q in dl.evidence:
            pos = text.find(q)
            if pos != -1:
                found.append((pos, pos + len(q)))
        spans[d] = found
    return spans


def record_from_label(label: Label, text: str) -> Record:
    """The calibrator's side, with evidence located in the packet's canonical ``text``."""
    return Record(
        packet_id=label.packet_id,
        level=label.level,
        dimensions={d: dl.level for d, dl in label.dimensions.items()},
        evidence=label_spans(label, text),
        flags=frozenset(label.flags),
    )
