"""What the label tests build: a small dataset copy, a sentence to select, a save's body."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from packet_eval import load_ladder
from packet_eval.serve.labelling import LabelSession, open_session

GOLDEN = Path(__file__).resolve().parent.parent / "datasets" / "golden"
LADDER = load_ladder()


def make_dataset(root: Path, ids: tuple[str, ...] = ("pkt-001", "pkt-002"), dev: int = 1) -> Path:
    """``ids`` copied from the golden packets into ``root``; the first ``dev`` are the dev split."""
    (root / "packets").mkdir(parents=True)
    for pid in ids:
        shutil.copy(GOLDEN / "packets" / f"{pid}.md", root / "packets" / f"{pid}.md")
    (root / "splits.json").write_text(json.dumps({"dev": list(ids[:dev]), "test": list(ids[dev:])}))
    return root


def first_sentence(text: str) -> tuple[int, int]:
    """The first plain sentence of 40+ characters (not a heading), as (start, end)."""
    m = re.search(r"(?m)(?:^|(?<=\. ))(?!#)[A-Z][^.!?\n#]{40,}[.!?]", text)
    assert m, "no sentence found"
    return m.start(), m.end()


def submission(dim: str, spans: list[tuple[int, int]], level: str = "junior") -> dict:
    """A save's body: ``spans`` as ``dim``'s evidence at ``level``, every other dimension none."""
    dims = {d: {"level": "none", "evidence": []} for d in LADDER.dimension_ids}
    dims[dim] = {"level": level, "evidence": [{"start": s, "end": e} for s, e in spans]}
    rule = LADDER.overall_level({d: v["level"] for d, v in dims.items()})
    return {"level": rule, "target_level": "senior", "flags": [], "notes": "n", "dimensions": dims}


def label_first_sentence(root: Path, calibrator: str,
                         pid: str = "pkt-001") -> tuple[LabelSession, tuple[int, int]]:
    """``calibrator`` saves ``pid``'s first sentence as the second dimension's evidence."""
    s = open_session(root, calibrator, root / "labels.jsonl", LADDER)
    start, end = first_sentence(s.packet(pid).text)
    s.save(pid, submission(LADDER.dimension_ids[1], [(start, end)]))
    return s, (start, end)
