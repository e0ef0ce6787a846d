"""The rule every extractor ends with: a span flagged as an injection is never evidence.

The baseline finds injections while it reads; an LLM proposes evidence and
flags of its own. Both pass through here (from ``assemble.build_assessment``),
so the same detector runs on every packet, its flags join the extractor's, and
evidence that overlaps any injection flag (the detector's or the extractor's
own) or any span the detector keeps out of evidence is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from packet_eval.injection.detector import InjectionHit, detect_injections
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet
from packet_eval.schema import Evidence, FlagFinding
from packet_eval.sentences import split_units

DEFAULT_INJECTION_FLAG = "prompt_injection"


def injection_flag_id(ladder: Ladder) -> str:
    """The ladder's flag for injections (its ``injection`` detector), else ``prompt_injection``."""
    return next((f.id for f in ladder.flags if f.detector == "injection"), DEFAULT_INJECTION_FLAG)


def find_injections(packet: Packet) -> list[InjectionHit]:
    """The detector over every sentence of the packet, headings included."""
    return detect_injections(packet.text, [(u.start, u.end) for u in split_units(packet.text)])


def screen(ladder: Ladder, packet: Packet, evidence: Mapping[str, list[Evidence]],
           flags: list[FlagFinding], injections: list[InjectionHit] | None = None
           ) -> tuple[dict[str, list[Evidence]], list[FlagFinding]]:
    """Evidence with every injected span removed, and the flags with the detector's added.

    Args:
        injections: The detector's spans when the caller already has them (the baseline).
    """
    hits = find_injections(packet) if injections is None else injections
    flag_id = injection_flag_id(ladder)
    text = packet.text
    have = {(f.flag, f.start, f.end) for f in flags}
    out_flags = list(flags)
    if any(f.detector == "injection" for f in ladder.flags):
        out_flags += [FlagFinding(flag=flag_id, quote=text[h.start:h.end], start=h.start, end=h.end,
                                  rationale=f"{h.kind}: text aimed at the evaluator, treated as data")
                      for h in hits if h.flagged and (flag_id, h.start, h.end) not in have]
    banned = [(h.start, h.end) for h in hits] + [
        (f.start, f.end) for f in out_flags if f.flag == flag_id]
    kept = {dim: [ev for ev in items if not any(s < ev.end and ev.start < e for s, e in banned)]
            for dim, items in evidence.items()}
    return kept, out_flags
