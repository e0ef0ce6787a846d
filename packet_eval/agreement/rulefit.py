"""Fitting a ladder's overall-level rule to a committee's labels.

The rule family is the ladder's own: for each level, the least number of
dimensions at that level or above (``min_dimensions``) and how many of them must
be core (``min_core``), applied cumulatively (see ``Ladder.overall_level``). The
fit is exhaustive over that family: every requirement for every level, scored by
exact agreement with the calibrators' overall levels. Ties go to the rule closest
to the shipped one (fewest threshold steps moved), so a threshold moves only when
the labels pay for it.

The search splits the levels in two halves so that counting hits is one matrix
product: a label whose level sits in the lower half is decided by the lower
half's requirements alone; one in the upper half needs every lower requirement
met (a 0/1 row) and the upper half's pattern (a 0/1 column).

Agreement is reported three ways: the shipped rule on every label (no fitting,
so no optimism), the fitted rule cross-validated by packet (each fold fitted
without its packets), and the fitted rule on the labels it was fitted on (an
optimistic upper bound, shown so the gap is visible).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from packet_eval.agreement.levels import LevelFit, level_fit
from packet_eval.dataset import Label
from packet_eval.errors import ConfigError
from packet_eval.ladder import Ladder

MIN_PACKETS = 20  # fewer labelled packets than this and eight thresholds are guesswork
FOLDS = 5
MAX_COMBINATIONS = 30_000_000  # about five levels over seven dimensions

Requirement = tuple[int, int]  # (min_dimensions, min_core)


class TooFewLabels(ConfigError):
    """Not enough labelled packets to fit a rule."""


@dataclass(frozen=True)
class RuleFit:
    """A fitted rule and how it compares with the shipped one."""

    requirements: dict[str, Requirement]
    shipped_requirements: dict[str, Requirement]
    shipped: LevelFit
    cross_validated: LevelFit
    in_sample: LevelFit
    n_labels: int
    n_packets: int
    calibrators: list[str]
    folds: int
    changed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"requirements": {k: list(v) for k, v in self.requirements.items()},
                "shipped_requirements": {k: list(v) for k, v in self.shipped_requirements.items()},
                "shipped": self.shipped.to_dict(), "cross_validated": self.cross_validated.to_dict(),
                "in_sample": self.in_sample.to_dict(), "n_labels": self.n_labels,
                "n_packets": self.n_packets, "calibrators": self.calibrators, "folds": self.folds,
                "changed": self.changed}


def shipped_requirements(ladder: Ladder) -> dict[str, Requirement]:
    reqs = ladder.level_rule.requirements
    return {lv: (reqs[lv].min_dimensions, reqs[lv].min_core) for lv in ladder.levels}


def options(ladder: Ladder) -> list[Requirement]:
    """Every requirement the family allows: 1..n dimensions, 0..min(core, that) of them core."""
    n_dims, n_core = len(ladder.dimension_ids), len(ladder.level_rule.core_dimensions)
    return [(m, c) for m in range(1, n_dims + 1) for c in range(min(n_core, m) + 1)]


def _counts(labels: Sequence[Label], ladder: Ladder) -> tuple[np.ndarray, np.ndarray]:
    """(dimensions, core dimensions) at or above each level, per label: shape (labels, levels)."""
    rank = ladder.rank
    core = set(ladder.level_rule.core_dimensions)
    k = len(ladder.levels)
    n_at = np.zeros((len(labels), k), dtype=np.int64)
    n_core = np.zeros((len(labels), k), dtype=np.int64)
    for i, lb in enumerate(labels):
        for d in ladder.dimension_ids:
            r = rank[lb.dimensions[d].level] if d in lb.dimensions else 0
            n_at[i, :r] += 1
            if d in core:
                n_core[i, :r] += 1
    return n_at, n_core


def _satisfied(n_at: np.ndarray, n_core: np.ndarray, opts: Sequence[Requirement]) -> np.ndarray:
    """sat[level, option, label]: does the label meet that requirement at that level?"""
    m = np.array([o[0] for o in opts])[None, :, None]
    c = np.array([o[1] for o in opts])[None, :, None]
    return (n_at.T[:, None, :] >= m) & (n_core.T[:, None, :] >= c)


def _half(sat: np.ndarray, lo: int, hi: int, gold: np.ndarray, n_opts: int, last: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For levels lo..hi-1 (0-based): combos, all-met rows, and hits of labels decided inside.

    ``hits[a, i]`` is 1 when label i's level (gold rank, 1-based levels) is reached and not
    exceeded within this half, given the half was entered (every lower level met).
    """
    combos = np.array(list(itertools.product(range(n_opts), repeat=hi - lo)), dtype=np.int64)
    combos = combos.reshape(len(combos), hi - lo)
    n = sat.shape[2]
    met = np.ones((len(combos), n), dtype=bool)
    hits = np.zeros((len(combos), n), dtype=bool)
    # A label of gold rank g stops at g: levels < g met (ranks 1..g), level g+1 not met.
    for j in range(hi - lo):
        s = sat[lo + j][combos[:, j]]
        rank_here = lo + j  # labels whose gold rank equals this: level lo+j+1 must fail
        hits |= met & ~s & (gold == rank_here)[None, :]
        met &= s
    if hi == last:
        hits |= met & (gold == last)[None, :]
    return combos, met, hits


def _search(labels: Sequence[Label], ladder: Ladder, opts: Sequence[Requirement],
            shipped: dict[str, Requirement]) -> dict[str, Requirement]:
    k = len(ladder.levels)
    if len(opts) ** k > MAX_COMBINATIONS:
        raise ConfigError(f"ladder {ladder.id} has {k} levels over {len(ladder.dimension_ids)} "
                          f"dimensions: {len(opts) ** k:,} rules is too many to search exhaustively")
    gold = np.array([ladder.rank[lb.level] for lb in labels], dtype=np.int64)
    sat = _satisfied(*_counts(labels, ladder), opts)
    h = k // 2
    ca, met_a, hits_a = _half(sat, 0, h, gold, len(opts), k)
    cb, _, hits_b = _half(sat, h, k, gold, len(opts), k)
    # Labels decided in the lower half (gold rank < h) only need the lower half's hits;
    # the others need every lower level met and the upper half's hits.
    lower = hits_a & (gold < h)[None, :]
    upper = hits_b & (gold >= h)[None, :]
    score = lower.sum(axis=1)[:, None] + met_a.astype(np.float32) @ upper.T.astype(np.float32)
    ship = [opts.index(shipped[lv]) if shipped[lv] in opts else -1 for lv in ladder.levels]
    dist = np.array([[abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in opts] for a in opts])

    def distance(combos: np.ndarray, offset: int) -> np.ndarray:
        total = np.zeros(len(combos))
        for j in range(combos.shape[1]):
            s = ship[offset + j]
            total += dist[combos[:, j], s] if s >= 0 else 0
        return total

    # Hits dominate; among equal hits, the fewest threshold steps away from the shipped rule.
    objective = np.rint(score) * 1000.0 - (distance(ca, 0)[:, None] + distance(cb, h)[None, :])
    ia, ib = np.unravel_index(int(np.argmax(objective)), objective.shape)
    chosen = [*ca[ia], *cb[ib]]
    return {lv: opts[chosen[j]] for j, lv in enumerate(ladder.levels)}


def rule_level(ladder: Ladder, requirements: dict[str, Requirement], dims: dict[str, str]) -> str:
    """The overall level under ``requirements`` (the ladder's cumulative rule, other thresholds)."""
    rank = ladder.rank
    core = set(ladder.level_rule.core_dimensions)
    achieved = ladder.scale[0]
    for lv in ladder.levels:
        at = [d for d in ladder.dimension_ids if rank[dims.get(d, ladder.scale[0])] >= rank[lv]]
        m, c = requirements[lv]
        if len(at) < m or sum(d in core for d in at) < c:
            break
        achieved = lv
    return achieved


def _levels(lb: Label) -> dict[str, str]:
    return {d: dl.level for d, dl in lb.dimensions.items()}


def _folds(packet_ids: Sequence[str], folds: int, seed: int) -> list[set[str]]:
    ids = sorted(set(packet_ids))
    order = np.random.default_rng(seed).permutation(len(ids))
    return [{ids[i] for i in order[f::folds]} for f in range(folds)]


def fit_rule(labels: Sequence[Label], ladder: Ladder, *, folds: int = FOLDS, n_boot: int = 1000,
             seed: int = 0, min_packets: int = MIN_PACKETS) -> RuleFit:
    """Fit the overall-level thresholds to ``labels``; cross-validate by packet.

    Raises:
        TooFewLabels: With fewer than ``min_packets`` labelled packets.
    """
    packets = sorted({lb.packet_id for lb in labels})
    if len(packets) < min_packets:
        raise TooFewLabels(f"{len(packets)} labelled packet(s) is too few to fit the level rule "
                           f"(at least {min_packets} needed); nothing fitted")
    opts = options(ladder)
    shipped = shipped_requirements(ladder)
    fitted = _search(labels, ladder, opts, shipped)
    folds = max(2, min(folds, len(packets)))
    cv_pred: dict[int, str] = {}
    for held in _folds(packets, folds, seed):
        train = [lb for lb in labels if lb.packet_id not in held]
        reqs = _search(train, ladder, opts, shipped)
        for i, lb in enumerate(labels):
            if lb.packet_id in held:
                cv_pred[i] = rule_level(ladder, reqs, _levels(lb))
    gold = [lb.level for lb in labels]
    groups = [lb.packet_id for lb in labels]

    def fit_of(pred: list[str]) -> LevelFit:
        return level_fit(gold, pred, ladder.scale, groups=groups, n_boot=n_boot, seed=seed)

    return RuleFit(
        requirements=fitted, shipped_requirements=shipped,
        shipped=fit_of([ladder.overall_level(_levels(lb)) for lb in labels]),
        cross_validated=fit_of([cv_pred[i] for i in range(len(labels))]),
        in_sample=fit_of([rule_level(ladder, fitted, _levels(lb)) for lb in labels]),
        n_labels=len(labels), n_packets=len(packets),
        calibrators=list(dict.fromkeys(lb.calibrator for lb in labels)), folds=folds,
        changed=[lv for lv in ladder.levels if fitted[lv] != shipped[lv]])


def _figures(f: LevelFit) -> dict[str, Any]:
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 4)

    def rc(p: tuple[float, float] | None) -> list[float | None] | None:
        return None if p is None else [r(p[0]), r(p[1])]

    return {"n": f.n, "exact": r(f.exact), "exact_ci95": rc(f.exact_ci),
            "within_one": r(f.within_one), "within_one_ci95": rc(f.within_one_ci),
            "kappa_quadratic": r(f.kappa_quadratic), "kappa_quadratic_ci95": rc(f.kappa_quadratic_ci)}


def fitted_ladder_yaml(ladder: Ladder, fit: RuleFit, labels_name: str, labels_sha256: str) -> bytes:
    """The ladder with the fitted thresholds, a new version, and a record of what it was fitted on.

    The version is derived from the base version and the labels' hash, so refitting the
    same labels gives the same file; the ladder's sha256 is that of these bytes.
    """
    import yaml

    data = ladder.model_dump(exclude={"sha256", "source", "fitted"})
    for lv, (m, c) in fit.requirements.items():
        data["level_rule"]["requirements"][lv] = {"min_dimensions": m, "min_core": c}
    base = ladder.version.split("+fit.")[0]
    data["version"] = f"{base}+fit.{labels_sha256[:10]}"
    data["fitted"] = {
        "from_ladder": ladder.ref(),
        "labels": {"file": labels_name, "sha256": labels_sha256, "labels": fit.n_labels,
                   "packets": fit.n_packets, "calibrators": fit.calibrators},
        "method": "exhaustive search of per-level (min_dimensions, min_core) for exact agreement "
                  "with the calibrators' overall levels; ties to the fewest steps from the "
                  "shipped thresholds",
        "changed_levels": fit.changed,
        "shipped_rule": _figures(fit.shipped),
        "fitted_rule_cross_validated": {**_figures(fit.cross_validated), "folds": fit.folds},
        "fitted_rule_in_sample": _figures(fit.in_sample),
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).encode("utf-8")
