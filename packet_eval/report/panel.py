"""Two or more calibrators on the same packets: how they agree with each other and with the tool.

Beside the tool-versus-calibrator figures the committee already gets, the panel
gives calibrator-versus-calibrator agreement (the ceiling any tool can be held
to) per dimension, the tool against each calibrator on that calibrator's
packets, and the packets where the calibrators themselves disagree. Any
difference between calibrators is listed (one step on one dimension included):
such differences are rare and are exactly what a calibration meeting is for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packet_eval.agreement import (
    AgreementReport,
    RaterAgreement,
    Record,
    agreement_report,
    pairwise_rater_agreement,
    record_from_label,
)
from packet_eval.dataset import Label
from packet_eval.ladder import Ladder


@dataclass(frozen=True)
class CalibratorDiff:
    """One packet the calibrators labelled differently.

    Attributes:
        levels: Calibrator -> overall level.
        dimensions: Dimension -> (calibrator -> level), only the dimensions that differ.
        steps: The widest overall-level spread, in levels.
        dimension_steps: The widest spread on any dimension.
    """

    packet_id: str
    levels: dict[str, str]
    dimensions: dict[str, dict[str, str]]
    steps: int
    dimension_steps: int

    def sort_key(self) -> tuple[int, int, int, str]:
        return (-self.steps, -self.dimension_steps, -len(self.dimensions), self.packet_id)


@dataclass(frozen=True)
class Panel:
    """Calibrators against each other and the tool against each of them."""

    calibrators: list[str]
    raters: RaterAgreement
    tool: dict[str, AgreementReport | None]
    disagreements: list[CalibratorDiff]
    n_shared: int

    def pair_names(self) -> list[str]:
        return [f"{p.rater_a} vs {p.rater_b}" for p in self.raters.pairs]

    def to_dict(self) -> dict[str, Any]:
        return {"calibrators": self.calibrators, "n_shared_packets": self.n_shared,
                "calibrator_vs_calibrator": self.raters.to_dict(),
                "tool_vs_calibrator": {c: r.to_dict() if r else None for c, r in self.tool.items()},
                "calibrator_disagreements": [vars(d) for d in self.disagreements]}


def _spread(ladder: Ladder, values: Sequence[str]) -> int:
    ranks = [ladder.rank[v] for v in values]
    return max(ranks) - min(ranks)


def _diff(ladder: Ladder, pid: str, labels: Sequence[Label]) -> CalibratorDiff | None:
    levels = {lb.calibrator: lb.level for lb in labels}
    dims: dict[str, dict[str, str]] = {}
    for d in ladder.dimension_ids:
        by_cal = {lb.calibrator: lb.dimensions[d].level for lb in labels if d in lb.dimensions}
        if len(set(by_cal.values())) > 1:
            dims[d] = by_cal
    steps = _spread(ladder, list(levels.values()))
    if not steps and not dims:
        return None
    return CalibratorDiff(pid, levels, dims, steps,
                          max((_spread(ladder, list(v.values())) for v in dims.values()), default=0))


def build_panel(by_packet: Mapping[str, Sequence[Label]], tool: Mapping[str, Record],
                texts: Mapping[str, str | None], ladder: Ladder, *, n_boot: int = 1000,
                seed: int = 0) -> Panel | None:
    """The panel over the packets the tool assessed, or ``None`` with fewer than two calibrators."""
    labels = [lb for pid in tool for lb in by_packet.get(pid, ())]
    calibrators = list(dict.fromkeys(lb.calibrator for lb in labels))
    if len(calibrators) < 2:
        return None
    records: dict[str, list[Record]] = {c: [] for c in calibrators}
    for lb in labels:
        records[lb.calibrator].append(record_from_label(lb, texts.get(lb.packet_id) or ""))
    lv, dims, fl = ladder.scale, ladder.dimension_ids, ladder.flag_ids
    raters = pairwise_rater_agreement(records, levels=lv, dimensions=dims, flags=fl,
                                      n_boot=n_boot, seed=seed)
    vs_tool = {c: agreement_report(recs, [tool[r.packet_id] for r in recs], levels=lv,
                                   dimensions=dims, flags=fl, n_boot=n_boot, seed=seed)
               if recs else None for c, recs in records.items()}
    diffs = [d for pid in tool if (d := _diff(ladder, pid, _one_each(by_packet.get(pid, ()))))]
    shared = sum(1 for pid in tool if len(_one_each(by_packet.get(pid, ()))) >= 2)
    return Panel(calibrators=calibrators, raters=raters, tool=vs_tool,
                 disagreements=sorted(diffs, key=CalibratorDiff.sort_key), n_shared=shared)


def _one_each(labels: Sequence[Label]) -> list[Label]:
    seen: dict[str, Label] = {}
    for lb in labels:
        seen.setdefault(lb.calibrator, lb)
    return list(seen.values())


def pair_kappa(panel: Panel, dimension: str) -> list[float | None]:
    """Quadratic kappa per calibrator pair on one dimension, in ``pair_names`` order."""
    out: list[float | None] = []
    for p in panel.raters.pairs:
        s = p.report.dimensions.per_dimension.get(dimension) if p.report else None
        out.append(s.kappa_quadratic if s else None)
    return out


__all__ = ["CalibratorDiff", "Panel", "build_panel", "pair_kappa"]


def panel_table(panel: Panel, tool_report: AgreementReport | None, chosen: str | None,
                ladder: Ladder) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """(column names, rows of (dimension name, weighted kappas)) for the committee report.

    Columns: the tool against the calibrator of the main figures, the tool against each
    other calibrator, then each calibrator pair.
    """
    others = [c for c in panel.calibrators if c != chosen]
    cols = [f"tool vs {chosen or 'first label'}", *(f"tool vs {c}" for c in others),
            *panel.pair_names()]
    rows = []
    for dim in ladder.dimensions:
        vals: list[float | None] = []
        for r in (tool_report, *(panel.tool.get(c) for c in others)):
            s = r.dimensions.per_dimension.get(dim.id) if r else None
            vals.append(s.kappa_quadratic if s else None)
        rows.append((dim.name, vals + pair_kappa(panel, dim.id)))
    return cols, rows
