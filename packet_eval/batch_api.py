"""``--batch-api``: a cycle through the OpenAI or Anthropic Batch API, at about half the price.

Every request is the one the live extractor would send: the messages come from
``extractors.llm._messages`` and the tool schema and ``tool_choice`` from
instructor's own ``handle_response_model`` for the same mode, so a batch answer
is interchangeable with a live one (it even lands in the same cache entry).

A round goes: submit (OpenAI: upload a JSONL file of ``/v1/chat/completions``
requests and create a batch; Anthropic: ``messages.batches.create``), poll until
the provider ends it, read the results, and validate each answer with the same
``ExtractionAnswer`` validator and validation context as the live path. An
answer whose quotes do not ground is re-asked in the next round with the
validator's message, exactly as instructor re-asks live, until the last allowed
attempt drops the ungrounded items; a failed, expired or cut-off request is
resubmitted. After ``MAX_SUBMISSIONS`` a packet falls back to live calls. A
packet whose chunks are all answered becomes an Assessment through
``build_assessment``, priced at ``pricing.BATCH_DISCOUNT``.

Batches can take hours, so they survive the process: each submitted batch is a
row in the store's ``batches`` table, keyed by the run directory. A rerun first
polls and collects the batches still pending for its ``--out``; packets in them
are not submitted again. Collected batches are marked so, after their results
are durable in ``assessments.jsonl``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from packet_eval.batch_jobs import Job
from packet_eval.extractors.chunking import chunk_packet
from packet_eval.extractors.llm_schema import ExtractionAnswer, GroundingContext
from packet_eval.extractors.prompts import prompt_version
from packet_eval.extractors.request import (
    DEFAULT_MAX_TOKENS,
    MAX_TOKENS_CAP,
    UsageTally,
    build_messages,
    finish_assessment,
    grounding_context,
    request_hash,
    validate_answer,
)
from packet_eval.packet import Packet, load_packet
from packet_eval.providers import ModelSpec
from packet_eval.providers.pricing import cost_usd
from packet_eval.redact import Redactor

if TYPE_CHECKING:
    from packet_eval.batch import _Run

MAX_SUBMISSIONS = 3  # per request, for transport failures; then the packet goes live
MAX_REQUESTS_PER_BATCH = 5000  # well under both providers' limits (50k / 100k)
MAX_BYTES_PER_BATCH = 100_000_000  # OpenAI's input file limit is 200 MB
REASK = "Validation Error found:\n{error}\nRecall the function correctly, fix the errors"
OPENAI_DONE = {"completed", "failed", "expired", "cancelled"}


# ---------------------------------------------------------------------------- requests


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
        return {"key": self.job.key.digest, "chunk": self.chunk, "n_chunks": self.n_chunks,
                "attempt": self.attempt, "submissions": self.submissions,
                "max_tokens": self.max_tokens}


@dataclass
class Outcome:
    """A provider's answer to one request: parsed arguments, or why there are none."""

    args: dict[str, Any] | None
    error: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    turn: dict[str, Any] | None = None  # the assistant turn, for a re-ask
    call_id: str | None = None


@dataclass
class PacketState:
    job: Job
    n_chunks: int
    answers: dict[int, ExtractionAnswer] = field(default_factory=dict)
    outstanding: set[int] = field(default_factory=set)
    tally: UsageTally = field(default_factory=UsageTally)
    reserved: float = 0.0
    live: bool = False  # batches gave up on it: live calls finish it
    handed_over: bool = False


@lru_cache(maxsize=64)
def _packet(path: str) -> Packet:
    # Small cache: a packet is read when its requests are built and again per answer.
    return load_packet(path)


@lru_cache(maxsize=64)
def _redactor(path: str, names: tuple[str, ...]) -> Redactor:
    # Deterministic for a text and names, so the map rebuilt later restores the same quotes.
    return Redactor.for_text(_packet(path).text, names)


class _Provider:
    """What differs between the OpenAI and Anthropic batch APIs."""

    name = ""

    def __init__(self, client: Any, spec: ModelSpec, opts: Any) -> None:
        from packet_eval.providers import adapter_for

        self.client, self.spec, self.opts = client, spec, opts
        self.wire = adapter_for(spec)
        self.mode, self.provider = self.wire.batch_mode()

    def body(self, messages: list[dict[str, Any]], tail: list[dict[str, Any]],
             max_tokens: int) -> dict[str, Any]:
        """The request the live extractor sends, built by instructor's own preparation steps.

        Live, ``client.create(..., response_model=ExtractionAnswer)`` runs the mode's
        request handler (tools, tool_choice, Anthropic's system block) and converts the
        messages; no templating, since packet text must never be rendered. The same steps
        here keep a batch line byte-identical to a live request (tests compare them).
        """
        from instructor.processing.response import handle_response_model

        # As live: temperature goes only to the OpenAI wire (see extractors/llm.py).
        sampling = self.wire.sampling(self.opts.temperature)
        with warnings.catch_warnings():
            # The live client uses the same (deprecated in instructor 2) Anthropic tools mode.
            warnings.simplefilter("ignore", DeprecationWarning)
            _, kw = handle_response_model(ExtractionAnswer, mode=self.mode, provider=self.provider,
                                          messages=messages, model=self.spec.name,
                                          max_tokens=max_tokens, **sampling)
        kw["messages"] = [*kw["messages"], *tail]  # re-asks follow the prepared prompt, as live
        return kw

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        raise NotImplementedError

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        raise NotImplementedError

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        raise NotImplementedError


class OpenAIBatches(_Provider):
    name = "openai"

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        # instructor's reask_tools: the assistant's tool call, then a tool message with the error.
        text = REASK.format(error=error)
        if outcome.turn is None or not outcome.call_id:
            return [{"role": "user", "content": text}]
        return [outcome.turn, {"role": "tool", "tool_call_id": outcome.call_id,
                               "name": "ExtractionAnswer", "content": text}]

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        buf = io.BytesIO()
        for cid, body in lines:
            buf.write(json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions",
                                  "body": body}).encode() + b"\n")
        f = await self.client.files.create(file=("packet-eval-batch.jsonl", buf.getvalue()),
                                           purpose="batch")
        batch = await self.client.batches.create(input_file_id=f.id,
                                                 endpoint="/v1/chat/completions",
                                                 completion_window="24h", metadata=meta)
        return str(batch.id)

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        b = await self.client.batches.retrieve(batch_id)
        counts = b.request_counts
        done = f" {counts.completed}/{counts.total}" if counts is not None else ""
        return b.status in OPENAI_DONE, f"{b.status}{done}"

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        b = await self.client.batches.retrieve(batch_id)
        out: dict[str, Outcome] = {}
        for file_id in (b.output_file_id, b.error_file_id):
            if not file_id:
                continue
            content = await self.client.files.content(file_id)
            for raw in content.text.splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    out[str(line.get("custom_id"))] = self._outcome(line)
        return out

    @staticmethod
    def _outcome(line: dict[str, Any]) -> Outcome:
        response = line.get("response") or {}
        body = response.get("body") or {}
        if line.get("error") or response.get("status_code") != 200:
            err = line.get("error") or body.get("error") or {}
            msg = err.get("message") if isinstance(err, dict) else str(err)
            return Outcome(None, f"status {response.get('status_code')}: {msg}")
        usage = body.get("usage") or {}
        inp, outp = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        choice = (body.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        calls = message.get("tool_calls") or []
        truncated = choice.get("finish_reason") == "length"
        raw_args = calls[0]["function"]["arguments"] if calls else message.get("content")
        turn = {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
        try:
            args = json.loads(raw_args) if isinstance(raw_args, str) else None
        except ValueError:
            args = None
        if not isinstance(args, dict):
            return Outcome(None, "the answer is not a JSON object" if not truncated else
                           "the answer was cut off (finish reason length)", inp, outp, truncated,
                           turn, calls[0]["id"] if calls else None)
        return Outcome(args, None, inp, outp, truncated, turn, calls[0]["id"] if calls else None)


class AnthropicBatches(_Provider):
    name = "anthropic"

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        # instructor's Anthropic reask: the assistant's tool_use, then a tool_result with the error.
        text = REASK.format(error=error)
        if outcome.turn is None or not outcome.call_id:
            return [{"role": "user", "content": text}]
        return [outcome.turn, {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": outcome.call_id, "content": text,
             "is_error": True}]}]

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        batch = await self.client.messages.batches.create(
            requests=[{"custom_id": cid, "params": params} for cid, params in lines])
        return str(batch.id)

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        b = await self.client.messages.batches.retrieve(batch_id)
        c = b.request_counts
        total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
        return b.processing_status == "ended", \
            f"{b.processing_status} {c.succeeded + c.errored}/{total}"

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        decoder = await self.client.messages.batches.results(batch_id)
        async for entry in decoder:
            out[str(entry.custom_id)] = self._outcome(entry.result.model_dump(mode="json"))
        return out

    @staticmethod
    def _outcome(result: dict[str, Any]) -> Outcome:
        if result.get("type") != "succeeded":
            err = result.get("error") or {}
            inner = err.get("error") if isinstance(err, dict) else None
            msg = (inner or {}).get("message") if isinstance(inner, dict) else None
            return Outcome(None, f"{result.get('type')}: {msg or err or 'no result'}")
        msg = result.get("message") or {}
        usage = msg.get("usage") or {}
        inp, outp = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
        blocks = msg.get("content") or []
        tool = next((b for b in blocks if b.get("type") == "tool_use"), None)
        truncated = msg.get("stop_reason") == "max_tokens"
        turn = {"role": "assistant", "content": blocks}
        if tool is None or not isinstance(tool.get("input"), dict):
            return Outcome(None, "no tool_use in the answer" if not truncated else
                           "the answer was cut off (stop reason max_tokens)", inp, outp, truncated,
                           turn, None)
        return Outcome(tool["input"], None, inp, outp, truncated, turn, tool.get("id"))


# ---------------------------------------------------------------------------- the runner


class BatchRunner:
    """Submits, polls, validates and finishes the packets of one run through a Batch API."""

    def __init__(self, run: _Run, spec: ModelSpec, *, poll_interval_s: float) -> None:
        self.run, self.spec, self.ladder = run, spec, run.ladder
        # The run's options as the live extractor resolves them (redaction decides the cache key).
        self.opts = dataclasses.replace(run.llm_opts, store=run.store)
        self.api: _Provider = (AnthropicBatches if spec.provider == "anthropic" else
                               OpenAIBatches)(run.client, spec, self.opts)
        self.store = run.store
        self.out_dir = str(run.out.path.resolve())
        self.poll_interval_s = poll_interval_s
        self.states: dict[str, PacketState] = {}
        self.live: list[Job] = []
        self.serial = 0
        self.stats: dict[str, Any] = {
            "provider": spec.provider, "batches": 0, "resumed": 0, "requests": 0,
            "resubmitted": 0, "reasked": 0, "fell_back": 0, "batch_ids": []}

    # ------------------------------------------------------------------ building requests
    def _cid(self, job: Job, chunk: int) -> str:
        self.serial += 1
        # Anthropic allows [a-zA-Z0-9_-]{1,64}; the ledger maps ids back to packets.
        return f"{job.key.digest[:24]}-c{chunk}-{int(time.time())}-{self.serial}"

    def _context(self, req: Req) -> GroundingContext:
        """The validation context the live path grounds answers against."""
        packet = _packet(str(req.job.path))
        chunk = chunk_packet(packet, self.opts.token_budget)[req.chunk]
        return grounding_context(self.ladder, packet, chunk, self.opts, self._redactor_for(req.job),
                                 attempt=req.attempt)

    def _body(self, req: Req) -> dict[str, Any]:
        packet = _packet(str(req.job.path))
        chunks = chunk_packet(packet, self.opts.token_budget)
        base = build_messages(self.ladder, packet, chunks[req.chunk], req.chunk + 1, len(chunks),
                         self._redactor_for(req.job))
        return self.api.body(base, req.tail, req.max_tokens)

    def _redactor_for(self, job: Job) -> Redactor | None:
        return _redactor(str(job.path), tuple(self.opts.redact_names)) if self.opts.redact else None

    def _fresh(self, job: Job, state: PacketState) -> list[Req]:
        return [Req(self._cid(job, i), job, i, state.n_chunks) for i in range(state.n_chunks)
                if i not in state.answers]

    def _state(self, job: Job, n_chunks: int) -> PacketState:
        state = self.states.get(job.key.digest)
        if state is None:
            state = self.states[job.key.digest] = PacketState(job, n_chunks)
        return state

    # ------------------------------------------------------------------ submitting
    async def _submit(self, reqs: list[Req]) -> list[tuple[str, str, list[Req]]]:
        """Submit ``reqs`` as one or more provider batches; returns (ledger id, batch id, reqs)."""
        built: list[tuple[Req, dict[str, Any]]] = []
        for req in reqs:
            try:
                built.append((req, self._body(req)))
            except Exception:  # noqa: BLE001 - e.g. a template error: the live path reports it
                self._fall_back(self._state(req.job, req.n_chunks))
        groups: list[list[tuple[Req, dict[str, Any]]]] = [[]]
        size = 0
        for req, body in built:
            if self.states[req.job.key.digest].live:
                continue
            n = len(json.dumps(body))
            if groups[-1] and (len(groups[-1]) >= MAX_REQUESTS_PER_BATCH
                               or size + n > MAX_BYTES_PER_BATCH):
                groups.append([])
                size = 0
            groups[-1].append((req, body))
            size += n
        out = []
        for group in groups:
            if not group:
                continue
            for req, _ in group:
                req.submissions += 1
                self._state(req.job, req.n_chunks).outstanding.add(req.chunk)
            bid = await self.api.submit([(r.custom_id, b) for r, b in group],
                                        {"packet_eval_out": self.out_dir[-500:]})
            request = {"model": str(self.spec), "ladder_sha256": self.ladder.sha256,
                       "items": {r.custom_id: r.item() for r, _ in group}}
            row = self.store.add_batch(self.api.name, bid, self.out_dir, request)
            self.stats["batches"] += 1
            self.stats["requests"] += len(group)
            self.stats["batch_ids"].append(bid)
            out.append((row, bid, [r for r, _ in group]))
        return out

    # ------------------------------------------------------------------ collecting
    def _log(self, req: Req, outcome: Outcome, cost: float, batch_id: str) -> None:
        packet_sha = req.job.key.packet_sha256
        rhash = request_hash(self.spec, self.ladder, _packet(str(req.job.path)), self.opts)
        self.run.store.log_call(
            model=str(self.spec), prompt_version=prompt_version(),
            ladder_sha256=self.ladder.sha256, packet_sha256=packet_sha, request_hash=rhash,
            attempt=req.submissions * 100 + req.attempt,
            status="ok" if outcome.error is None else "error", error=outcome.error,
            input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            duration_ms=0, cost_usd=cost,
            request_json={"batch": batch_id, "custom_id": req.custom_id})

    def _validate(self, req: Req, args: dict[str, Any]
                  ) -> tuple[ExtractionAnswer | None, str | None]:
        try:
            answer = validate_answer(args, self._context(req))
        except ValidationError as exc:
            return None, " ".join(str(exc).split())[:2000]
        return answer, None

    async def _collect(self, batch_id: str, reqs: Iterable[Req]) -> list[Req]:
        """Process one ended batch; returns the requests to send again."""
        outcomes = await self.api.results(batch_id)
        again: list[Req] = []
        touched: set[str] = set()
        for req in reqs:
            state = self._state(req.job, req.n_chunks)
            state.outstanding.discard(req.chunk)
            touched.add(req.job.key.digest)
            if state.live or req.job.key.digest in self.run.loaded.refs:
                continue
            outcome = outcomes.get(req.custom_id) or Outcome(None, "no result (expired, cancelled)")
            cost = cost_usd(str(self.spec), outcome.input_tokens, outcome.output_tokens, batch=True)
            state.tally.add_call(outcome.input_tokens, outcome.output_tokens, cost)
            self._log(req, outcome, cost, batch_id)
            if outcome.args is None:
                if outcome.truncated and req.max_tokens < MAX_TOKENS_CAP:
                    req.max_tokens = min(MAX_TOKENS_CAP, req.max_tokens * 2)
                if req.submissions < MAX_SUBMISSIONS:
                    self.stats["resubmitted"] += 1
                    again.append(req)
                else:
                    state.live = True
                continue
            answer, error = self._validate(req, outcome.args)
            if answer is not None:
                state.answers[req.chunk] = answer
                state.tally.add_answer(answer, req.attempt)
                continue
            if req.attempt < self.opts.max_reasks + 1:
                self.stats["reasked"] += 1
                req.tail = [*req.tail, *self.api.reask_turns(outcome, error or "")]
                req.attempt += 1
                again.append(req)
            elif req.submissions < MAX_SUBMISSIONS:
                self.stats["resubmitted"] += 1
                again.append(req)
            else:
                state.live = True
        for digest in touched:
            await self._settle(self.states[digest], again)
        return [r for r in again if not self.states[r.job.key.digest].live]

    async def _settle(self, state: PacketState, again: list[Req]) -> None:
        """Finish a packet whose chunks are all answered, or send it live, or ask for gaps."""
        job = state.job
        if job.key.digest in self.run.loaded.refs:
            return
        if state.live:
            self._fall_back(state)
            return
        if len(state.answers) == state.n_chunks:
            await self._finish(state)
            return
        pending = state.outstanding | {r.chunk for r in again if r.job is job}
        if not pending:
            # Chunks answered by an earlier process are gone: ask for what is missing.
            again.extend(self._fresh(job, state))

    def _fall_back(self, state: PacketState) -> None:
        from packet_eval.providers.pricing import BATCH_DISCOUNT

        state.live = True
        if state.handed_over:
            return
        state.handed_over = True
        # What the batches spent on it is spent; the live path reserves its own estimate.
        self.run.budget.settle(state.reserved, 0.0, state.tally.cost_usd)
        state.reserved = 0.0
        self.run.summary.cost_usd += state.tally.cost_usd
        job = state.job
        job.est_cost_usd = job.est_cost_usd / BATCH_DISCOUNT  # live calls cost full price
        self.live.append(job)
        self.stats["fell_back"] += 1

    async def _finish(self, state: PacketState) -> None:
        job = state.job
        packet = _packet(str(job.path))
        answers = [state.answers[i] for i in range(state.n_chunks)]
        # The same Assessment and cache entry as live, so later live runs reuse it.
        a = finish_assessment(self.spec, self.ladder, packet, self.opts, answers, state.tally,
                              store=self.run.store, target_level=job.target_level,
                              redactor=self._redactor_for(job))
        reserved, state.reserved = state.reserved, 0.0
        await self.run.deliver(job, a, reserved)

    # ------------------------------------------------------------------ the loop
    def _resume(self, jobs: dict[str, Job]) -> list[tuple[str, str, list[Req]]]:
        """Pending batches of this run directory, with their requests mapped back to jobs."""
        found = []
        for pending in self.store.pending_batches(self.api.name, self.out_dir):
            row, bid, request = pending.row_id, pending.provider_batch_id, pending.request
            mine = (request.get("model"), request.get("ladder_sha256"))
            if mine != (str(self.spec), self.ladder.sha256):
                continue  # another model's batch: leave it for a run with that model
            reqs = []
            for cid, item in (request.get("items") or {}).items():
                job = jobs.get(item.get("key", ""))
                if job is None:
                    continue
                n = int(item.get("n_chunks", 1))
                if len(chunk_packet(_packet(str(job.path)), self.opts.token_budget)) != n:
                    continue  # the packet changed: its key would differ, but be safe
                reqs.append(Req(cid, job, int(item["chunk"]), n, int(item.get("attempt", 1)),
                                int(item.get("submissions", 1)),
                                int(item.get("max_tokens", DEFAULT_MAX_TOKENS))))
            for r in reqs:
                self._state(r.job, r.n_chunks).outstanding.add(r.chunk)
            found.append((row, bid, reqs))
            self.stats["resumed"] += 1
        return found

    async def run_all(self, jobs: list[Job]) -> list[Job]:
        """Take ``jobs`` through provider batches; returns the ones to finish with live calls."""
        run = self.run
        by_key = {j.key.digest: j for j in jobs}
        in_flight = self._resume(by_key)
        covered = {r.job.key.digest for _, _, reqs in in_flight for r in reqs}
        for digest in covered:
            state = self.states[digest]
            reserved = run.budget.try_reserve(state.job.est_cost_usd)
            state.reserved = reserved or 0.0  # already paid for at the provider: never refused
        if in_flight:
            run.progress.print(f"resuming {len(in_flight)} provider batch(es) of this run")
        fresh: list[Req] = []
        for job in jobs:
            if job.key.digest in covered:
                continue
            reserved = run.budget.try_reserve(job.est_cost_usd)
            if reserved is None:
                run.stop("budget")
                run.progress.print(f"stopping: submitting more would take the estimate past "
                                   f"--max-cost ${run.budget.max_usd:.2f}")
                break
            n = len(chunk_packet(_packet(str(job.path)), self.opts.token_budget))
            state = self._state(job, n)
            state.reserved = reserved
            fresh.extend(self._fresh(job, state))
        if fresh:
            in_flight += await self._submit(fresh)
        first = True
        while in_flight and run.stop_reason != "interrupted":
            if not first:
                await asyncio.sleep(self.poll_interval_s)
            first = False
            still = []
            statuses = []
            for row, bid, reqs in in_flight:
                done, status = await self.api.poll(bid)
                statuses.append(status)
                if not done:
                    still.append((row, bid, reqs))
                    continue
                again = await self._collect(bid, reqs)
                self.store.set_batch_status(row, "collected")
                if again:
                    still += await self._submit(again)
            in_flight = still
            run.progress.update(run.stats(), description=(
                f"batch: {len(in_flight)} pending ({statuses[-1]})" if in_flight else "assessing"))
        if run.stop_reason == "interrupted" and in_flight:
            run.progress.print(f"{len(in_flight)} batch(es) keep running at the provider; rerun "
                               "the same command to collect them")
            return []
        for state in self.states.values():
            if not state.live and state.job.key.digest not in run.loaded.refs \
                    and len(state.answers) < state.n_chunks and not state.outstanding:
                self._fall_back(state)
        return self.live


async def run_provider_batches(run: _Run, spec: ModelSpec, jobs: list[Job], *,
                               poll_interval_s: float = 30.0) -> list[Job]:
    """Assess ``jobs`` through the provider's Batch API; returns those left for live calls."""
    runner = BatchRunner(run, spec, poll_interval_s=poll_interval_s)
    try:
        return await runner.run_all(jobs)
    finally:
        run.summary.batch_api = {k: v for k, v in runner.stats.items()}
