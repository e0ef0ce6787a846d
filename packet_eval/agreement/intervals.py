"""Percentile bootstrap confidence intervals over items (packets).

Every interval in the package comes from :func:`bootstrap_ci`, so one seed
gives the same interval wherever it is asked for; the ``ci_*`` wrappers are
the standalone forms of the headline intervals in the agreement report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from packet_eval.agreement.codes import IntArray, KappaWeights, encode_pair, kappa_from_codes, kappa_weights


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
    ca, cb = encode_pair(a, b, levels)
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
    ca, cb = encode_pair(a, b, levels)
    k = len(levels)
    w = kappa_weights(k, weights)
    return bootstrap_ci(
        lambda idx: kappa_from_codes(ca[idx], cb[idx], k, w), len(ca), n_boot, alpha, seed
    )

