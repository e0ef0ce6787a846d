"""Building the agreement report of predictions against gold, aligned by packet id.

Each part of the report (overall level, dimensions, evidence) is computed by
its own function, which also returns the statistic its interval resamples, so
the point estimate and its bootstrap replicates share one computation.
Bootstrap intervals resample packets: pooled dimension ratings and evidence
spans are resampled as packet clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from packet_eval.agreement.alpha import krippendorff_alpha
from packet_eval.agreement.codes import IntArray, encode, kappa_from_codes, kappa_weights, level_index
from packet_eval.agreement.flags import flag_metrics
from packet_eval.agreement.intervals import bootstrap_ci
from packet_eval.agreement.ordinal import (
    confusion_matrix,
    exact_accuracy,
    mean_absolute_error,
    within_one_accuracy,
)
from packet_eval.agreement.records import Record
from packet_eval.agreement.report import (
    AgreementReport,
    DimensionAgreement,
    DimensionStats,
    EvidenceAgreement,
    Intervals,
    LevelAgreement,
)
from packet_eval.agreement.spans import SpanCounts, evidence_span_counts, span_precision, span_recall

Pairs = list[tuple[Record, Record]]
Statistic = Callable[[IntArray], float | None]
# Two constants, not 1 - 0.95: that float is not 0.05 and would shift the quantiles.
CONFIDENCE = 0.95
MISS_RATE = 0.05


def align(gold: Sequence[Record], pred: Sequence[Record]) -> Pairs:
    """(gold, pred) per packet in gold's order; ids must match exactly, without duplicates."""

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


def _overall(pairs: Pairs, levels: Sequence[str]) -> tuple[LevelAgreement, Statistic, Statistic]:
    """The overall level, with the statistics behind its accuracy and weighted-kappa intervals."""
    g_levels = [g.level for g, _ in pairs]
    p_levels = [p.level for _, p in pairs]
    index = level_index(levels)
    k = len(levels)
    ga, pa = encode(g_levels, index), encode(p_levels, index)
    w_quad = kappa_weights(k, "quadratic")
    cm = confusion_matrix(g_levels, p_levels, levels)
    overall = LevelAgreement(
        exact_accuracy=exact_accuracy(g_levels, p_levels, levels),
        within_one_accuracy=within_one_accuracy(g_levels, p_levels, levels),
        mean_absolute_error=mean_absolute_error(g_levels, p_levels, levels),
        kappa=kappa_from_codes(ga, pa, k, kappa_weights(k, None)),
        kappa_quadratic=kappa_from_codes(ga, pa, k, w_quad),
        alpha_ordinal=krippendorff_alpha([g_levels, p_levels], levels, "ordinal"),
        confusion_matrix={
            str(gl): {str(pl): int(cm.loc[gl, pl]) for pl in levels} for gl in levels
        },
    )
    hits = (ga == pa).astype(np.float64)

    def accuracy(idx: IntArray) -> float:
        return float(hits[idx].mean())

    def kappa(idx: IntArray) -> float:
        return kappa_from_codes(ga[idx], pa[idx], k, w_quad)

    return overall, accuracy, kappa


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


def _dimensions(
    pairs: Pairs, levels: Sequence[str], dimensions: Sequence[str]
) -> tuple[DimensionAgreement, Statistic]:
    """Dimension levels, with the statistic behind the pooled-kappa interval."""
    index = level_index(levels)
    k = len(levels)
    w_quad = kappa_weights(k, "quadratic")
    gd = _dimension_codes([g for g, _ in pairs], dimensions, index)
    pd_ = _dimension_codes([p for _, p in pairs], dimensions, index)
    both = (gd >= 0) & (pd_ >= 0)

    def stats(g: IntArray, p: IntArray) -> DimensionStats:
        if len(g) == 0:
            return DimensionStats(n=0, exact_accuracy=None, kappa_quadratic=None)
        return DimensionStats(n=len(g), exact_accuracy=float(np.mean(g == p)),
                              kappa_quadratic=kappa_from_codes(g, p, k, w_quad))

    def pooled_kappa(idx: IntArray) -> float | None:
        mask = both[idx]
        if not mask.any():
            return None
        return kappa_from_codes(gd[idx][mask], pd_[idx][mask], k, w_quad)

    per_dim = {
        dim: stats(gd[both[:, j], j], pd_[both[:, j], j]) for j, dim in enumerate(dimensions)
    }
    return DimensionAgreement(per_dimension=per_dim, pooled=stats(gd[both], pd_[both])), pooled_kappa


def _cell_means(pairs: Pairs, dimensions: Sequence[str]) -> tuple[float | None, float | None]:
    """Macro recall and precision: means over (packet, dimension) cells where each is defined."""
    recalls: list[float] = []
    precisions: list[float] = []
    for g, p in pairs:
        for dim in dimensions:
            gs, ps = list(g.evidence.get(dim, ())), list(p.evidence.get(dim, ()))
            r, pr = span_recall(gs, ps), span_precision(gs, ps)
            if r is not None:
                recalls.append(r)
            if pr is not None:
                precisions.append(pr)
    return (float(np.mean(recalls)) if recalls else None,
            float(np.mean(precisions)) if precisions else None)


def _evidence(pairs: Pairs, dimensions: Sequence[str]) -> tuple[EvidenceAgreement, Statistic]:
    """Evidence spans, with the statistic behind the micro-recall interval."""
    per_packet = [evidence_span_counts(g.evidence, p.evidence, dimensions) for g, p in pairs]
    any_dim = sum(
        (evidence_span_counts(g.evidence, p.evidence, dimensions, match_dimension=False)
         for g, p in pairs),
        SpanCounts(),
    )
    micro = sum(per_packet, SpanCounts())
    recall_macro, precision_macro = _cell_means(pairs, dimensions)
    g_matched = np.array([c.gold_matched for c in per_packet], dtype=np.int64)
    g_total = np.array([c.gold_total for c in per_packet], dtype=np.int64)

    def recall(idx: IntArray) -> float | None:
        total = int(g_total[idx].sum())
        return int(g_matched[idx].sum()) / total if total else None

    evidence = EvidenceAgreement(
        recall=micro.recall, precision=micro.precision,
        recall_macro=recall_macro, precision_macro=precision_macro,
        recall_any_dimension=any_dim.recall, precision_any_dimension=any_dim.precision,
        gold_spans=micro.gold_total, pred_spans=micro.pred_total,
        gold_matched=micro.gold_matched, pred_matched=micro.pred_matched,
    )
    return evidence, recall


def agreement_report(
    gold: Sequence[Record],
    pred: Sequence[Record],
    *,
    levels: Sequence[str],
    dimensions: Sequence[str],
    flags: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> AgreementReport:
    """Full agreement report of predictions against gold, aligned by ``packet_id``.

    Dimension ratings missing on either side are excluded pairwise; ``n`` fields
    report what was scored. The bootstrap is the costly part: compute the report
    once and read its fields.

    Args:
        gold: Calibrator records.
        pred: Extractor records; must cover exactly the same packet ids.
        levels: Ordered level names, lowest first.
        dimensions: Dimension ids to score.
        flags: Flag names to score.
        n_boot: Bootstrap replicates for the 95% CIs.
        seed: Bootstrap seed.

    Returns:
        The typed report (``AgreementReport.to_dict()`` for JSON).

    Raises:
        ValueError: If packet ids do not align (the message names the missing ids),
            there are duplicate ids, no packets, or an unknown level.
    """
    pairs = align(gold, pred)
    if not pairs:
        raise ValueError("agreement_report needs at least one packet")
    overall, accuracy, kappa = _overall(pairs, levels)
    dims, pooled_kappa = _dimensions(pairs, levels, dimensions)
    evidence, recall = _evidence(pairs, dimensions)
    n = len(pairs)

    def ci(statistic: Statistic) -> tuple[float, float] | None:
        return bootstrap_ci(statistic, n, n_boot, MISS_RATE, seed)

    intervals = Intervals(
        level=CONFIDENCE, n_boot=n_boot, seed=seed, exact_accuracy=ci(accuracy),
        kappa_quadratic=ci(kappa), dimension_kappa_pooled=ci(pooled_kappa),
        evidence_recall=ci(recall),
    )
    return AgreementReport(
        n_packets=n, overall=overall, dimensions=dims, evidence=evidence,
        flags=flag_metrics([g.flags for g, _ in pairs], [p.flags for _, p in pairs], flags),
        ci=intervals,
    )
