"""Fold text to what a reader sees before the injection detector judges it.

NFKC first (full-width letters, ligatures, styled mathematical letters), then
zero-width and bidi control characters are removed, then letters that look
like Latin ones (Cyrillic, Greek, a few others) are folded to Latin. Folding
is for detection only: evidence is always quoted from the original text.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters, soft hyphen, word joiners and the bidi embedding,
# override and isolate controls: invisible to a reader, so nothing for a detector.
INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# Letters that render like Latin letters (a subset of Unicode's confusables list:
# the ones that appear in real homoglyph attacks on English words).
_CONFUSABLE = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ո": "n", "ս": "u",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "ι": "i", "κ": "k", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII
    "ı": "i", "ȷ": "j", "ℓ": "l",
}
_FOLD = str.maketrans(_CONFUSABLE)
_NON_LATIN_LETTER = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def fold(text: str) -> str:
    """``text`` as a detector should read it: NFKC, invisible controls removed, look-alikes folded.

    Look-alikes are folded only inside words that mix them with Latin letters, so
    a name written wholly in Cyrillic or Greek stays as it is.
    """
    s = INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    if not _NON_LATIN_LETTER.search(s):
        return s
    return re.sub(r"\w+", lambda m: m.group(0).translate(_FOLD)
                  if _LATIN_LETTER.search(m.group(0)) else m.group(0), s)


def obfuscated(text: str) -> bool:
    """True when ``text`` hides its words: invisible controls between letters, or mixed-script words."""
    s = unicodedata.normalize("NFKC", text)
    if re.search(r"\w" + INVISIBLE.pattern + r"+\w", s):
        return True
    return any(_LATIN_LETTER.search(w) and _NON_LATIN_LETTER.search(w) for w in re.findall(r"\w+", s))
