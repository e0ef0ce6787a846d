"""Per-flag detection scores: each packet is one binary decision per flag."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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

