"""Mask personal data before packet text leaves the machine.

Emails, phone numbers, URLs, employee ids and people's names are replaced by
consistent placeholders (``[PERSON_1]``, ``[EMAIL_1]``): the same original
always gets the same placeholder, so the model can still tell people apart.
The map stays local. A quote the model returns is restored (placeholders back
to originals) and then grounded in the original canonical text, so evidence
offsets never refer to redacted text.

Names are found where packets put them: the title line, fields such as
``Name:`` or ``Nominee:``, quote attributions (``— Priya Raman, Staff
Engineer``), "Nominating X", plus any names the caller lists. Every part of a
found full name is masked wherever it appears alone. This is pattern-based
and documented as such: a name in free prose that none of these patterns
reach is not masked, which is why callers can pass ``names``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_W = r"[A-Z\u00c0-\u00de\u0100-\u024f][\w\u00c0-\u024f\u0300-\u036f'’-]+"
_PARTICLE = r"(?:de|van|der|von|da|del|bin|al)"
_NAME = rf"(?:{_W}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_W}){{0,3}}|[\u4e00-\u9fff]{{2,4}})"
_NAME_SITES = [
    # "# Packet: Imani Okafor — Senior", "# Nomination: Sunil Varghese for Staff", "# Review — Zoë H"
    re.compile(rf"(?m)^#{{1,3}}[^\n:—–]*[:—–]\s*({_NAME})\s*(?:[—–,(|-]|\bfor\b|$)"),
    re.compile(rf"(?mi)^[ \t>*_-]*(?:name|author|candidate|engineer|nominee|employee|manager|"
               rf"prepared by|submitted by|nominated by|nominator|from|reviewer|mentor|lead)"
               rf"[*_]*\s*[:|]\s*[*_]*({_NAME})"),
    # Quote attributions: — Priya Raman, Staff Engineer   /   -- Jiří (peer)
    re.compile(rf"(?m)(?:^|[\"”’)]\s*)[ \t>*_]*(?:—|–|--|-)\s*({_NAME})\s*(?:[,(]|$)"),
    re.compile(rf"\b(?:[Nn]ominating|[Nn]ominate|[Nn]ominated by|[Ww]ritten by|[Mm]anaged by|"
               rf"[Ww]orked with|[Pp]aired with|[Mm]entored|[Tt]hanks to|"
               rf"[Mm]y (?:manager|lead|mentor|tech lead|peer|colleague)(?:,)?)\s+({_NAME})"),
    re.compile(rf"({_NAME})\s+(?:said|says|wrote|writes|told|notes|noted|commented|designed|reviewed)\b"),
    # Possessives mid-sentence: "into Søren’s existing agent".
    re.compile(rf"(?<=[a-z,;] )({_W})['’]s\b"),
    # A sign-off: a short line of capitalised words near the end of the packet.
    re.compile(rf"(?m)^[ \t>*_—–-]*({_NAME})[ \t*_]*\n?\s*\Z"),
]
_NOT_NAMES = {"She", "He", "They", "It", "Everyone", "Nobody", "Someone", "Senior", "Staff",
              "Junior", "Mid", "AI", "The", "This", "That", "We", "Our", "My", "I", "Summary",
              "Impact", "Team", "Engineer", "Manager", "Principal", "Lead", "Q1", "Q2", "Q3",
              "Q4", "Self", "Promotion", "Packet", "Review", "Nomination", "Case", "Growth",
              "Areas", "Level", "Software", "Machine", "Learning", "Platform", "Data", "Product"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://[^\s)>\]]+|\bwww\.[^\s)>\]]+|\bgo/[\w./#-]+")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,}\d(?![\w.])")
_EMPLOYEE_ID = re.compile(r"\b(?:EMP|EID|emp|eid)[-_#: ]?\d{3,}\b|"
                          r"\b(?:employee|staff)\s+(?:id|number|no\.?)\s*[:#]?\s*[A-Z0-9-]{3,}\b",
                          re.IGNORECASE)


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


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
        for m in _EMAIL.finditer(text):
            r._add("EMAIL", m.group())
        for m in _URL.finditer(text):
            r._add("URL", m.group().rstrip(".,;:"))
        for m in _EMPLOYEE_ID.finditer(text):
            r._add("EMPLOYEE_ID", m.group())
        for m in _PHONE.finditer(text):
            if 9 <= _digits(m.group()) <= 15 and not re.fullmatch(r"[\d.]+", m.group()):
                r._add("PHONE", m.group())
        found: list[str] = [n.strip() for n in names if n.strip()]
        for pattern in _NAME_SITES:
            for m in pattern.finditer(text):
                candidate = next((g for g in m.groups() if g), "").strip(" -'’")
                words = candidate.split()
                if words and not any(w in _NOT_NAMES for w in words):
                    found.append(candidate)
        # Longest first, so "Priya Raman" is masked whole before "Priya" alone.
        parts = {p for n in found for p in n.split() if len(p) >= 3 and p not in _NOT_NAMES}
        for name in sorted(set(found) | parts, key=len, reverse=True):
            if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
                r._add("PERSON", name)
        return r

    @property
    def applied(self) -> bool:
        return bool(self.mapping)

    def redact(self, text: str) -> str:
        for original in sorted(self.mapping, key=len, reverse=True):
            pattern = rf"(?<![\w@/]){re.escape(original)}(?![\w])"
            text = re.sub(pattern, self.mapping[original], text)
        return text

    def restore(self, text: str) -> str:
        reverse = {v: k for k, v in self.mapping.items()}
        return re.sub(r"\[(?:PERSON|EMAIL|URL|PHONE|EMPLOYEE_ID)_\d+\]",
                      lambda m: reverse.get(m.group(), m.group()), text)
