"""The tool against the committee's own calibrators: agreement metrics and what to discuss.

The metrics are exactly the harness's: labels and Assessments become
``agreement.Record``s through ``agreement/records.py`` and go to
``agreement.agreement_report`` with the ladder's levels, dimensions and flags,
so ``packet-eval agreement`` and the eval harness can never disagree on the
same data. Each packet is compared with one label: the chosen calibrator's, or
by default the first label for the packet in the file (as the harness does);
other calibrators' levels are shown alongside for context.

A packet is a *disagreement to discuss* when the overall levels differ or any
dimension is two or more steps apart. Disagreements are ordered by how far
apart the overall levels are, then the largest dimension gap, so the meeting
starts with the cases most worth its time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from packet_eval.agreement import (
    AgreementReport,
    Record,
    agreement_report,
    record_from_assessment,
    record_from_label,
)
from packet_eval.agreement.ceiling import AggregationCeiling, aggregation_ceiling
from packet_eval.dataset import Label
from packet_eval.ladder import Ladder
from packet_eval.report.panel import Panel, build_panel
from packet_eval.schema import Assessment

MAJOR_DIMENSION_STEPS = 2


@dataclass(frozen=True)
class DimDiff:
    """One dimension on which the tool and the calibrator differ (``steps`` = tool - calibrator)."""

    dimension: str
    calibrator: str
    tool: str
    steps: int


@dataclass
class Disagreement:
    """One packet where the tool and the calibrator differ enough to discuss."""

    packet_id: str
    source: str
    calibrator: str
    calibrator_level: str
    tool_level: str
    steps: int
    dimensions: list[DimDiff]
    flags_missed: list[str]
    flags_extra: list[str]
    notes: str
    others: list[tuple[str, str]] = field(default_factory=list)

    @property
    def max_dimension_steps(self) -> int:
        return max((abs(d.steps) for d in self.dimensions), default=0)

    def sort_key(self) -> tuple[int, int, int, str]:
        return (-abs(self.steps), -self.max_dimension_steps, -len(self.dimensions), self.packet_id)


@dataclass
class Calibration:
    """Agreement of one run with the committee's labels."""

    calibrator: str | None
    n_labelled: int
    n_compared: int
    report: AgreementReport | None
    disagreements: list[Disagreement]
    n_minor: int = 0
    labelled_not_assessed: list[str] = field(default_factory=list)
    assessed_not_labelled: int = 0
    missing_text: list[str] = field(default_factory=list)
    gold_levels: dict[str, str] = field(default_factory=dict)  # packet_id -> calibrator level
    gold_dimensions: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    calibrators: dict[str, str] = field(default_factory=dict)  # packet_id -> who labelled it
    # The ladder's rule on the calibrators' own dimension levels (every label of a compared packet).
    ceiling: AggregationCeiling | None = None
    panel: Panel | None = None  # two or more calibrators: each other, and the tool against each

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["report"] = self.report.to_dict() if self.report else None
        out["aggregation_ceiling"] = self.ceiling.to_dict() if self.ceiling else None
        out["panel"] = self.panel.to_dict() if self.panel else None
        out.pop("ceiling")
        for key in ("gold_dimensions", "notes", "calibrators", "gold_levels"):
            out.pop(key)
        return out


def pick_labels(labels: Iterable[Label], calibrator: str | None = None
                ) -> tuple[dict[str, Label], dict[str, list[Label]]]:
    """(the label each packet is compared with, every label by packet).

    Raises ValueError when ``calibrator`` labelled nothing.
    """
    by_packet: dict[str, list[Label]] = {}
    for lb in labels:
        by_packet.setdefault(lb.packet_id, []).append(lb)
    chosen: dict[str, Label] = {}
    for pid, lbs in by_packet.items():
        pick = lbs[0] if calibrator is None else \
            next((lb for lb in lbs if lb.calibrator == calibrator), None)
        if pick is not None:
            chosen[pid] = pick
    if calibrator and not chosen:
        names = sorted({lb.calibrator for lbs in by_packet.values() for lb in lbs})
        raise ValueError(f"no labels by calibrator {calibrator!r} "
                         f"(labels are by: {', '.join(names)})")
    return chosen, by_packet


def _diff(ladder: Ladder, label: Label, a: Assessment, others: list[Label]) -> Disagreement:
    rank = ladder.rank
    dims = []
    for d in ladder.dimension_ids:
        g = label.dimensions[d].level if d in label.dimensions else None
        p = a.dimensions[d].level if d in a.dimensions else None
        if g is not None and p is not None and g != p:
            dims.append(DimDiff(d, g, p, rank[p] - rank[g]))
    # Ladder flags only: the hidden-text note is hygiene, not a judgement a calibrator labels.
    tool_flags = {f.flag for f in a.flags if f.flag in ladder.flag_ids}
    return Disagreement(
        packet_id=a.packet_id, source=a.source, calibrator=label.calibrator,
        calibrator_level=label.level, tool_level=a.level, steps=rank[a.level] - rank[label.level],
        dimensions=dims, flags_missed=sorted(set(label.flags) - tool_flags),
        flags_extra=sorted(tool_flags - set(label.flags)), notes=label.notes,
        others=[(o.calibrator, o.level) for o in others if o is not label])


def compare(labels: Iterable[Label], predictions: Iterable[tuple[Assessment, str | None]],
            ladder: Ladder, *, calibrator: str | None = None, n_boot: int = 1000,
            seed: int = 0) -> Calibration:
    """Compare Assessments (each with its packet text, or None) with calibrator labels.

    Packets without a label, and labels without an Assessment, are counted but not
    scored. A missing packet text only loses the calibrator's evidence spans (they are
    located in the text), so evidence metrics then read low; ``missing_text`` lists them.
    """
    chosen, by_packet = pick_labels(labels, calibrator)
    gold: list[Record] = []
    pred: list[Record] = []
    disagreements: list[Disagreement] = []
    seen: set[str] = set()
    n_minor = 0
    missing_text: list[str] = []
    unlabelled = 0
    tool: dict[str, Record] = {}
    texts: dict[str, str | None] = {}
    cal = Calibration(calibrator=calibrator, n_labelled=len(chosen), n_compared=0, report=None,
                      disagreements=[])
    for a, text in predictions:
        label = chosen.get(a.packet_id)
        if label is None or a.packet_id in seen:
            unlabelled += label is None
            continue
        seen.add(a.packet_id)
        if text is None:
            missing_text.append(a.packet_id)
        gold.append(record_from_label(label, text or ""))
        pred.append(record_from_assessment(a))
        tool[a.packet_id], texts[a.packet_id] = pred[-1], text
        cal.gold_levels[a.packet_id] = label.level
        cal.gold_dimensions[a.packet_id] = {d: dl.level for d, dl in label.dimensions.items()}
        cal.notes[a.packet_id] = label.notes
        cal.calibrators[a.packet_id] = label.calibrator
        diff = _diff(ladder, label, a, by_packet.get(a.packet_id, []))
        if diff.steps != 0 or diff.max_dimension_steps >= MAJOR_DIMENSION_STEPS:
            disagreements.append(diff)
        elif diff.dimensions:
            n_minor += 1
    cal.n_compared = len(gold)
    cal.n_minor = n_minor
    cal.missing_text = missing_text
    cal.assessed_not_labelled = unlabelled
    cal.labelled_not_assessed = sorted(set(chosen) - seen)
    cal.disagreements = sorted(disagreements, key=Disagreement.sort_key)
    if gold:
        cal.report = agreement_report(gold, pred, levels=ladder.scale,
                                      dimensions=ladder.dimension_ids, flags=ladder.flag_ids,
                                      n_boot=n_boot, seed=seed)
        cal.ceiling = aggregation_ceiling((lb for pid in tool for lb in by_packet[pid]), ladder,
                                          n_boot=n_boot, seed=seed)
        cal.panel = build_panel(by_packet, tool, texts, ladder, n_boot=n_boot, seed=seed)
    return cal
