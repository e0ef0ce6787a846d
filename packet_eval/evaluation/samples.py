"""Golden dataset rows as plain, JSON-safe sample metadata for the inspect task.

Everything a scorer or metric needs (gold records from every calibrator, the
injection pairing, where each gold span sits) travels in sample and score
metadata, so metrics are pure functions of the eval log and can be recomputed
from it later (``packet-eval eval gate``, the notebook).
"""

from __future__ import annotations

from typing import Any

from packet_eval.agreement import Record, record_from_label
from packet_eval.dataset import TWIN_SUFFIX, DimensionLabel, GoldenDataset, Label


def record_to_dict(r: Record) -> dict[str, Any]:
    return {"packet_id": r.packet_id, "level": r.level, "dimensions": dict(r.dimensions),
            "evidence": {d: [list(s) for s in spans] for d, spans in r.evidence.items()},
            "flags": sorted(r.flags)}


def record_from_dict(d: dict[str, Any], packet_id: str | None = None) -> Record:
    return Record(packet_id=packet_id or d["packet_id"], level=d["level"],
                  dimensions=dict(d["dimensions"]),
                  evidence={k: [(int(s[0]), int(s[1])) for s in v] for k, v in d["evidence"].items()},
                  flags=frozenset(d["flags"]))


def label_to_dict(lb: Label) -> dict[str, Any]:
    return {"packet_id": lb.packet_id, "calibrator": lb.calibrator, "target_level": lb.target_level,
            "level": lb.level, "flags": list(lb.flags), "notes": lb.notes,
            "dimensions": {d: {"level": dl.level, "evidence": list(dl.evidence)}
                           for d, dl in lb.dimensions.items()}}


def label_from_dict(d: dict[str, Any]) -> Label:
    return Label(packet_id=d["packet_id"], calibrator=d["calibrator"],
                 target_level=d["target_level"], level=d["level"], flags=tuple(d["flags"]),
                 notes=d["notes"], dimensions={k: DimensionLabel(v["level"], tuple(v["evidence"]))
                                               for k, v in d["dimensions"].items()})


def sample_metadata(ds: GoldenDataset, packet_id: str) -> dict[str, Any]:
    text = ds.packet(packet_id).text
    labels = ds.labels_for(packet_id)
    injected = packet_id + TWIN_SUFFIX in ds.packet_files
    clean_twin = packet_id.endswith(TWIN_SUFFIX)
    return {
        "packet_id": packet_id,
        "path": str(ds.packet_files[packet_id].resolve()),
        "words": len(text.split()),
        "chars": len(text),
        "labels": [label_to_dict(lb) for lb in labels],
        # rule_level: the ladder's rule over this calibrator's own dimension levels (the
        # aggregation ceiling compares it with their overall level).
        "raters": {lb.calibrator: {**record_to_dict(record_from_label(lb, text)),
                                   "rule_level": ds.ladder.overall_level(
                                       {d: dl.level for d, dl in lb.dimensions.items()})}
                   for lb in labels},
        "injection_role": "injected" if injected else "clean" if clean_twin else None,
        "injection_pair": packet_id.removesuffix(TWIN_SUFFIX) if (injected or clean_twin) else None,
        "style": ds.meta.get(packet_id, {}).get("style"),
        "tags": ds.meta.get(packet_id, {}).get("tags", []),
    }
