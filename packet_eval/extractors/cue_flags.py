"""Flags from a ladder's optional cue lists, team voice and injected instructions.

Levels never come from here. A ladder's flag cues (phrases such as "lines of
code") are a cheap, explainable boost: a committee can read exactly why a flag
fired. A ladder with no cues simply raises no cue flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from packet_eval.extractors.language import SIGNALS, read, vocabulary
from packet_eval.injection import InjectionHit
from packet_eval.ladder import Flag, Ladder
from packet_eval.packet import Packet
from packet_eval.schema import FlagFinding
from packet_eval.sentences import Unit

_NUMBER = re.compile(r"\d")
_COVERAGE = re.compile(
    r"\b(?:cover|covers|covered|coverage|edge cases?|failure modes?|slices?|categor\w*|"
    r"distribution|adversarial|held-out|stratif\w*|per[- ]query|per[- ]category|long tail)\b",
    re.IGNORECASE)
_ARTIFACT = re.compile(r"https?://|\bgo/|\bdoc\b|\brfc\b|\bdesign doc\b|\bdashboard\b", re.IGNORECASE)
_OUTCOME = dict(SIGNALS)["outcome"]  # one home for "a measured outcome"
_DETERMINERS = {"the", "a", "an", "our", "my", "their", "its", "this", "that", "these", "every",
                "each", "all", "whose"}


def _phrase(cue: str) -> str:
    """A cue as a pattern; up to two words may sit after a determiner ("the hugely important contract")."""
    words = cue.split()
    out = re.escape(words[0])
    for prev, word in zip(words, words[1:], strict=False):
        gap = r"\s+(?:[\w'’-]+\s+){0,2}?" if prev in _DETERMINERS else r"\s+"
        out += gap + re.escape(word)
    return out


def compile_cues(cues: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word patterns for cue phrases; a trailing ``*`` makes a prefix."""
    parts = []
    for cue in cues:
        cue = cue.strip().lower()
        if not cue:
            continue
        if cue.endswith("*"):
            cue, tail = cue[:-1], ""
        else:
            tail = r"(?![\w-])" if cue[-1].isalnum() else ""
        head = r"(?<![\w-])" if cue[0].isalnum() else ""
        parts.append(head + _phrase(cue) + tail)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


@lru_cache(maxsize=256)
def _pattern(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    return compile_cues(cues)


def _fires(flag: Flag, s: str) -> bool:
    pattern = _pattern(tuple(flag.cues))
    if flag.detector in ("team_voice", "injection", "none") or pattern is None or not pattern.search(s):
        return False
    if flag.detector == "cue_with_number":
        return bool(_NUMBER.search(s))
    if flag.detector == "cue_without_outcome":
        return not _OUTCOME.search(s) and not _ARTIFACT.search(s)
    if flag.detector == "cue_without_coverage":
        return bool(_NUMBER.search(s)) and not _COVERAGE.search(s)
    return True


def find_flags(packet: Packet, ladder: Ladder, units: list[Unit],
               injected: list[InjectionHit]) -> list[FlagFinding]:
    text = packet.text
    flags: list[FlagFinding] = []
    inj_flag = next((f for f in ladder.flags if f.detector == "injection"), None)
    if inj_flag is not None:
        flags += [FlagFinding(flag=inj_flag.id, quote=text[h.start:h.end], start=h.start, end=h.end,
                              rationale=f"{h.kind}: text aimed at the evaluator, treated as data")
                  for h in injected if h.flagged]
    known = vocabulary(text)
    voices = {"individual": 0, "team": 0, "unclear": 0}
    team_units: list[Unit] = []
    for unit in units:
        if packet.is_hidden(unit.start, unit.end) or any(
                h.start < unit.end and unit.start < h.end for h in injected):
            continue
        s = text[unit.start:unit.end]
        who = read(s, known, nomination=False).attribution
        voices[who] += 1
        if who == "team":
            team_units.append(unit)
        for flag in ladder.flags:
            if _fires(flag, s):
                flags.append(FlagFinding(flag=flag.id, quote=s, start=unit.start, end=unit.end,
                                         rationale=flag.definition))
    team_flag = next((f for f in ladder.flags if f.detector == "team_voice"), None)
    if team_flag is not None and voices["team"] >= 3 and voices["team"] > 2 * voices["individual"]:
        u = team_units[0]
        flags.append(FlagFinding(
            flag=team_flag.id, quote=text[u.start:u.end], start=u.start, end=u.end,
            rationale=f"{voices['team']} sentences say 'we' against {voices['individual']} "
                      "that say what the author did"))
    return flags
