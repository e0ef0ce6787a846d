"""Ordinal level metrics on two equal-length sequences of level strings.

Exact and within-one accuracy, the mean error in ladder steps, Cohen's kappa
(unweighted, linear or quadratic) and the confusion matrix. The level order is
always the caller's (the ladder's), never sorted; empty or unequal inputs raise
``ValueError`` (the report builders turn "no data" into ``None`` instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from packet_eval.agreement.codes import KappaWeights, encode_pair, kappa_from_codes, kappa_weights

if TYPE_CHECKING:
    import pandas as pd


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
    ca, cb = encode_pair(a, b, levels)
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
    ca, cb = encode_pair(a, b, levels)
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
    ca, cb = encode_pair(a, b, levels)
    return float(np.mean(np.abs(ca - cb)))


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
    ca, cb = encode_pair(a, b, levels)
    k = len(levels)
    return kappa_from_codes(ca, cb, k, kappa_weights(k, weights))


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
    import pandas as pd  # here, not at import: a batch run's report never needs pandas (~0.4 s)

    ca, cb = encode_pair(a, b, levels)
    k = len(levels)
    cm = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        cm,
        index=pd.Index(list(levels), name="gold"),
        columns=pd.Index(list(levels), name="predicted"),
    )

