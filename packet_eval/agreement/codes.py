"""Levels as integer codes: the encoding every ordinal metric and interval works on.

Level names come from the caller's ordered ``levels``; a level's code is its
position. Kappa is computed from codes here so the point estimates, the report
and the bootstrap replicates share one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

KappaWeights = Literal["linear", "quadratic"] | None
IntArray = npt.NDArray[np.int64]


def level_index(levels: Sequence[str]) -> dict[str, int]:
    """Level name -> position, checking the levels are non-empty and unique."""
    index = {level: i for i, level in enumerate(levels)}
    if not index:
        raise ValueError("levels must not be empty")
    if len(index) != len(levels):
        raise ValueError(f"levels must be unique, got {list(levels)!r}")
    return index


def encode(values: Sequence[str], index: Mapping[str, int]) -> IntArray:
    """Codes of ``values``; an unknown level raises ValueError naming the known ones."""
    try:
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as exc:
        raise ValueError(
            f"unknown level {exc.args[0]!r}; expected one of {list(index)!r}"
        ) from None


def encode_pair(
    a: Sequence[str], b: Sequence[str], levels: Sequence[str]
) -> tuple[IntArray, IntArray]:
    """Codes of two equal-length, non-empty sequences of levels."""
    if len(a) != len(b):
        raise ValueError(f"sequences differ in length: {len(a)} != {len(b)}")
    if len(a) == 0:
        raise ValueError("cannot compute agreement on empty sequences")
    index = level_index(levels)
    return encode(a, index), encode(b, index)


def kappa_weights(k: int, weights: KappaWeights) -> IntArray:
    """Disagreement weights for ``k`` levels: 0/1, linear or quadratic in ladder distance."""
    grid = np.arange(k, dtype=np.int64)
    diff = grid[:, None] - grid[None, :]
    if weights is None:
        return (diff != 0).astype(np.int64)
    if weights == "linear":
        return np.abs(diff)
    if weights == "quadratic":
        return diff**2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def kappa_from_codes(ca: IntArray, cb: IntArray, k: int, w: IntArray) -> float:
    """Cohen's kappa of two code arrays under weights ``w`` (1.0 when nothing can disagree)."""
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
