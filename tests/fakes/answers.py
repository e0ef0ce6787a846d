"""Scripted ExtractionAnswers for the fake LLM server, quoting the shipped sample packet.

Test data only: none of these is a model's output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packet_eval.ladder import load_ladder
from packet_eval.providers import RetryPolicy

SAMPLE = Path(__file__).resolve().parents[2] / "packet_eval" / "examples" / "sample-packet.md"
LADDER = load_ladder()
# Retries at test speed against a scripted server.
FAST = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05)

# Verbatim sentences of packet_eval/examples/sample-packet.md.
Q_EVAL = ("In Q2 I built the failure-mode taxonomy and eval harness that every change to the "
          "assistant now runs against.")
Q_PROD = ("I traced it through retrieval and context assembly to an index shard that had "
          "stopped refreshing")
Q_CONTEXT = ("I own the context assembly for the claims assistant, deciding which history, "
             "documents and instructions go into each turn.")
Q_TEAM = "We also migrated the service to the new deployment platform."
# Differs from the packet only in case: grounds as a "normalized" match.
Q_NORMALIZED = "my feature count went down in the second half"


def ev(quote: str, level: str = "senior", strength: str = "strong") -> dict[str, Any]:
    """One evidence item as the model would return it."""
    return {"quote": quote, "rationale": "scripted", "level": level, "strength": strength,
            "attribution": "individual"}


def answer(evidence: dict[str, list[dict[str, Any]]] | None = None,
           levels: dict[str, str] | None = None,
           flags: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An ExtractionAnswer with every ladder dimension; a level defaults to its first item's."""
    evidence = evidence or {}
    levels = levels or {}
    dims = []
    for d in LADDER.dimension_ids:
        items = evidence.get(d, [])
        dims.append({"dimension": d, "reasoning": "scripted", "evidence": items,
                     "level": levels.get(d, items[0]["level"] if items else "none")})
    return {"dimensions": dims, "flags": flags or []}


def answer_quoting(quote: str) -> dict[str, Any]:
    """eval_design (Q_EVAL) and production_diagnosis (``quote``), both senior and strong."""
    return answer({"eval_design": [ev(Q_EVAL)], "production_diagnosis": [ev(quote)]})
