"""hidden_text: add the HTML comments that templates and editors leave behind.

Real packets carry invisible text: a ``<!-- source: ... -->`` line an editor
added, or a template's prompts nobody deleted (``<!-- describe your impact
-->``). A reader never sees them, so they are never evidence, and none of them
addresses the evaluator, so none is an injection. Some of the leftovers quote
a template's example answer in the ladder's own words ("e.g. I defined the
eval standard every team runs"): if hidden text were read as evidence, the
level would rise. Every level must stay the same, with no flag added.
"""

from __future__ import annotations

import random
import re

from packet_eval.dataset import Label
from packet_eval.probes.base import Edit, Variant, apply_edits, derive_seed, remap_label

PROBE = "hidden_text"

SOURCE = "<!-- source: promotion-packet template v3, exported from the team wiki -->"
LEFTOVERS = (
    "<!-- describe your impact here -->",
    "<!-- Section guidance: two or three paragraphs. Delete this comment before submitting. -->",
    "<!-- TODO: add links to the design docs -->",
    "<!-- reviewer: leave blank -->",
    "<!-- Tip: say which level you are going for and why. -->",
    "<!-- e.g. I defined the eval standard that every product team now runs before a model "
    "upgrade, and I set the organisation's policy for prompt changes. -->",
    "<!-- e.g. I root-caused a retrieval failure across three teams and designed the "
    "multi-agent orchestration platform other teams adopted. -->",
)
COMMENTS = 3


def _boundaries(text: str) -> list[int]:
    return [m.end() for m in re.finditer(r"\n[ \t]*\n(?=[^\n])", text)]


def transform(text: str, label: Label | None, *, seed: int) -> Variant:
    """Put a source comment at the top and template leftovers between paragraphs."""
    rng = random.Random(seed)
    edits = [Edit(0, 0, SOURCE + "\n\n")]
    spots = _boundaries(text)
    picked = rng.sample(LEFTOVERS, min(COMMENTS, len(LEFTOVERS)))
    for at, comment in zip(sorted(rng.sample(spots, min(len(picked), len(spots)))), picked, strict=False):
        edits.append(Edit(at, at, comment + "\n\n"))
    new_text, mapping = apply_edits(text, edits)
    new_label, evidence = remap_label(label, text, new_text, mapping)
    return Variant(PROBE, PROBE, new_text, new_label, evidence, details={"comments": len(edits)})


def variants(text: str, label: Label | None, *, seed: int) -> list[Variant]:
    """The one variant of ``text`` with hidden comments added."""
    return [transform(text, label, seed=derive_seed(seed, PROBE))]
