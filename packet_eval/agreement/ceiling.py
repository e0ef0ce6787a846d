"""The aggregation ceiling: the ladder's overall-level rule against the calibrators' own calls.

An extractor's overall level is the ladder rule over its dimension levels, so it
can be no closer to a calibrator's overall level than the rule applied to that
calibrator's *own* dimension levels. This module measures that ceiling (exact,
within one, quadratic kappa, with 95% intervals), for each calibrator and for
all labels pooled, and lists the labels whose overall level departs from the
rule. Reported beside an extractor, it splits the error into extraction (levels
per dimension) and aggregation (the rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packet_eval.agreement.levels import LevelFit, level_fit
from packet_eval.dataset import Label
from packet_eval.ladder import Ladder


@dataclass(frozen=True)
class OffRule:
    """One label whose overall level is not what the rule gives for its dimension levels."""

    packet_id: str
    calibrator: str
    level: str
    rule_level: str


@dataclass(frozen=True)
class AggregationCeiling:
    """The rule on each calibrator's dimension levels, scored against that calibrator's overall.

    Attributes:
        pooled: Every label, the bootstrap resampling packets (a packet's labels together).
        by_calibrator: The same per calibrator, in the order they first appear.
        off_rule: The labels the rule gets wrong.
    """

    pooled: LevelFit
    by_calibrator: dict[str, LevelFit]
    off_rule: list[OffRule]

    def to_dict(self) -> dict[str, Any]:
        return {"pooled": self.pooled.to_dict(),
                "by_calibrator": {c: f.to_dict() for c, f in self.by_calibrator.items()},
                "off_rule": [vars(o) for o in self.off_rule]}


def label_levels(label: Label) -> dict[str, str]:
    return {d: dl.level for d, dl in label.dimensions.items()}


def ceiling_from_levels(items: Iterable[tuple[str, str, Mapping[str, str], str]], ladder: Ladder,
                        *, n_boot: int = 1000, seed: int = 0) -> AggregationCeiling:
    """The ceiling over (packet_id, calibrator, dimension levels, overall level) tuples."""
    rows = [(pid, cal, ladder.overall_level(dims), level) for pid, cal, dims, level in items]
    off = [OffRule(pid, cal, level, rule) for pid, cal, rule, level in rows if rule != level]
    pooled = level_fit([r[3] for r in rows], [r[2] for r in rows], ladder.scale,
                       groups=[r[0] for r in rows], n_boot=n_boot, seed=seed)
    by_cal: dict[str, LevelFit] = {}
    for cal in dict.fromkeys(r[1] for r in rows):
        mine = [r for r in rows if r[1] == cal]
        by_cal[cal] = level_fit([r[3] for r in mine], [r[2] for r in mine], ladder.scale,
                                n_boot=n_boot, seed=seed)
    return AggregationCeiling(pooled=pooled, by_calibrator=by_cal, off_rule=off)


def aggregation_ceiling(labels: Iterable[Label], ladder: Ladder, *, n_boot: int = 1000,
                        seed: int = 0) -> AggregationCeiling:
    """The aggregation ceiling of a set of calibrator labels under ``ladder``'s rule."""
    return ceiling_from_levels(((lb.packet_id, lb.calibrator, label_levels(lb), lb.level)
                                for lb in labels), ladder, n_boot=n_boot, seed=seed)
