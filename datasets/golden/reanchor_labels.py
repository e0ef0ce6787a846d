"""Re-anchor label evidence for packets built from markdown sources (.docx, .pdf).

Calibrators label a converted packet on its markdown source; the canonical
text read back from the .docx or .pdf can differ in whitespace, list markers
or line breaks. Each evidence string is grounded in the canonical text with
packet-eval's own grounding (exact, then normalized) and replaced with the
canonical substring. Fuzzy matches are refused: a span that does not match
after normalization is reported for a human to fix.

Run: uv run python datasets/golden/reanchor_labels.py LABELS.jsonl [--write]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from packet_eval.grounding import ground
from packet_eval.packet import load_packet

HERE = Path(__file__).resolve().parent


def reanchor(labels_path: Path, write: bool) -> int:
    binary = {p.stem: p for p in (HERE / "packets").iterdir() if p.suffix in (".docx", ".pdf")}
    lines = [json.loads(x) for x in labels_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    failures = 0
    for lb in lines:
        path = binary.get(lb["packet_id"])
        if path is None:
            continue
        text = load_packet(path).text
        for dim, v in lb["dimensions"].items():
            fixed = []
            for q in v["evidence"]:
                spans = [s for s in ground(q, text) if s.match != "fuzzy"]
                if len(spans) != 1:
                    failures += 1
                    print(f"{lb['packet_id']} {dim}: cannot anchor {q[:70]!r}")
                    fixed.append(q)
                else:
                    fixed.append(spans[0].quote)
            v["evidence"] = fixed
    if write:
        labels_path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                               encoding="utf-8")
    return failures


if __name__ == "__main__":
    sys.exit(1 if reanchor(Path(sys.argv[1]), "--write" in sys.argv) else 0)
