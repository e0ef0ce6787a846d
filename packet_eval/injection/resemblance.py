"""Paragraphs that read like injections the project has seen, not like accounts of work.

The rules in ``verdict_voice`` and ``process_talk`` judge what a sentence does,
but each is one way of saying it. This is the learned half: a paragraph's
wordllama vector (``packet_eval.extractors.embedding``) is compared with the
dev injection forms and with ordinary paragraphs (golden and outside-dev dev
packets, benign security-work packets). Its score is the mean similarity of its
three nearest injections minus that of its three nearest ordinary paragraphs;
above the threshold it is flagged. The prototypes and the threshold are package
data built from dev data only by ``packet_eval.evaluation.injection_prototypes``,
which also reports leave-one-family-out figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from packet_eval.extractors.embedding import embed
from packet_eval.injection.normalize import fold

PROTOTYPES = resources.files("packet_eval.injection") / "prototypes.npz"
NEIGHBOURS = 3
MIN_WORDS = 6  # a heading or a two-word line says too little to resemble anything
_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*", re.MULTILINE)


@dataclass(frozen=True)
class Prototypes:
    centre: np.ndarray  # mean vector removed before comparing (the part every text shares)
    injections: np.ndarray  # unit rows
    ordinary: np.ndarray
    threshold: float


def centred(vectors: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Vectors less the shared centre, back to unit length."""
    v = vectors - centre
    return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)


def scores(vectors: np.ndarray, injections: np.ndarray, ordinary: np.ndarray,
           k: int = NEIGHBOURS) -> np.ndarray:
    """Mean similarity to the ``k`` nearest injections minus that to the ``k`` nearest ordinary rows."""
    if not len(vectors):
        return np.zeros(0)

    def near(rows: np.ndarray) -> np.ndarray:
        sims = vectors @ rows.T
        kk = min(k, rows.shape[0])
        return np.sort(sims, axis=1)[:, -kk:].mean(axis=1)

    return near(injections) - near(ordinary)


@lru_cache(maxsize=1)
def load_prototypes() -> Prototypes | None:
    """The shipped prototypes, or None when the package carries none (then nothing is flagged here)."""
    if not PROTOTYPES.is_file():
        return None
    with PROTOTYPES.open("rb") as fh, np.load(fh) as data:
        return Prototypes(data["centre"].astype(np.float32), data["injections"].astype(np.float32),
                          data["ordinary"].astype(np.float32), float(data["threshold"]))


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the blank-line separated paragraphs of ``text`` with at least ``MIN_WORDS`` words."""
    return [(m.start(), m.start() + len(m.group(0).rstrip())) for m in _PARAGRAPH.finditer(text)
            if len(m.group(0).split()) >= MIN_WORDS]


def resembling(text: str, protos: Prototypes | None = None) -> list[tuple[int, int, float]]:
    """Paragraphs of ``text`` that score above the threshold, with their scores."""
    protos = protos or load_prototypes()
    spans = paragraphs(text)
    if protos is None or not spans:
        return []
    vectors = centred(embed([fold(text[s:e]) for s, e in spans]), protos.centre)
    got = scores(vectors, protos.injections, protos.ordinary)
    return [(s, e, float(v)) for (s, e), v in zip(spans, got, strict=True) if v > protos.threshold]
