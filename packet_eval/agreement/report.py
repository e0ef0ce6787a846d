"""The agreement report as typed values: what :func:`~packet_eval.agreement.agreement_report` returns.

Callers read fields (``report.overall.kappa_quadratic``), never string keys, and
compute the report once per comparison: the bootstrap behind its intervals is
the expensive part. ``to_dict()`` gives the JSON shape that ``packet-eval
agreement --format json`` and the batch outputs have always written, key for
key and in the same order. Undefined values are ``None``, never NaN or numpy
scalars.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from packet_eval.agreement.flags import FlagScores

Interval = tuple[float, float]


@dataclass(frozen=True)
class LevelAgreement:
    """The overall level, gold against predicted.

    Attributes:
        exact_accuracy: Share of packets with the same level.
        within_one_accuracy: Share at most one ladder step apart.
        mean_absolute_error: Mean distance in ladder steps.
        kappa: Unweighted Cohen's kappa.
        kappa_quadratic: Quadratic-weighted kappa.
        alpha_ordinal: Krippendorff's ordinal alpha (``None`` if nothing is pairable).
        confusion_matrix: Gold level -> predicted level -> count, in ladder order.
    """

    exact_accuracy: float
    within_one_accuracy: float
    mean_absolute_error: float
    kappa: float
    kappa_quadratic: float
    alpha_ordinal: float | None
    confusion_matrix: dict[str, dict[str, int]]


@dataclass(frozen=True)
class DimensionStats:
    """Agreement on one dimension (or pooled over all), over cells both sides labelled."""

    n: int
    exact_accuracy: float | None
    kappa_quadratic: float | None


@dataclass(frozen=True)
class DimensionAgreement:
    """Per-dimension agreement in the caller's dimension order, and pooled over dimensions."""

    per_dimension: dict[str, DimensionStats]
    pooled: DimensionStats


@dataclass(frozen=True)
class EvidenceAgreement:
    """Evidence spans matched against calibrator spans (see ``spans_match``).

    Attributes:
        recall: Micro recall over spans, same-dimension matching.
        precision: Micro precision over spans, same-dimension matching.
        recall_macro: Mean over (packet, dimension) cells with gold spans.
        precision_macro: Mean over cells with predicted spans.
        recall_any_dimension: Recall with spans pooled across dimensions.
        precision_any_dimension: Precision with spans pooled across dimensions.
        gold_spans: Gold spans scored.
        pred_spans: Predicted spans scored.
        gold_matched: Gold spans some predicted span matched.
        pred_matched: Predicted spans matching some gold span.
    """

    recall: float | None
    precision: float | None
    recall_macro: float | None
    precision_macro: float | None
    recall_any_dimension: float | None
    precision_any_dimension: float | None
    gold_spans: int
    pred_spans: int
    gold_matched: int
    pred_matched: int


@dataclass(frozen=True)
class Intervals:
    """Percentile bootstrap intervals over packets for the headline figures.

    Attributes:
        level: Confidence level (0.95).
        n_boot: Bootstrap replicates.
        seed: Generator seed.
        exact_accuracy: Interval of the overall exact accuracy, or ``None``.
        kappa_quadratic: Interval of the overall weighted kappa, or ``None``.
        dimension_kappa_pooled: Interval of the pooled dimension kappa, or ``None``.
        evidence_recall: Interval of the micro evidence recall, or ``None``.
    """

    level: float
    n_boot: int
    seed: int
    exact_accuracy: Interval | None
    kappa_quadratic: Interval | None
    dimension_kappa_pooled: Interval | None
    evidence_recall: Interval | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: each interval as ``[lo, hi]`` or ``None``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class AgreementReport:
    """Predictions against gold, aligned by packet id.

    Attributes:
        n_packets: Packets compared.
        overall: The overall level.
        dimensions: Dimension levels.
        evidence: Evidence spans.
        flags: Flag name -> detection scores, in the caller's flag order.
        ci: Bootstrap intervals of the headline figures.
    """

    n_packets: int
    overall: LevelAgreement
    dimensions: DimensionAgreement
    evidence: EvidenceAgreement
    flags: dict[str, FlagScores]
    ci: Intervals

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON-serialisable dict, in the key order the JSON outputs have always had."""
        out = asdict(self)
        out["ci"] = self.ci.to_dict()
        return out
