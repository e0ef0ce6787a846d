"""Build the golden .docx and .pdf packets from their markdown sources.

The sources live in ``sources/`` (outside ``packets/``, so they are never
assessed themselves). The writers (python-docx for .docx, fpdf2 with the
DejaVu font for .pdf) live in ``packet_eval.probes.render_formats``, which the
``format`` probe also uses to re-render any packet. Labels for these packets
are anchored on the canonical text that ``packet_eval.packet.load_packet``
reads back, not on the markdown.

Run: uv run python datasets/golden/build_binary_packets.py
"""

from __future__ import annotations

from pathlib import Path

from packet_eval.probes.render_formats import to_docx, to_pdf

HERE = Path(__file__).resolve().parent
FORMATS = {"pkt-006": "docx", "pkt-025": "docx", "pkt-049": "pdf", "pkt-059": "pdf"}


def main() -> None:
    for pid, fmt in FORMATS.items():
        source = HERE / "sources" / f"{pid}.md"
        if not source.exists():
            print(f"skip {pid}: no source yet")
            continue
        target = HERE / "packets" / f"{pid}.{fmt}"
        (to_docx if fmt == "docx" else to_pdf)(source.read_text(encoding="utf-8"), target)
        print(f"wrote {target.relative_to(HERE)}")


if __name__ == "__main__":
    main()
