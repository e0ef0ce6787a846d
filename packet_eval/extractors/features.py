"""Feature vectors for (sentence, dimension) pairs: is it evidence, and at what level.

Every feature is defined relative to the ladder (similarity to a dimension's
text, its margin over the other dimensions, which level's cell it reads like,
as a fraction of the ladder's height), never by a dimension's id or a level's
name, so weights fitted on one ladder apply to any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packet_eval.extractors.ladder_index import LadderIndex, terms
from packet_eval.extractors.language import SIGNAL_NAMES, Reading

RELEVANCE = ["bias", "cos", "cos_margin", "cos_best", "cell_cos", "lex", "lex_margin", "lex_best",
             "lex_top2", "both_best", "any_ai", "individual", "team", "log_words"]
LEVEL = ["bias", *(f"sig_{n}" for n in SIGNAL_NAMES), "individual", "team", "hedged",
         "cell_emb_frac", "cell_emb_argmax", "cell_lex_frac", "cell_lex_argmax", "generic_frac",
         "log_words"]
_SOFT = 0.03  # temperature of the softmax over a dimension's cells


@dataclass(frozen=True)
class SentenceVectors:
    """One sentence against every dimension of a ladder."""

    relevance: np.ndarray  # (dims, len(RELEVANCE))
    level: np.ndarray  # (dims, len(LEVEL))


def _lex(bag: list[str], weights: dict[str, float]) -> float:
    if not bag:
        return 0.0
    unique = sorted(set(bag))  # a fixed order, so the float sum is the same in every process
    return sum(weights.get(t, 0.0) for t in unique) / math.sqrt(len(unique))


def _fraction(scores: np.ndarray) -> tuple[float, float]:
    """Softmax-weighted position in [0, 1] over the ladder's levels, and the argmax's position."""
    k = len(scores)
    if k < 2:
        return 0.0, 0.0
    z = np.exp((scores - scores.max()) / _SOFT)
    pos = np.arange(k) / (k - 1)
    return float((z * pos).sum() / z.sum()), float(pos[int(scores.argmax())])


def sentence_vectors(reading: Reading, vector: np.ndarray, index: LadderIndex) -> SentenceVectors:
    nd = len(index.dimensions)
    bag = terms(reading.neutral)
    cos = index.dim_vectors @ vector
    lex = np.array([_lex(bag, w) for w in index.dim_terms])
    words = math.log1p(len(reading.neutral.split()))
    individual = float(reading.attribution == "individual")
    team = float(reading.attribution == "team")
    generic = _fraction(index.level_vectors @ vector)[0]
    signals = [min(reading.signals[n], 2) for n in SIGNAL_NAMES]
    lex_order = np.argsort(-lex)
    rel_rows, lvl_rows = [], []
    for d in range(nd):
        others_cos = np.delete(cos, d).max() if nd > 1 else 0.0
        others_lex = np.delete(lex, d).max() if nd > 1 else 0.0
        cell_cos = index.cell_vectors[d] @ vector
        cell_lex = np.array([_lex(bag, w) for w in index.cell_terms[d]])
        cos_best = float(cos[d] >= cos.max())
        lex_best = float(lex[d] > 0 and lex[d] >= lex.max())
        rel_rows.append([1.0, cos[d], cos[d] - others_cos, cos_best, cell_cos.max(), lex[d],
                         lex[d] - others_lex, lex_best, float(d in lex_order[:2] and lex[d] > 0),
                         cos_best * lex_best, cos.max(), individual, team, words])
        emb_frac, emb_arg = _fraction(cell_cos)
        if cell_lex.max() > 0:
            lex_frac, lex_arg = _fraction(cell_lex / max(cell_lex.max(), 1e-9) * 0.1)
        else:
            lex_frac, lex_arg = 0.5, 0.5
        dim_signals = [0.0 if n == "mentor" and not index.about_people[d] else v
                       for n, v in zip(SIGNAL_NAMES, signals, strict=True)]
        lvl_rows.append([1.0, *dim_signals, individual, team, float(reading.hedged), emb_frac, emb_arg,
                         lex_frac, lex_arg, generic, words])
    return SentenceVectors(np.array(rel_rows, dtype=np.float64), np.array(lvl_rows, dtype=np.float64))
