"""superlatives: add confident adjectives to existing sentences, and no facts.

LLM judges favour confident wording (Zheng et al. 2023). "Built the
world-class eval harness" states the same fact as "Built the eval harness",
so the level must not rise. The probe puts one adjective after a determiner
("the", "a", "an", "my", "our") in about half of the packet's sentences,
choosing "a" or "an" forms so the grammar stays right. It leaves headings,
table rows and quoted speech alone (changing what a colleague said would
change a fact) and never inserts before a number or a name.
"""

from __future__ import annotations

import random
import re

from packet_eval.dataset import Label
from packet_eval.probes.base import Edit, Variant, apply_edits, derive_seed, remap_label
from packet_eval.sentences import split_units

PROBE = "superlatives"

# Adjectives after "a" start with a consonant sound; after "an" with a vowel.
CONSONANT = ("world-class", "best-in-class", "truly remarkable", "game-changing",
             "highly impactful", "stellar", "phenomenal", "top-notch", "groundbreaking",
             "hugely successful")
VOWEL = ("incredibly impactful", "outstanding", "exceptional", "extraordinary",
         "industry-leading", "exemplary")
SHARE = 0.5

# A determiner followed by a lower-case word that can take an adjective.
_SLOT = re.compile(r"(?<![\w'’-])(the|a|an|my|our)[ ](?=([a-z][a-z-]*))")
# Words after which an adjective reads wrongly ("a world-class few", "the stellar same").
_SKIP_NEXT = frozenset((
    "same", "other", "next", "first", "second", "third", "last", "most", "least", "only",
    "whole", "rest", "end", "following", "previous", "few", "lot", "bit", "little", "couple",
    "number", "half", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "way", "time", "year", "month", "week", "day", "while", "lead", "more", "less",
    "very",
))
_QUOTES = re.compile(r"[\"“”]")


def _slots(text: str) -> list[list[tuple[int, str]]]:
    """Per eligible sentence, the (offset, determiner) places an adjective can go."""
    out = []
    for unit in split_units(text):
        s = text[unit.start:unit.end]
        if unit.is_heading or "|" in s or _QUOTES.search(s):
            continue
        places = [(unit.start + m.end(), m.group(1)) for m in _SLOT.finditer(s)
                  if m.group(2) not in _SKIP_NEXT]
        if places:
            out.append(places)
    return out


def transform(text: str, label: Label | None, *, seed: int) -> Variant:
    """Insert one confident adjective into about half of the sentences of ``text``.

    Args:
        text: Canonical packet text.
        label: Gold label whose evidence must follow the insertions (or ``None``).
        seed: Picks the sentences, the place in each sentence and the adjective.

    Returns:
        The variant; ``details["inserted"]`` lists the adjectives put in.
    """
    rng = random.Random(seed)
    sentences = _slots(text)
    k = max(1, round(len(sentences) * SHARE)) if sentences else 0
    edits: list[Edit] = []
    inserted: list[str] = []
    for places in rng.sample(sentences, k):
        offset, det = rng.choice(places)
        pool = VOWEL if det == "an" else CONSONANT if det == "a" else CONSONANT + VOWEL
        adjective = rng.choice(pool)
        edits.append(Edit(offset, offset, adjective + " "))
        inserted.append(adjective)
    new_text, mapping = apply_edits(text, edits)
    new_label, evidence = remap_label(label, text, new_text, mapping)
    return Variant(PROBE, PROBE, new_text, new_label, evidence, details={"inserted": inserted})


def variants(text: str, label: Label | None, *, seed: int) -> list[Variant]:
    """The one variant with superlatives added."""
    return [transform(text, label, seed=derive_seed(seed, PROBE))]
