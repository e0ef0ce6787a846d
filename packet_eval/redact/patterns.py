"""Personal data with a shape: contact details, ids, addresses, profile URLs, handles.

Each recognizer is a regular expression with a kind (the placeholder's name).
They cover what Microsoft Presidio's pattern recognizers cover for these
packets (emails, phones, URLs, national ids, IPs) plus what promotion packets
hold that Presidio has no recognizer for: obfuscated emails ("jo [at] x [dot]
io"), badge and HR numbers, street addresses with UK postcodes or US ZIP codes,
licence plates, IBAN-like accounts, MAC addresses, chat handles and leave
disclosures. Presidio itself is not used: its analyzer needs spaCy and a model
download at run time, and nothing here may download a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_AT = r"\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|\s+at\s+)\s*"
_DOT = r"\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|\s+dot\s+)\s*"
_STREET = (r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Close|Court|Ct|Crescent|"
           r"Place|Pl|Boulevard|Blvd|Terrace|Gardens|Square|Sq|Row|Mews|Hill|Park|Parkway|"
           r"Straße|Strasse|straße|strasse|weg|laan|straat|gracht|Rue|Via|Calle|Avenida)")
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
_US_STATE_ZIP = r"[A-Z]{2}\s+\d{5}(?:-\d{4})?"

# (kind, pattern), tried in this order; a later match inside an earlier one is skipped.
RECOGNIZERS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("EMAIL", re.compile(rf"\b[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)+\b", re.IGNORECASE)),
    ("URL", re.compile(r"\bhttps?://[^\s)>\]\"'`]+|\bwww\.[^\s)>\]\"'`]+|\bgo/[\w./#-]+")),
    # Profile links written without a scheme: github.com/x, linkedin.com/in/x, huggingface.co/x.
    ("URL", re.compile(r"\b(?:[\w-]+\.)+(?:com|io|dev|org|net|me|co|ai|app|page|site|uk|de|fr|"
                       r"nl|ie|in|social)/[^\s)>\]\"'`,]+")),
    ("HANDLE", re.compile(r"(?<![\w.@/])@[A-Za-z0-9][\w.-]*[A-Za-z0-9_](?:@[\w-]+(?:\.[\w-]+)+)?")),
    ("ADDRESS", re.compile(
        rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][\w'’-]+\s+){{1,3}}{_STREET}\b\.?"
        rf"(?:,?\s+(?:[A-Z][a-z][\w'’-]*\s?){{1,3}})?(?:,?\s*(?:{_UK_POSTCODE}|{_US_STATE_ZIP}|\d{{4,5}}))?")),
    ("ADDRESS", re.compile(rf"\b(?:{_UK_POSTCODE})\b")),
    # An id named by its keyword: whatever its format, the value after the keyword is masked.
    ("NATIONAL_ID", re.compile(
        r"(?i:\b(?:passport|tax|steuer|BSN|SIN|PAN|SSN|social security|national insurance|NI|"
        r"PPS|PPSN|personnummer|national|licen[cs]e|driver'?s licen[cs]e|IBAN|account|sort code)"
        r"(?:[ \t-]?(?:id|no\.?|number|nr\.?|code|#))?[ \t]*[:#]?[ \t]*(?:is[ \t]+)?)"
        r"((?=[A-Z0-9 .-]*\d)[A-Z0-9][A-Z0-9.-]*(?:[ ][A-Z0-9][A-Z0-9.-]*){0,6}\b)")),
    ("NATIONAL_ID", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),  # US SSN
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{1,2}\d{6,9}\b")),  # passport-style letters and digits
    ("NATIONAL_ID", re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")),  # UK NI
    ("NATIONAL_ID", re.compile(r"\b\d{3}[ -]\d{3}[ -]\d{3}\b")),  # Canadian SIN, Dutch BSN
    ("NATIONAL_ID", re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b")),  # Indian PAN
    ("ACCOUNT", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")),  # IBAN
    ("MAC", re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b")),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("PLATE", re.compile(r"\b[A-Z]{2}\d{2}\s[A-Z]{3}\b|\b\d{2,3}-[A-Z]{1,2}-\d{1,6}\b")),
    ("EMPLOYEE_ID", re.compile(
        r"\b(?:EMP|EID|emp|eid)[-_#: ]?\d{3,}\b|"
        r"\b(?:employee|staff|personnel|badge|payroll|HR)\s+(?:id|number|no\.?|#)?\s*[:#]?\s*"
        r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,}\b", re.IGNORECASE)),
    # Letters then digit groups: B-77102, HR-2290-5517 (four digits or more, so GPT-4 stays).
    ("EMPLOYEE_ID", re.compile(r"\b[A-Z]{1,4}-(?=(?:\d-?){4,})\d+(?:-\d+)*\b")),
    ("DATE", re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b")),
    ("PHONE", re.compile(r"\b555[-. ]\d{4}\b")),  # North America's fictional short form
    ("PHONE", re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,}\d(?:\s*(?:ext\.?|x)\s*\d{1,6})?(?!\w|\.\d)")),
    ("LEAVE", re.compile(
        r"\b(?:parental|maternity|paternity|medical|sick|bereavement|disability|stress)\s+leave"
        r"(?:\s+(?:from|until|since|starting|in)\s+(?:\d{1,2}\s+[A-Z][a-z]+|[A-Z][a-z]+\s+\d{1,2}|"
        r"[A-Z][a-z]+))?", re.IGNORECASE)),
    ("HEALTH", re.compile(
        r"\b(?:diagnosed with|treatment for|recovering from|signed off sick|off sick|"
        r"surgery|chemotherapy|therapy for|my (?:condition|diagnosis|illness|disability))"
        r"\b[^.;\n]{0,40}", re.IGNORECASE)),
]


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _plausible(kind: str, s: str) -> bool:
    if kind == "PHONE":
        core = re.sub(r"\s*(?:ext\.?|x)\s*\d+$", "", s)
        return 9 <= _digits(core) <= 15 and not re.fullmatch(r"[\d.]+", core)
    if kind == "IP":
        return all(int(p) <= 255 for p in s.split("."))
    if kind == "ACCOUNT":
        return _digits(s) >= 10
    return True


def find_patterns(text: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of every shaped personal detail, first recognizer wins on overlap."""
    taken: list[tuple[int, int]] = []
    for kind, pattern in RECOGNIZERS:
        for m in pattern.finditer(text):
            start, end = m.span(1) if pattern.groups else m.span()
            s = text[start:end].rstrip(".,;:")
            end = start + len(s)
            if not s or not _plausible(kind, s):
                continue
            if any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            yield kind, start, end
