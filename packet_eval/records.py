"""Convert Assessments and calibrator labels into ``agreement.Record``s.

The harness and ``packet-eval agreement`` both score through these, so an
extractor is compared with calibrators the same way everywhere. Label
evidence strings are located in the canonical text (they are exact substrings,
which ``dataset check`` enforces); a string that is missing is skipped rather
than guessed at.
"""

from __future__ import annotations

from packet_eval.agreement import Record
from packet_eval.labels import Label
from packet_eval.schema import Assessment


def record_from_assessment(a: Assessment) -> Record:
    return Record(
        packet_id=a.packet_id,
        level=a.level,
        dimensions={d: f.level for d, f in a.dimensions.items()},
        evidence={d: [(e.start, e.end) for e in f.evidence] for d, f in a.dimensions.items()},
        flags=frozenset(f.flag for f in a.flags),
    )


def label_spans(label: Label, text: str) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for d, dl in label.dimensions.items():
        found = []
        for q in dl.evidence:
            pos = text.find(q)
            if pos != -1:
                found.append((pos, pos + len(q)))
        spans[d] = found
    return spans


def record_from_label(label: Label, text: str) -> Record:
    return Record(
        packet_id=label.packet_id,
        level=label.level,
        dimensions={d: dl.level for d, dl in label.dimensions.items()},
        evidence=label_spans(label, text),
        flags=frozenset(label.flags),
    )
