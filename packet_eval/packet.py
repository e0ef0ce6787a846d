"""Packets: one file in, canonical text plus sha256 and sections out.

The canonical text is the single string every offset refers to. Evidence
quotes, labels, highlights and metrics are all ``text[start:end]`` of it, so
each format's conversion is fixed and documented here:

- ``.md`` / ``.txt``: the file's UTF-8 text, BOM removed, CRLF and CR turned
  into LF. Nothing else changes.
- ``.docx``: paragraphs in document order separated by a blank line; headings
  become ``#`` lines and list items ``- `` lines; table rows become
  ``cell | cell`` lines. Hidden (``w:vanish``), white and 2 pt-or-smaller runs
  stay in the text as hidden spans; Word comments are appended as
  ``[Word comment by AUTHOR: text]`` blocks, hidden too.
- ``.pdf``: each page's text in layout order; lines wrapped inside a paragraph
  are joined with one space and paragraphs are separated by a blank line; a
  paragraph cut by a page break mid-sentence is joined back together.
- ``.html``: the visible block structure as text (headings as ``#`` lines, list
  items as ``- ``), with HTML comments kept as ``<!-- ... -->`` lines because
  hidden text is exactly where injected instructions hide. Elements with the
  ``hidden`` attribute or a hiding inline style (``display:none``,
  ``visibility:hidden``, ``opacity:0``, white or 2 px-or-smaller text) stay in
  the text as hidden spans.

Hidden spans (also every markdown/HTML comment outside code) are never
evidence; an Assessment reports them in one hygiene note.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from packet_eval.errors import PacketError

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf", ".html", ".htm")
DEFAULT_MAX_CHARS = 2_000_000
DEFAULT_MAX_FILE_BYTES = 50_000_000
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: encrypted Office files
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """A heading-delimited region of the canonical text, ``text[start:end]``."""

    title: str
    start: int
    end: int
    depth: int


@dataclass(frozen=True)
class HiddenSpan:
    """Text a reader of the rendered packet does not see: ``text[start:end]``.

    It stays in the canonical text (so offsets hold and hygiene notes can quote
    it) but is never evidence. ``kind`` says why it is hidden: ``comment`` for
    HTML/markdown comments; converters add others (styled-hidden text).
    """

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Packet:
    """A packet's canonical text and identity."""

    packet_id: str
    text: str
    source: str
    format: str
    sha256: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    hidden: tuple[HiddenSpan, ...] = field(default_factory=tuple)

    @property
    def words(self) -> int:
        return len(self.text.split())

    def is_hidden(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` overlaps text a reader cannot see."""
        return any(h.start < end and start < h.end for h in self.hidden)


# What a reader cannot see, as converters find it. Converters wrap such text in
# private-use markers while they build the canonical text; take_markers removes
# them and says where the hidden text sits in the final string.
# One open/close pair per kind; private-use code points a packet cannot meaningfully contain.
KINDS = {"hidden style": ("\ue000", "\ue001"), "word comment": ("\ue002", "\ue003")}
_ANY_MARK = re.compile("[\ue000-\ue003]")

_CSS_HIDDEN = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)|"
    r"font-size\s*:\s*(?:0*\.?\d|[0-2](?:\.\d+)?)(?:px|pt)?\s*(?:;|$)|"
    r"(?<![\w-])color\s*:\s*(?:#fff(?:fff)?|white|rgb\(\s*255\s*,\s*255\s*,\s*255\s*\))\s*(?:;|$)",
    re.IGNORECASE)


def mark(text: str, kind: str) -> str:
    """``text`` wrapped in the markers of ``kind``."""
    start, end = KINDS[kind]
    return f"{start}{text}{end}"


def strip_foreign_markers(text: str) -> str:
    """Remove marker characters a packet brought itself, so only converters place them."""
    return _ANY_MARK.sub("", text)


def css_hides(style: str) -> bool:
    """Whether an inline style hides its text: none/hidden, transparent, 2 pt or less, white."""
    return bool(_CSS_HIDDEN.search(style or ""))


def take_markers(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text without markers, and ``(start, end, kind)`` of each marked stretch.

    Nested or overlapping markers merge into the outermost stretch; an unclosed
    marker runs to the end, as hidden text would.
    """
    opens = {v[0]: k for k, v in KINDS.items()}
    closes = {v[1] for v in KINDS.values()}
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    depth, start, kind, pos = 0, 0, "", 0
    for ch in text:
        if ch in opens:
            if depth == 0:
                start, kind = pos, opens[ch]
            depth += 1
        elif ch in closes:
            if depth > 0:
                depth -= 1
                if depth == 0 and pos > start:
                    spans.append((start, pos, kind))
        else:
            out.append(ch)
            pos += 1
    if depth > 0 and pos > start:
        spans.append((start, pos, kind))
    return "".join(out), spans


_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Fenced blocks and inline code: markdown shows a "<!--" inside them as typed.
_CODE = re.compile(r"(?ms)^(`{3,}|~{3,}).*?(?:^\1|\Z)|(`+)[^`\n].*?\2")


def comment_spans(text: str) -> tuple[HiddenSpan, ...]:
    """HTML/markdown comments (an unclosed one runs to the end, as a browser reads it)."""
    spans: list[HiddenSpan] = []
    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    pos = 0
    while (m := _COMMENT.search(text, pos)) is not None:
        inside = next((e for s, e in code if s <= m.start() < e), None)
        if inside is not None:
            pos = inside
            continue
        spans.append(HiddenSpan(m.start(), m.end(), "comment"))
        pos = m.end()
    return tuple(spans)


def max_chars_from_env() -> int:
    raw = os.environ.get("PACKET_EVAL_MAX_CHARS")
    if not raw:
        return DEFAULT_MAX_CHARS
    try:
        return int(raw)
    except ValueError:
        raise PacketError(f"PACKET_EVAL_MAX_CHARS must be a whole number, got {raw!r}") from None


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def split_sections(text: str) -> tuple[Section, ...]:
    """Split on markdown ATX headings; text before the first heading is its own section."""
    marks = [(m.start(), len(m.group(1)), m.group(2).strip()) for m in _HEADING.finditer(text)]
    sections: list[Section] = []
    if not marks or marks[0][0] > 0 and text[: marks[0][0]].strip():
        first_end = marks[0][0] if marks else len(text)
        sections.append(Section("(preamble)" if marks else "(whole packet)", 0, first_end, 0))
    for i, (start, depth, title) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        sections.append(Section(title, start, end, depth))
    return tuple(sections)


def packet_from_text(
    text: str, packet_id: str = "pasted", source: str = "<pasted text>", fmt: str = "md",
    max_chars: int | None = None, marked: bool = False,
) -> Packet:
    """Build a packet from text already in memory (pasted text, tests, transforms).

    ``marked``: the text comes from a converter that wrapped what a reader cannot
    see in ``hidden_markup`` markers; they are removed and become hidden spans.
    """
    text = normalize_newlines(text.removeprefix("\ufeff"))
    styled: list[tuple[int, int, str]] = []
    if marked:
        text, styled = take_markers(text)
    limit = max_chars if max_chars is not None else max_chars_from_env()
    if not text.strip():
        raise PacketError("packet is empty (no text to assess)", source)
    if len(text) > limit:
        raise PacketError(
            f"packet is too large ({len(text):,} characters; the limit is {limit:,}; "
            "raise it with PACKET_EVAL_MAX_CHARS)", source)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    hidden = sorted([*comment_spans(text), *(HiddenSpan(a, b, k) for a, b, k in styled)],
                    key=lambda h: (h.start, h.end))
    return Packet(packet_id, text, source, fmt, digest, split_sections(text), tuple(hidden))


def packet_id_for(path: Path) -> str:
    """The file name without its extension: ``pkt-014.clean.md`` is ``pkt-014.clean``."""
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def load_packet(path: str | Path, max_chars: int | None = None) -> Packet:
    """Read a packet file into canonical text. Raises ``PacketError`` with a one-line reason."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.exists():
        # Before the suffix check: a mistyped folder has no suffix, and "not found" is the fix.
        raise PacketError("file not found", p)
    if suffix not in SUPPORTED_SUFFIXES and not p.is_dir():
        raise PacketError(
            f"unsupported file type '{p.suffix or '(none)'}' "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})", p)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise PacketError("is a directory, not a packet file", p)
        if size > DEFAULT_MAX_FILE_BYTES:
            raise PacketError(f"file is too large ({size:,} bytes)", p)
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PacketError("file not found", p) from None
    except PermissionError:
        raise PacketError("permission denied", p) from None
    except OSError as exc:
        raise PacketError(f"cannot read file ({exc.strerror})", p) from None
    if not raw.strip():
        raise PacketError("file is empty", p)
    if suffix in (".docx",):
        text, fmt = _docx_text(raw, p), "docx"
    elif suffix == ".pdf":
        text, fmt = _pdf_text(raw, p), "pdf"
    else:
        decoded = _decode_text(raw, p)
        if suffix in (".html", ".htm"):
            text, fmt = _html_text(strip_foreign_markers(decoded)), "html"
        else:
            text, fmt = decoded, "md" if suffix in (".md", ".markdown") else "txt"
    packet = packet_from_text(text, packet_id_for(p), str(p), fmt, max_chars,
                              marked=fmt in ("docx", "html"))
    log.debug("loaded %s: %s, %d bytes -> %d chars, %d sections, sha256 %s", p, fmt, size,
              len(packet.text), len(packet.sections), packet.sha256[:12])
    return packet


def read_packet(path: str | Path, max_chars: int | None = None) -> Packet:
    """``load_packet``, except that ``-`` reads the packet's text from stdin."""
    if str(path) != "-":
        return load_packet(path, max_chars)
    import sys

    raw = sys.stdin.buffer.read()
    return packet_from_text(_decode_text(raw, Path("<stdin>")), "stdin", "<stdin>", "md", max_chars)


def unchanged_packet_text(source: str | Path, sha256: str) -> str | None:
    """The canonical text of the packet at ``source`` if it still reads with ``sha256``.

    None when the file is gone, unreadable or edited since it was assessed, so
    a report never grounds old quotes in new text.
    """
    try:
        packet = load_packet(source)
    except PacketError as exc:
        log.debug("no text for %s: %s", source, exc)
        return None
    if packet.sha256 != sha256:
        log.debug("no text for %s: changed since it was assessed", source)
        return None
    return packet.text


def _decode_text(raw: bytes, path: Path) -> str:
    utf16 = _utf16_text(raw)
    if utf16 is not None:
        return utf16
    if b"\x00" in raw[:8192] or _control_ratio(raw[:8192]) > 0.1:
        raise PacketError("looks like a binary file, not text", path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PacketError(
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "re-save it as UTF-8", path) from None


def _utf16_text(raw: bytes) -> str | None:
    """UTF-16 text (Windows Notepad's "Unicode"), by its byte-order mark; None otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode("utf-16")
    return None


def _control_ratio(chunk: bytes) -> float:
    bad = sum(1 for b in chunk if b < 32 and b not in (9, 10, 12, 13))
    return bad / max(1, len(chunk))


def _docx_text(raw: bytes, path: Path) -> str:
    import docx  # python-docx; imported lazily to keep start-up fast
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if raw[:8] == OLE2_MAGIC:
        # Word saves a password-protected .docx as an encrypted OLE2 container, not a zip.
        raise PacketError("is a password-protected .docx; remove the password in Word "
                          "(File > Info > Protect Document) and retry", path)
    if raw[:4] != b"PK\x03\x04":
        raise PacketError("is not a valid .docx file (not a zip package)", path)
    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PacketError(f"is not a readable .docx file ({type(exc).__name__})", path) from None
    blocks: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            line = _docx_paragraph_text(para).strip()
            if not line:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            if style.startswith("Heading") and style[-1:].isdigit():
                line = "#" * int(style[-1]) + " " + line
            elif style == "Title":
                line = "# " + line
            elif style.startswith("List"):
                line = "- " + line
            blocks.append(line)
        elif tag == "tbl":
            table = Table(child, document)
            rows = [" | ".join(c.text.strip() for c in row.cells) for row in table.rows]
            blocks.append("\n".join(rows))
    blocks += [mark(c, "word comment") for c in _docx_comments(raw)]
    return "\n\n".join(blocks)


def _docx_paragraph_text(para: object) -> str:
    """A paragraph's text, with runs a reader cannot see (vanish, white, 2 pt or less) marked."""
    from docx.shared import RGBColor
    from docx.text.hyperlink import Hyperlink

    parts: list[str] = []
    for item in para.iter_inner_content():  # type: ignore[attr-defined]
        for run in item.runs if isinstance(item, Hyperlink) else [item]:
            piece = strip_foreign_markers(run.text)
            font = run.font
            try:
                color = font.color.rgb if font.color is not None and font.color.type is not None else None
                hidden = bool(font.hidden or color == RGBColor(0xFF, 0xFF, 0xFF) or (
                    font.size is not None and font.size.pt <= 2))
            except (ValueError, KeyError, TypeError):
                hidden = True  # a style Word itself could not read: never trust it as visible
            if hidden and piece:
                piece = mark(piece, "hidden style")
            parts.append(piece)
    return "".join(parts)


def _docx_comments(raw: bytes) -> list[str]:
    """Word comments, as ``[Word comment by AUTHOR: text]``: reported, never dropped unseen."""
    from lxml import etree

    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            xml = z.read("word/comments.xml")
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return []  # no comments part, or one Word itself would not open: nothing to report
    out = []
    for c in root.iter(f"{ns}comment"):
        body = " ".join("".join(t.text or "" for t in p.iter(f"{ns}t")) for p in c.iter(f"{ns}p"))
        body = strip_foreign_markers(" ".join(body.split()))
        if body:
            out.append(f"[Word comment by {c.get(f'{ns}author') or 'unknown'}: {body}]")
    return out


def _pdf_text(raw: bytes, path: Path) -> str:
    import pypdf
    from pypdf.errors import DependencyError, PdfReadError, PyPdfError

    if not raw.lstrip().startswith(b"%PDF"):
        raise PacketError("is not a PDF file (no %PDF header)", path)
    # pypdf logs the repairs it attempts ("EOF marker not found") to stderr; the
    # outcome is reported as one PacketError instead, so keep its log quiet here.
    pypdf_log = logging.getLogger("pypdf")
    saved_level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        # An owner password only restricts editing; every viewer opens the file with
        # the empty user password, and so does pypdf.
        if reader.is_encrypted and not reader.decrypt(""):
            raise PacketError("is a password-protected PDF; remove the password and retry", path)
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except PacketError:
        raise
    except DependencyError:
        raise PacketError("is an AES-encrypted PDF, which needs the 'cryptography' package "
                          "(uv add cryptography), or save it without encryption", path) from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, zlib.error) as exc:
        raise PacketError(f"is not a readable PDF ({type(exc).__name__})", path) from None
    finally:
        pypdf_log.setLevel(saved_level)
    paragraphs: list[str] = []
    for page in pages:
        current: list[str] = []
        first_on_page = True
        for line in page.splitlines():
            line = re.sub(r"[ \t]{2,}", " ", line.strip())
            if line:
                current.append(line)
            elif current:
                _add_paragraph(paragraphs, " ".join(current), first_on_page)
                current, first_on_page = [], False
        if current:
            _add_paragraph(paragraphs, " ".join(current), first_on_page)
    if pages and not any(p.strip() for p in pages):
        raise PacketError(f"PDF has {len(pages)} page(s) but no text layer (a scan or images?); "
                          "export it with text, or run OCR first", path)
    return "\n\n".join(paragraphs)


def _add_paragraph(paragraphs: list[str], para: str, first_on_page: bool) -> None:
    """Append, re-joining a paragraph that a page break cut mid-sentence."""
    if (first_on_page and paragraphs and para[:1].islower()
            and not re.search(r"[.!?:;\"”’)]$", paragraphs[-1])):
        paragraphs[-1] += " " + para
    else:
        paragraphs.append(para)


_BLOCK_TAGS = {"p", "div", "section", "article", "li", "tr", "blockquote", "pre", "table",
               "h1", "h2", "h3", "h4", "h5", "h6", "br", "ul", "ol", "header", "footer", "main"}


def _html_text(markup: str) -> str:
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, "html.parser")
    for bad in soup(["script", "style", "head", "noscript", "template"]):
        bad.decompose()
    for tag in soup.find_all(True):
        if (tag.has_attr("hidden") or css_hides(str(tag.get("style", "")))
                or str(tag.get("color", "")).lower() in ("white", "#fff", "#ffffff")):
            tag.insert(0, mark("", "hidden style")[0])
            tag.append(mark("", "hidden style")[1])
        if tag.name in _BLOCK_TAGS:  # newlines sit outside the tag, markers inside it
            tag.insert_before("\n\n")
            tag.insert_after("\n\n")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.replace_with(f"\n<!-- {comment.strip()} -->\n")
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        tag.insert(0, "#" * int(tag.name[1]) + " ")
    for tag in soup.find_all("li"):
        tag.insert(0, "- ")
    for tag in soup.find_all(["td", "th"]):
        tag.append(" | ")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip().removesuffix(" |") for ln in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
