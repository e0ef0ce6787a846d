"""The LLM extractor: instructor over OpenAI, Anthropic or any OpenAI-compatible server.

One extraction is: check the cache; cut the packet into chunks if it is long;
for each chunk, ask the model for ``ExtractionAnswer`` with the packet as
delimited data, re-asking (instructor) when a quote does not ground; retry
transport failures (our tenacity policy); log every HTTP call; merge the
chunks' evidence; and build the Assessment with the ladder's rule. Transport
retries and validation re-asks are counted separately in ``usage``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

from packet_eval.assemble import build_assessment
from packet_eval.chunking import DEFAULT_TOKEN_BUDGET, Chunk, chunk_packet
from packet_eval.errors import ProviderError
from packet_eval.extractors.llm_schema import GROUNDING, ExtractionAnswer
from packet_eval.ladder import NONE, Ladder
from packet_eval.packet import Packet
from packet_eval.prompts import prompt_version, render
from packet_eval.providers import (
    ModelSpec,
    RateGate,
    RetryPolicy,
    adapter_for,
    describe,
    is_retryable,
    parse_model,
    root_cause,
)
from packet_eval.providers.failures import is_incomplete_output, is_invalid_answer, status_of
from packet_eval.providers.pricing import cost_usd
from packet_eval.providers.spec import endpoint
from packet_eval.redact import Redactor
from packet_eval.schema import Assessment, Evidence, ExtractorInfo, FlagFinding, Usage
from packet_eval.store import Store

NAME = "llm"

# instructor logs every failed attempt at ERROR; this module classifies, logs (call log)
# and reports failures itself, so keep instructor's lines off stderr unless the app
# configures logging.
logging.getLogger("instructor").addHandler(logging.NullHandler())

DEFAULT_MAX_TOKENS = 4096
MAX_TOKENS_CAP = 16384


@dataclass
class _Tally:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    validation_retries: int = 0
    transport_retries: int = 0
    dropped: int = 0


@dataclass
class LLMOptions:
    use_cache: bool = True
    store: Store | None = None
    token_budget: int = DEFAULT_TOKEN_BUDGET
    max_reasks: int = 2
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    mode: str | None = None
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    gate: RateGate | None = None
    # None: redact for every endpoint that is not on this machine (see should_redact).
    redact: bool | None = None
    redact_names: tuple[str, ...] = ()
    # Told about every transport retry so a person is never left waiting in silence.
    on_retry: Callable[[int, float, str], None] | None = None


def request_hash(spec: ModelSpec, ladder: Ladder, packet: Packet, opts: LLMOptions) -> str:
    """Identity of a request for the cache: model, prompt, ladder, packet and parameters."""
    key = {"model": str(spec), "prompt_version": prompt_version(), "ladder": ladder.sha256,
           "packet": packet.sha256, "budget": opts.token_budget, "temperature": opts.temperature,
           "mode": opts.mode, "max_reasks": opts.max_reasks, "redact": bool(opts.redact),
           "redact_names": sorted(opts.redact_names)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def should_redact(spec: ModelSpec, base_url: str | None, requested: bool | None) -> bool:
    """Redact unless told otherwise, or unless the endpoint is on this machine."""
    if requested is not None:
        return requested
    url = endpoint(spec, base_url)
    host = urlparse(url).hostname if url else None
    return not (host and (host in ("localhost", "::1") or host.startswith("127.")))


def _messages(ladder: Ladder, packet: Packet, chunk: Chunk, index: int, n: int,
              redactor: Redactor | None = None) -> list[dict[str, str]]:
    nonce = packet.sha256[:8]
    system = render("extract_system.md.j2", ladder=ladder, scale=ladder.scale, nonce=nonce,
                    lowest_level=ladder.levels[0])
    text = packet.text[chunk.context_start:chunk.end]
    if redactor is not None:
        text = redactor.redact(text)
    user = render("extract_user.md.j2", text=text, nonce=nonce,
                  chunk_index=index, n_chunks=n, overlap=chunk.context_start < chunk.start)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _usage_of(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    inp = getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None) or 0
    out = getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", None) or 0
    return int(inp), int(out)


async def _ask(raw: Any, spec: ModelSpec, ladder: Ladder, packet: Packet, chunk: Chunk,
               index: int, n: int, opts: LLMOptions, store: Store, tally: _Tally,
               rhash: str, redactor: Redactor | None = None) -> tuple[ExtractionAnswer, int]:
    """One chunk: transport retries around instructor's validation re-asks."""
    messages = _messages(ladder, packet, chunk, index, n, redactor)
    max_tokens = opts.max_tokens
    policy = opts.retry

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        seconds = policy.backoff(state.attempt_number, exc) if exc else 0.0
        if exc is not None and status_of(exc) == 429 and opts.gate:
            opts.gate.throttle(seconds)
        # tenacity computes the wait before it checks the stop condition.
        will_retry = (state.attempt_number < policy.max_attempts
                      and (state.seconds_since_start or 0) + seconds < policy.max_total_s)
        if exc is not None and opts.on_retry is not None and will_retry and is_retryable(exc):
            opts.on_retry(state.attempt_number, seconds, describe(exc, spec))
        return seconds

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_total_s),
        wait=wait, retry=retry_if_exception(is_retryable), reraise=True)
    transport_attempt = 0
    try:
        async for attempt in retrying:
            with attempt:
                transport_attempt += 1
                if transport_attempt > 1:
                    tally.transport_retries += 1
                if opts.gate is not None:
                    await opts.gate.wait()
                while True:
                    try:
                        return await _instructor_call(
                            raw, spec, ladder, packet, chunk, messages, max_tokens, opts, store,
                            tally, rhash, transport_attempt, redactor)
                    except Exception as exc:  # noqa: BLE001 - classified just below
                        if not is_incomplete_output(exc):
                            raise
                        if max_tokens >= MAX_TOKENS_CAP:
                            raise ProviderError(
                                f"{spec}: the model's output was cut off at {max_tokens} tokens "
                                f"(finish reason length) for {packet.packet_id}; use a model with "
                                "a larger output limit or a smaller --token-budget") from None
                        max_tokens = min(MAX_TOKENS_CAP, max_tokens * 2)
    except ProviderError:
        raise
    except Exception as exc:
        if is_invalid_answer(exc):
            cause = root_cause(exc)
            raise ProviderError(
                f"{spec}: no valid structured answer for {packet.packet_id} after "
                f"{opts.max_reasks + 1} attempts: {' '.join(str(cause).split())[:200]}") from None
        raise ProviderError(describe(exc, spec)) from None
    raise AssertionError("unreachable")  # pragma: no cover


async def _instructor_call(raw: Any, spec: ModelSpec, ladder: Ladder, packet: Packet, chunk: Chunk,
                           messages: list[dict[str, str]], max_tokens: int, opts: LLMOptions,
                           store: Store, tally: _Tally, rhash: str, transport_attempt: int,
                           redactor: Redactor | None = None) -> tuple[ExtractionAnswer, int]:
    ctx: dict[str, Any] = {
        "text": packet.text, "scale": ladder.scale, "dimensions": ladder.dimension_ids,
        "flags": ladder.flag_ids, "hint": chunk.start, "attempt": 0,
        "max_attempts": opts.max_reasks + 1, "dropped": 0,
        "restore": redactor.restore if redactor is not None else None}
    wire = adapter_for(spec)
    client = wire.instructor_client(raw, opts.mode)
    started: list[float] = []
    row: dict[str, Any] = {"model": str(spec), "prompt_version": prompt_version(),
                           "ladder_sha256": ladder.sha256, "packet_sha256": packet.sha256,
                           "request_hash": rhash}

    def on_kwargs(*_: Any, **kwargs: Any) -> None:
        ctx["attempt"] += 1
        started.append(time.monotonic())
        row["request_json"] = {"messages": kwargs.get("messages"), "model": kwargs.get("model"),
                               "max_tokens": kwargs.get("max_tokens"),
                               "temperature": kwargs.get("temperature")}

    def elapsed_ms() -> int:
        return int((time.monotonic() - started[-1]) * 1000) if started else 0

    def on_response(response: Any) -> None:
        inp, out = _usage_of(response)
        cost = cost_usd(str(spec), inp, out)
        tally.calls += 1
        tally.input_tokens += inp
        tally.output_tokens += out
        tally.cost_usd += cost
        dump = (response.model_dump(mode="json") if hasattr(response, "model_dump")
                else str(response))
        store.log_call(**row, attempt=transport_attempt * 100 + ctx["attempt"], status="ok",
                       input_tokens=inp, output_tokens=out, duration_ms=elapsed_ms(),
                       cost_usd=cost, response_json=dump)

    def on_error(error: Exception, **_: Any) -> None:
        tally.calls += 1
        store.log_call(**row, attempt=transport_attempt * 100 + ctx["attempt"], status="error",
                       error=describe(error, spec), input_tokens=0, output_tokens=0,
                       duration_ms=elapsed_ms(), cost_usd=0.0)

    client.on("completion:kwargs", on_kwargs)
    client.on("completion:response", on_response)
    client.on("completion:error", on_error)
    request: dict[str, Any] = {"model": spec.name, "messages": messages,
                               "max_tokens": max_tokens, **wire.sampling(opts.temperature)}
    token = GROUNDING.set(ctx)  # never instructor's context=: that would template the packet
    try:
        answer = await client.create(response_model=ExtractionAnswer,
                                     max_retries=opts.max_reasks, **request)
    finally:
        GROUNDING.reset(token)
    tally.validation_retries += max(0, ctx["attempt"] - 1)
    tally.dropped += ctx["dropped"]
    return answer, ctx["attempt"]


def _merge(ladder: Ladder, answers: list[ExtractionAnswer]
           ) -> tuple[dict[str, list[Evidence]], dict[str, str], list[FlagFinding]]:
    rank = ladder.rank
    evidence: dict[str, list[Evidence]] = {d: [] for d in ladder.dimension_ids}
    claimed: dict[str, str] = {d: NONE for d in ladder.dimension_ids}
    flags: list[FlagFinding] = []
    for answer in answers:
        for dim in answer.dimensions:
            if rank[dim.level] > rank[claimed[dim.dimension]]:
                claimed[dim.dimension] = dim.level
            for ev in dim.evidence:
                for span in ev._spans:
                    evidence[dim.dimension].append(Evidence(
                        quote=span.quote, start=span.start, end=span.end, match=span.match,  # type: ignore[arg-type]
                        match_score=round(span.score, 1), level=ev.level, strength=ev.strength,
                        attribution=ev.attribution, rationale=ev.rationale))
        for fl in answer.flags:
            for span in fl._spans:
                flags.append(FlagFinding(flag=fl.flag, quote=span.quote, start=span.start,
                                         end=span.end, rationale=fl.rationale))
    return evidence, claimed, flags


def _from_cache(cached: str, ladder: Ladder, packet: Packet, target_level: str | None) -> Assessment:
    from packet_eval.assemble import compute_gaps

    a = Assessment.model_validate_json(cached)
    levels = {d: f.level for d, f in a.dimensions.items()}
    # The cache is keyed by content: another file with the same text gets its own name back.
    return a.model_copy(update={
        "packet_id": packet.packet_id, "source": packet.source, "target_level": target_level,
        "gaps": compute_gaps(ladder, levels, target_level),
        "usage": a.usage.model_copy(update={"cached": True, "calls": 0, "input_tokens": 0,
                                            "output_tokens": 0, "cost_usd": 0.0,
                                            "validation_retries": 0, "transport_retries": 0})})


async def extract(packet: Packet, ladder: Ladder, model: str, *, target_level: str | None = None,
                  client: Any = None, base_url: str | None = None, **options: Any) -> Assessment:
    """Assess ``packet`` with an LLM. See ``LLMOptions`` for the options."""
    opts = LLMOptions(**options)
    spec = parse_model(model, base_url=base_url, injected=client is not None)
    opts.redact = should_redact(spec, base_url, opts.redact)
    store = opts.store or Store()
    rhash = request_hash(spec, ladder, packet, opts)
    if opts.use_cache:
        cached = store.get_cached(rhash)
        if cached is not None:
            return _from_cache(cached, ladder, packet, target_level)
    raw = client if client is not None else adapter_for(spec).client(spec, base_url,
                                                                     timeout_s=opts.timeout_s)
    chunks = chunk_packet(packet, opts.token_budget)
    redactor = Redactor.for_text(packet.text, opts.redact_names) if opts.redact else None
    tally = _Tally()
    answers = []
    try:
        for i, chunk in enumerate(chunks, start=1):
            answer, _ = await _ask(raw, spec, ladder, packet, chunk, i, len(chunks), opts, store,
                                   tally, rhash, redactor)
            answers.append(answer)
    finally:
        if client is None:  # ours, not the caller's: release its connection pool in this loop
            await raw.close()
    evidence, claimed, flags = _merge(ladder, answers)
    usage = Usage(calls=tally.calls, input_tokens=tally.input_tokens,
                  output_tokens=tally.output_tokens, cost_usd=round(tally.cost_usd, 6),
                  cached=False, dropped_ungrounded=tally.dropped,
                  validation_retries=tally.validation_retries,
                  transport_retries=tally.transport_retries, chunks=len(chunks),
                  token_budget=opts.token_budget, redacted=bool(redactor and redactor.applied))
    assessment = build_assessment(
        ladder, packet, ExtractorInfo(name=NAME, model=str(spec), prompt_version=prompt_version()),
        evidence, flags, target_level=target_level, claimed_levels=claimed, usage=usage)
    # Always refresh the cache: --no-cache only skips reading it.
    store.put_cached(rhash, assessment.model_dump_json(), model=str(spec),
                     prompt_version=prompt_version(), ladder_sha256=ladder.sha256,
                     packet_sha256=packet.sha256)
    return assessment
