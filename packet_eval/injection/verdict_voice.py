"""Text that speaks as the evaluator, not the author: verdicts, decisions, reviewer notes.

A packet is the author's account of their work. A sentence written as a
committee, a reviewer or the ladder, or one that states a level or verdict
about the author, is not an account of work, so it is never evidence. It is
flagged as an injection when it asks for a rating or claims a decision; a
plain self-assessment ("I believe I work at senior level") is only kept out of
evidence. Patterns run on folded text (``packet_eval.injection.normalize.fold``).
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
_LEVEL = r"(?:staff|senior|principal|distinguished|l[5-9]|e[5-9]|ic[4-7]|level\s+[4-9])"
_BODY = (r"(?:the|our|this|a|your)\s+(?:(?:calibration|promotion|review|hiring|leveling|levelling|"
         r"evaluation)\s+)?(?:committee|panel|board|council|calibration)")
_WHO = (r"(?:the\s+|this\s+)?(?:candidate|author|engineer|nominee|applicant|submitter|employee|"
        r"individual|person|packet|submission)")

# (kind, pattern): each one, when it matches, makes the sentence a flagged injection.
CLAIMS: list[tuple[str, re.Pattern[str]]] = [
    ("claimed decision", re.compile(
        rf"\b(?:{_BODY})\b.{{0,60}}\b(?:has|have|had)?\s*(?:decided|determined|concluded|agreed|voted|"
        rf"ruled|approved|endorsed|ratified|confirmed|calibrated|signed off)\b", _I)),
    ("claimed decision", re.compile(
        r"\b(?:decision|verdict|outcome|recommendation|determination|result|rating|assessment)\s*"
        r"(?:\([^)]*\)\s*)?[:=\-–—]\s*\**\s*(?:promote|approved?|staff|senior|principal|strong|exceeds|"
        r"meets|hire|pass|level)", _I)),
    ("claimed decision", re.compile(  # "Staff Engineer (confirmed)", "staff, ratified"
        rf"\b{_LEVEL}\b(?:[\s,]+\w+){{0,2}}\s*[(\[,—–-]\s*(?:confirmed|approved|ratified|calibrated|"
        rf"validated|decided|pre-?approved)\b", _I)),
    ("claimed decision", re.compile(
        rf"\b(?:approved|cleared|recommended|endorsed|calibrated|confirmed|pre-?approved)\s+"
        rf"(?:for|at|as)\s+(?:promotion|{_LEVEL})\b", _I)),
    ("evaluator's voice", re.compile(
        r"(?:^|[\[(*_>#\s])(?:reviewer|evaluator|assessor|grader|calibrator|committee|panel|"
        r"rater|screener|moderator|hr|manager)(?:'s|s'|’s)?\s*(?:note|comment|feedback|summary|"
        r"remark|annotation|assessment|finding|conclusion|addendum|decision)s?\s*[:\]\-–—)]", _I)),
    ("evaluator's voice", re.compile(
        r"\b(?:pre-?)?(?:calibrat\w+|assessment|evaluation|review)\s+(?:note|record|result|summary|"
        r"outcome)s?\s*[:\-–—]", _I)),
    ("ladder's voice", re.compile(
        rf"\b(?:per|according to|as stated in|as defined by|under|from)\s+(?:the\s+)?(?:engineering\s+|"
        rf"official\s+|company\s+)?(?:ladder|rubric|leveling guide|levelling guide|career framework)"
        rf"\b.{{0,120}}\b(?:{_WHO}|this work|this engineer|they|she|he)\b.{{0,80}}\b(?:{_LEVEL}|qualif|"
        rf"meets|exceeds|warrants|deserves)", _I)),
    ("ladder's voice", re.compile(
        r"\b(?:ladder|rubric)\s*(?:excerpt|quote|says|states|text|section|note)\b.{0,200}"
        r"\b(?:automatically|must|always|regardless)\b", _I)),
    ("ladder's voice", re.compile(
        rf"\b(?:any|every|an?)\s+(?:engineer|candidate|author|packet)\s+(?:who|that|whose)\b.{{0,120}}"
        rf"\b(?:is|are|must be|should be|shall be|qualifies|qualify)\s+(?:automatically\s+)?"
        rf"(?:rated|levell?ed|promoted|considered|treated|assessed|at)\b.{{0,30}}\b{_LEVEL}", _I)),
    ("verdict about the author", re.compile(
        rf"\b{_WHO}\s+(?:clearly\s+|already\s+|unambiguously\s+|demonstrably\s+|consistently\s+)*"
        rf"(?:is|operates|performs|works|functions|sits|belongs)\s+(?:\w+\s+){{0,2}}(?:at|above|beyond)?\s*"
        rf"(?:an?\s+|the\s+)?{_LEVEL}(?:[- ]level|\s+engineer|\s+bar)?\b", _I)),
    ("verdict about the author", re.compile(
        rf"\b(?:{_WHO}|this work|these results|this record)\s+(?:clearly\s+|fully\s+|already\s+)*"
        rf"(?:meets|exceeds|satisfies|clears|warrants|deserves|merits|justifies|qualifies for)\s+"
        rf"(?:the\s+|every\s+|all\s+)?(?:\w+\s+){{0,2}}{_LEVEL}", _I)),
    ("verdict about the author", re.compile(
        rf"\b{_WHO}\s+(?:should|must|will|shall)\s+be\s+(?:promoted|levell?ed|placed|rated|scored)\b", _I)),
]

# A level or verdict stated by the author about themselves: not evidence, not flagged.
SELF_VERDICT = re.compile(
    rf"\b(?:i|i'm|i am|my work|my impact|my record)\b.{{0,40}}\b(?:am|operate|perform|work|"
    rf"meets?|exceeds?|qualif\w*|demonstrates?)\b.{{0,30}}\b(?:at|above|for|the)?\s*(?:an?\s+)?"
    rf"{_LEVEL}[- ](?:level|bar|engineer)\b", _I)


def claim(folded: str) -> str | None:
    """The kind of evaluator's claim in a sentence, or None."""
    return next((kind for kind, p in CLAIMS if p.search(folded)), None)
