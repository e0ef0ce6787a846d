"""Rounds of provider batches: submit, poll, collect, re-ask or resubmit, finish.

A round goes: submit (``BatchClient.submit``), poll until the provider ends the
batch, read the results, and validate each answer with the same
``ExtractionAnswer`` validator and ``GroundingContext`` as the live path. An
answer whose quotes do not ground is re-asked in the next round with the
validator's message, exactly as instructor re-asks live, until the last allowed
attempt drops the ungrounded items; a failed, expired or cut-off request is
resubmitted. After ``MAX_SUBMISSIONS`` a packet falls back to live calls. A
packet whose chunks are all answered becomes an Assessment through
``request.finish_assessment``, as live, priced at ``pricing.BATCH_DISCOUNT``.

Batches can take hours, so they survive the process: each submitted batch is a
row in the store's batch ledger, keyed by the run directory. A rerun first polls
and collects the batches still pending for its ``--out``; packets in them are not
submitted again. Collected batches are marked so, after their results are
durable in ``assessments.jsonl``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from packet_eval.batch.jobs import Job
from packet_eval.batch.provider_batches.client import BatchClient, Outcome
from packet_eval.batch.provider_batches.context import RunContext
from packet_eval.batch.provider_batches.requests import (
    PacketState,
    Req,
    packet_at,
    redactor_for,
    request_body,
)
from packet_eval.extractors.chunking import chunk_packet
from packet_eval.extractors.llm_schema import ExtractionAnswer
from packet_eval.extractors.prompts import prompt_version
from packet_eval.extractors.request import (
    DEFAULT_MAX_TOKENS,
    MAX_TOKENS_CAP,
    LLMOptions,
    build_messages,
    finish_assessment,
    grounding_context,
    request_hash,
    validate_answer,
)
from packet_eval.ladder import Ladder
from packet_eval.providers import ModelSpec, adapter_for
from packet_eval.providers.pricing import BATCH_DISCOUNT, cost_usd
from packet_eval.store import Store

if TYPE_CHECKING:
    from packet_eval.providers.wire import SDKClient

logger = logging.getLogger(__name__)
MAX_SUBMISSIONS = 3  # per request, for transport failures; then the packet goes live
MAX_REQUESTS_PER_BATCH = 5000  # well under both providers' limits (50k / 100k)
MAX_BYTES_PER_BATCH = 100_000_000  # OpenAI's input file limit is 200 MB


@dataclass
class InFlight:
    """A submitted provider batch: its ledger row, the provider's id, and its requests."""

    row_id: str
    batch_id: str
    reqs: list[Req]


class BatchRunner:
    """Submits, polls, validates and finishes the packets of one run through a Batch API."""

    def __init__(self, run: RunContext, *, spec: ModelSpec, ladder: Ladder, opts: LLMOptions,
                 store: Store, client: SDKClient, out_dir: Path, poll_interval_s: float) -> None:
        self.run, self.spec, self.ladder, self.opts, self.store = run, spec, ladder, opts, store
        self.wire = adapter_for(spec)
        self.api: BatchClient = self.wire.batch_client(client)
        self.out_dir = str(out_dir.resolve())
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

    def _n_chunks(self, job: Job) -> int:
        return len(chunk_packet(packet_at(str(job.path)), self.opts.token_budget))

    def _body(self, req: Req) -> dict[str, Any]:
        packet = packet_at(str(req.job.path))
        chunks = chunk_packet(packet, self.opts.token_budget)
        base = build_messages(self.ladder, packet, chunks[req.chunk], req.chunk + 1, len(chunks),
                              redactor_for(req.job, self.opts))
        return request_body(self.wire, self.spec, self.opts, base, req.tail, req.max_tokens)

    def _fresh(self, job: Job, state: PacketState) -> list[Req]:
        return [Req(self._cid(job, i), job, i, state.n_chunks) for i in range(state.n_chunks)
                if i not in state.answers]

    def _state(self, job: Job, n_chunks: int) -> PacketState:
        state = self.states.get(job.key.digest)
        if state is None:
            state = self.states[job.key.digest] = PacketState(job, n_chunks)
        return state

    # ------------------------------------------------------------------ submitting
    def _group(self, reqs: list[Req]) -> list[list[tuple[Req, dict[str, Any]]]]:
        """The request bodies, in groups under the providers' size limits."""
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
        return [g for g in groups if g]

    async def _submit(self, reqs: list[Req]) -> list[InFlight]:
        """Submit ``reqs`` as one or more provider batches."""
        out = []
        for group in self._group(reqs):
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
            out.append(InFlight(row, bid, [r for r, _ in group]))
        return out

    # ------------------------------------------------------------------ collecting
    def _log(self, req: Req, outcome: Outcome, cost: float, batch_id: str) -> None:
        rhash = request_hash(self.spec, self.ladder, packet_at(str(req.job.path)), self.opts)
        self.store.log_call(
            model=str(self.spec), prompt_version=prompt_version(),
            ladder_sha256=self.ladder.sha256, packet_sha256=req.job.key.packet_sha256,
            request_hash=rhash, attempt=req.submissions * 100 + req.attempt,
            status="ok" if outcome.error is None else "error", error=outcome.error,
            input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            cache_read_tokens=outcome.cache_read, cache_write_tokens=outcome.cache_write,
            duration_ms=0, cost_usd=cost,
            request_json={"batch": batch_id, "custom_id": req.custom_id})

    def _validate(self, req: Req, args: dict[str, Any]
                  ) -> tuple[ExtractionAnswer | None, str | None]:
        packet = packet_at(str(req.job.path))
        chunk = chunk_packet(packet, self.opts.token_budget)[req.chunk]
        ctx = grounding_context(self.ladder, packet, chunk, self.opts,
                                redactor_for(req.job, self.opts), attempt=req.attempt)
        try:
            return validate_answer(args, ctx), None
        except ValidationError as exc:
            return None, " ".join(str(exc).split())[:2000]

    def _retry(self, req: Req, state: PacketState, again: list[Req]) -> None:
        """Send ``req`` again, or give its packet to live calls once submissions run out."""
        if req.submissions < MAX_SUBMISSIONS:
            self.stats["resubmitted"] += 1
            again.append(req)
        else:
            state.live = True

    def _take(self, req: Req, state: PacketState, outcome: Outcome, again: list[Req]) -> None:
        """Count one request's outcome: an answer, a re-ask, a resubmission or a fall-back."""
        if outcome.args is None:
            if outcome.truncated and req.max_tokens < MAX_TOKENS_CAP:
                req.max_tokens = min(MAX_TOKENS_CAP, req.max_tokens * 2)
            self._retry(req, state, again)
            return
        answer, error = self._validate(req, outcome.args)
        if answer is not None:
            state.answers[req.chunk] = answer
            state.tally.add_answer(answer, req.attempt)
        elif req.attempt < self.opts.max_reasks + 1:
            self.stats["reasked"] += 1
            req.tail = [*req.tail, *self.api.reask_turns(outcome, error or "")]
            req.attempt += 1
            again.append(req)
        else:
            self._retry(req, state, again)

    async def _collect(self, batch_id: str, reqs: Iterable[Req]) -> list[Req]:
        """Process one ended batch; returns the requests to send again."""
        outcomes = await self.api.results(batch_id)
        logger.debug("collected batch %s: %d outcome(s)", batch_id, len(outcomes))
        again: list[Req] = []
        touched: set[str] = set()
        for req in reqs:
            state = self._state(req.job, req.n_chunks)
            state.outstanding.discard(req.chunk)
            touched.add(req.job.key.digest)
            if state.live or self.run.is_finished(req.job):
                continue
            outcome = outcomes.get(req.custom_id) or Outcome(None, "no result (expired, cancelled)")
            cost = cost_usd(str(self.spec), outcome.input_tokens, outcome.output_tokens, batch=True,
                            cache_read=outcome.cache_read, cache_write=outcome.cache_write)
            state.tally.add_call(outcome.tokens, cost)
            self._log(req, outcome, cost, batch_id)
            self._take(req, state, outcome, again)
        for digest in touched:
            await self._settle(self.states[digest], again)
        return [r for r in again if not self.states[r.job.key.digest].live]

    async def _settle(self, state: PacketState, again: list[Req]) -> None:
        """Finish a packet whose chunks are all answered, or send it live, or ask for gaps."""
        job = state.job
        if self.run.is_finished(job):
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
        logger.debug("%s falls back to live calls", job.packet_id)

    async def _finish(self, state: PacketState) -> None:
        job = state.job
        answers = [state.answers[i] for i in range(state.n_chunks)]
        # The same Assessment and cache entry as live, so later live runs reuse it.
        a = finish_assessment(self.spec, self.ladder, packet_at(str(job.path)), self.opts,
                              answers, state.tally, store=self.store,
                              target_level=job.target_level, redactor=redactor_for(job, self.opts))
        reserved, state.reserved = state.reserved, 0.0
        await self.run.deliver(job, a, reserved)

    # ------------------------------------------------------------------ the loop
    def _resume(self, jobs: dict[str, Job]) -> list[InFlight]:
        """Pending batches of this run directory, with their requests mapped back to jobs."""
        found = []
        for pending in self.store.pending_batches(self.api.name, self.out_dir):
            request = pending.request
            if (request.get("model"), request.get("ladder_sha256")) != (str(self.spec),
                                                                        self.ladder.sha256):
                continue  # another model's batch: leave it for a run with that model
            reqs = []
            for cid, item in (request.get("items") or {}).items():
                job = jobs.get(item.get("key", ""))
                if job is None:
                    continue
                n = int(item.get("n_chunks", 1))
                if self._n_chunks(job) != n:
                    continue  # the packet changed: its key would differ, but be safe
                reqs.append(Req(cid, job, int(item["chunk"]), n, int(item.get("attempt", 1)),
                                int(item.get("submissions", 1)),
                                int(item.get("max_tokens", DEFAULT_MAX_TOKENS))))
            for r in reqs:
                self._state(r.job, r.n_chunks).outstanding.add(r.chunk)
            found.append(InFlight(pending.row_id, pending.provider_batch_id, reqs))
            self.stats["resumed"] += 1
        return found

    def _plan(self, jobs: list[Job], covered: set[str]) -> list[Req]:
        """Reserve the budget packet by packet; the requests of those it covers."""
        run = self.run
        for digest in covered:
            state = self.states[digest]
            reserved = run.budget.try_reserve(state.job.est_cost_usd)
            state.reserved = reserved or 0.0  # already paid for at the provider: never refused
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
            logger.debug("reserved $%.6f for %s", reserved, job.packet_id)
            state = self._state(job, self._n_chunks(job))
            state.reserved = reserved
            fresh.extend(self._fresh(job, state))
        return fresh

    async def _round(self, in_flight: list[InFlight]) -> list[InFlight]:
        """Poll every batch once; collect the ended ones and submit what must go again."""
        still: list[InFlight] = []
        statuses = []
        for batch in in_flight:
            done, status = await self.api.poll(batch.batch_id)
            statuses.append(status)
            if not done:
                still.append(batch)
                continue
            again = await self._collect(batch.batch_id, batch.reqs)
            self.store.set_batch_status(batch.row_id, "collected")
            if again:
                still += await self._submit(again)
        self.run.progress.update(self.run.stats(), description=(
            f"batch: {len(still)} pending ({statuses[-1]})" if still else "assessing"))
        return still

    async def run_all(self, jobs: list[Job]) -> list[Job]:
        """Take ``jobs`` through provider batches; returns the ones to finish with live calls."""
        run = self.run
        in_flight = self._resume({j.key.digest: j for j in jobs})
        covered = {r.job.key.digest for batch in in_flight for r in batch.reqs}
        if in_flight:
            run.progress.print(f"resuming {len(in_flight)} provider batch(es) of this run")
        fresh = self._plan(jobs, covered)
        if fresh:
            in_flight += await self._submit(fresh)
        first = True
        while in_flight and run.stop_reason != "interrupted":
            if not first:
                await asyncio.sleep(self.poll_interval_s)
            first = False
            in_flight = await self._round(in_flight)
        if run.stop_reason == "interrupted" and in_flight:
            run.progress.print(f"{len(in_flight)} batch(es) keep running at the provider; rerun "
                               "the same command to collect them")
            return []
        for state in self.states.values():
            if not state.live and not run.is_finished(state.job) \
                    and len(state.answers) < state.n_chunks and not state.outstanding:
                self._fall_back(state)
        return self.live
