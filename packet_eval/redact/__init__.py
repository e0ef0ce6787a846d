"""Mask personal data before packet text leaves the machine.

Shaped details (emails, obfuscated emails, phones, national ids, addresses,
profile URLs, handles, badge and HR numbers: ``patterns.py``) and people's
names (a names list from an installed wheel plus position cues: ``names.py``)
are replaced by consistent placeholders (``[PERSON_1]``, ``[EMAIL_1]``): the
same original always gets the same placeholder, so the model can still tell
people apart. The map stays local. A quote the model returns is restored
(placeholders back to originals) and then grounded in the original canonical
text, so evidence offsets never refer to redacted text.

Names the caller lists (a committee's roster) are always masked, and every part
of a found full name is masked wherever it appears alone. Detection is measured,
not assumed: the planted-PII set's leak count is in SECURITY.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from packet_eval.redact.names import (
    CALENDAR,
    find_names,
    handles_for,
    is_listed_name,
    is_particle,
    short_forms,
    table_names,
)
from packet_eval.redact.patterns import find_patterns

_W = r"[A-Z\u00c0-\u00de\u0100-\u024f][\w\u00c0-\u024f\u0300-\u036f'’-]+"
_PARTICLE = r"(?:de|van|der|von|da|del|bin|al)"
_NAME = rf"(?:{_W}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_W}){{0,3}}|[\u4e00-\u9fff]{{2,4}})"
_NAME_SITES = [
    # "# Packet: Imani Okafor — Senior", "# Nomination: Sunil Varghese for Staff", "# Review — Zoë H"
    re.compile(rf"(?m)^#{{1,3}}[^\n:—–]*[:—–]\s*({_NAME})\s*(?:[—–,(|-]|\bfor\b|$)"),
    re.compile(rf"(?mi)^[ \t>*_|\"-]*(?:name|author|candidate|engineer|nominee|employee|manager|"
               rf"prepared by|submitted by|nominated by|nominator|from|reviewers?|mentor|lead|"
               rf"reviewed[ -]by|approved[ -]by|signed-off-by|co-authored-by|sponsor|"
               rf"peer reviewer|owner|contact|approver|cc|skip-level|director|hr partner|buddy)"
               rf"[*_\"]*\s*[:|]\s*[*_\"]*({_NAME})"),
    # JSON and YAML-ish keys anywhere on a line: {"author": "Ilse van der Berg", ...}
    re.compile(rf"(?i)[\"'](?:name|author|reviewer|committer|manager|candidate|owner|assignee|"
               rf"sponsor|mentor)[\"']\s*:\s*[\"']({_NAME})"),
    # Quote attributions: — Priya Raman, Staff Engineer   /   -- Jiří (peer)
    re.compile(rf"(?m)(?:^|[\"”’)]\s*)[ \t>*_]*(?:—|–|--|-)\s*({_NAME})\s*(?:[,(]|$)"),
    re.compile(rf"\b(?:[Nn]ominating|[Nn]ominate|[Nn]ominated by|[Ww]ritten by|[Mm]anaged by|"
               rf"[Ww]orked with|[Pp]aired with|[Mm]entored|[Tt]hanks to|"
               rf"[Mm]y (?:manager|lead|mentor|tech lead|peer|colleague)(?:,)?)\s+({_NAME})"),
    re.compile(rf"({_NAME})\s+(?:said|says|wrote|writes|told|notes|noted|commented|designed|reviewed)\b"),
    # Possessives mid-sentence: "into Søren’s existing agent".
    _POSSESSIVE := re.compile(rf"(?<=[a-z,;] )({_W})['’]s\b"),
    re.compile(rf"(?i:\b(?:maiden|first|last|family|given|middle|birth|legal|married)[ \t]+name"
               rf"[ \t]*(?:is|was|:)[ \t]*)(?-i:({_NAME}))"),
    # Honorifics, and the line after a closing word ("Best regards,\nName").
    re.compile(rf"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor|Sir|Dame)\.?[ \t]+({_NAME})"),
    re.compile(rf"(?mi)^[ \t>*_]*(?:(?:best|kind|warm|many)?[ \t]*regards|best(?: wishes)?|thanks|"
               rf"thank you|cheers|sincerely|yours(?: sincerely| truly)?|warmly|signed|respectfully)"
               rf"[ \t]*[,.!—–-]?[ \t]*\n[ \t>*_—–-]*(?-i:({_NAME}))"),
    _SIGN_OFF := re.compile(rf"(?m)^[ \t>*_—–-]*({_NAME})[ \t*_]*\n?\s*\Z"),
]
# A product can be possessive and a team can close a packet: these sites need a listed name.
_NEED_LISTED = (_POSSESSIVE, _SIGN_OFF)
_NOT_NAMES = {"She", "He", "They", "It", "Everyone", "Nobody", "Someone", "Senior", "Staff",
              "Junior", "Mid", "AI", "The", "This", "That", "We", "Our", "My", "I", "Summary",
              "Impact", "Team", "Engineer", "Manager", "Principal", "Lead", "Q1", "Q2", "Q3",
              "Q4", "Self", "Promotion", "Packet", "Review", "Nomination", "Case", "Growth",
              "Areas", "Level", "Software", "Machine", "Learning", "Platform", "Data", "Product",
              "Role", "Name", "Title", "Date", "Notes", "Status", "Comment", "Comments"}
@dataclass
class Redactor:
    """A placeholder map for one packet: ``redact`` text going out, ``restore`` text coming back."""

    mapping: dict[str, str] = field(default_factory=dict)  # original -> placeholder
    counts: dict[str, int] = field(default_factory=dict)

    def _add(self, kind: str, original: str) -> None:
        original = original.strip()
        if not original or original in self.mapping:
            return
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.mapping[original] = f"[{kind}_{self.counts[kind]}]"

    @classmethod
    def for_text(cls, text: str, names: Iterable[str] = ()) -> Redactor:
        r = cls()
        for kind, start, end in find_patterns(text):
            r._add(kind, text[start:end])
        listed = [n.strip() for n in names if n.strip()]
        found: list[str] = list(listed)
        for pattern in _NAME_SITES:
            for m in pattern.finditer(text):
                candidate = next((g for g in m.groups() if g), "").strip(" -'’")
                words = candidate.split()
                # A closing line may be a team ("Applied AI Platform"): it needs a listed name.
                while words and words[0] in _NOT_NAMES | CALENDAR:
                    words = words[1:]
                candidate = " ".join(words)
                if pattern in _NEED_LISTED and not any(is_listed_name(w) for w in words):
                    continue
                if words and not any(w in _NOT_NAMES for w in words):
                    found.append(candidate)
        found += find_names(text)
        found += table_names(text)
        found += handles_for(text, found)
        # Every part of a full name alone too; a listed name's parts whatever they look like.
        parts = {p for n in found for p in re.split(r"[\s,]+", n)
                 if len(p) >= 3 and p not in _NOT_NAMES and not p.startswith(("\"", "“"))
                 and not is_particle(p)}
        parts |= {p for n in listed for p in n.split() if len(p) >= 2}
        parts |= set(short_forms(text, parts))
        # Longest first, then by text: the same packet gets the same placeholders in every process
        # (a set's order changes with the hash seed, and batch results are restored in a later one).
        for name in sorted(set(found) | parts, key=lambda n: (-len(n), n)):
            if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
                r._add("PERSON", name)
        return r

    @property
    def applied(self) -> bool:
        return bool(self.mapping)

    def masked_spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, placeholder)`` of each masked stretch, longest originals first."""
        taken: list[tuple[int, int, str]] = []
        for original in sorted(self.mapping, key=len, reverse=True):
            pattern = rf"(?<![\w@/]){re.escape(original)}(?![\w])"
            for m in re.finditer(pattern, text):
                if not any(a < m.end() and m.start() < b for a, b, _ in taken):
                    taken.append((m.start(), m.end(), self.mapping[original]))
        return sorted(taken)

    def redact(self, text: str) -> str:
        out, pos = [], 0
        for start, end, placeholder in self.masked_spans(text):
            out += [text[pos:start], placeholder]
            pos = end
        return "".join([*out, text[pos:]])

    def restore(self, text: str) -> str:
        reverse = {v: k for k, v in self.mapping.items()}
        return re.sub(r"\[[A-Z_]+_\d+\]",
                      lambda m: reverse.get(m.group(), m.group()), text)
