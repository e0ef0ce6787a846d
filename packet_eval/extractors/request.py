"""One LLM extraction's request and result, shared by the live extractor and provider batches.

The live path (``extractors/llm.py``, through instructor) and the Batch API path
(``batch/provider_batches``) send the same messages, ground answers against the
same ``GroundingContext``, count usage in the same ``UsageTally`` and finish with
the same ``finish_assessment``, so a batch result equals a live one byte for byte
by construction, and lands in the same cache entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from packet_eval.assemble import build_assessment, compute_gaps
from packet_eval.extractors.chunking import DEFAULT_TOKEN_BUDGET, Chunk
from packet_eval.extractors.delimiter import marker_code
from packet_eval.extractors.llm_schema import GROUNDING, ExtractionAnswer, GroundingContext
from packet_eval.extractors.prompts import prompt_version, render
from packet_eval.ladder import NONE, Ladder
from packet_eval.packet import Packet
from packet_eval.providers.retry import RetryPolicy
from packet_eval.providers.spec import ModelSpec, endpoint
from packet_eval.providers.throttle import RateGate
from packet_eval.providers.usage import Tokens
from packet_eval.redact import Redactor
from packet_eval.schema import Assessment, Evidence, ExtractorInfo, FlagFinding, Usage
from packet_eval.serve.bind import is_loopback
from packet_eval.store import Store

NAME = "llm"
TIMEOUT_VAR = "PACKET_EVAL_TIMEOUT"
DEFAULT_TIMEOUT_S = 120.0
MODES = ("tools", "json")
DEFAULT_MAX_TOKENS = 4096
MAX_TOKENS_CAP = 16384
# A fixed output cap: a CPU server at a few tokens/s cannot carry 4,096 (or the doubling
# after a cut-off), so a cut-off answer fails in one line instead of being asked again.
MAX_TOKENS_VAR = "PACKET_EVAL_MAX_TOKENS"


# Re-asks after an answer that does not validate (default 2). 0: the first answer is
# final, its ungrounded quotes dropped and counted: one call a chunk on a slow server.
MAX_REASKS_VAR = "PACKET_EVAL_MAX_REASKS"


def env_max_tokens() -> int | None:
    """``$PACKET_EVAL_MAX_TOKENS`` as a positive int, None when unset, else ConfigError."""
    return _env_count(MAX_TOKENS_VAR, "a positive whole number of tokens", 1)


def env_max_reasks() -> int:
    """``$PACKET_EVAL_MAX_REASKS`` (0 or more), 2 when unset, else ConfigError."""
    n = _env_count(MAX_REASKS_VAR, "a whole number of re-asks (0 or more)", 0)
    return 2 if n is None else n


def _env_count(var: str, what: str, least: int) -> int | None:
    from packet_eval.errors import ConfigError

    raw = os.environ.get(var, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < least:
        raise ConfigError(f"${var} must be {what}, got {raw!r}")
    return int(raw)


def default_timeout_s() -> float:
    """Seconds one HTTP request may take: ``$PACKET_EVAL_TIMEOUT``, else 120.

    A CPU-only local server can take minutes per call; a client that gives up early
    leaves the server working on the abandoned request, and the retry queues behind it.
    """
    raw = os.environ.get(TIMEOUT_VAR)
    return check_timeout(float(raw) if _is_number(raw) else raw) if raw else DEFAULT_TIMEOUT_S


def _is_number(raw: str | None) -> bool:
    try:
        float(raw or "")
    except ValueError:
        return False
    return True


def check_timeout(value: float | str | None) -> float:
    """A valid request timeout in seconds, or ConfigError naming the bad value."""
    from packet_eval.errors import ConfigError

    if value is None:
        return default_timeout_s()
    if not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"request timeout must be a positive number of seconds "
                          f"(--timeout or ${TIMEOUT_VAR}), got {value!r}")
    return float(value)


def check_mode(mode: str | None) -> str | None:
    """``tools``, ``json`` or None (the wire's default), or ConfigError."""
    from packet_eval.errors import ConfigError

    if mode is not None and mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


@dataclass
class LLMOptions:
    use_cache: bool = True
    store: Store | None = None
    token_budget: int = DEFAULT_TOKEN_BUDGET
    max_reasks: int = field(default_factory=env_max_reasks)
    max_tokens: int = field(default_factory=lambda: env_max_tokens() or DEFAULT_MAX_TOKENS)
    # True when $PACKET_EVAL_MAX_TOKENS set the cap: a cut-off answer is not retried longer.
    max_tokens_fixed: bool = field(default_factory=lambda: env_max_tokens() is not None)
    temperature: float = 0.0
    mode: str | None = None
    timeout_s: float = field(default_factory=default_timeout_s)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    gate: RateGate | None = None
    # None: redact for every endpoint that is not on this machine (see should_redact).
    redact: bool | None = None
    redact_names: tuple[str, ...] = ()
    # Told about every transport retry so a person is never left waiting in silence.
    on_retry: Callable[[int, float, str], None] | None = None
    # Told every ``progress_every_s`` while one call is in flight (minutes on a CPU server).
    on_wait: Callable[[float], None] | None = None
    progress_every_s: float = 30.0

    def __post_init__(self) -> None:
        self.timeout_s = check_timeout(self.timeout_s)
        self.mode = check_mode(self.mode)


def request_hash(spec: ModelSpec, ladder: Ladder, packet: Packet, opts: LLMOptions) -> str:
    """Identity of a request for the cache: model, prompt, ladder, packet and parameters."""
    key = {"model": str(spec), "prompt_version": prompt_version(), "ladder": ladder.sha256,
           "packet": packet.sha256, "budget": opts.token_budget, "temperature": opts.temperature,
           "mode": opts.mode, "max_reasks": opts.max_reasks, "redact": bool(opts.redact),
           "redact_names": sorted(opts.redact_names)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def is_local_url(url: str | None) -> bool:
    """Whether ``url`` names this machine: a loopback IP or ``localhost``."""
    host = urlparse(url).hostname if url else None
    # Loopback IPs and "localhost" only: "127.example.com" is a DNS name that can resolve anywhere.
    return bool(host and is_loopback(host))


def should_redact(spec: ModelSpec, base_url: str | None, requested: bool | None) -> bool:
    """Redact unless told otherwise, or unless the endpoint is on this machine."""
    if requested is not None:
        return requested
    return not is_local_url(endpoint(spec, base_url))


def system_prompt(ladder: Ladder) -> str:
    """The static system prompt: identical for every packet and chunk of ``ladder``."""
    return render("extract_system.md.j2", ladder=ladder, scale=ladder.scale,
                  lowest_level=ladder.levels[0])


def build_messages(ladder: Ladder, packet: Packet, chunk: Chunk, index: int, n: int,
                   redactor: Redactor | None = None) -> list[dict[str, str]]:
    """The system and user messages for chunk ``index`` (1-based) of ``n``.

    The system message (rules and the whole ladder) is the same for every packet of a
    ladder, so providers can cache it as a prefix; everything packet-specific (marker
    code, part number, text) is in the user message after it.
    """
    nonce = marker_code(packet.sha256)
    system = system_prompt(ladder)
    text = packet.text[chunk.context_start:chunk.end]
    if redactor is not None:
        text = redactor.redact(text)
    user = render("extract_user.md.j2", text=text, nonce=nonce,
                  chunk_index=index, n_chunks=n, overlap=chunk.context_start < chunk.start)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def grounding_context(ladder: Ladder, packet: Packet, chunk: Chunk, opts: LLMOptions,
                      redactor: Redactor | None, attempt: int = 0) -> GroundingContext:
    """What answers to ``chunk`` are validated against."""
    return GroundingContext(
        text=packet.text, scale=tuple(ladder.scale), dimensions=frozenset(ladder.dimension_ids),
        flags=frozenset(ladder.flag_ids), hint=chunk.start, max_attempts=opts.max_reasks + 1,
        restore=redactor.restore if redactor is not None else None, attempt=attempt)


def validate_answer(args: dict[str, Any], ctx: GroundingContext) -> ExtractionAnswer:
    """Validate a parsed answer as instructor does live; raises pydantic's ValidationError."""
    token = GROUNDING.set(ctx)
    try:
        return ExtractionAnswer.model_validate(args)
    finally:
        GROUNDING.reset(token)


@dataclass
class UsageTally:
    """What one extraction's calls used; becomes ``schema.Usage``."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    validation_retries: int = 0
    transport_retries: int = 0
    dropped: int = 0

    def add_call(self, tokens: Tokens | None = None, cost: float = 0.0) -> None:
        t = tokens or Tokens()
        self.calls += 1
        self.input_tokens += t.input
        self.output_tokens += t.output
        self.cache_read_tokens += t.cache_read
        self.cache_write_tokens += t.cache_write
        self.cost_usd += cost

    def add_answer(self, answer: ExtractionAnswer, attempts: int) -> None:
        """Count a chunk's valid answer, reached after ``attempts`` validation attempts."""
        self.validation_retries += max(0, attempts - 1)
        self.dropped += answer.dropped_ungrounded

    def usage(self, *, chunks: int, token_budget: int, redacted: bool) -> Usage:
        return Usage(calls=self.calls, input_tokens=self.input_tokens,
                     output_tokens=self.output_tokens, cache_read_tokens=self.cache_read_tokens,
                     cache_write_tokens=self.cache_write_tokens, cost_usd=round(self.cost_usd, 6),
                     cached=False, dropped_ungrounded=self.dropped,
                     validation_retries=self.validation_retries,
                     transport_retries=self.transport_retries, chunks=chunks,
                     token_budget=token_budget, redacted=redacted)


def merge_answers(ladder: Ladder, answers: list[ExtractionAnswer]
                  ) -> tuple[dict[str, list[Evidence]], dict[str, str], list[FlagFinding]]:
    """The chunks' grounded evidence, the highest level claimed per dimension, and the flags."""
    rank = ladder.rank
    evidence: dict[str, list[Evidence]] = {d: [] for d in ladder.dimension_ids}
    claimed: dict[str, str] = {d: NONE for d in ladder.dimension_ids}
    flags: list[FlagFinding] = []
    for answer in answers:
        for dim in answer.dimensions:
            if rank[dim.level] > rank[claimed[dim.dimension]]:
                claimed[dim.dimension] = dim.level
            for ev in dim.evidence:
                if ev.level == NONE:  # the model's own verdict: this quote shows no level
                    continue
                for span in ev.spans:
                    evidence[dim.dimension].append(Evidence(
                        quote=span.quote, start=span.start, end=span.end, match=span.match,  # type: ignore[arg-type]
                        match_score=round(span.score, 1), level=ev.level, strength=ev.strength,
                        attribution=ev.attribution, rationale=ev.rationale))
        for fl in answer.flags:
            for span in fl.spans:
                flags.append(FlagFinding(flag=fl.flag, quote=span.quote, start=span.start,
                                         end=span.end, rationale=fl.rationale))
    return evidence, claimed, flags


def finish_assessment(spec: ModelSpec, ladder: Ladder, packet: Packet, opts: LLMOptions,
                      answers: list[ExtractionAnswer], tally: UsageTally, *, store: Store,
                      target_level: str | None, redactor: Redactor | None) -> Assessment:
    """Build the Assessment from every chunk's answer, in chunk order, and cache it."""
    evidence, claimed, flags = merge_answers(ladder, answers)
    usage = tally.usage(chunks=len(answers), token_budget=opts.token_budget,
                        redacted=bool(redactor is not None and redactor.applied))
    assessment = build_assessment(
        ladder, packet, ExtractorInfo(name=NAME, model=str(spec), prompt_version=prompt_version()),
        evidence, flags, target_level=target_level, claimed_levels=claimed, usage=usage)
    # Always refresh the cache: --no-cache only skips reading it.
    store.put_cached(request_hash(spec, ladder, packet, opts), assessment.model_dump_json(),
                     model=str(spec), prompt_version=prompt_version(),
                     ladder_sha256=ladder.sha256, packet_sha256=packet.sha256)
    return assessment


def from_cache(cached: str, ladder: Ladder, packet: Packet, target_level: str | None) -> Assessment:
    """A cached Assessment for ``packet``: its own name and target, and no new usage."""
    a = Assessment.model_validate_json(cached)
    levels = {d: f.level for d, f in a.dimensions.items()}
    # The cache is keyed by content: another file with the same text gets its own name back.
    return a.model_copy(update={
        "packet_id": packet.packet_id, "source": packet.source, "target_level": target_level,
        "gaps": compute_gaps(ladder, levels, target_level),
        "usage": a.usage.model_copy(update={"cached": True, "calls": 0, "input_tokens": 0,
                                            "output_tokens": 0, "cache_read_tokens": 0,
                                            "cache_write_tokens": 0, "cost_usd": 0.0,
                                            "validation_retries": 0, "transport_retries": 0})})
