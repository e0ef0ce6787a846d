"""The state one batch run shares across its packets, and its pool of live workers.

``BatchRun`` delivers results (durably, then counted) and records failures (the
run goes on); its worker pool assesses packets with the shared HTTP client, rate
gate, retry policy and limiter. Provider batches see it only as a
``provider_batches.RunContext``: deliver, the budget, the summary, progress, stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from packet_eval.api import assess_async
from packet_eval.batch.budget import Budget
from packet_eval.batch.jobs import Job
from packet_eval.batch.outdir import DurableAppender, LoadedResults, OutDir, ResultRef, RunKey
from packet_eval.batch.outputs import prepare as prepare_outputs
from packet_eval.batch.progress import ProgressBar, tokens
from packet_eval.batch.summary import BatchSummary, Failure
from packet_eval.errors import PacketEvalError
from packet_eval.extractors.request import LLMOptions, request_hash
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet, load_packet
from packet_eval.providers import AdaptiveLimiter, ModelSpec, RateGate, RetryPolicy
from packet_eval.schema import Assessment
from packet_eval.store import Store, now_utc

if TYPE_CHECKING:
    from packet_eval.providers.wire import SDKClient

logger = logging.getLogger(__name__)
TEMPLATE_CACHE = "template-cache"
FAST_SUFFIXES = (".md", ".markdown", ".txt")  # microseconds to read: a thread hop costs more


def _prepare_quietly(template_cache: Path | None) -> None:
    # Only a head start: if an import fails here, write_outputs meets it and reports it.
    try:
        prepare_outputs(template_cache)
    except Exception:  # noqa: BLE001
        logger.debug("preparing the outputs failed; write_outputs will retry", exc_info=True)


class BatchRun:
    """The state of one ``run_batch`` call; see ``runner`` for the flow."""

    def __init__(self, *, out: OutDir, loaded: LoadedResults, ladder: Ladder,
                 llm_model: str | None, spec: ModelSpec | None, base_url: str | None,
                 concurrency: int,
                 opts: LLMOptions, budget: Budget, retry: RetryPolicy, store: Store | None,
                 progress: ProgressBar, summary: BatchSummary) -> None:
        self.out, self.loaded, self.ladder = out, loaded, ladder
        self.llm_model, self.spec = llm_model, spec  # the model as given, and as parsed
        self.base_url, self.concurrency, self.opts = base_url, concurrency, opts
        self.budget, self.retry, self.store = budget, retry, store
        self.progress, self.summary = progress, summary
        self.gate = RateGate()
        self.limiter: AdaptiveLimiter | None = None
        self.client: SDKClient | None = None
        # Made on first need: a rerun served wholly from the cache never imports an SDK.
        self.connect: Callable[[], SDKClient] | None = None
        self.results: DurableAppender | None = None
        self.errors: DurableAppender | None = None
        self.prior_failures = {k: int(v.get("failures", 1)) for k, v in out.load_errors().items()}
        self.stop_reason: str | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.preparing: threading.Thread | None = None  # see prepare_outputs_while_waiting
        # Compiled report templates live beside the call log (LLM runs only, which have one).
        self.template_cache = store.path.parent / TEMPLATE_CACHE if store is not None else None

    # ------------------------------------------------------------------ bookkeeping
    def stats(self) -> str:
        s = self.summary
        text = (f"done {s.done} \u00b7 failed {len(s.failed)} \u00b7 cached {s.cached} \u00b7 "
                f"{tokens(s.input_tokens + s.output_tokens)} tok \u00b7 ${s.cost_usd:.4f}")
        if self.limiter is not None and self.limiter.rate_limited:
            text += f" \u00b7 429s {self.limiter.rate_limited}"
        return text

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            logger.debug("stopping the run: %s", reason)
            self.stop_reason = reason
            self.summary.stop_reason = reason

    def is_finished(self, job: Job) -> bool:
        """Whether ``job`` has a durable result in this run directory."""
        return job.key.digest in self.loaded.refs

    async def deliver(self, job: Job, a: Assessment, reserved: float = 0.0) -> None:
        """Write one finished Assessment durably and count it."""
        # The LLM cache is keyed by content, so a hit may carry another file's name.
        a = a.model_copy(update={"source": str(job.path), "packet_id": job.packet_id})
        assert self.results is not None
        offset, length = await self.results.append(a.model_dump_json())
        key = RunKey(a.source, a.packet_sha256, a.extractor.model, a.ladder.sha256, a.target_level)
        self.loaded.refs[key.digest] = ResultRef(offset, length, a.packet_id, a.source)
        job.key = key
        s, u = self.summary, a.usage
        s.done += 1
        s.assessed += 1
        s.cached += int(u.cached)
        s.cost_usd += u.cost_usd
        s.input_tokens += u.input_tokens
        s.cache_read_tokens += u.cache_read_tokens
        s.cache_write_tokens += u.cache_write_tokens
        s.output_tokens += u.output_tokens
        s.calls += u.calls
        self.budget.settle(reserved, 0.0 if job.cached else job.est_cost_usd, u.cost_usd)
        logger.debug("delivered %s: level %s, %d call(s), $%.6f%s", job.packet_id, a.level,
                     u.calls, u.cost_usd, " (cached)" if u.cached else "")
        if u.calls:
            self.prepare_outputs_while_waiting()
        self.progress.update(self.stats(), advance=1)

    async def fail(self, job: Job, message: str, error_type: str, stage: str,
                   reserved: float = 0.0, cost: float = 0.0) -> None:
        """Record one failure durably; the run goes on."""
        digest = job.key.digest
        entry = {"key": digest, "source": str(job.path), "packet_id": job.packet_id,
                 "packet_sha256": job.key.packet_sha256, "model": job.key.model,
                 "ladder_sha256": job.key.ladder_sha256, "target_level": job.target_level,
                 "stage": stage, "error_type": error_type, "error": message,
                 "failures": self.prior_failures.get(digest, 0) + 1, "time_utc": now_utc()}
        assert self.errors is not None
        await self.errors.append(json.dumps(entry, ensure_ascii=False))
        self.summary.failed.append(Failure(str(job.path), job.packet_id, message, error_type))
        self.summary.cost_usd += cost
        self.budget.settle(reserved, 0.0, cost)
        logger.debug("failed %s at %s: %s: %s", job.packet_id, stage, error_type, message)
        self.progress.update(self.stats(), advance=1)

    def prepare_outputs_while_waiting(self) -> None:
        """Once live answers arrive, import the outputs' libraries in a thread.

        The workers then mostly wait on the provider, so this second of CPU fits in the
        gaps instead of coming after the last packet. Started after the first answer, not
        before, so it does not slow the first requests; ``finish`` joins it.
        """
        if self.preparing is None:
            self.preparing = threading.Thread(target=_prepare_quietly, name="prepare-outputs",
                                              args=(self.template_cache,), daemon=True)
            self.preparing.start()

    # ------------------------------------------------------------------ live path
    async def load(self, job: Job) -> Packet:
        if job.packet is not None:
            packet, job.packet = job.packet, None  # read by the scan; do not keep it around
            return packet
        if job.path.suffix.lower() in FAST_SUFFIXES:
            return load_packet(job.path)
        return await asyncio.to_thread(load_packet, job.path)

    def shared_client(self) -> SDKClient | None:
        """The one HTTP client of the run, made the first time a packet needs a call."""
        if self.client is None and self.connect is not None:
            self.client = self.connect()
        return self.client

    async def assess(self, job: Job, packet: Packet) -> Assessment:
        if self.llm_model is None:
            return await assess_async(packet, model="baseline", ladder=self.ladder,
                                      target_level=job.target_level)
        # A packet the scan found in the cache needs no client (nor the SDK imported for it).
        cached = job.cached and self.opts.use_cache
        return await assess_async(
            packet, model=self.llm_model, ladder=self.ladder, target_level=job.target_level,
            client=self.client if cached else self.shared_client(), base_url=self.base_url,
            use_cache=self.opts.use_cache, store=self.store,
            retry=self.retry, gate=self.gate, redact=self.opts.redact, mode=self.opts.mode,
            timeout_s=self.opts.timeout_s, redact_names=self.opts.redact_names)

    async def one(self, job: Job, reserved: float) -> None:
        started = now_utc()
        try:
            packet = await self.load(job)
            a = await self.assess(job, packet)
        except PacketEvalError as exc:
            cost = self.failed_cost(job, started)
            await self.fail(job, str(exc), type(exc).__name__, "assess", reserved, cost)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not sink the other packets
            detail = " ".join(str(exc).split())[:300]
            cost = self.failed_cost(job, started)
            await self.fail(job, f"internal error {type(exc).__name__}: {detail}",
                            type(exc).__name__, "assess", reserved, cost)
        else:
            await self.deliver(job, a, reserved)

    def failed_cost(self, job: Job, since: str) -> float:
        """What a failed packet's calls cost, from the call log; its calls and tokens count too."""
        if self.spec is None or self.store is None or job.key.packet_sha256 is None:
            return 0.0
        # request_hash needs only the packet's sha256; a stand-in packet carries it.
        stub = Packet(job.packet_id, "x", str(job.path), "md", job.key.packet_sha256)
        calls, inp, out, cost = self.store.logged_usage(
            request_hash(self.spec, self.ladder, stub, self.opts), since)
        # A failed packet's calls were made and logged: the summary counts them as the log does.
        s = self.summary
        s.calls += calls
        s.input_tokens += inp
        s.output_tokens += out
        return cost

    # ------------------------------------------------------------------ the pool
    def workers(self) -> int:
        # The baseline is CPU-bound and synchronous: more workers would only interleave.
        return 1 if self.llm_model is None else max(1, self.concurrency)

    def reserve(self, job: Job) -> float | None:
        """Reserve the budget for ``job``; None (and the run stops) when it does not fit."""
        reserved = self.budget.try_reserve(0.0 if job.cached else job.est_cost_usd)
        if reserved is None:
            self.stop("budget")
            self.progress.print(
                f"stopping: the next packet would take spend past --max-cost "
                f"${self.budget.max_usd:.2f} (spent ${self.budget.spent_usd:.4f}); "
                "in-flight packets finish")
        else:
            logger.debug("reserved $%.6f for %s", reserved, job.packet_id)
        return reserved

    async def run_pool(self, jobs: Iterable[Job] | AsyncIterator[Job]) -> None:
        """Assess ``jobs`` with ``concurrency`` workers until done, stopped or out of budget.

        ``jobs`` may be an async iterator still being produced (the scan, pipelined): a small
        queue between it and the workers keeps memory bounded and lets scanning overlap the
        time workers spend waiting on the provider.
        """
        n = self.workers()
        queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=2 * n)
        failure: list[BaseException] = []

        async def produce() -> None:
            try:
                if isinstance(jobs, AsyncIterator):
                    async for job in jobs:
                        await queue.put(job)
                else:
                    for job in jobs:
                        await queue.put(job)
            except Exception as exc:  # surfaced after the workers are stopped
                failure.append(exc)
                self.cancel_all()
                return
            for _ in range(n):
                await queue.put(None)

        async def worker() -> None:
            while (job := await queue.get()) is not None and self.stop_reason is None:
                reserved = self.reserve(job)
                if reserved is None:
                    return
                try:
                    await self.one(job, reserved)
                except OSError as exc:  # results or errors could not be written: stop, loudly
                    failure.append(exc)
                    self.stop("write_error")
                    self.cancel_all()
                    return

        producer = asyncio.create_task(produce())
        self.tasks = [asyncio.create_task(worker()) for _ in range(n)]
        try:
            outcomes = await asyncio.gather(*self.tasks, return_exceptions=True)
            # A worker must never die quietly: that would drop the rest of the cycle unseen.
            failure += [o for o in outcomes if isinstance(o, Exception)]
        finally:
            self.tasks = []
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        if failure:
            self.raise_failure(failure[0])

    def raise_failure(self, exc: BaseException) -> None:
        if isinstance(exc, OSError):
            raise PacketEvalError(
                f"cannot write results ({exc.strerror or exc}); free space or fix permissions "
                "and rerun the same command: every finished result is kept", self.out.path) from None
        raise exc

    def cancel_all(self) -> None:
        for t in self.tasks:
            t.cancel()

    async def close(self) -> None:
        """Close the result files and the shared HTTP client; fold their counters in."""
        for appender in (self.results, self.errors):
            if appender is not None:
                await appender.close()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        self.summary.throttled = self.gate.throttled
        if self.limiter is not None:
            self.summary.rate_limited = self.limiter.rate_limited
            self.summary.lowest_concurrency = self.limiter.lowest
