"""The response model the LLM fills in, and the validator that grounds its quotes.

Field order matters: reasoning comes before evidence and level, so the model
explains before it rates. Every field is required: a server that turns the schema
into a grammar (llama.cpp) writes required fields first, so an optional
``evidence`` list came after ``level`` and was skipped. The schema sent is
self-contained (``$defs`` inlined, see ``inline_refs``) because inspect's agent
bridge drops ``$defs`` and leaves the ``$ref`` items empty. The validator reads the canonical packet text and
the ladder from a ``GroundingContext``. An ungrounded quote, an unknown
dimension or level raises, and instructor re-asks with that message; on the
last allowed attempt the validator drops the bad items instead and counts them
on the answer (``dropped_ungrounded``), so nothing ungrounded ever becomes evidence.
The validator only reads the context: what it finds travels on the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, ValidationInfo, model_validator

from packet_eval.grounding import Span, ground


@dataclass
class GroundingContext:
    """What one chunk's answers are grounded against (see ``extractors.request``)."""

    text: str  # the canonical packet text, never the redacted one
    scale: tuple[str, ...]
    dimensions: frozenset[str]
    flags: frozenset[str]
    hint: int  # where the chunk starts: ties between equal matches go to the nearest
    max_attempts: int
    # Quotes of redacted text come back with placeholders: restore, then ground in the original.
    restore: Callable[[str], str] | None = None
    attempt: int = 0  # counted by the requester as each attempt goes out

    @property
    def final(self) -> bool:
        """The last allowed attempt: drop what does not ground instead of re-asking."""
        return self.attempt >= self.max_attempts


# The grounding data for the answer being validated. It is not passed to instructor as
# ``context``: instructor would then render every message, packet included, as a Jinja
# template, so packet text such as "{{ ... }}" would be executed instead of quoted.
# A ContextVar is per asyncio task, so concurrent extractions never see each other's.
GROUNDING: ContextVar[GroundingContext | None] = ContextVar("packet_eval_grounding", default=None)


class EvidenceQuote(BaseModel):
    quote: str = Field(
        description="Copied character for character from the packet: one sentence or clause.")
    rationale: str = Field(description="Why this shows the behaviour of the chosen ladder cell.")
    level: str = Field(description="The ladder level this quote shows.")
    strength: Literal["strong", "moderate", "weak"]
    attribution: Literal["individual", "team", "unclear"]
    _spans: list[Span] = PrivateAttr(default_factory=list)

    @property
    def spans(self) -> list[Span]:
        """Where the quote grounds in the packet (set by validation)."""
        return self._spans


class DimensionAnswer(BaseModel):
    dimension: str = Field(description="A dimension id from the ladder.")
    reasoning: str = Field(description="Think first: what does the packet show for this dimension?")
    evidence: list[EvidenceQuote] = Field(
        description="Quotes that show the level; an empty list if the packet shows none.")
    level: str = Field(
        description="The demonstrated level, from the quoted evidence only; 'none' if there is none.")


class FlagAnswer(BaseModel):
    flag: str = Field(description="A flag id from the ladder.")
    quote: str = Field(description="The passage the flag is about, copied from the packet.")
    rationale: str
    _spans: list[Span] = PrivateAttr(default_factory=list)

    @property
    def spans(self) -> list[Span]:
        """Where the quote grounds in the packet (set by validation)."""
        return self._spans


class ExtractionAnswer(BaseModel):
    """Evidence for every dimension of the ladder, and the packet's flags."""

    dimensions: list[DimensionAnswer]
    flags: list[FlagAnswer] = Field(description="Flags the packet raises; an empty list if none.")
    _dropped: int = PrivateAttr(default=0)

    @property
    def dropped_ungrounded(self) -> int:
        """Items the last allowed attempt dropped because they did not ground."""
        return self._dropped

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """The schema with every ``$ref`` inlined: what instructor sends in every mode."""
        return inline_refs(super().model_json_schema(*args, **kwargs))

    @model_validator(mode="after")
    def _ground(self, info: ValidationInfo) -> ExtractionAnswer:
        ctx = info.context if isinstance(info.context, GroundingContext) else GROUNDING.get()
        if ctx is None:
            return self
        text, scale, hint = ctx.text, ctx.scale, ctx.hint
        dims, flags = ctx.dimensions, ctx.flags
        restore = ctx.restore or (lambda q: q)
        problems: list[str] = []
        dropped = 0

        def grounded(item: EvidenceQuote | FlagAnswer, label: str) -> bool:
            nonlocal dropped
            item._spans = ground(restore(item.quote), text, hint)
            if not item._spans:
                dropped += 1
                problems.append(f"{label} is not verbatim from the packet: {item.quote[:160]!r}")
            return bool(item._spans)

        kept_dims = []
        for d_i, dim in enumerate(self.dimensions):
            if dim.dimension not in dims:
                problems.append(f"dimensions[{d_i}]: unknown dimension id {dim.dimension!r}")
                continue
            if dim.level not in scale:
                problems.append(
                    f"{dim.dimension}: unknown level {dim.level!r} (use one of {list(scale)})")
                continue
            kept_ev = []
            for e_i, ev in enumerate(dim.evidence):
                if ev.level not in scale:
                    problems.append(f"{dim.dimension} evidence[{e_i}]: unknown level {ev.level!r}")
                elif grounded(ev, f"{dim.dimension} evidence[{e_i}]"):
                    kept_ev.append(ev)
            dim.evidence = kept_ev
            kept_dims.append(dim)
        kept_flags = []
        for f_i, fl in enumerate(self.flags):
            if fl.flag not in flags:
                problems.append(f"flags[{f_i}]: unknown flag id {fl.flag!r}")
            elif grounded(fl, f"flags[{f_i}] ({fl.flag}) quote"):
                kept_flags.append(fl)
        if problems and not ctx.final:
            raise ValueError(
                "Fix these and answer again; copy every quote character for character from the "
                "packet, or remove the item: " + "; ".join(problems))
        self._dropped = dropped
        self.dimensions = kept_dims
        self.flags = kept_flags
        return self


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each local ``#/$defs/X`` reference replaced by its definition.

    The answer models do not recurse, so the result is finite and has no ``$defs``.
    """
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {**defs[ref.removeprefix("#/$defs/")],
                          **{k: v for k, v in node.items() if k != "$ref"}}
                return walk(merged)
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)
