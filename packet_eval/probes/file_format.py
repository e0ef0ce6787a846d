"""format: render the same packet as .md, .docx and .pdf and read each back.

Committees receive packets in whatever format the author had to hand. The
same words must get the same level whether they arrive as markdown, a Word
document or a PDF, yet each format reads back slightly differently (a .docx
drops bold markers and joins wrapped lines; a .pdf also loses heading marks).
Each variant is the packet's canonical text rendered with the writers the
golden binary packets were built with (``render_formats``), then loaded back
through ``packet.load_packet``, exactly as an uploaded file would be.

Offsets cannot be tracked through a file format, so gold evidence is found
again in the read-back text with the production grounding rules
(``base.reground_label``).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from packet_eval.dataset import Label
from packet_eval.packet import load_packet
from packet_eval.probes.base import Variant, reground_label
from packet_eval.probes.render_formats import FORMATS, render

PROBE = "format"


def transform(text: str, label: Label | None, *, seed: int = 0, fmt: str = "pdf") -> Variant:
    """Render ``text`` as ``fmt`` in a temporary file and read it back.

    Args:
        text: Canonical packet text (markdown conventions).
        label: Gold label whose evidence is found again in the read-back text.
        seed: Unused; rendering is deterministic. Kept for the common signature.
        fmt: ``md``, ``docx`` or ``pdf``.

    Returns:
        The variant; ``fmt`` says which format it was read back from.
    """
    with tempfile.TemporaryDirectory(prefix="packet-probe-") as tmp:
        path = render(text, fmt, Path(tmp) / f"packet.{fmt}")
        new_text = load_packet(path).text
    new_label, evidence = reground_label(label, new_text)
    return Variant(PROBE, f"{PROBE}:{fmt}", new_text, new_label, evidence, fmt=fmt,
                   details={"chars_before": len(text), "chars_after": len(new_text)})


def variants(text: str, label: Label | None, *, seed: int, source_fmt: str = "md") -> list[Variant]:
    """One variant per format other than the packet's own (a .md packet gets docx and pdf)."""
    own = "md" if source_fmt in ("md", "txt") else source_fmt
    if source_fmt == "txt":
        # A plain-text file's line breaks are real; markdown would join its lines.
        text = re.sub(r"(?<=\S)\n(?=\S)", "\n\n", text)
    return [transform(text, label, seed=seed, fmt=f) for f in FORMATS if f != own]
