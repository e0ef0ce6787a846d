"""Build the golden .docx and .pdf packets from their markdown sources.

The sources live in ``sources/`` (outside ``packets/``, so they are never
assessed themselves). Writers: python-docx for .docx and fpdf2 with the DejaVu
font for .pdf. Labels for these packets are anchored on the canonical text
that ``packet_eval.packet.load_packet`` reads back, not on the markdown.

Run: uv run python datasets/golden/build_binary_packets.py
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
FORMATS = {"pkt-006": "docx", "pkt-025": "docx", "pkt-049": "pdf", "pkt-059": "pdf"}
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(kind, text) blocks: ('h1'..'h6', text), ('li', text) or ('p', text)."""
    out: list[tuple[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(("p", " ".join(para)))
            para.clear()

    for line in markdown.splitlines():
        line = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), line.rstrip())
        if not line.strip():
            flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)$", line):
            flush()
            out.append((f"h{len(m.group(1))}", m.group(2).strip()))
        elif m := re.match(r"^\s*[-*]\s+(.*)$", line):
            flush()
            out.append(("li", m.group(1).strip()))
        else:
            para.append(line.strip())
    flush()
    return out


def to_docx(source: Path, target: Path) -> None:
    import docx

    document = docx.Document()
    for kind, text in blocks(source.read_text(encoding="utf-8")):
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    document.save(str(target))


def to_pdf(source: Path, target: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.add_font("dejavu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    for kind, text in blocks(source.read_text(encoding="utf-8")):
        if kind.startswith("h"):
            pdf.set_font("dejavu", "B", 15 if kind == "h1" else 12.5)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("dejavu", "", 10.5)
            pdf.multi_cell(0, 5.5, ("- " + text) if kind == "li" else text,
                           new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(target))


def main() -> None:
    for pid, fmt in FORMATS.items():
        source = HERE / "sources" / f"{pid}.md"
        if not source.exists():
            print(f"skip {pid}: no source yet")
            continue
        target = HERE / "packets" / f"{pid}.{fmt}"
        (to_docx if fmt == "docx" else to_pdf)(source, target)
        print(f"wrote {target.relative_to(HERE)}")


if __name__ == "__main__":
    main()
