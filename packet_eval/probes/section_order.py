"""section_order: shuffle a packet's sections, keeping the title section first.

LLM judges are swayed by position (Zheng et al. 2023), and decisive evidence
can sit anywhere in a packet. Moving whole sections changes where each piece
of evidence sits but not what it says, so the level must not move.

Sections are the markdown headings' regions (``packet.split_sections``). The
title section (everything up to the second heading) stays first; the rest are
shuffled as blocks at the shallowest heading depth after the title, each
block carrying its subsections with it. A packet with fewer than two such
blocks has nothing to shuffle and gets no variant.
"""

from __future__ import annotations

import random

from packet_eval.dataset import Label
from packet_eval.packet import split_sections
from packet_eval.probes.base import Variant, derive_seed, remap_label

PROBE = "section_order"


def blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the title block and each movable block, in document order."""
    sections = split_sections(text)
    if len(sections) < 3:
        return [(0, len(text))]
    rest = sections[1:]
    top = min(s.depth for s in rest)
    starts = [0] + [s.start for s in rest if s.depth == top]
    starts = sorted(set(starts))
    return [(a, b) for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def transform(text: str, label: Label | None, *, seed: int) -> Variant | None:
    """Shuffle the movable sections of ``text`` (``None`` if fewer than two).

    The order is a seeded permutation that differs from the original. Each
    block's trailing blank lines are normalised so blocks join with one blank
    line, whatever order they end up in.

    Args:
        text: Canonical packet text.
        label: Gold label whose evidence moves with its section (or ``None``).
        seed: Picks the permutation.

    Returns:
        The variant, with the new order in ``details["order"]`` (original block
        indices, title block 0), or ``None``.
    """
    spans = blocks(text)
    if len(spans) < 3:
        return None
    movable = list(range(1, len(spans)))
    rng = random.Random(seed)
    order = movable[:]
    while order == movable:
        rng.shuffle(order)
    parts = [(i, text[s:e].rstrip()) for i, (s, e) in enumerate(spans)]
    ending = text[len(text.rstrip()):] or "\n"
    new_starts: dict[int, int] = {}
    pieces: list[str] = []
    cursor = 0
    for i in [0, *order]:
        new_starts[i] = cursor
        pieces.append(parts[i][1])
        cursor += len(parts[i][1]) + 2
    new_text = "\n\n".join(pieces) + ending
    old_starts = [s for s, _ in spans]

    def mapping(offset: int, is_start: bool) -> int:
        # A block moves as a whole; an end offset at a block's end belongs to that block.
        for i in range(len(spans) - 1, -1, -1):
            s, e = spans[i]
            if s < offset <= e or (offset == s and is_start):
                return new_starts[i] + offset - old_starts[i]
        return offset

    new_label, evidence = remap_label(label, text, new_text, mapping)
    return Variant(PROBE, PROBE, new_text, new_label, evidence, details={"order": [0, *order]})


def variants(text: str, label: Label | None, *, seed: int) -> list[Variant]:
    """The one shuffled variant, or none when there is nothing to shuffle."""
    v = transform(text, label, seed=derive_seed(seed, PROBE))
    return [v] if v is not None else []
