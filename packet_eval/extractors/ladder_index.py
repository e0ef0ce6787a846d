"""What the offline extractor knows about a ladder: its cells as vectors and as weighted words.

Everything comes from the ladder's own text (a dimension's name and summary,
each cell's behaviour and example evidence), so a committee's ladder works
offline with no cue lists. Words are weighted by how specific they are to one
dimension (inverse dimension frequency), so "team" or "work" count for little
and "retrieval" or "rubric" for a lot.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from packet_eval.extractors.embedding import embed
from packet_eval.ladder import Ladder

_WORD = re.compile(r"[a-z][a-z0-9@'’-]*")
_STOP = frozenset(
    " ".join([
        "a an the and or but of to in on for with by from at as is are was were be been being it its ",
        "this that these those their they them his her he she i my we our us you your who whom which ",
        "what when where how not no so than then there here into onto over under about after before ",
        "while such each every any all some more most other others own same can could should would will ",
        "may might must do does did done has have had having also just only very often usually e.g eg ",
        "etc one two three first new ",
    ]).split()
)
_PEOPLE = re.compile(r"\b(?:mentor\w*|coach\w*|teach\w*|onboard\w*|grows? (?:the )?(?:people|engineers)|"
                     r"develops? (?:people|engineers|others))\b", re.IGNORECASE)
# Below this many words per cell the ladder gives the extractor little to match.
THIN_CELL_WORDS = 15


def stem(w: str) -> str:
    w = w.strip("'’-")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2]


@dataclass(frozen=True)
class LadderIndex:
    dimensions: list[str]
    levels: list[str]
    dim_vectors: np.ndarray  # (dims, 256)
    cell_vectors: np.ndarray  # (dims, levels, 256); zero where a cell is missing
    level_vectors: np.ndarray  # (levels, 256): every dimension's cell at that level
    dim_terms: list[dict[str, float]]
    cell_terms: list[list[dict[str, float]]]
    words_per_cell: float
    note: str | None
    vocabulary: frozenset[str]  # every lower-case word the ladder uses
    # Whether a dimension's cells talk about growing people: mentoring raises a
    # level only there ("mentored two engineers through their first eval suites"
    # is leverage, not eval design).
    about_people: list[bool]


def _cell_text(ladder: Ladder, dim_index: int, level: str) -> str:
    cell = ladder.dimensions[dim_index].cells.get(level)
    return "" if cell is None else " ".join([cell.behaviour, *cell.evidence])


def _weights(bags: list[list[str]]) -> list[dict[str, float]]:
    df: dict[str, int] = {}
    for bag in bags:
        for t in set(bag):
            df[t] = df.get(t, 0) + 1
    n = len(bags)
    return [{t: math.log((n + 1) / (df[t] + 0.5)) for t in set(bag)} for bag in bags]


def _build(ladder: Ladder) -> LadderIndex:
    dims = ladder.dimensions
    levels = list(ladder.levels)
    cell_texts = [[_cell_text(ladder, i, lv) for lv in levels] for i in range(len(dims))]
    dim_texts = [" ".join([d.name, d.summary, *cell_texts[i]]) for i, d in enumerate(dims)]
    level_texts = [" ".join(cell_texts[i][k] for i in range(len(dims))) for k in range(len(levels))]
    flat = embed([*dim_texts, *(t for row in cell_texts for t in row), *level_texts])
    nd, nl = len(dims), len(levels)
    dim_vectors = flat[:nd]
    cell_vectors = flat[nd:nd + nd * nl].reshape(nd, nl, -1)
    level_vectors = flat[nd + nd * nl:]
    dim_terms = _weights([terms(t) for t in dim_texts])
    cell_terms = [_weights([terms(t) for t in row]) for row in cell_texts]
    present = [t for row in cell_texts for t in row if t]
    words = sum(len(t.split()) for t in present) / max(len(present), 1)
    note = None
    if words < THIN_CELL_WORDS:
        note = (f"The ladder's cells average {words:.0f} words, so the offline extractor has little to "
                "match; add behaviour text and example evidence to each cell, or use an LLM.")
    vocab = frozenset(w for t in dim_texts for w in _WORD.findall(t.lower()))
    people = [bool(_PEOPLE.search(t)) for t in dim_texts]
    return LadderIndex([d.id for d in dims], levels, dim_vectors, cell_vectors, level_vectors,
                       dim_terms, cell_terms, words, note, vocab, people)


_CACHE: dict[str, LadderIndex] = {}


def index_for(ladder: Ladder) -> LadderIndex:
    key = ladder.sha256 or ladder.model_dump_json()
    if key not in _CACHE:
        _CACHE[key] = _build(ladder)
    return _CACHE[key]
