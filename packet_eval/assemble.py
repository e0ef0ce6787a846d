"""Assemble an Assessment from grounded evidence: dimension levels, overall level, gaps.

Both extractors end here, so the rules that turn evidence into levels are
applied identically whatever proposed the evidence:

- a dimension's level is the highest level its moderate or strong evidence
  supports; weak evidence alone supports at most the lowest level; a level an
  extractor claims is capped at what its grounded evidence supports;
- the overall level is the ladder's rule over the dimension levels;
- gaps list every dimension below the target with advice from the ladder cells;
- a span the injection detector or the extractor flags as an injection is never evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packet_eval.injection import InjectionHit
from packet_eval.injection.screening import screen
from packet_eval.ladder import NONE, Ladder
from packet_eval.packet import Packet
from packet_eval.schema import (
    Assessment,
    DimensionFinding,
    Evidence,
    ExtractorInfo,
    FlagFinding,
    Gap,
    LadderRef,
    Usage,
)

MAX_EVIDENCE_PER_DIMENSION = 5


def supported_level(ladder: Ladder, evidence: Iterable[Evidence]) -> str:
    """The highest level that a dimension's grounded evidence supports."""
    return ladder.scale[max((_effective_rank(ladder, ev) for ev in evidence), default=0)]


def rank_evidence(ladder: Ladder, evidence: list[Evidence]) -> list[Evidence]:
    """Best evidence first: higher level, then stronger, then earlier in the packet."""
    strength = {"strong": 0, "moderate": 1, "weak": 2}
    return sorted(evidence, key=lambda e: (-_effective_rank(ladder, e), strength[e.strength], e.start))


def _effective_rank(ladder: Ladder, ev: Evidence) -> int:
    r = ladder.rank[ev.level]
    return min(r, 1) if ev.strength == "weak" else r


def dedupe_spans(evidence: list[Evidence]) -> list[Evidence]:
    """Drop evidence whose span lies inside an already kept span (keeps the first)."""
    kept: list[Evidence] = []
    for ev in evidence:
        if any(k.start <= ev.start and ev.end <= k.end for k in kept):
            continue
        kept = [k for k in kept if not (ev.start <= k.start and k.end <= ev.end)]
        kept.append(ev)
    return kept


def compute_gaps(ladder: Ladder, levels: Mapping[str, str], target: str | None) -> list[Gap]:
    """One gap per dimension below ``target``, core dimensions and smallest gaps first."""
    if target is None or target == NONE:
        return []
    rank = ladder.rank
    core = set(ladder.level_rule.core_dimensions)
    gaps: list[Gap] = []
    for dim in ladder.dimensions:
        shown = levels.get(dim.id, NONE)
        if rank[shown] >= rank[target]:
            continue
        need = dim.cells[target]
        if shown == NONE:
            now = f"{dim.name} shows no evidence yet"
        else:
            now = f"{dim.name} shows {shown} ({_lower_first(dim.cells[shown].behaviour).rstrip('.')})"
        advice = (f"{now}; {target} needs: {_lower_first(need.behaviour)} "
                  f"Evidence that would show it reads like: \u201c{need.evidence[0]}\u201d")
        gaps.append(Gap(dimension=dim.id, needed=target, demonstrated=shown, advice=advice))
    gaps.sort(key=lambda g: (g.dimension not in core, rank[target] - rank[g.demonstrated]))
    return gaps


def _lower_first(s: str) -> str:
    """Lower-case the first letter (for mid-sentence use) unless it starts an acronym."""
    return s[:1].lower() + s[1:] if s and not s[:2].isupper() else s


# Hidden text (comments, hidden or white or tiny text, Word comments) is reported once
# per packet and never evidence, whichever extractor proposed it. The note is not an
# injection flag: a template's leftover comment is benign.
HIDDEN_TEXT_FLAG = "hidden_text"
HIDDEN_TEXT_NAME = "Text a reader cannot see"
_KIND_WORDS = {"comment": "comment", "hidden style": "hidden or invisible text",
               "word comment": "Word comment"}


def hidden_text_note(packet: Packet) -> FlagFinding | None:
    """One note naming every kind of hidden text in ``packet``, quoting the first; None if none."""
    if not packet.hidden:
        return None
    counts: dict[str, int] = {}
    for h in packet.hidden:
        counts[h.kind] = counts.get(h.kind, 0) + 1
    parts = ", ".join(f"{n} {_KIND_WORDS.get(k, k)}{'s' if n != 1 else ''}" for k, n in counts.items())
    first = packet.hidden[0]
    return FlagFinding(
        flag=HIDDEN_TEXT_FLAG, quote=packet.text[first.start:first.end], start=first.start,
        end=first.end, rationale=f"This packet contains text a reader cannot see ({parts}). "
        "It is never used as evidence; remove it or make it visible if it matters.")


def visible_evidence(packet: Packet, items: list[Evidence]) -> list[Evidence]:
    """``items`` without any quote that overlaps hidden text."""
    return [e for e in items if not packet.is_hidden(e.start, e.end)]


def build_assessment(
    ladder: Ladder,
    packet: Packet,
    extractor: ExtractorInfo,
    evidence: Mapping[str, list[Evidence]],
    flags: list[FlagFinding],
    *,
    target_level: str | None = None,
    claimed_levels: Mapping[str, str] | None = None,
    usage: Usage | None = None,
    notes: list[str] | None = None,
    injections: list[InjectionHit] | None = None,
    screened: bool = True,
) -> Assessment:
    """Turn grounded evidence into a checked Assessment.

    Unless ``screened`` is False (the reference extractors, which replay gold
    labels), injected spans are removed from evidence first; see ``screening``.
    """
    if target_level is not None:
        ladder.check_level(target_level)
    if screened:
        evidence, flags = screen(ladder, packet, evidence, flags, injections)
    dims: dict[str, DimensionFinding] = {}
    for dim_id in ladder.dimension_ids:
        # Hidden text is never evidence, whichever extractor proposed it.
        found = visible_evidence(packet, list(evidence.get(dim_id, [])))
        items = rank_evidence(ladder, dedupe_spans(rank_evidence(ladder, found)))
        items = items[:MAX_EVIDENCE_PER_DIMENSION]
        level = supported_level(ladder, items)
        if claimed_levels is not None:
            claimed = claimed_levels.get(dim_id, NONE)
            level = ladder.scale[min(ladder.rank[level], ladder.rank[claimed])]
        dims[dim_id] = DimensionFinding(level=level, evidence=items)
    by_dim = {d: f.level for d, f in dims.items()}
    seen: set[tuple[str, int, int]] = set()
    unique_flags = []
    note = hidden_text_note(packet)
    for fl in sorted([*flags, *([note] if note else [])], key=lambda f: (f.start, f.flag)):
        if (fl.flag, fl.start, fl.end) not in seen:
            seen.add((fl.flag, fl.start, fl.end))
            unique_flags.append(fl)
    assessment = Assessment(
        packet_id=packet.packet_id,
        packet_sha256=packet.sha256,
        source=packet.source,
        ladder=LadderRef(**ladder.ref()),
        extractor=extractor,
        target_level=target_level,
        level=ladder.overall_level(by_dim),
        dimensions=dims,
        flags=unique_flags,
        gaps=compute_gaps(ladder, by_dim, target_level),
        usage=usage or Usage(),
        notes=list(notes or []),
    )
    assessment.check_grounded(packet.text)
    return assessment
