"""Assemble the fresh set from the writers' hand-in folders.

Writers handed in ``<id>.md``, ``<id>.txt``, ``<id>.html`` and markdown sources
for binary packets (``<id>.docx.md``, ``<id>.pdf.md``). This copies the first
three into ``packets/``, keeps the sources in ``sources/``, renders the
binaries with the same writers the golden set and the format probe use, and
writes ``meta.jsonl`` (the writers' own notes, never shown to calibrators)
and the canonical text of every packet for the calibrators to copy spans from.

Run: uv run python datasets/fresh/assemble.py HAND_IN_DIR [CANONICAL_OUT_DIR]
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from packet_eval.packet import load_packet
from packet_eval.probes.render_formats import to_docx, to_pdf

HERE = Path(__file__).resolve().parent


def main(hand_in: Path, canonical_out: Path | None) -> None:
    packets, sources = HERE / "packets", HERE / "sources"
    packets.mkdir(exist_ok=True)
    sources.mkdir(exist_ok=True)
    meta: list[dict[str, object]] = []
    for writer in sorted(p for p in hand_in.iterdir() if p.is_dir()):
        for line in (writer / "meta.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                meta.append({**json.loads(line), "writer": writer.name})
        for f in sorted(writer.iterdir()):
            name = f.name
            if name == "meta.jsonl":
                continue
            if name.endswith((".docx.md", ".pdf.md")):
                pid, fmt = name[: -len(".docx.md")] if name.endswith(".docx.md") else name[: -len(".pdf.md")], \
                    "docx" if name.endswith(".docx.md") else "pdf"
                shutil.copy(f, sources / f"{pid}.md")
                (to_docx if fmt == "docx" else to_pdf)(f.read_text(encoding="utf-8"), packets / f"{pid}.{fmt}")
            elif f.suffix in (".md", ".txt", ".html"):
                shutil.copy(f, packets / name)
    meta.sort(key=lambda m: str(m["packet_id"]))
    (HERE / "meta.jsonl").write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in meta),
                                     encoding="utf-8")
    if canonical_out is not None:
        canonical_out.mkdir(parents=True, exist_ok=True)
        for f in sorted(packets.iterdir()):
            pid = f.name.split(".")[0]
            (canonical_out / f"{pid}.txt").write_text(load_packet(f).text, encoding="utf-8")
    print(f"{len(list(packets.iterdir()))} packets, {len(meta)} meta lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
