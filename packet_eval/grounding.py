"""Grounding: turn a proposed quote into a span of the canonical packet text.

An extractor (an LLM especially) proposes quotes; only spans of the real text
are ever shown. Matching tries, in order:

1. ``exact``: the quote occurs verbatim.
2. ``normalized``: equal after folding case, curly quotes, dashes, ellipses,
   zero-width characters, markdown emphasis and runs of whitespace. A map from
   normalized to original offsets gives the span back in the original text.
3. ``fuzzy``: the best rapidfuzz partial alignment in normalized space, snapped
   to word boundaries, accepted at ``FUZZY_THRESHOLD`` or above.

Whatever matched, the returned span's ``quote`` is ``text[start:end]`` and
replaces the proposed text. Quotes with an ellipsis are split into their
parts, each grounded separately. Quotes shorter than ``MIN_WORDS`` words are
rejected: one word "matches" everywhere and proves nothing.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

FUZZY_THRESHOLD = 90.0
MIN_WORDS = 3
MIN_CHARS = 12

_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
}
# Markdown emphasis and code markers carry no words; dropping them lets
# "I **built** it" match "I built it".
_DROP = set("*_~") | {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
# A closing mark just before an ellipsis and an opening one just after it are left
# over from quoting each part ('"A" ... "B"'), so they go with the ellipsis.
_ELLIPSIS = re.compile(r"[\"'\u201d\u2019]?\s*(?:\.\s?\.\s?\.|\u2026)\s*[\"'\u201c\u2018]?")


@dataclass(frozen=True)
class Span:
    """A grounded span: ``quote == text[start:end]`` by construction."""

    quote: str
    start: int
    end: int
    match: str  # exact | normalized | fuzzy
    score: float


@dataclass(frozen=True)
class _Normalized:
    text: str
    to_orig: tuple[int, ...]  # normalized index -> original index


def _fold_char(ch: str) -> str:
    if ch in _DROP:
        return ""
    if ch in _FOLD:
        return _FOLD[ch]
    if ch == "\u2026":
        return "..."
    if ch.isspace():
        return " "
    # NFKD, not NFKC: per character, only full decomposition makes a precomposed
    # "ë" and "e" + combining diaeresis fold to the same string.
    folded = unicodedata.normalize("NFKD", ch).lower()
    return folded


def normalize(text: str) -> _Normalized:
    """Fold ``text`` for matching, keeping each output char's original index."""
    out: list[str] = []
    to_orig: list[int] = []
    for i, ch in enumerate(text):
        for f in _fold_char(ch):
            if f == " " and (not out or out[-1] == " "):
                continue
            out.append(f)
            to_orig.append(i)
    if out and out[-1] == " ":
        out.pop()
        to_orig.pop()
    return _Normalized("".join(out), tuple(to_orig))


@lru_cache(maxsize=32)
def _normalized_cached(text: str) -> _Normalized:
    return normalize(text)


def _span(text: str, start: int, end: int, match: str, score: float) -> Span:
    return Span(text[start:end], start, end, match, score)


_QUOTE_CHARS = "\"'\u201c\u201d\u2018\u2019"


def _unwrap(quote: str) -> str:
    """Drop one pair of wrapping quote marks, which models often add around a quote."""
    if len(quote) > 2 and quote[0] in _QUOTE_CHARS and quote[-1] in _QUOTE_CHARS:
        return quote[1:-1].strip()
    return quote


def _too_short(quote: str) -> bool:
    return len(quote.split()) < MIN_WORDS or len(quote.strip()) < MIN_CHARS


def _nearest(text: str, needle: str, hint: int, forward: bool = False) -> int:
    """Index of the occurrence of ``needle`` nearest to ``hint`` (-1 if absent).

    With ``forward``, the first occurrence at or after ``hint`` wins if there is one.
    """
    if forward:
        pos = text.find(needle, max(hint, 0))
        if pos != -1:
            return pos
    best = -1
    pos = text.find(needle)
    while pos != -1:
        if best == -1 or abs(pos - hint) < abs(best - hint):
            best = pos
        if pos > hint:
            break
        pos = text.find(needle, pos + 1)
    return best


def ground_one(quote: str, text: str, hint: int = 0, forward: bool = False) -> Span | None:
    """Ground a quote with no ellipsis; None if it is too short or not in the text.

    ``hint`` is an offset in ``text``; ``forward`` prefers matches at or after it.
    """
    stripped = _unwrap(quote.strip())
    if _too_short(stripped):
        return None
    pos = _nearest(text, stripped, hint, forward)
    if pos != -1:
        return _span(text, pos, pos + len(stripped), "exact", 100.0)
    norm_text = _normalized_cached(text)
    norm_quote = normalize(stripped).text
    if _too_short(norm_quote):
        return None
    # The hint is an offset in the original text; move it into normalized space.
    nhint = bisect.bisect_left(norm_text.to_orig, hint)
    npos = _nearest(norm_text.text, norm_quote, nhint, forward)
    if npos != -1:
        start = norm_text.to_orig[npos]
        end = norm_text.to_orig[npos + len(norm_quote) - 1] + 1
        return _span(text, start, end, "normalized", 100.0)
    return _fuzzy(norm_quote, norm_text, text)


def _fuzzy(norm_quote: str, norm_text: _Normalized, text: str) -> Span | None:
    haystack = norm_text.text
    if len(norm_quote) > len(haystack):
        return None
    aligned = fuzz.partial_ratio_alignment(norm_quote, haystack, score_cutoff=FUZZY_THRESHOLD)
    if aligned is None:
        return None
    # Snap to whole words so a span never starts or ends mid-word. An alignment
    # edge on a space is ambiguous (a short word missed, or the word beyond the
    # space pulled in), so keep whichever snapping agrees better with the quote.
    start, end = max(
        (_snap_to_words(haystack, aligned.dest_start, aligned.dest_end, trim_first)
         for trim_first in (False, True)),
        key=lambda se: fuzz.ratio(norm_quote, haystack[se[0]:se[1]]))
    candidate = haystack[start:end]
    score = fuzz.ratio(norm_quote, candidate)
    if score < FUZZY_THRESHOLD or _too_short(candidate):
        return None
    return _span(text, norm_text.to_orig[start], norm_text.to_orig[end - 1] + 1, "fuzzy", score)


def _snap_to_words(haystack: str, start: int, end: int, trim_first: bool) -> tuple[int, int]:
    if trim_first:
        while start < end and haystack[start] == " ":
            start += 1
        while end > start and haystack[end - 1] == " ":
            end -= 1
    while start > 0 and haystack[start - 1].isalnum():
        start -= 1
    while end < len(haystack) and haystack[end].isalnum():
        end += 1
    while start < end and haystack[start] == " ":
        start += 1
    while end > start and haystack[end - 1] == " ":
        end -= 1
    return start, end


def split_ellipsis(quote: str) -> list[str]:
    """Split a quote at ``...`` / ``…`` into its non-empty parts."""
    return [part for part in _ELLIPSIS.split(quote) if part.strip()]


def ground(quote: str, text: str, hint: int = 0) -> list[Span]:
    """Ground a proposed quote; returns one span per grounded part ([] if none).

    A quote with an ellipsis yields one span per part that grounds; parts that
    are too short to prove anything on their own are dropped.
    """
    # Marks wrapping the whole quote belong to it, not to its first and last parts.
    parts = split_ellipsis(_unwrap(quote.strip())) if _ELLIPSIS.search(quote) else [quote]
    spans: list[Span] = []
    cursor = hint
    for part in parts:
        # After an ellipsis the next part comes later in the text, so look forward.
        span = ground_one(part, text, cursor, forward=bool(spans))
        if span is not None:
            spans.append(span)
            cursor = span.end
    return spans
