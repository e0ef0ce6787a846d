"""Agreement between extractor predictions and calibrator labels.

The package is layered so each layer can be used (and tested) on its own:

1. ``records``: :class:`Record`, one packet's levels, evidence spans and flags,
   built from an Assessment or a calibrator label.
2. ``ordinal`` and ``alpha``: metrics on two equal-length sequences of level strings
   plus the caller's ordered ``levels`` (exact / within-one accuracy, MAE in level
   steps, Cohen's kappa, confusion matrix), and Krippendorff's alpha for any number
   of raters with missing ratings. ``codes`` holds the integer encoding they share.
3. ``spans``, ``flags``, ``invariance``: evidence-span matching (character-overlap
   rule), per-flag precision/recall/F1, and metamorphic invariance helpers.
4. ``intervals``: a percentile bootstrap over packets.
5. ``build``, ``report``, ``raters``: :func:`agreement_report`, which returns a typed
   :class:`AgreementReport` (``to_dict()`` for JSON), and the multi-rater reports
   (:func:`pairwise_rater_agreement`, :func:`self_consistency`). Undefined values
   are ``None``, never NaN or numpy scalars.

6. ``levels``, ``ceiling``, ``rulefit``: a compact agreement of two level sequences
   with intervals; the aggregation ceiling (the ladder's rule on a calibrator's own
   dimension levels against their overall level); and the rule's thresholds fitted
   to labels. These two read the rule from the caller's ``Ladder``.

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

from packet_eval.agreement.alpha import LevelOfMeasurement, krippendorff_alpha
from packet_eval.agreement.build import agreement_report
from packet_eval.agreement.codes import KappaWeights
from packet_eval.agreement.flags import FlagScores, flag_metrics
from packet_eval.agreement.intervals import bootstrap_ci, ci_cohen_kappa, ci_exact_accuracy
from packet_eval.agreement.invariance import (
    ChangeDirection,
    change_direction,
    invariance_rate,
    pair_change_directions,
)
from packet_eval.agreement.ordinal import (
    cohen_kappa,
    confusion_matrix,
    exact_accuracy,
    mean_absolute_error,
    within_one_accuracy,
)
from packet_eval.agreement.raters import (
    Consistency,
    RaterAgreement,
    RaterPair,
    SelfConsistency,
    pairwise_rater_agreement,
    self_consistency,
)
from packet_eval.agreement.records import Record, Span, record_from_assessment, record_from_label
from packet_eval.agreement.report import (
    AgreementReport,
    DimensionAgreement,
    DimensionStats,
    EvidenceAgreement,
    Intervals,
    LevelAgreement,
)
from packet_eval.agreement.spans import (
    SpanCounts,
    evidence_span_counts,
    span_precision,
    span_recall,
    spans_match,
)

__all__ = [
    "AgreementReport",
    "ChangeDirection",
    "Consistency",
    "DimensionAgreement",
    "DimensionStats",
    "EvidenceAgreement",
    "FlagScores",
    "Intervals",
    "KappaWeights",
    "LevelAgreement",
    "LevelOfMeasurement",
    "RaterAgreement",
    "RaterPair",
    "Record",
    "SelfConsistency",
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
    "record_from_assessment",
    "record_from_label",
    "self_consistency",
    "span_precision",
    "span_recall",
    "spans_match",
    "within_one_accuracy",
]
