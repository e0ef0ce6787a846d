"""Evidence spans: when two character spans count as the same evidence, and tallies of matches.

Spans are ``(start, end)`` character offsets into the canonical packet text
(end exclusive). :func:`spans_match` is the one matching rule; recall and
precision are ``None`` where undefined (no gold or no predicted spans) so
callers leave such cells out of means rather than count them as 0 or 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packet_eval.agreement.records import Span


def _check_span(span: Span) -> None:
    if span[1] < span[0]:
        raise ValueError(f"malformed span {span!r}: end before start")


def spans_match(a: Span, b: Span) -> bool:
    """Whether two ``(start, end)`` character spans count as the same evidence.

    Rule: the overlap must be at least 50% of the *shorter* span's length. Calibrators
    tend to mark a clause while extractors quote the whole sentence; measuring overlap
    against the shorter span credits "the sentence containing the clause" while still
    rejecting spans that merely touch. Zero-length spans never match.

    Args:
        a: First span (end exclusive).
        b: Second span (end exclusive).

    Returns:
        True if the spans match.

    Raises:
        ValueError: If either span ends before it starts.
    """
    _check_span(a)
    _check_span(b)
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    # Integer form of overlap >= shorter / 2, so the 50% boundary is exact.
    return overlap > 0 and 2 * overlap >= shorter


def _matched_count(targets: Sequence[Span], candidates: Sequence[Span]) -> int:
    return sum(1 for t in targets if any(spans_match(t, c) for c in candidates))


def span_recall(gold_spans: Sequence[Span], pred_spans: Sequence[Span]) -> float | None:
    """Share of gold spans matched by at least one predicted span (see :func:`spans_match`).

    Args:
        gold_spans: Calibrator spans.
        pred_spans: Extractor spans.

    Returns:
        Recall, or ``None`` when there are no gold spans (undefined; callers should
        exclude it from means rather than count it as 0 or 1).
    """
    if not gold_spans:
        return None
    return _matched_count(gold_spans, pred_spans) / len(gold_spans)


def span_precision(gold_spans: Sequence[Span], pred_spans: Sequence[Span]) -> float | None:
    """Share of predicted spans that match at least one gold span (see :func:`spans_match`).

    Args:
        gold_spans: Calibrator spans.
        pred_spans: Extractor spans.

    Returns:
        Precision, or ``None`` when there are no predicted spans.
    """
    if not pred_spans:
        return None
    return _matched_count(pred_spans, gold_spans) / len(pred_spans)


@dataclass(frozen=True)
class SpanCounts:
    """Span match tallies; add them up to micro-average over packets.

    Attributes:
        gold_matched: Gold spans matched by some predicted span.
        gold_total: Gold spans.
        pred_matched: Predicted spans matching some gold span.
        pred_total: Predicted spans.
    """

    gold_matched: int = 0
    gold_total: int = 0
    pred_matched: int = 0
    pred_total: int = 0

    def __add__(self, other: SpanCounts) -> SpanCounts:
        return SpanCounts(
            self.gold_matched + other.gold_matched,
            self.gold_total + other.gold_total,
            self.pred_matched + other.pred_matched,
            self.pred_total + other.pred_total,
        )

    @property
    def recall(self) -> float | None:
        """Micro recall, ``None`` without gold spans."""
        return self.gold_matched / self.gold_total if self.gold_total else None

    @property
    def precision(self) -> float | None:
        """Micro precision, ``None`` without predicted spans."""
        return self.pred_matched / self.pred_total if self.pred_total else None


def evidence_span_counts(
    gold: Mapping[str, Sequence[Span]],
    pred: Mapping[str, Sequence[Span]],
    dimensions: Sequence[str] | None = None,
    *,
    match_dimension: bool = True,
) -> SpanCounts:
    """Tally span matches between two evidence mappings (one packet).

    Args:
        gold: Dimension id -> gold spans (e.g. ``Record.evidence``).
        pred: Dimension id -> predicted spans.
        dimensions: Dimensions to score; defaults to every key in either mapping.
        match_dimension: If True (default) a predicted span only matches gold spans of
            the same dimension. If False, spans are pooled across the selected
            dimensions (duplicates of the same offsets counted once) and matched
            regardless of dimension, which credits right-text-wrong-dimension evidence.

    Returns:
        The tallies.
    """
    dims = list(dimensions) if dimensions is not None else sorted(set(gold) | set(pred))
    if match_dimension:
        total = SpanCounts()
        for dim in dims:
            g = list(gold.get(dim, ()))
            p = list(pred.get(dim, ()))
            total += SpanCounts(_matched_count(g, p), len(g), _matched_count(p, g), len(p))
        return total
    g_all = sorted({tuple(s) for d in dims for s in gold.get(d, ())})
    p_all = sorted({tuple(s) for d in dims for s in pred.get(d, ())})
    g_spans: list[Span] = [(s[0], s[1]) for s in g_all]
    p_spans: list[Span] = [(s[0], s[1]) for s in p_all]
    return SpanCounts(
        _matched_count(g_spans, p_spans),
        len(g_spans),
        _matched_count(p_spans, g_spans),
        len(p_spans),
    )

