"""The offline extractor: reads the ladder's cells, no network, no phrase lists needed.

For each visible sentence of a packet it asks two questions, with two small
linear models whose weights ship in ``baseline_model.json`` (fitted on the
golden set's dev split and the outside-dev sets only, by
``tools/train_baseline.py``):

- *is this evidence for dimension D?* from how close the sentence, its
  paragraph and its section heading are to D's text in the ladder (wordllama
  vectors and dimension-specific words), against the other dimensions;
- *at what level?* from cues that hold across ladders (direction followed or
  own decision, reach from one team to the organisation, diagnosis, outcomes)
  and from which of D's cells the sentence reads like.

Rules the models cannot break: hidden text (comments) and injected
instructions are never evidence; a negated or aspirational sentence is never
evidence; "we" with no personal role counts at the lowest level only; a text
that describes nobody's work (no first person, no nominee) is ``none``. Person
names and pronouns are removed before any feature is computed
(``language.neutral``), so they cannot move a level. Ladder cue lists, when a
ladder has them, only feed the flags.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np

from packet_eval.assemble import MAX_EVIDENCE_PER_DIMENSION, build_assessment
from packet_eval.extractors import cue_flags
from packet_eval.extractors.embedding import embed
from packet_eval.extractors.features import LEVEL, RELEVANCE, SentenceVectors, sentence_vectors
from packet_eval.extractors.ladder_index import LadderIndex, index_for
from packet_eval.extractors.language import Reading, is_list, is_metadata, neutral, read, vocabulary, voice
from packet_eval.injection import InjectionHit, detect_injections
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet
from packet_eval.schema import Assessment, Evidence, ExtractorInfo, FlagFinding, Strength
from packet_eval.sentences import Unit, split_units

log = logging.getLogger(__name__)

NAME = "baseline"
MODEL_FILE = "baseline_model.json"
# At most this many dimensions take one sentence as evidence.
DIMENSIONS_PER_SENTENCE = 2
MIN_WORDS = 4
_BLANK = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Weights:
    relevance: np.ndarray
    threshold: float  # the least probability at which a sentence is evidence at all
    strong: float
    # The least probability at which evidence carries its own level; below it the
    # sentence is shown as weak evidence (lowest level only), so finding more of
    # what a calibrator would quote does not inflate levels on doubtful matches.
    support: float
    level: np.ndarray
    shift: float


@lru_cache(maxsize=1)
def weights() -> Weights:
    data = json.loads((files("packet_eval.extractors") / MODEL_FILE).read_text(encoding="utf-8"))
    if data["relevance"]["features"] != RELEVANCE or data["level"]["features"] != LEVEL:
        raise RuntimeError(f"{MODEL_FILE} was fitted on other features; rerun tools/train_baseline.py")
    return Weights(np.array(data["relevance"]["weights"]), data["relevance"]["threshold"],
                   data["relevance"]["strong"], data["relevance"]["support"], np.array(data["level"]["weights"]),
                   data["level"]["shift"])


@dataclass(frozen=True)
class Candidate:
    """One visible, affirmative sentence, read against every dimension."""

    unit: Unit
    reading: Reading
    vector: np.ndarray
    vectors: SentenceVectors


@dataclass(frozen=True)
class PacketReading:
    voice: str  # first_person | nomination | none
    candidates: list[Candidate]
    injected: list[InjectionHit]
    units: list[Unit]
    relevance: np.ndarray  # (candidates, dims, len(RELEVANCE)), every candidate stacked
    level: np.ndarray  # (candidates, dims, len(LEVEL))


def read_packet(packet: Packet, ladder: Ladder) -> PacketReading:
    """Every sentence that may be evidence, with its features (shared with training)."""
    text = packet.text
    every = split_units(text)
    # Headings are checked too: a short instruction on a line of its own reads as one.
    injected = detect_injections(text, [(u.start, u.end) for u in every])
    units = [u for u in every if not u.is_heading]
    visible = [u for u in units if not packet.is_hidden(u.start, u.end)
               and not any(h.start < u.end and u.start < h.end for h in injected)]
    index = index_for(ladder)
    known = vocabulary(text) | index.vocabulary
    first_pass = [read(text[u.start:u.end], known, nomination=False) for u in visible]
    mode = voice([r.neutral for r in first_pass])
    readings = ([read(text[u.start:u.end], known, nomination=True) for u in visible]
                if mode == "nomination" else first_pass)
    flat = embed([r.neutral for r in readings])
    contexts = paragraph_vectors(text, visible, flat)
    headings = _heading_vectors(visible, known)
    keep = [i for i, (u, r) in enumerate(zip(visible, readings, strict=True))
            if not (r.negated or r.aspiration or is_list(r.neutral) or is_metadata(text[u.start:u.end]))
            and len(r.neutral.split()) >= MIN_WORDS]
    candidates = [Candidate(visible[i], readings[i], flat[i],
                            sentence_vectors(readings[i], flat[i], index, contexts[i],
                                             headings.get(visible[i].section)))
                  for i in keep]
    log.debug("%s: %d units, %d visible, %d candidates, voice %s", packet.packet_id, len(units),
              len(visible), len(candidates), mode)
    nd = len(ladder.dimensions)
    relevance = (np.stack([c.vectors.relevance for c in candidates]) if candidates
                 else np.zeros((0, nd, len(RELEVANCE))))
    level = (np.stack([c.vectors.level for c in candidates]) if candidates
             else np.zeros((0, nd, len(LEVEL))))
    return PacketReading(mode, candidates, injected, units, relevance, level)


def paragraph_vectors(text: str, units: list[Unit], vectors: np.ndarray) -> np.ndarray:
    """Each unit's paragraph (units with no blank line between them) as one unit-length vector.

    A sentence such as "Every PR runs against it now" says what it is about only
    through its neighbours. Paragraphs, not a window, so that a paragraph added
    or moved elsewhere (padding, section order, hidden comments) changes nothing.
    """
    out = np.zeros_like(vectors)
    group: list[int] = []

    def close() -> None:
        if group:
            v = vectors[group].sum(axis=0)
            n = float(np.linalg.norm(v))
            out[group] = v / n if n else v

    for i, u in enumerate(units):
        if group and (units[group[-1]].section != u.section
                      or _BLANK.search(text, units[group[-1]].end, u.start)):
            close()
            group = []
        group.append(i)
    close()
    return out


def _heading_vectors(units: list[Unit], known: frozenset[str]) -> dict[str, np.ndarray]:
    names = sorted({u.section for u in units if u.section})
    return dict(zip(names, embed([neutral(n, known) for n in names]), strict=True))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_SIGNAL_WORDS = {
    "sig_direction": "follows someone else's direction", "sig_other_decided": "a colleague decided",
    "sig_own": "the author decided or designed it", "sig_build": "the author built it",
    "sig_implement": "implementation work", "sig_diagnose": "a diagnosis or root cause",
    "sig_measure": "measurement", "sig_team_reach": "the team relies on it",
    "sig_multi_team": "it reaches other teams", "sig_org": "it reaches the organisation",
    "sig_standard": "it sets a standard or rule", "sig_strategy": "a direction or tradeoff",
    "sig_mentor": "mentoring", "sig_outcome": "a measured outcome", "sig_artifact": "an artifact",
    "hedged": "hedged wording",
}


def _reasons(x: np.ndarray, w: np.ndarray, up: bool) -> list[str]:
    contrib = x * w
    order = np.argsort(-contrib if up else contrib)
    out = []
    for i in order[:3]:
        name = LEVEL[i]
        if name in _SIGNAL_WORDS and x[i] and (contrib[i] > 0) == up:
            out.append(_SIGNAL_WORDS[name])
    return out


def _rationale(ladder: Ladder, index: LadderIndex, d: int, cand: Candidate, level: str, p: float,
               w: Weights) -> str:
    x = cand.vectors.level[d]
    dim = ladder.dimensions[d]
    parts = [f"reads as {dim.name} ({p:.0%} likely)"]
    cell = index.levels[int(np.argmax(index.cell_vectors[d] @ cand.vector))]
    parts.append(f"closest to its {cell} cell")
    up, down = _reasons(x, w.level, True), _reasons(x, w.level, False)
    if up:
        parts.append(f"{level}: " + ", ".join(up))
    if down:
        parts.append("held down by " + ", ".join(down))
    if cand.reading.attribution == "team":
        parts.append("team credit with no personal role, so the lowest level")
    return "; ".join(parts)


@dataclass(frozen=True)
class Choice:
    """One (sentence, dimension) the models take as evidence, before it becomes an Evidence."""

    candidate: int
    dimension: int
    rank: int  # index into the ladder's levels
    strength: Strength
    probability: float


def choose(reading: PacketReading, w: Weights, n_levels: int) -> list[Choice]:
    """Which sentences are evidence for which dimension, at what level (shared with training)."""
    if reading.voice == "none" or not reading.candidates:
        return []
    probs = _sigmoid(reading.relevance @ w.relevance)  # (candidates, dims)
    fractions = reading.level @ w.level
    ranks = np.clip(np.floor(fractions * (n_levels - 1) + 0.5 + w.shift), 0, n_levels - 1).astype(int)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :DIMENSIONS_PER_SENTENCE]
    top = np.take_along_axis(probs, order, axis=1)
    out = []
    for i, j in zip(*np.nonzero(top >= w.threshold), strict=True):
        d = int(order[i, j])
        p = float(top[i, j])
        strength: Strength = "strong" if p >= w.strong else "moderate" if p >= w.support else "weak"
        rank = int(ranks[i, d])
        if reading.candidates[i].reading.attribution == "team":
            rank, strength = 0, "weak"
        out.append(Choice(int(i), d, rank, strength, p))
    return out


def kept(choices: list[Choice]) -> list[Choice]:
    """The most probable few per dimension: the ones assembly keeps, chosen by the model, not by level."""
    by_dim: dict[int, list[Choice]] = {}
    for c in choices:
        by_dim.setdefault(c.dimension, []).append(c)
    out = []
    for items in by_dim.values():
        items.sort(key=lambda c: -c.probability)
        out.extend(items[:MAX_EVIDENCE_PER_DIMENSION])
    return sorted(out, key=lambda c: (c.candidate, c.dimension))


def find_evidence(ladder: Ladder, packet: Packet, reading: PacketReading,
                  w: Weights) -> dict[str, list[Evidence]]:
    index = index_for(ladder)
    evidence: dict[str, list[Evidence]] = {d: [] for d in ladder.dimension_ids}
    levels = list(ladder.levels)
    for c in kept(choose(reading, w, len(levels))):
        cand = reading.candidates[c.candidate]
        level = levels[c.rank]
        u = cand.unit
        evidence[ladder.dimension_ids[c.dimension]].append(Evidence(
            quote=packet.text[u.start:u.end], start=u.start, end=u.end, match="exact",
            match_score=100.0, level=level, strength=c.strength,
            attribution=cand.reading.attribution,  # type: ignore[arg-type]
            rationale=_rationale(ladder, index, c.dimension, cand, level, c.probability, w)))
    return evidence


def extract(packet: Packet, ladder: Ladder, target_level: str | None = None) -> Assessment:
    """Assess ``packet`` against ``ladder`` offline."""
    reading = read_packet(packet, ladder)
    evidence = find_evidence(ladder, packet, reading, weights())
    flags: list[FlagFinding] = cue_flags.find_flags(packet, ladder, reading.units, reading.injected)
    notes = []
    note = index_for(ladder).note
    if note:
        notes.append(note)
    if reading.voice == "none":
        notes.append("No sentence says what the author (or a nominee) did, so nothing counts as evidence.")
    log.debug("baseline %s: %d sentences, %d evidence, %d flags, %d injection span(s)",
              packet.packet_id, len(reading.units), sum(len(e) for e in evidence.values()), len(flags),
              len(reading.injected))
    return build_assessment(
        ladder, packet, ExtractorInfo(name=NAME, model=NAME, prompt_version=None),
        evidence, flags, target_level=target_level, notes=notes, injections=reading.injected)
