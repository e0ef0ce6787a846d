"""Render markdown packet text as .docx or .pdf, the way the golden binary packets were made.

One writer for two users: ``datasets/golden/build_binary_packets.py`` builds
the committed .docx and .pdf packets from their markdown sources with it, and
the ``format`` probe re-renders any packet with it, so a probe variant is
exactly the kind of file a real author would have uploaded. Writers:
python-docx for .docx; fpdf2 with the DejaVu font (which covers the accents
and dashes in real names) for .pdf.
"""

from __future__ import annotations

import re
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FORMATS = ("md", "docx", "pdf")


def pdf_unavailable() -> str | None:
    """Why .pdf cannot be written here (fpdf2 is a dev dependency), or None if it can."""
    import importlib.util

    if importlib.util.find_spec("fpdf") is None:
        return "writing .pdf needs fpdf2, a dev dependency (uv sync installs it)"
    if not (FONT_DIR / "DejaVuSans.ttf").exists():
        return f"writing .pdf needs the DejaVu fonts in {FONT_DIR} (Debian: fonts-dejavu-core)"
    return None


_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]*-[\s:|-]*$")


def table_rows(text: str) -> list[list[str]]:
    """The cells of a ('table', text) block, one list per row."""
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in text.split("\n")]
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(kind, text) blocks: ('h1'..'h6', text), ('li', text), ('table', rows) or ('p', text).

    Bold markers are dropped, the lines of a paragraph are joined with a space
    and a blockquote's ``>`` goes, as a word processor would show them. A
    markdown table becomes a real table (its rule row dropped); its text is
    the rows, one per line, so ``table_rows`` can split them into cells.
    """
    out: list[tuple[str, str]] = []
    para: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if para:
            out.append(("p", " ".join(para)))
            para.clear()
        if table:
            out.append(("table", "\n".join(table)))
            table.clear()

    for line in markdown.splitlines():
        line = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), line.rstrip())
        if line.lstrip().startswith("|"):
            if para:
                flush()
            if not _TABLE_RULE.match(line):
                table.append(line.strip())
            continue
        if table:
            flush()
        if not line.strip():
            flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)$", line):
            flush()
            out.append((f"h{len(m.group(1))}", m.group(2).strip()))
        elif m := re.match(r"^\s*[-*]\s+(.*)$", line):
            flush()
            out.append(("li", m.group(1).strip()))
        else:
            para.append(re.sub(r"^\s*>\s?", "", line).strip())
    flush()
    return out


def to_docx(markdown: str, target: str | Path) -> None:
    """Write ``markdown`` as a .docx: headings, bulleted list items, tables and paragraphs."""
    import docx

    document = docx.Document()
    for kind, text in blocks(markdown):
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "li":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            rows = table_rows(text)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for row, cells in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, cells, strict=True):
                    cell.text = value
        else:
            document.add_paragraph(text)
    document.save(str(target))


def to_pdf(markdown: str, target: str | Path) -> None:
    """Write ``markdown`` as an A4 .pdf with DejaVu Sans; list items get a "- " prefix.

    A table row becomes one paragraph with its cells joined by " | ".
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.add_font("dejavu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    for kind, text in blocks(markdown):
        if kind.startswith("h"):
            pdf.set_font("dejavu", "B", 15 if kind == "h1" else 12.5)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        elif kind == "table":
            # One paragraph per row, cells joined by " | ": a drawn table with wrapped
            # cells reads back from a PDF with the cells' lines interleaved, which would
            # destroy the text itself, not just its format.
            pdf.set_font("dejavu", "", 10.5)
            for cells in table_rows(text):
                pdf.multi_cell(0, 5.5, " | ".join(cells), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(4)
            continue
        else:
            pdf.set_font("dejavu", "", 10.5)
            pdf.multi_cell(0, 5.5, ("- " + text) if kind == "li" else text,
                           new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(target))


def render(markdown: str, fmt: str, target: str | Path) -> Path:
    """Write ``markdown`` to ``target`` as ``fmt`` (md, docx or pdf); returns the path."""
    path = Path(target)
    if fmt == "md":
        path.write_text(markdown, encoding="utf-8")
    elif fmt == "docx":
        to_docx(markdown, path)
    elif fmt == "pdf":
        to_pdf(markdown, path)
    else:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    return path
