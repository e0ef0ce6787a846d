"""Krippendorff's alpha for any number of raters, with missing ratings.

Conventions where the textbook statistic is 0/0: alpha is ``1.0`` when the
expected disagreement is zero (every pairable rating is the same level; the
``krippendorff`` package returns NaN), and ``None`` when no unit has two or more
ratings (the package raises).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from packet_eval.agreement.codes import level_index

LevelOfMeasurement = Literal["nominal", "ordinal", "interval"]


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
    index = level_index(levels)
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

