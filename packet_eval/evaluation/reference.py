"""Reference extractors that prove the harness can score 1.0 and can score at chance.

- ``oracle`` returns the first calibrator's labels as a grounded Assessment, so
  every agreement metric against that calibrator must be 1.0.
- ``constant`` returns the most frequent gold level for the overall level and
  every dimension, with no evidence and no flags, so kappa must be 0.

If either ever scores otherwise, the harness is broken, not the extractor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from packet_eval.assemble import build_assessment, compute_gaps
from packet_eval.dataset import Label
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet
from packet_eval.schema import (
    Assessment,
    DimensionFinding,
    Evidence,
    ExtractorInfo,
    FlagFinding,
    LadderRef,
)
from packet_eval.sentences import split_units


def oracle(packet: Packet, ladder: Ladder, label: Label) -> Assessment:
    """The calibrator's own label, grounded in the packet text."""
    evidence: dict[str, list[Evidence]] = {}
    for d, dl in label.dimensions.items():
        items = []
        for q in dl.evidence:
            pos = packet.text.find(q)
            if pos == -1:
                continue
            items.append(Evidence(quote=q, start=pos, end=pos + len(q), match="exact",
                                  match_score=100.0, level=dl.level, strength="strong",
                                  attribution="individual", rationale=f"label by {label.calibrator}"))
        evidence[d] = items
    # Labels name flags without spans; anchor each on the packet's first sentence.
    first = next(u for u in split_units(packet.text) if not u.is_heading) if packet.text.strip() else None
    flags = [FlagFinding(flag=f, quote=packet.text[first.start:first.end], start=first.start,
                         end=first.end, rationale=f"label by {label.calibrator}")
             for f in label.flags] if first else []
    return build_assessment(
        ladder, packet, ExtractorInfo(name="oracle", model="oracle"), evidence, flags,
        target_level=label.target_level,
        claimed_levels={d: dl.level for d, dl in label.dimensions.items()},
        screened=False)  # replays gold labels: screening them would grade the detector, not the harness


def most_frequent_level(labels: Iterable[Label], ladder: Ladder) -> str:
    """The most frequent overall level; ties go to the lower level so the choice is stable."""
    counts = Counter(lb.level for lb in labels)
    if not counts:
        return ladder.scale[0]
    return max(ladder.scale, key=lambda lv: (counts.get(lv, 0), -ladder.rank[lv]))


def constant(packet: Packet, ladder: Ladder, level: str, target_level: str | None = None
             ) -> Assessment:
    """Every dimension and the overall level at ``level``: no evidence, no flags."""
    dims = {d: DimensionFinding(level=level, evidence=[]) for d in ladder.dimension_ids}
    return Assessment(
        packet_id=packet.packet_id, packet_sha256=packet.sha256, source=packet.source,
        ladder=LadderRef(**ladder.ref()), extractor=ExtractorInfo(name="constant", model="constant"),
        target_level=target_level, level=level, dimensions=dims, flags=[],
        gaps=compute_gaps(ladder, dict.fromkeys(ladder.dimension_ids, level), target_level))
