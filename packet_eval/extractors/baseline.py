"""The offline baseline extractor: deterministic, no network, no model.

It rates each sentence of the packet against the ladder's own cues (dimension
cues, per-cell cues and level cues), so nothing about a particular ladder is
hard-coded. Three things keep it honest about what it reads:

- attribution: "I"/"my" (or a nominee named in the third person) is credited in
  full; "we" with no personal role is capped at the lowest level; unclear
  sentences are capped below senior;
- outcomes: a measured change (a number, a before-to-after) makes evidence
  strong; senior and staff cues with no outcome and a single cue are taken one
  level down, because that is what buzzword-stuffed packets look like;
- data, not instructions: injection spans are flagged and never used as evidence.

It is the default when no LLM key is configured and the floor any LLM
extractor has to beat on the golden set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packet_eval.assemble import build_assessment
from packet_eval.injection import detect_injections
from packet_eval.ladder import Dimension, Flag, Ladder
from packet_eval.packet import Packet
from packet_eval.schema import Assessment, Attribution, Evidence, ExtractorInfo, FlagFinding, Strength
from packet_eval.sentences import Unit, split_units

log = logging.getLogger(__name__)

NAME = "baseline"

_INDIVIDUAL = re.compile(r"\b(?:i|i'm|i've|i'd|i’m|i’ve|my|me|myself|mine)\b", re.IGNORECASE)
_THIRD_PERSON = re.compile(r"\b(?:she|he|her|his)\b", re.IGNORECASE)
_TEAM = re.compile(r"\b(?:we|we're|we've|our|us|the team|ourselves)\b", re.IGNORECASE)
_ASPIRATION = re.compile(
    r"\b(?:want to|plan to|planning to|hope to|would like to|aim to|intend to|aspire|"
    r"next (?:year|quarter|half)|my goal|going to|looking forward|i will|i'll)\b", re.IGNORECASE)
_OUTCOME = re.compile(
    r"(?:\d+(?:\.\d+)?\s*(?:%|x\b|×|pp\b|points?\b|ms\b|s\b|k\b|hours?\b|days?\b|weeks?\b))|"
    r"(?:\bfrom\s+\S*\d\S*\s+(?:to|→|->)\s+\S*\d)|(?:\d\s*(?:→|->)\s*\S*\d)|"
    r"\b(?:halved|doubled|tripled|eliminated|prevented)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_COVERAGE = re.compile(
    r"\b(?:cover|covers|covered|coverage|edge cases?|failure modes?|slices?|categor\w*|"
    r"distribution|adversarial|held-out|stratif\w*|per[- ]query|per[- ]category|long tail)\b",
    re.IGNORECASE)
_ARTIFACT = re.compile(r"https?://|\bgo/|\bdoc\b|\brfc\b|\bdesign doc\b|\bdashboard\b", re.IGNORECASE)
_ACTION_START = re.compile(
    r"^(?:[A-Z][a-z]+ed|Built|Wrote|Led|Ran|Set|Made|Cut|Found|Drove|Took|Shipped|Rebuilt|Split|"
    r"Brought|Taught|Began|Kept|Held|Sent|Got|Ran|Put|Spent|Rewrote|Own|Owns|Owned|Lead|Leads|"
    r"Design|Designs|Build|Builds|Define|Defines|Mentor|Mentors)\b")
_NAMED_SUBJECT = re.compile(r"^[A-Z][\w\u00c0-\u024f'’-]+(?:\s[A-Z][\w\u00c0-\u024f'’-]+)?\s+[a-z]+ed\b")


@dataclass(frozen=True)
class _Cues:
    """Compiled cue patterns for one ladder (cached per ladder hash)."""

    dim: dict[str, re.Pattern[str] | None]
    cell: dict[tuple[str, str], re.Pattern[str] | None]
    level: dict[str, re.Pattern[str] | None]
    flag: dict[str, re.Pattern[str] | None]


_DETERMINERS = {"the", "a", "an", "our", "my", "their", "its", "this", "that", "these", "every",
                "each", "all", "whose"}


def _phrase(cue: str) -> str:
    """A cue phrase as a pattern; up to two words may sit after a determiner.

    "the contract" must still match "the hugely important contract": adjectives
    add no facts, and a cue that breaks on them rewards plain wording less than
    puffed-up wording of the same work.
    """
    words = cue.split()
    out = re.escape(words[0])
    for prev, word in zip(words, words[1:], strict=False):
        gap = r"\s+(?:[\w'’-]+\s+){0,2}?" if prev in _DETERMINERS else r"\s+"
        out += gap + re.escape(word)
    return out


def _compile(cues: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for cue in cues:
        cue = cue.strip().lower()
        if not cue:
            continue
        # "orchestrat*" is a prefix; anything else matches whole words only,
        # so "rag" does not match "ragged" nor "policy" match "policy-lookup".
        if cue.endswith("*"):
            cue, tail = cue[:-1], ""
        else:
            tail = r"(?![\w-])" if cue[-1].isalnum() else ""
        head = r"(?<![\w-])" if cue[0].isalnum() else ""
        parts.append(head + _phrase(cue) + tail)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


_CUE_CACHE: dict[str, _Cues] = {}


def _cues_for(ladder: Ladder) -> _Cues:
    key = ladder.sha256 or ladder.model_dump_json()
    if key not in _CUE_CACHE:
        _CUE_CACHE[key] = _build_cues(ladder)
    return _CUE_CACHE[key]


def _build_cues(ladder: Ladder) -> _Cues:
    return _Cues(
        dim={d.id: _compile([*d.cues, *(c for cell in d.cells.values() for c in cell.cues)])
             for d in ladder.dimensions},
        cell={(d.id, lv): _compile(cell.cues) for d in ladder.dimensions for lv, cell in d.cells.items()},
        level={lv: _compile(ladder.level_cues.get(lv, [])) for lv in ladder.levels},
        flag={f.id: _compile(f.cues) for f in ladder.flags},
    )


def _hits(pattern: re.Pattern[str] | None, s: str) -> int:
    return len(pattern.findall(s)) if pattern is not None else 0


_GROUP_SUBJECT = re.compile(r"^(?:we|our|us|the|this|that|they|these|those|it|team)\b", re.IGNORECASE)


def _attribution(s: str) -> Attribution:
    if _INDIVIDUAL.search(s) or _THIRD_PERSON.search(s):
        return "individual"
    if not _GROUP_SUBJECT.match(s) and (_ACTION_START.match(s) or _NAMED_SUBJECT.match(s)):
        return "individual"
    if _TEAM.search(s):
        return "team"
    return "unclear"


def _rate(ladder: Ladder, cues: _Cues, dim: Dimension, s: str, attribution: Attribution,
          outcome: bool) -> tuple[str, Strength, str] | None:
    """(level, strength, rationale) for one sentence in one dimension, or None."""
    if not (_hits(cues.dim[dim.id], s)):
        return None
    level = None
    cell_hit = False
    for lv in reversed(ladder.levels):
        if _hits(cues.cell[(dim.id, lv)], s):
            level, cell_hit = lv, True
            break
    if level is None:
        for lv in reversed(ladder.levels):
            if _hits(cues.level[lv], s):
                level = lv
                break
    if level is None:
        if attribution != "individual":
            return None  # a mention, not a behaviour
        level = ladder.levels[0]
    rank = ladder.levels.index(level)
    total_cues = sum(_hits(cues.level[lv], s) for lv in ladder.levels) + int(cell_hit)
    why = [f"matches the {level} cell" if cell_hit else f"uses {level}-level language"]
    if rank >= 2 and not outcome and total_cues < 2:
        rank -= 1
        why.append("no measured outcome, so taken one level down")
    cap = {"individual": len(ladder.levels) - 1, "unclear": 1, "team": 0}[attribution]
    if rank > cap:
        rank = cap
        why.append("capped: " + ("team credit with no personal role" if attribution == "team"
                                 else "no clear personal role"))
    strength: Strength
    if attribution == "individual" and outcome and cell_hit:
        strength = "strong"
    elif attribution != "team" and (cell_hit or outcome):
        strength = "moderate"
    else:
        strength = "weak"
    if outcome:
        why.append("states a measured outcome")
    return ladder.levels[rank], strength, "; ".join(why)


def _flag_hits(flag: Flag, cues: _Cues, s: str, outcome: bool) -> bool:
    pattern = cues.flag[flag.id]
    if flag.detector in ("team_voice", "injection", "none") or not _hits(pattern, s):
        return False
    if flag.detector == "cue_with_number":
        return bool(_NUMBER.search(s))
    if flag.detector == "cue_without_outcome":
        return not outcome and not _ARTIFACT.search(s)
    if flag.detector == "cue_without_coverage":
        return bool(_NUMBER.search(s)) and not _COVERAGE.search(s)
    return True


def extract(packet: Packet, ladder: Ladder, target_level: str | None = None) -> Assessment:
    """Assess ``packet`` against ``ladder`` with the offline baseline."""
    text = packet.text
    cues = _cues_for(ladder)
    units = [u for u in split_units(text) if not u.is_heading]
    injected = detect_injections(text, [(u.start, u.end) for u in units])
    flags: list[FlagFinding] = []
    inj_flag = next((f for f in ladder.flags if f.detector == "injection"), None)
    if inj_flag is not None:
        flags += [FlagFinding(flag=inj_flag.id, quote=text[h.start:h.end], start=h.start, end=h.end,
                              rationale=f"{h.kind}: text aimed at the evaluator, treated as data")
                  for h in injected]
    evidence: dict[str, list[Evidence]] = {d: [] for d in ladder.dimension_ids}
    voices: dict[str, int] = {"individual": 0, "team": 0, "unclear": 0}
    team_units: list[Unit] = []
    for unit in units:
        if any(h.start < unit.end and unit.start < h.end for h in injected):
            continue
        s = text[unit.start:unit.end]
        attribution = _attribution(s)
        voices[attribution] += 1
        if attribution == "team":
            team_units.append(unit)
        outcome = bool(_OUTCOME.search(s))
        for flag in ladder.flags:
            if _flag_hits(flag, cues, s, outcome):
                flags.append(FlagFinding(flag=flag.id, quote=s, start=unit.start, end=unit.end,
                                         rationale=flag.definition))
        if _ASPIRATION.search(s) or s.rstrip().endswith("?") or len(s.split()) < 4:
            continue
        rated = []
        for dim in ladder.dimensions:
            r = _rate(ladder, cues, dim, s, attribution, outcome)
            if r is not None:
                rated.append((ladder.rank[r[0]], _hits(cues.dim[dim.id], s), dim.id, r))
        # A sentence is evidence for at most its two best-matching dimensions.
        for _, _, dim_id, (level, strength, why) in sorted(rated, reverse=True)[:2]:
            evidence[dim_id].append(Evidence(
                quote=s, start=unit.start, end=unit.end, match="exact", match_score=100.0,
                level=level, strength=strength, attribution=attribution, rationale=why))
    team_flag = next((f for f in ladder.flags if f.detector == "team_voice"), None)
    if team_flag is not None and voices["team"] >= 3 and voices["team"] > 2 * voices["individual"]:
        u = team_units[0]
        flags.append(FlagFinding(
            flag=team_flag.id, quote=text[u.start:u.end], start=u.start, end=u.end,
            rationale=f"{voices['team']} sentences say 'we' against {voices['individual']} "
                      "that say what the author did"))
    log.debug("baseline %s: %d sentences, %d evidence, %d flags, %d injection span(s)",
              packet.packet_id, len(units), sum(len(e) for e in evidence.values()), len(flags),
              len(injected))
    return build_assessment(
        ladder, packet, ExtractorInfo(name=NAME, model=NAME, prompt_version=None),
        evidence, flags, target_level=target_level)
