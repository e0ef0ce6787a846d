"""Reference extractors that prove the harness can score 1.0 and can score at chance.

- ``oracle`` returns the first calibrator's labels verbatim (overall level
  included) as a grounded Assessment, so every agreement metric against that
  calibrator must be 1.0, whether or not the overall levels follow the rule.
- ``constant`` returns the most frequent gold level for the overall level and
  every dimension, with no evidence and no flags, so kappa must be 0.

If either ever scores otherwise, the harness is broken, not the extractor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from packet_eval.assemble import compute_gaps
from packet_eval.dataset import Label
from packet_eval.ladder import NONE, Ladder
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
    """The calibrator's own label, verbatim: levels, overall level, evidence and flags.

    The overall level is the calibrator's, not the ladder rule over their dimension
    levels: a holistic call that departs from the rule is the committee's truth, and
    the aggregation ceiling (``packet_eval.agreement.ceiling``) measures that departure.
    """
    dims: dict[str, DimensionFinding] = {}
    for d in ladder.dimension_ids:
        dl = label.dimensions.get(d)
        items = []
        # Every quote, located as record_from_label locates it, so spans match one for one.
        for q in dl.evidence if dl else ():
            pos = packet.text.find(q)
            if pos == -1:
                continue
            items.append(Evidence(quote=q, start=pos, end=pos + len(q), match="exact",
                                  match_score=100.0, level=dl.level if dl else NONE,
                                  strength="strong", attribution="individual",
                                  rationale=f"label by {label.calibrator}"))
        dims[d] = DimensionFinding(level=dl.level if dl else NONE, evidence=items)
    # Labels name flags without spans; anchor each on the packet's first sentence.
    first = next(u for u in split_units(packet.text) if not u.is_heading) if packet.text.strip() else None
    flags = [FlagFinding(flag=f, quote=packet.text[first.start:first.end], start=first.start,
                         end=first.end, rationale=f"label by {label.calibrator}")
             for f in label.flags] if first else []
    levels = {d: f.level for d, f in dims.items()}
    a = Assessment(
        packet_id=packet.packet_id, packet_sha256=packet.sha256, source=packet.source,
        ladder=LadderRef(**ladder.ref()), extractor=ExtractorInfo(name="oracle", model="oracle"),
        target_level=label.target_level, level=ladder.check_level(label.level), dimensions=dims,
        flags=flags, gaps=compute_gaps(ladder, levels, label.target_level))
    a.check_grounded(packet.text)
    return a


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
