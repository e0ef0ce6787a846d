"""The LLM extractor: instructor over OpenAI, Anthropic or any OpenAI-compatible server.

One extraction is: check the cache; cut the packet into chunks if it is long;
for each chunk, ask the model for ``ExtractionAnswer`` with the packet as
delimited data, re-asking (instructor) when a quote does not ground; retry
transport failures (our tenacity policy); log every HTTP call; then merge the
chunks' evidence and build the Assessment (``request.finish_assessment``, which
provider batches share). Transport retries and validation re-asks are counted
separately in ``usage``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay

from packet_eval.errors import ProviderError
from packet_eval.extractors.chunking import Chunk, chunk_packet
from packet_eval.extractors.grammar_bounds import bounded_answer_model
from packet_eval.extractors.llm_schema import GROUNDING, ExtractionAnswer
from packet_eval.extractors.prompts import prompt_version
from packet_eval.extractors.request import (
    MAX_TOKENS_CAP,
    MAX_TOKENS_VAR,
    LLMOptions,
    UsageTally,
    build_messages,
    finish_assessment,
    from_cache,
    grounding_context,
    request_hash,
    should_redact,
)
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet
from packet_eval.providers import ModelSpec, Wire, adapter_for, describe, is_retryable, parse_model
from packet_eval.providers.failures import (
    error_key,
    is_incomplete_output,
    is_invalid_answer,
    is_timeout,
    root_cause,
    short,
    status_of,
)
from packet_eval.providers.pricing import cost_usd
from packet_eval.providers.usage import tokens_of
from packet_eval.redact import Redactor
from packet_eval.schema import Assessment
from packet_eval.store import Store

logger = logging.getLogger(__name__)

# instructor logs every failed attempt at ERROR; this module classifies, logs (call log)
# and reports failures itself, so keep instructor's lines off stderr unless the app
# configures logging.
logging.getLogger("instructor").addHandler(logging.NullHandler())


@dataclass
class _Extraction:
    """One packet's extraction: what every chunk's request shares."""

    raw: Any  # the SDK client, or an injected (instructor or OpenAI) client
    spec: ModelSpec
    ladder: Ladder
    packet: Packet
    opts: LLMOptions
    store: Store
    rhash: str
    redactor: Redactor | None
    tally: UsageTally = field(default_factory=UsageTally)

    @property
    def wire(self) -> Wire:
        return adapter_for(self.spec)




def _retrying(x: _Extraction) -> AsyncRetrying:
    """Our transport retry policy as tenacity runs it, telling the gate and the user."""
    opts, policy = x.opts, x.opts.retry

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        seconds = policy.backoff(state.attempt_number, exc) if exc else 0.0
        if exc is not None and status_of(exc) == 429 and opts.gate:
            opts.gate.throttle(seconds)
        # tenacity computes the wait before it checks the stop condition.
        will_retry = policy.will_retry(state.attempt_number, state.seconds_since_start or 0,
                                       seconds)
        if exc is not None and will_retry and is_retryable(exc):
            logger.debug("%s: %s attempt %d failed, retrying in %.2f s: %s", x.packet.packet_id,
                         x.spec, state.attempt_number, seconds, type(exc).__name__)
            if opts.on_retry is not None:
                opts.on_retry(state.attempt_number, seconds, describe(exc, x.spec))
        return seconds

    seen_500: set[str] = set()

    def retryable(exc: BaseException) -> bool:
        if not is_retryable(exc):
            return False
        if status_of(exc) == 500:
            # The same 500 twice is the server failing on this request (a schema its
            # grammar cannot take, say), not load: retrying it only burns the time budget.
            message = error_key(exc)
            if message in seen_500:
                return False
            seen_500.add(message)
        return True

    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_total_s),
        wait=wait, retry=retry_if_exception(retryable), reraise=True)


async def _ask(x: _Extraction, chunk: Chunk, index: int, n: int) -> ExtractionAnswer:
    """One chunk: transport retries around instructor's validation re-asks."""
    messages = x.wire.mark_cache(build_messages(x.ladder, x.packet, chunk, index, n, x.redactor))
    max_tokens = x.opts.max_tokens
    transport_attempt = 0
    try:
        async for attempt in _retrying(x):
            with attempt:
                transport_attempt += 1
                if transport_attempt > 1:
                    x.tally.transport_retries += 1
                if x.opts.gate is not None:
                    await x.opts.gate.wait()
                while True:
                    try:
                        return await _instructor_call(x, chunk, messages, max_tokens,
                                                      transport_attempt)
                    except Exception as exc:  # noqa: BLE001 - classified just below
                        if not is_incomplete_output(exc):
                            raise
                        if max_tokens >= MAX_TOKENS_CAP or x.opts.max_tokens_fixed:
                            raise ProviderError(
                                f"{x.spec}: the model's output was cut off at {max_tokens} tokens "
                                f"(finish reason length) for {x.packet.packet_id}; use a model "
                                "with a larger output limit, a smaller --token-budget or a "
                                f"larger ${MAX_TOKENS_VAR}") from None
                        max_tokens = min(MAX_TOKENS_CAP, max_tokens * 2)
    except ProviderError:
        raise
    except Exception as exc:
        if is_invalid_answer(exc):
            cause = root_cause(exc)
            raise ProviderError(
                f"{x.spec}: no valid structured answer for {x.packet.packet_id} after "
                f"{x.opts.max_reasks + 1} attempts: {' '.join(str(cause).split())[:200]}") from None
        if status_of(exc) == 500 and transport_attempt < x.opts.retry.max_attempts:
            other = "tools" if x.opts.mode == "json" else "json"
            raise ProviderError(
                f"{x.spec}: the server failed the same way twice (HTTP 500), so it will not "
                f"pass: {short(root_cause(exc))}; try --mode {other}") from None
        if is_timeout(exc):
            raise ProviderError(
                f"{x.spec}: no answer for {x.packet.packet_id} within the {x.opts.timeout_s:g} s "
                f"timeout ({type(root_cause(exc)).__name__}, {transport_attempt} attempts); a "
                "model on a CPU can take minutes a call: raise --timeout (or "
                "PACKET_EVAL_TIMEOUT)") from None
        raise ProviderError(describe(exc, x.spec)) from None
    raise AssertionError("unreachable")  # pragma: no cover


async def _instructor_call(x: _Extraction, chunk: Chunk, messages: list[dict[str, Any]],
                           max_tokens: int, transport_attempt: int) -> ExtractionAnswer:
    ctx = grounding_context(x.ladder, x.packet, chunk, x.opts, x.redactor)
    client = x.wire.instructor_client(x.raw, x.opts.mode)
    started: list[float] = []
    row: dict[str, Any] = {"model": str(x.spec), "prompt_version": prompt_version(),
                           "ladder_sha256": x.ladder.sha256, "packet_sha256": x.packet.sha256,
                           "request_hash": x.rhash}

    def on_kwargs(*_: Any, **kwargs: Any) -> None:
        ctx.attempt += 1
        started.append(time.monotonic())
        logger.debug("%s: %s chunk at %d, attempt %d.%d", x.packet.packet_id, x.spec,
                     chunk.start, transport_attempt, ctx.attempt)
        row["request_json"] = {"messages": kwargs.get("messages"), "model": kwargs.get("model"),
                               "max_tokens": kwargs.get("max_tokens"),
                               "temperature": kwargs.get("temperature")}

    def elapsed_ms() -> int:
        return int((time.monotonic() - started[-1]) * 1000) if started else 0

    def on_response(response: Any) -> None:
        t = tokens_of(getattr(response, "usage", None))
        cost = cost_usd(str(x.spec), t.input, t.output, cache_read=t.cache_read,
                        cache_write=t.cache_write)
        x.tally.add_call(t, cost)
        dump = (response.model_dump(mode="json") if hasattr(response, "model_dump")
                else str(response))
        x.store.log_call(**row, attempt=transport_attempt * 100 + ctx.attempt, status="ok",
                         input_tokens=t.input, output_tokens=t.output,
                         cache_read_tokens=t.cache_read, cache_write_tokens=t.cache_write,
                         duration_ms=elapsed_ms(),
                         cost_usd=cost, response_json=dump)

    def on_error(error: Exception, **_: Any) -> None:
        x.tally.add_call()
        x.store.log_call(**row, attempt=transport_attempt * 100 + ctx.attempt, status="error",
                         error=describe(error, x.spec), input_tokens=0, output_tokens=0,
                         duration_ms=elapsed_ms(), cost_usd=0.0)

    client.on("completion:kwargs", on_kwargs)
    client.on("completion:response", on_response)
    client.on("completion:error", on_error)
    request: dict[str, Any] = {"model": x.spec.name, "messages": messages,
                               "max_tokens": max_tokens, **x.wire.sampling(x.opts.temperature),
                               **_json_object_schema(x)}
    token = GROUNDING.set(ctx)  # never instructor's context=: that would template the packet
    heartbeat = asyncio.create_task(_heartbeat(x.opts, started))
    try:
        answer = await client.create(response_model=_response_model(x),
                                     max_retries=x.opts.max_reasks, **request)
    finally:
        heartbeat.cancel()
        GROUNDING.reset(token)
    x.tally.add_answer(answer, ctx.attempt)
    return answer


@functools.cache
def response_model() -> type[ExtractionAnswer]:
    """ExtractionAnswer wrapped once as instructor's ResponseSchema.

    Given a plain model, instructor wraps it in a new class on every call, so its
    schema cache never hits: each call rebuilt the class and its JSON schema (~4 ms of
    CPU). The wrapper is the same subclass instructor makes, made once per process.
    """
    from instructor import response_schema  # the SDK is loaded by now: a call is being made

    return response_schema(ExtractionAnswer)


def _response_model(x: _Extraction) -> type[ExtractionAnswer]:
    """A self-hosted server (or the bridge, which may lead to one) gets the bounded grammar."""
    local = x.spec.provider in ("compatible", "ollama") or x.spec.name == "inspect"
    return bounded_answer_model(x.ladder) if local else response_model()


def _json_object_schema(x: _Extraction) -> dict[str, Any]:
    """For ``--mode json`` on a self-hosted server: the schema in llama.cpp's own form.

    llama-cpp-python's server takes only ``{"type": "json_object", "schema": ...}`` (and
    turns it into a grammar); the standard ``json_schema`` form instructor sends is refused.
    llama.cpp's C++ server takes both. The agent bridge (model "inspect") needs the standard
    form to pass the schema on, so it keeps it.
    """
    if x.opts.mode != "json" or x.spec.provider not in ("compatible", "ollama") \
            or x.spec.name == "inspect":
        return {}
    schema = bounded_answer_model(x.ladder).model_json_schema()
    return {"extra_body": {"response_format": {"type": "json_object", "schema": schema}}}


async def _heartbeat(opts: LLMOptions, started: list[float]) -> None:
    """Tell ``opts.on_wait`` every ``progress_every_s`` how long the current call has run."""
    if opts.on_wait is None:
        return
    while True:
        await asyncio.sleep(opts.progress_every_s)
        if started:
            opts.on_wait(time.monotonic() - started[-1])


async def extract(packet: Packet, ladder: Ladder, model: str, *, target_level: str | None = None,
                  client: Any = None, base_url: str | None = None, **options: Any) -> Assessment:
    """Assess ``packet`` with an LLM. See ``request.LLMOptions`` for the options."""
    opts = LLMOptions(**options)
    spec = parse_model(model, base_url=base_url, injected=client is not None)
    opts.redact = should_redact(spec, base_url, opts.redact)
    store = opts.store or Store()
    rhash = request_hash(spec, ladder, packet, opts)
    if opts.use_cache:
        cached = store.get_cached(rhash)
        if cached is not None:
            logger.debug("%s: served from the cache (%s)", packet.packet_id, spec)
            return from_cache(cached, ladder, packet, target_level)
    raw = client if client is not None else adapter_for(spec).client(spec, base_url,
                                                                     timeout_s=opts.timeout_s)
    chunks = chunk_packet(packet, opts.token_budget)
    redactor = Redactor.for_text(packet.text, opts.redact_names) if opts.redact else None
    x = _Extraction(raw, spec, ladder, packet, opts, store, rhash, redactor)
    answers = []
    try:
        for i, chunk in enumerate(chunks, start=1):
            answers.append(await _ask(x, chunk, i, len(chunks)))
    finally:
        if client is None:  # ours, not the caller's: release its connection pool in this loop
            await raw.close()
    return finish_assessment(spec, ladder, packet, opts, answers, x.tally, store=store,
                             target_level=target_level, redactor=redactor)
