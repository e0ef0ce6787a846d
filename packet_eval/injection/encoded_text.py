"""Find encoded text in a packet: base64, hex, percent-encoded and ROT13 runs.

An encoded run is never evidence, whatever it decodes to: a reader cannot see
what it says. There is no decoder per encoding beyond what it takes to tell
whether the run hides words (then it is flagged, since hidden words aimed at a
model are the only reason to encode prose in a promotion packet) or is just an
identifier such as a commit hash (then it is only kept out of evidence).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from urllib.parse import unquote

_BASE64 = re.compile(r"(?<![\w+/=])[A-Za-z0-9+/]{24,}={0,2}(?![\w+/=])")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){8,}")
# A link or token whose percent-escapes hide spaces: words behind a URL's query string.
_ESCAPED_WORDS = re.compile(r"\S*(?:%20|%3[Bb]|%3[Dd])\S*")
_HEX = re.compile(r"(?<![\w])(?:[0-9a-fA-F]{2}[\s:]?){16,}(?![\w])")
# Short words every English sentence uses; ROT13 turns them into non-words.
_COMMON = frozenset({
    "the", "and", "to", "of", "a", "in", "is", "this", "that", "for", "on", "as", "with", "be", "are",
    "you", "all", "your", "it", "at", "rate", "level", "staff", "senior", "previous", "instructions",
    "ignore", "packet", "candidate"})


@dataclass(frozen=True)
class EncodedRun:
    start: int
    end: int
    hides_words: bool
    decoded: str = ""  # the prose it hides, when it hides any


def _readable(raw: bytes) -> str:
    """The decoded prose, or "" when ``raw`` is not prose."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    prose = len(s) >= 8 and sum(c.isalpha() or c == " " for c in s) >= 0.8 * len(s) and " " in s
    return s if prose else ""


def _common_share(words: list[str]) -> float:
    return sum(w in _COMMON for w in words) / len(words) if words else 0.0


def rot13_hides_words(s: str) -> bool:
    """True when ``s`` reads as English after ROT13 and not before."""
    words = re.findall(r"[a-z]+", s.lower())
    if len(words) < 4:
        return False
    decoded = re.findall(r"[a-z]+", codecs.decode(s.lower(), "rot13"))
    return _common_share(decoded) >= 0.3 and _common_share(words) < 0.1


def find_encoded(text: str) -> list[EncodedRun]:
    """Base64 and hex runs in ``text``; ``hides_words`` when one decodes to prose."""
    runs: list[EncodedRun] = []
    for m in _BASE64.finditer(text):
        s = m.group(0)
        # A long identifier or path segment is letters only or one case; base64 mixes them.
        if not (re.search(r"[a-z]", s) and re.search(r"[A-Z]", s) and re.search(r"\d|[+/=]", s)):
            continue
        try:
            raw = base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        said = _readable(raw)
        runs.append(EncodedRun(m.start(), m.end(), bool(said), said))
    for m in _PERCENT.finditer(text):
        said = _readable(bytes.fromhex(m.group(0).replace("%", "")))
        runs.append(EncodedRun(m.start(), m.end(), bool(said), said))
    for m in _ESCAPED_WORDS.finditer(text):
        said = unquote(m.group(0))
        words = re.findall(r"[A-Za-z]{2,}", said)
        if said.count(" ") >= 3 and len(words) >= 4:
            runs.append(EncodedRun(m.start(), m.end(), True, said))
    for m in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", m.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            continue
        end = m.end()
        while end > m.start() and text[end - 1].isspace():
            end -= 1
        said = _readable(raw)
        runs.append(EncodedRun(m.start(), end, bool(said), said))
    return runs
