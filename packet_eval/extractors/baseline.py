"""The offline extractor: reads the ladder's cells, no network, no phrase lists needed.

For each visible sentence of a packet it asks two questions, with two small
linear models whose weights ship in ``baseline_model.json`` (fitted on the
golden set's dev split only, by ``tools/train_baseline.py``):

- *is this evidence for dimension D?* from how close the sentence is to D's
  text in the ladder (wordllama vectors and dimension-specific words), against
  the other dimensions;
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
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np

from packet_eval.assemble import build_assessment
from packet_eval.extractors import cue_flags
from packet_eval.extractors.embedding import embed
from packet_eval.extractors.features import LEVEL, RELEVANCE, SentenceVectors, sentence_vectors
from packet_eval.extractors.ladder_index import LadderIndex, index_for
from packet_eval.extractors.language import Reading, is_list, is_metadata, read, vocabulary, voice
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


@dataclass(frozen=True)
class Weights:
    relevance: np.ndarray
    threshold: float
    strong: float
    level: np.ndarray
    shift: float


@lru_cache(maxsize=1)
def weights() -> Weights:
    data = json.loads((files("packet_eval.extractors") / MODEL_FILE).read_text(encoding="utf-8"))
    if data["relevance"]["features"] != RELEVANCE or data["level"]["features"] != LEVEL:
        raise RuntimeError(f"{MODEL_FILE} was fitted on other features; rerun tools/train_baseline.py")
    return Weights(np.array(data["relevance"]["weights"]), data["relevance"]["threshold"],
                   data["relevance"]["strong"], np.array(data["level"]["weights"]),
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
    keep = [(u, r) for u, r in zip(visible, readings, strict=True)
            if not (r.negated or r.aspiration or is_list(r.neutral) or is_metadata(text[u.start:u.end]))
            and len(r.neutral.split()) >= MIN_WORDS]
    vectors = embed([r.neutral for _, r in keep])
    candidates = [Candidate(u, r, v, sentence_vectors(r, v, index))
                  for (u, r), v in zip(keep, vectors, strict=True)]
    log.debug("%s: %d units, %d visible, %d candidates, voice %s", packet.packet_id, len(units),
              len(visible), len(candidates), mode)
    return PacketReading(mode, candidates, injected, units)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def level_index(fraction: float, n_levels: int, shift: float) -> int:
    return int(np.clip(np.floor(fraction * (n_levels - 1) + 0.5 + shift), 0, n_levels - 1))


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


def find_evidence(ladder: Ladder, packet: Packet, reading: PacketReading,
                  w: Weights) -> dict[str, list[Evidence]]:
    index = index_for(ladder)
    evidence: dict[str, list[Evidence]] = {d: [] for d in ladder.dimension_ids}
    if reading.voice == "none":
        return evidence
    levels = list(ladder.levels)
    for cand in reading.candidates:
        probs = _sigmoid(cand.vectors.relevance @ w.relevance)
        chosen = [d for d in np.argsort(-probs)[:DIMENSIONS_PER_SENTENCE] if probs[d] >= w.threshold]
        for d in chosen:
            fraction = float(cand.vectors.level[d] @ w.level)
            rank = level_index(fraction, len(levels), w.shift)
            strength: Strength = "strong" if probs[d] >= w.strong else "moderate"
            if cand.reading.attribution == "team":
                rank, strength = 0, "weak"
            level = levels[rank]
            u = cand.unit
            evidence[ladder.dimension_ids[d]].append(Evidence(
                quote=packet.text[u.start:u.end], start=u.start, end=u.end, match="exact",
                match_score=100.0, level=level, strength=strength,
                attribution=cand.reading.attribution,  # type: ignore[arg-type]
                rationale=_rationale(ladder, index, int(d), cand, level, float(probs[d]), w)))
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
