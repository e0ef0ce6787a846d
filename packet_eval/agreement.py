"""Agreement metrics between extractor predictions and calibrator labels.

The module is layered so each layer can be used (and tested) on its own:

1. Primitive ordinal metrics on two equal-length sequences of level strings plus the
   caller's ordered ``levels`` (exact / within-one accuracy, MAE in level steps, Cohen's
   kappa, confusion matrix) and Krippendorff's alpha for any number of raters with
   missing ratings.
2. Evidence-span matching (character-overlap rule), per-flag precision/recall/F1, and
   metamorphic invariance helpers.
3. A percentile bootstrap over packets.
4. Report builders (:func:`agreement_report`, :func:`pairwise_rater_agreement`,
   :func:`self_consistency`) that align :class:`Record` objects by ``packet_id`` and
   return plain, JSON-serialisable dicts (``None`` wherever a metric is undefined,
   never NaN or numpy scalars).

Level names, dimension ids and flag names always come from the caller (the ladder
file); nothing here knows any of them.

Degenerate-case conventions (where the textbook statistic is 0/0):

* Cohen's kappa and Krippendorff's alpha return ``1.0`` when the expected
  disagreement is zero, i.e. every rating is the same single level. Zero expected
  disagreement forces zero observed disagreement, so the agreement really is perfect;
  it is just not *chance-corrected* evidence of anything. scikit-learn returns NaN
  here (its ``replace_undefined_by`` default) and the ``krippendorff`` package
  returns NaN (or raises when the observed value domain has one element); we prefer a
  number so that "perfect agreement gives 1.0" holds without exceptions.
* Krippendorff's alpha is ``None`` when no unit has two or more ratings (nothing is
  pairable); ``krippendorff.alpha`` raises in that case.
* Empty inputs to the primitive two-sequence metrics raise ``ValueError``; the report
  builders turn "no data" into ``None`` instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ChangeDirection",
    "FlagScores",
    "KappaWeights",
    "LevelOfMeasurement",
    "Record",
    "Span",
    "SpanCounts",
    "agreement_report",
    "bootstrap_ci",
    "change_direction",
    "ci_cohen_kappa",
    "ci_exact_accuracy",
    "cohen_kappa",
    "confusion_matrix",
    "evidence_span_counts",
    "exact_accuracy",
    "flag_metrics",
    "invariance_rate",
    "krippendorff_alpha",
    "mean_absolute_error",
    "pair_change_directions",
    "pairwise_rater_agreement",
    "self_consistency",
    "span_precision",
    "span_recall",
    "spans_match",
    "within_one_accuracy",
]

Span = tuple[int, int]
KappaWeights = Literal["linear", "quadratic"] | None
LevelOfMeasurement = Literal["nominal", "ordinal", "interval"]
ChangeDirection = Literal["up", "down", "same"]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Record:
    """One packet's labels, from either a calibrator or the extractor.

    Attributes:
        packet_id: Identifier used to align gold and predicted records.
        level: Overall level (one of the caller's ordered levels).
        dimensions: Dimension id -> level.
        evidence: Dimension id -> evidence spans as ``(start, end)`` character
            offsets into the packet text (end exclusive).
        flags: Flag names raised for the packet.
    """

    packet_id: str
    level: str
    dimensions: Mapping[str, str]
    evidence: Mapping[str, Sequence[Span]]
    flags: frozenset[str]


# ---------------------------------------------------------------------------
# Ordinal level metrics
# ---------------------------------------------------------------------------


def _level_index(levels: Sequence[str]) -> dict[str, int]:
    index = {level: i for i, level in enumerate(levels)}
    if not index:
        raise ValueError("levels must not be empty")
    if len(index) != len(levels):
        raise ValueError(f"levels must be unique, got {list(levels)!r}")
    return index


def _encode(values: Sequence[str], index: Mapping[str, int]) -> IntArray:
    try:
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as exc:
        raise ValueError(
            f"unknown level {exc.args[0]!r}; expected one of {list(index)!r}"
        ) from None


def _encode_pair(
    a: Sequence[str], b: Sequence[str], levels: Sequence[str]
) -> tuple[IntArray, IntArray]:
    if len(a) != len(b):
        raise ValueError(f"sequences differ in length: {len(a)} != {len(b)}")
    if len(a) == 0:
        raise ValueError("cannot compute agreement on empty sequences")
    index = _level_index(levels)
    return _encode(a, index), _encode(b, index)


def exact_accuracy(a: Sequence[str], b: Sequence[str], levels: Sequence[str]) -> float:
    """Share of items on which both sequences give the same level.

    Args:
        a: Levels from the first rater (gold).
        b: Levels from the second rater (predicted), same length as ``a``.
        levels: Ordered level names, lowest first.

    Returns:
        Fraction in ``[0, 1]``.

    Raises:
        ValueError: On empty or unequal-length input, or a level not in ``levels``.
    """
    ca, cb = _encode_pair(a, b, levels)
    return float(np.mean(ca == cb))


def within_one_accuracy(a: Sequence[str], b: Sequence[str], levels: Sequence[str]) -> float:
    """Share of items whose levels differ by at most one step on the ladder.

    Args:
        a: Levels from the first rater (gold).
        b: Levels from the second rater (predicted).
        levels: Ordered level names, lowest first.

    Returns:
        Fraction in ``[0, 1]``.

    Raises:
        ValueError: On empty or unequal-length input, or a level not in ``levels``.
    """
    ca, cb = _encode_pair(a, b, levels)
    return float(np.mean(np.abs(ca - cb) <= 1))


def mean_absolute_error(a: Sequence[str], b: Sequence[str], levels: Sequence[str]) -> float:
    """Mean absolute difference in ladder steps (position in ``levels``).

    Args:
        a: Levels from the first rater (gold).
        b: Levels from the second rater (predicted).
        levels: Ordered level names, lowest first.

    Returns:
        Mean number of steps between paired levels.

    Raises:
        ValueError: On empty or unequal-length input, or a level not in ``levels``.
    """
    ca, cb = _encode_pair(a, b, levels)
    return float(np.mean(np.abs(ca - cb)))


def _kappa_weights(k: int, weights: KappaWeights) -> IntArray:
    grid = np.arange(k, dtype=np.int64)
    diff = grid[:, None] - grid[None, :]
    if weights is None:
        return (diff != 0).astype(np.int64)
    if weights == "linear":
        return np.abs(diff)
    if weights == "quadratic":
        return diff**2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def _kappa_from_codes(ca: IntArray, cb: IntArray, k: int, w: IntArray) -> float:
    n = len(ca)
    cm = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k)
    # Integer arithmetic: kappa = 1 - n*sum(w*O) / sum(w*outer(rows, cols)). Keeping both
    # sides integral makes e.g. a constant predictor come out at exactly 0.0.
    observed = int(n * (w * cm).sum())
    expected = int((w * np.outer(cm.sum(axis=1), cm.sum(axis=0))).sum())
    if expected == 0:
        # Only reachable when every rating is the same level, which also forces
        # observed == 0: perfect (if uninformative) agreement. sklearn gives NaN.
        return 1.0
    return 1.0 - observed / expected


def cohen_kappa(
    a: Sequence[str],
    b: Sequence[str],
    levels: Sequence[str],
    weights: KappaWeights = None,
) -> float:
    """Cohen's kappa, optionally linearly or quadratically weighted by ladder distance.

    Matches ``sklearn.metrics.cohen_kappa_score(a, b, labels=levels, weights=weights)``
    wherever sklearn is defined. When every rating in both sequences is the same level
    the expected disagreement is zero and sklearn returns NaN; this returns ``1.0``
    (observed agreement is then necessarily perfect).

    Args:
        a: Levels from the first rater (gold).
        b: Levels from the second rater (predicted).
        levels: Ordered level names, lowest first (also the weight scale).
        weights: ``None`` (unweighted), ``"linear"`` or ``"quadratic"``.

    Returns:
        Kappa in ``[-1, 1]``.

    Raises:
        ValueError: On empty or unequal-length input, an unknown level or bad weights.
    """
    ca, cb = _encode_pair(a, b, levels)
    k = len(levels)
    return _kappa_from_codes(ca, cb, k, _kappa_weights(k, weights))


def confusion_matrix(a: Sequence[str], b: Sequence[str], levels: Sequence[str]) -> pd.DataFrame:
    """Confusion matrix with every level present, in ladder order.

    Args:
        a: Gold levels (rows).
        b: Predicted levels (columns).
        levels: Ordered level names, lowest first.

    Returns:
        Integer DataFrame; index named ``"gold"``, columns named ``"predicted"``.

    Raises:
        ValueError: On empty or unequal-length input, or a level not in ``levels``.
    """
    ca, cb = _encode_pair(a, b, levels)
    k = len(levels)
    cm = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        cm,
        index=pd.Index(list(levels), name="gold"),
        columns=pd.Index(list(levels), name="predicted"),
    )


def _alpha_distances(
    k: int, n_v: npt.NDArray[np.float64], level_of_measurement: LevelOfMeasurement
) -> npt.NDArray[np.float64]:
    grid = np.arange(k)
    if level_of_measurement == "nominal":
        return (grid[:, None] != grid[None, :]).astype(np.float64)
    if level_of_measurement == "interval":
        # Level positions as values: assumes the ladder's steps are equally spaced.
        return ((grid[:, None] - grid[None, :]) ** 2).astype(np.float64)
    if level_of_measurement == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        lo = np.minimum(grid[:, None], grid[None, :])
        hi = np.maximum(grid[:, None], grid[None, :])
        between = cum[hi + 1] - cum[lo]
        return np.asarray((between - (n_v[lo] + n_v[hi]) / 2.0) ** 2, dtype=np.float64)
    raise ValueError(
        "level_of_measurement must be 'nominal', 'ordinal' or 'interval', "
        f"got {level_of_measurement!r}"
    )


def krippendorff_alpha(
    ratings: Sequence[Sequence[str | None]],
    levels: Sequence[str],
    level_of_measurement: LevelOfMeasurement = "ordinal",
) -> float | None:
    """Krippendorff's alpha for any number of raters, with missing ratings.

    Matches ``krippendorff.alpha(reliability_data, value_domain=levels, ...)`` (with
    level positions as values for ``"interval"``) wherever that is defined.

    Args:
        ratings: Matrix with one row per rater/coder and one column per unit; ``None``
            marks a missing rating. All rows must have the same length.
        levels: Ordered level names, lowest first.
        level_of_measurement: ``"ordinal"`` (rank-based distances), ``"nominal"`` or
            ``"interval"`` (squared difference of level positions).

    Returns:
        Alpha (1 is perfect agreement, 0 chance level, may be negative); ``1.0`` when
        all pairable ratings are the same level (the package returns NaN); ``None``
        when no unit has at least two ratings (the package raises).

    Raises:
        ValueError: On ragged rows, an unknown level or level of measurement.
    """
    index = _level_index(levels)
    k = len(levels)
    rows = [list(r) for r in ratings]
    n_units = len(rows[0]) if rows else 0
    if any(len(r) != n_units for r in rows):
        raise ValueError("every rater row must rate the same number of units")
    counts = np.zeros((n_units, k), dtype=np.float64)
    for row in rows:
        for unit, value in enumerate(row):
            if value is None:
                continue
            if value not in index:
                raise ValueError(f"unknown level {value!r}; expected one of {list(levels)!r}")
            counts[unit, index[value]] += 1
    # Validate the measurement level even when the data turn out degenerate.
    _alpha_distances(k, np.zeros(k), level_of_measurement)

    m_u = counts.sum(axis=1)
    pairable = m_u >= 2
    if not pairable.any():
        return None
    c = counts[pairable]
    m = m_u[pairable]
    # Coincidence matrix: each unit contributes its ordered value pairs / (m_u - 1).
    o = np.einsum("ui,uj,u->ij", c, c, 1.0 / (m - 1)) - np.diag((c / (m - 1)[:, None]).sum(0))
    n_v = o.sum(axis=0)
    n = n_v.sum()
    e = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1)
    d = _alpha_distances(k, n_v, level_of_measurement)
    d_expected = float((e * d).sum())
    if d_expected == 0.0:
        return 1.0
    return float(1.0 - (o * d).sum() / d_expected)


# ---------------------------------------------------------------------------
# Evidence spans
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagScores:
    """Per-flag detection scores over packets.

    Attributes:
        precision: TP / (TP + FP); ``None`` if the flag was never predicted.
        recall: TP / (TP + FN); ``None`` if the flag never occurs in gold.
        f1: 2TP / (2TP + FP + FN) (sklearn's definition); ``None`` if the flag occurs
            in neither gold nor predictions.
        support: Number of gold packets carrying the flag.
    """

    precision: float | None
    recall: float | None
    f1: float | None
    support: int


def flag_metrics(
    gold_flags: Sequence[Iterable[str]],
    pred_flags: Sequence[Iterable[str]],
    flags: Sequence[str],
) -> dict[str, FlagScores]:
    """Per-flag precision/recall/F1/support, each packet being one binary decision.

    Matches ``sklearn.metrics.precision_recall_fscore_support`` on the per-flag binary
    indicators with ``zero_division=nan`` (NaN -> ``None``). Flags not listed in
    ``flags`` are ignored.

    Args:
        gold_flags: Gold flag sets, one per packet.
        pred_flags: Predicted flag sets, aligned with ``gold_flags``.
        flags: Flag names to score.

    Returns:
        Flag name -> scores, in ``flags`` order.

    Raises:
        ValueError: If the two sequences differ in length.
    """
    if len(gold_flags) != len(pred_flags):
        raise ValueError(f"sequences differ in length: {len(gold_flags)} != {len(pred_flags)}")
    gold_sets = [frozenset(g) for g in gold_flags]
    pred_sets = [frozenset(p) for p in pred_flags]
    out: dict[str, FlagScores] = {}
    for flag in flags:
        tp = fp = fn = 0
        for g, p in zip(gold_sets, pred_sets, strict=True):
            in_g, in_p = flag in g, flag in p
            tp += in_g and in_p
            fp += in_p and not in_g
            fn += in_g and not in_p
        out[flag] = FlagScores(
            precision=tp / (tp + fp) if tp + fp else None,
            recall=tp / (tp + fn) if tp + fn else None,
            f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
            support=tp + fn,
        )
    return out


# ---------------------------------------------------------------------------
# Metamorphic / injection invariance
# ---------------------------------------------------------------------------


def _levels_equal(a: Record, b: Record, dimensions: Sequence[str] | None) -> bool:
    if a.level != b.level:
        return False
    dims = dimensions if dimensions is not None else set(a.dimensions) | set(b.dimensions)
    return all(a.dimensions.get(d) == b.dimensions.get(d) for d in dims)


def invariance_rate(
    pairs: Sequence[tuple[Record, Record]], dimensions: Sequence[str] | None = None
) -> float | None:
    """Share of (original, variant) pairs whose overall level and every dimension agree.

    Args:
        pairs: ``(original, perturbed)`` record pairs from a metamorphic or
            prompt-injection suite.
        dimensions: Dimensions to compare; defaults to the union of both records'
            keys (a dimension present on one side only counts as a change).

    Returns:
        Fraction in ``[0, 1]``, or ``None`` for no pairs.
    """
    if not pairs:
        return None
    return sum(_levels_equal(a, b, dimensions) for a, b in pairs) / len(pairs)


def change_direction(before: str, after: str, levels: Sequence[str]) -> ChangeDirection:
    """Direction of a level change along the ladder.

    Args:
        before: Level on the original input.
        after: Level on the perturbed input.
        levels: Ordered level names, lowest first.

    Returns:
        ``"up"``, ``"down"`` or ``"same"``.

    Raises:
        ValueError: If either level is not in ``levels``.
    """
    index = _level_index(levels)
    ia, ib = _encode([before, after], index)
    if ib > ia:
        return "up"
    if ib < ia:
        return "down"
    return "same"


def pair_change_directions(
    pairs: Sequence[tuple[Record, Record]],
    levels: Sequence[str],
    dimensions: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Per-pair change directions of the overall and each dimension level.

    Args:
        pairs: ``(original, perturbed)`` record pairs.
        levels: Ordered level names, lowest first.
        dimensions: Dimensions to report; defaults to those present in both records.

    Returns:
        One dict per pair: ``{"packet_id_a", "packet_id_b", "level": direction,
        "dimensions": {dim: direction}}``.
    """
    out: list[dict[str, Any]] = []
    for a, b in pairs:
        dims = (
            list(dimensions)
            if dimensions is not None
            else [d for d in a.dimensions if d in b.dimensions]
        )
        out.append(
            {
                "packet_id_a": a.packet_id,
                "packet_id_b": b.packet_id,
                "level": change_direction(a.level, b.level, levels),
                "dimensions": {
                    d: change_direction(a.dimensions[d], b.dimensions[d], levels) for d in dims
                },
            }
        )
    return out


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------


def _finite_or_none(x: float | None) -> float | None:
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def bootstrap_ci(
    statistic: Callable[[IntArray], float | None],
    n_items: int,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap confidence interval over items (packets).

    Each replicate draws ``n_items`` item indices with replacement from
    ``numpy.random.default_rng(seed)`` and calls ``statistic(indices)``. Replicates
    whose statistic is ``None`` or non-finite (e.g. a resample with no gold spans) are
    skipped rather than biasing the interval.

    Args:
        statistic: Maps an int array of item indices to a value (or ``None``).
        n_items: Number of items to resample.
        n_boot: Number of bootstrap replicates.
        alpha: Two-sided miss rate; 0.05 gives a 95% interval.
        seed: Generator seed; the same seed gives the same interval.

    Returns:
        ``(lo, hi)`` as floats, or ``None`` if there are no items or no replicate
        produced a value.

    Raises:
        ValueError: If ``alpha`` is not in (0, 1) or ``n_boot`` < 1.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if n_items <= 0:
        return None
    rng = np.random.default_rng(seed)
    # One replicate at a time keeps memory at O(n_items) for large n_boot.
    draws = (rng.integers(0, n_items, size=n_items) for _ in range(n_boot))
    values = [v for v in (_finite_or_none(statistic(idx)) for idx in draws) if v is not None]
    if not values:
        return None
    lo, hi = np.quantile(np.asarray(values), [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def ci_exact_accuracy(
    a: Sequence[str],
    b: Sequence[str],
    levels: Sequence[str],
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Bootstrap CI of :func:`exact_accuracy`, resampling items.

    Args:
        a: Gold levels.
        b: Predicted levels.
        levels: Ordered level names, lowest first.
        n_boot: Number of bootstrap replicates.
        alpha: Two-sided miss rate.
        seed: Generator seed.

    Returns:
        ``(lo, hi)`` or ``None`` (see :func:`bootstrap_ci`).
    """
    ca, cb = _encode_pair(a, b, levels)
    hits = (ca == cb).astype(np.float64)
    return bootstrap_ci(lambda idx: float(hits[idx].mean()), len(hits), n_boot, alpha, seed)


def ci_cohen_kappa(
    a: Sequence[str],
    b: Sequence[str],
    levels: Sequence[str],
    weights: KappaWeights = None,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Bootstrap CI of :func:`cohen_kappa`, resampling items.

    Args:
        a: Gold levels.
        b: Predicted levels.
        levels: Ordered level names, lowest first.
        weights: ``None``, ``"linear"`` or ``"quadratic"``.
        n_boot: Number of bootstrap replicates.
        alpha: Two-sided miss rate.
        seed: Generator seed.

    Returns:
        ``(lo, hi)`` or ``None`` (see :func:`bootstrap_ci`).
    """
    ca, cb = _encode_pair(a, b, levels)
    k = len(levels)
    w = _kappa_weights(k, weights)
    return bootstrap_ci(
        lambda idx: _kappa_from_codes(ca[idx], cb[idx], k, w), len(ca), n_boot, alpha, seed
    )


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


def _align(gold: Sequence[Record], pred: Sequence[Record]) -> list[tuple[Record, Record]]:
    def by_id(records: Sequence[Record], role: str) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for r in records:
            if r.packet_id in out:
                raise ValueError(f"duplicate packet_id {r.packet_id!r} in {role} records")
            out[r.packet_id] = r
        return out

    g, p = by_id(gold, "gold"), by_id(pred, "pred")
    missing_pred = [pid for pid in g if pid not in p]
    missing_gold = [pid for pid in p if pid not in g]
    if missing_pred or missing_gold:
        parts = []
        if missing_pred:
            parts.append(f"missing from pred: {missing_pred}")
        if missing_gold:
            parts.append(f"missing from gold: {missing_gold}")
        raise ValueError("gold and pred packet ids do not align; " + "; ".join(parts))
    return [(g[pid], p[pid]) for pid in g]


def _ci_list(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def _dimension_codes(
    records: Sequence[Record], dimensions: Sequence[str], index: Mapping[str, int]
) -> IntArray:
    # -1 marks a dimension a rater left unlabelled; such cells are dropped pairwise.
    codes = np.full((len(records), len(dimensions)), -1, dtype=np.int64)
    for i, r in enumerate(records):
        for j, dim in enumerate(dimensions):
            value = r.dimensions.get(dim)
            if value is not None:
                if value not in index:
                    raise ValueError(
                        f"unknown level {value!r} for dimension {dim!r} in packet "
                        f"{r.packet_id!r}; expected one of {list(index)!r}"
                    )
                codes[i, j] = index[value]
    return codes


def agreement_report(
    gold: Sequence[Record],
    pred: Sequence[Record],
    *,
    levels: Sequence[str],
    dimensions: Sequence[str],
    flags: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Full agreement report of predictions against gold, aligned by ``packet_id``.

    Bootstrap CIs resample packets (so pooled dimension ratings and evidence spans are
    resampled as packet clusters). Dimension ratings missing on either side are
    excluded pairwise; ``n`` fields report what was scored.

    Args:
        gold: Calibrator records.
        pred: Extractor records; must cover exactly the same packet ids.
        levels: Ordered level names, lowest first.
        dimensions: Dimension ids to score.
        flags: Flag names to score.
        n_boot: Bootstrap replicates for the 95% CIs.
        seed: Bootstrap seed.

    Returns:
        JSON-serialisable dict (see the keys below); undefined values are ``None``::

            n_packets: int
            overall: exact_accuracy, within_one_accuracy, mean_absolute_error, kappa,
                kappa_quadratic, alpha_ordinal, confusion_matrix
                ({gold_level: {pred_level: count}})
            dimensions: per_dimension ({dim: {n, exact_accuracy, kappa_quadratic}}),
                pooled ({n, exact_accuracy, kappa_quadratic})
            evidence: recall, precision (micro over spans, same-dimension matching),
                recall_macro, precision_macro (mean over packet x dimension cells,
                undefined cells excluded), recall_any_dimension,
                precision_any_dimension, gold_spans, pred_spans, gold_matched,
                pred_matched
            flags: {flag: {precision, recall, f1, support}}
            ci: level, n_boot, seed, exact_accuracy, kappa_quadratic,
                dimension_kappa_pooled, evidence_recall (each [lo, hi] or None)

    Raises:
        ValueError: If packet ids do not align (the message names the missing ids),
            there are duplicate ids, no packets, or an unknown level.
    """
    pairs = _align(gold, pred)
    if not pairs:
        raise ValueError("agreement_report needs at least one packet")
    index = _level_index(levels)
    k = len(levels)
    g_recs = [g for g, _ in pairs]
    p_recs = [p for _, p in pairs]
    g_levels = [r.level for r in g_recs]
    p_levels = [r.level for r in p_recs]
    ga, pa = _encode(g_levels, index), _encode(p_levels, index)
    w_none, w_quad = _kappa_weights(k, None), _kappa_weights(k, "quadratic")
    n = len(pairs)

    cm = confusion_matrix(g_levels, p_levels, levels)
    overall = {
        "exact_accuracy": exact_accuracy(g_levels, p_levels, levels),
        "within_one_accuracy": within_one_accuracy(g_levels, p_levels, levels),
        "mean_absolute_error": mean_absolute_error(g_levels, p_levels, levels),
        "kappa": _kappa_from_codes(ga, pa, k, w_none),
        "kappa_quadratic": _kappa_from_codes(ga, pa, k, w_quad),
        "alpha_ordinal": krippendorff_alpha([g_levels, p_levels], levels, "ordinal"),
        "confusion_matrix": {
            str(gl): {str(pl): int(cm.loc[gl, pl]) for pl in levels} for gl in levels
        },
    }

    gd = _dimension_codes(g_recs, dimensions, index)
    pd_ = _dimension_codes(p_recs, dimensions, index)
    both = (gd >= 0) & (pd_ >= 0)

    def dim_stats(g: IntArray, p: IntArray) -> dict[str, Any]:
        if len(g) == 0:
            return {"n": 0, "exact_accuracy": None, "kappa_quadratic": None}
        return {
            "n": len(g),
            "exact_accuracy": float(np.mean(g == p)),
            "kappa_quadratic": _kappa_from_codes(g, p, k, w_quad),
        }

    per_dim = {
        dim: dim_stats(gd[both[:, j], j], pd_[both[:, j], j]) for j, dim in enumerate(dimensions)
    }
    pooled = dim_stats(gd[both], pd_[both])

    def pooled_kappa(idx: IntArray) -> float | None:
        mask = both[idx]
        if not mask.any():
            return None
        return _kappa_from_codes(gd[idx][mask], pd_[idx][mask], k, w_quad)

    per_packet = [evidence_span_counts(g.evidence, p.evidence, dimensions) for g, p in pairs]
    any_dim = sum(
        (
            evidence_span_counts(g.evidence, p.evidence, dimensions, match_dimension=False)
            for g, p in pairs
        ),
        SpanCounts(),
    )
    micro = sum(per_packet, SpanCounts())
    cell_recalls: list[float] = []
    cell_precisions: list[float] = []
    for g, p in pairs:
        for dim in dimensions:
            gs, ps = list(g.evidence.get(dim, ())), list(p.evidence.get(dim, ()))
            r, pr = span_recall(gs, ps), span_precision(gs, ps)
            if r is not None:
                cell_recalls.append(r)
            if pr is not None:
                cell_precisions.append(pr)
    g_matched = np.array([c.gold_matched for c in per_packet], dtype=np.int64)
    g_total = np.array([c.gold_total for c in per_packet], dtype=np.int64)

    def evidence_recall(idx: IntArray) -> float | None:
        total = int(g_total[idx].sum())
        return int(g_matched[idx].sum()) / total if total else None

    evidence = {
        "recall": micro.recall,
        "precision": micro.precision,
        "recall_macro": float(np.mean(cell_recalls)) if cell_recalls else None,
        "precision_macro": float(np.mean(cell_precisions)) if cell_precisions else None,
        "recall_any_dimension": any_dim.recall,
        "precision_any_dimension": any_dim.precision,
        "gold_spans": micro.gold_total,
        "pred_spans": micro.pred_total,
        "gold_matched": micro.gold_matched,
        "pred_matched": micro.pred_matched,
    }

    flag_scores = flag_metrics([r.flags for r in g_recs], [r.flags for r in p_recs], flags)

    hits = (ga == pa).astype(np.float64)
    ci = {
        "level": 0.95,
        "n_boot": n_boot,
        "seed": seed,
        "exact_accuracy": _ci_list(
            bootstrap_ci(lambda idx: float(hits[idx].mean()), n, n_boot, 0.05, seed)
        ),
        "kappa_quadratic": _ci_list(
            bootstrap_ci(
                lambda idx: _kappa_from_codes(ga[idx], pa[idx], k, w_quad), n, n_boot, 0.05, seed
            )
        ),
        "dimension_kappa_pooled": _ci_list(bootstrap_ci(pooled_kappa, n, n_boot, 0.05, seed)),
        "evidence_recall": _ci_list(bootstrap_ci(evidence_recall, n, n_boot, 0.05, seed)),
    }

    return {
        "n_packets": n,
        "overall": overall,
        "dimensions": {"per_dimension": per_dim, "pooled": pooled},
        "evidence": evidence,
        "flags": {
            f: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
            for f, s in flag_scores.items()
        },
        "ci": ci,
    }


def pairwise_rater_agreement(
    records_by_rater: Mapping[str, Sequence[Record]],
    *,
    levels: Sequence[str],
    dimensions: Sequence[str],
    flags: Sequence[str] = (),
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Agreement between every pair of raters on the packets both labelled.

    Intended for calibrator-vs-calibrator ceilings: each pair gets a full
    :func:`agreement_report` with the first rater (in mapping order) in the gold role,
    so asymmetric metrics (evidence recall/precision, flag P/R) read "rater_b against
    rater_a".

    Args:
        records_by_rater: Rater name -> that rater's records.
        levels: Ordered level names, lowest first.
        dimensions: Dimension ids to score.
        flags: Flag names to score.
        n_boot: Bootstrap replicates per pair.
        seed: Bootstrap seed.

    Returns:
        JSON-serialisable dict::

            raters: [name, ...]
            pairs: [{rater_a, rater_b, n_packets, report}], report being the
                agreement_report dict or None when the raters share no packet
            alpha_ordinal_all_raters: Krippendorff alpha of overall levels across all
                raters over the union of packets (missing = unlabelled), or None

    Raises:
        ValueError: On duplicate packet ids within a rater or an unknown level.
    """
    raters = list(records_by_rater)
    by_rater: dict[str, dict[str, Record]] = {}
    for name in raters:
        recs: dict[str, Record] = {}
        for r in records_by_rater[name]:
            if r.packet_id in recs:
                raise ValueError(f"duplicate packet_id {r.packet_id!r} for rater {name!r}")
            recs[r.packet_id] = r
        by_rater[name] = recs

    out_pairs: list[dict[str, Any]] = []
    for a, b in itertools.combinations(raters, 2):
        shared = [pid for pid in by_rater[a] if pid in by_rater[b]]
        report = (
            agreement_report(
                [by_rater[a][pid] for pid in shared],
                [by_rater[b][pid] for pid in shared],
                levels=levels,
                dimensions=dimensions,
                flags=flags,
                n_boot=n_boot,
                seed=seed,
            )
            if shared
            else None
        )
        out_pairs.append({"rater_a": a, "rater_b": b, "n_packets": len(shared), "report": report})

    units = list(dict.fromkeys(pid for name in raters for pid in by_rater[name]))
    matrix: list[list[str | None]] = [
        [by_rater[name][pid].level if pid in by_rater[name] else None for pid in units]
        for name in raters
    ]
    return {
        "raters": raters,
        "pairs": out_pairs,
        "alpha_ordinal_all_raters": krippendorff_alpha(matrix, levels, "ordinal")
        if units
        else None,
    }


def self_consistency(
    epochs: Sequence[Sequence[Record]],
    levels: Sequence[str],
    dimensions: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Agreement of an extractor with itself across repeated runs (epochs).

    Packets are aligned by ``packet_id``; a packet missing from some epochs is treated
    as a missing rating.

    Args:
        epochs: One sequence of records per run over the same packets.
        levels: Ordered level names, lowest first.
        dimensions: If given, also score dimension levels, pooling every
            (packet, dimension) cell as one unit.

    Returns:
        JSON-serialisable dict::

            n_epochs, n_packets: int
            mean_pairwise_exact: mean over epoch pairs of the exact agreement of the
                overall level on the packets both epochs cover (None if < 2 epochs)
            alpha_ordinal: Krippendorff alpha of the overall level, epochs as raters
            dimension_mean_pairwise_exact, dimension_alpha_ordinal: the same over
                pooled dimension cells (only present when ``dimensions`` is given)

    Raises:
        ValueError: On duplicate packet ids within an epoch or an unknown level.
    """
    _level_index(levels)
    maps: list[dict[str, Record]] = []
    for e, recs in enumerate(epochs):
        m: dict[str, Record] = {}
        for r in recs:
            if r.packet_id in m:
                raise ValueError(f"duplicate packet_id {r.packet_id!r} in epoch {e}")
            m[r.packet_id] = r
        maps.append(m)
    units = list(dict.fromkeys(pid for m in maps for pid in m))

    def summarise(cells: list[tuple[str, str | None]], prefix: str) -> dict[str, Any]:
        # cells: (packet_id, dimension or None for the overall level)
        def value(m: dict[str, Record], pid: str, dim: str | None) -> str | None:
            r = m.get(pid)
            if r is None:
                return None
            return r.level if dim is None else r.dimensions.get(dim)

        matrix = [[value(m, pid, dim) for pid, dim in cells] for m in maps]
        rates: list[float] = []
        for ra, rb in itertools.combinations(matrix, 2):
            both = [(x, y) for x, y in zip(ra, rb, strict=True) if x is not None and y is not None]
            if both:
                rates.append(sum(x == y for x, y in both) / len(both))
        alpha = krippendorff_alpha(matrix, levels, "ordinal")
        return {
            f"{prefix}mean_pairwise_exact": float(np.mean(rates)) if rates else None,
            f"{prefix}alpha_ordinal": alpha,
        }

    out: dict[str, Any] = {"n_epochs": len(maps), "n_packets": len(units)}
    out.update(summarise([(pid, None) for pid in units], ""))
    if dimensions is not None:
        out.update(summarise([(pid, d) for pid in units for d in dimensions], "dimension_"))
    return out
