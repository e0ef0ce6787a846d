"""Agreement of two sequences of ordinal levels, with bootstrap intervals on every figure.

The compact summary the aggregation ceiling and rule fitting report: exact and
within-one agreement and quadratic kappa, each with a 95% percentile-bootstrap
interval over items. Levels come from the caller, lowest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from packet_eval.agreement.codes import IntArray, encode, kappa_from_codes, kappa_weights, level_index
from packet_eval.agreement.intervals import bootstrap_ci

MISS_RATE = 0.05


@dataclass(frozen=True)
class LevelFit:
    """How well one sequence of levels matches another (``None`` where undefined)."""

    n: int
    exact: float | None
    within_one: float | None
    kappa_quadratic: float | None
    exact_ci: tuple[float, float] | None
    within_one_ci: tuple[float, float] | None
    kappa_quadratic_ci: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def level_fit(gold: Sequence[str], pred: Sequence[str], levels: Sequence[str], *,
              groups: Sequence[str] | None = None, n_boot: int = 1000, seed: int = 0) -> LevelFit:
    """Exact, within-one and quadratic kappa of ``pred`` against ``gold``, with 95% CIs.

    ``groups`` (e.g. packet ids when two calibrators labelled one packet) makes the
    bootstrap resample whole groups, so correlated items do not narrow the interval.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} levels, pred {len(pred)}")
    n = len(gold)
    if groups is not None and len(groups) != n:
        raise ValueError(f"{len(groups)} groups for {n} levels")
    if n == 0:
        return LevelFit(0, None, None, None, None, None, None)
    index = level_index(levels)
    k = len(levels)
    ga, pa = encode(gold, index), encode(pred, index)
    w = kappa_weights(k, "quadratic")
    hit = (ga == pa).astype(np.float64)
    near = (np.abs(ga - pa) <= 1).astype(np.float64)

    def exact(idx: IntArray) -> float:
        return float(hit[idx].mean())

    def within(idx: IntArray) -> float:
        return float(near[idx].mean())

    def kappa(idx: IntArray) -> float:
        return kappa_from_codes(ga[idx], pa[idx], k, w)

    names = list(dict.fromkeys(groups)) if groups is not None else None
    members = ([np.array([i for i, g in enumerate(groups) if g == name]) for name in names]
               if groups is not None and names is not None else None)

    def ci(stat: Any) -> tuple[float, float] | None:
        if members is None:
            return bootstrap_ci(stat, n, n_boot, MISS_RATE, seed)
        return bootstrap_ci(lambda idx: stat(np.concatenate([members[j] for j in idx])),
                            len(members), n_boot, MISS_RATE, seed)

    everything = np.arange(n)
    return LevelFit(
        n=n, exact=exact(everything), within_one=within(everything), kappa_quadratic=kappa(everything),
        exact_ci=ci(exact), within_one_ci=ci(within), kappa_quadratic_ci=ci(kappa))
