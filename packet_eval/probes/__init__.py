"""Metamorphic probes: transformations of a packet that must not change its levels.

Labels cannot show that an extractor is swayed by a name, by length, by
confident wording, by where evidence sits or by the file format; a
transformation that changes only that, and a check that the verdict stayed
put, can. Each probe is a small pure module with
``transform(text, label, *, seed) -> Variant``; the variant carries the new
text and the gold label with its evidence mapped into that text, so gold
evidence still grounds after the transformation.

``packet_eval.evaluation.probes_task`` runs them as an inspect task
(``inspect eval packet_eval/probes``).
"""

from __future__ import annotations

from packet_eval.dataset import Label
from packet_eval.probes import (
    file_format,
    hidden_text,
    injection_twin,
    name_swap,
    padding,
    section_order,
    superlatives,
)
from packet_eval.probes.base import Variant

PROBES = ("name_swap", "padding", "superlatives", "section_order", "format", "injection", "hidden_text")

__all__ = ["PROBES", "Variant", "make_variants"]


def make_variants(probe: str, text: str, label: Label | None, *, seed: int,
                  source_fmt: str = "md", twin: str | None = None,
                  name_groups: list[str] | None = None) -> list[Variant]:
    """Every variant one probe makes of one packet (possibly none).

    Args:
        probe: One of :data:`PROBES`.
        text: The packet's canonical text.
        label: Its gold label (evidence is mapped into each variant).
        seed: Per-packet seed; each probe derives its own from it.
        source_fmt: The packet's own file format (the format probe skips it).
        twin: The injected twin's text, for the injection probe.
        name_groups: Name groups for name_swap (default: every group).

    Raises:
        ValueError: For an unknown probe.
    """
    if probe == "name_swap":
        return name_swap.variants(text, label, seed=seed, groups=name_groups)
    if probe == "padding":
        return padding.variants(text, label, seed=seed)
    if probe == "superlatives":
        return superlatives.variants(text, label, seed=seed)
    if probe == "section_order":
        return section_order.variants(text, label, seed=seed)
    if probe == "format":
        return file_format.variants(text, label, seed=seed, source_fmt=source_fmt)
    if probe == "hidden_text":
        return hidden_text.variants(text, label, seed=seed)
    if probe == "injection":
        return injection_twin.variants(text, label, seed=seed, twin=twin)
    raise ValueError(f"unknown probe {probe!r} (expected one of {', '.join(PROBES)})")
