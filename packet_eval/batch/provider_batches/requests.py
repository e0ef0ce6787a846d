"""The requests of provider batches: one per chunk of a packet, and each packet's progress.

Every request body is the one the live extractor sends: the messages from
``extractors.request.build_messages``, and the tool schema and ``tool_choice``
from instructor's own ``handle_response_model`` in the wire's mode, so a batch
line is byte-identical to a live request (tests compare them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from packet_eval.batch.jobs import Job
from packet_eval.extractors.llm_schema import ExtractionAnswer
from packet_eval.extractors.request import DEFAULT_MAX_TOKENS, LLMOptions, UsageTally
from packet_eval.packet import Packet, load_packet
from packet_eval.providers import ModelSpec, Wire
from packet_eval.redact import Redactor


@dataclass
class Req:
    """One chunk of one packet, as one line of a provider batch."""

    custom_id: str
    job: Job
    chunk: int  # 0-based
    n_chunks: int
    attempt: int = 1  # validation attempt, as instructor counts them
    submissions: int = 0
    max_tokens: int = DEFAULT_MAX_TOKENS
    tail: list[dict[str, Any]] = field(default_factory=list)  # re-ask turns after the prompt

    def item(self) -> dict[str, Any]:
        """What the batch ledger keeps to map a result back to its packet after a restart."""
        return {"key": self.job.key.digest, "chunk": self.chunk, "n_chunks": self.n_chunks,
                "attempt": self.attempt, "submissions": self.submissions,
                "max_tokens": self.max_tokens}


@dataclass
class PacketState:
    """How far one packet has got through provider batches."""

    job: Job
    n_chunks: int
    answers: dict[int, ExtractionAnswer] = field(default_factory=dict)
    outstanding: set[int] = field(default_factory=set)
    tally: UsageTally = field(default_factory=UsageTally)
    reserved: float = 0.0
    live: bool = False  # batches gave up on it: live calls finish it
    handed_over: bool = False


@lru_cache(maxsize=64)
def packet_at(path: str) -> Packet:
    # Small cache: a packet is read when its requests are built and again per answer.
    return load_packet(path)


@lru_cache(maxsize=64)
def redactor_at(path: str, names: tuple[str, ...]) -> Redactor:
    # Deterministic for a text and names, so the map rebuilt later restores the same quotes.
    return Redactor.for_text(packet_at(path).text, names)


def redactor_for(job: Job, opts: LLMOptions) -> Redactor | None:
    return redactor_at(str(job.path), tuple(opts.redact_names)) if opts.redact else None


def request_body(wire: Wire, spec: ModelSpec, opts: LLMOptions, messages: list[dict[str, Any]],
                 tail: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
    """The request the live extractor sends, built by instructor's own preparation steps.

    Live, ``client.create(..., response_model=ExtractionAnswer)`` runs the mode's
    request handler (tools, tool_choice, Anthropic's system block) and converts the
    messages; no templating, since packet text must never be rendered.
    """
    from instructor.processing.response import handle_response_model

    mode, provider = wire.batch_mode()
    with warnings.catch_warnings():
        # The live client uses the same (deprecated in instructor 2) Anthropic tools mode.
        warnings.simplefilter("ignore", DeprecationWarning)
        _, kw = handle_response_model(ExtractionAnswer, mode=mode, provider=provider,
                                      messages=wire.mark_cache(messages), model=spec.name,
                                      max_tokens=max_tokens,
                                      **wire.sampling(opts.temperature))
    kw["messages"] = [*kw["messages"], *tail]  # re-asks follow the prepared prompt, as live
    return kw
