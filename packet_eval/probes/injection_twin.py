"""injection: the golden set's injection twins, carried over so every probe sits in one table.

The golden set holds pairs ``<id>.clean`` / ``<id>``: the same packet without
and with text that tries to instruct the evaluator. The injected twin may only
add text (``dataset check`` enforces it), so the clean packet is the original
and the injected one is the variant, and its levels must not move. Unlike the
other probes, this one is not generated: it only applies to packets that have
a twin, and the variant's text is the twin's.
"""

from __future__ import annotations

import difflib

from packet_eval.dataset import Label
from packet_eval.probes.base import Edit, Variant, apply_edits, remap_label

PROBE = "injection"


def transform(text: str, label: Label | None, *, seed: int = 0, twin: str) -> Variant:
    """The injected twin of ``text`` as a variant, with gold evidence mapped into it.

    Args:
        text: The clean packet's canonical text.
        label: The clean packet's gold label.
        seed: Unused; the variant is given, not generated.
        twin: The injected packet's canonical text.

    Returns:
        The variant; ``details["inserted_chars"]`` counts the injected characters.

    Raises:
        ValueError: If ``twin`` does more than insert text into ``text``.
    """
    ops = difflib.SequenceMatcher(None, text, twin, autojunk=False).get_opcodes()
    edits = [Edit(i1, i2, twin[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]
    if any(e.start != e.end for e in edits):
        raise ValueError("the injected twin must equal the clean packet plus inserted text")
    new_text, mapping = apply_edits(text, edits)
    new_label, evidence = remap_label(label, text, new_text, mapping)
    return Variant(PROBE, PROBE, new_text, new_label, evidence,
                   details={"inserted_chars": sum(len(e.new) for e in edits)})


def variants(text: str, label: Label | None, *, seed: int,
             twin: str | None = None) -> list[Variant]:
    """The injected twin as the one variant, or none when the packet has no twin."""
    return [] if twin is None else [transform(text, label, seed=seed, twin=twin)]
