"""``run_batch``: assess a whole promotion cycle, concurrently, resumably and within budget.

The run in order:

1. Expand the paths, lock ``--out DIR``, index the results already there (a torn
   last line is cut), and scan every packet for its key, size and cache status.
2. Check the ``--max-cost`` estimate, then assess what is not finished yet with a
   pool of ``concurrency`` workers sharing one HTTP client, one ``RateGate``, one
   retry policy and one ``AdaptiveLimiter`` (so a 429 slows the whole run).
   Cached packets go first: they are free and quick. With ``batch_api`` the rest
   goes through the provider's Batch API (``batch_api.py``) and live calls only
   pick up what the batches could not do.
3. Every result is appended durably to ``assessments.jsonl`` the moment it is
   ready; every failure to ``errors.jsonl``; a failure never stops the others.
4. Whatever happened (done, failures, budget stop, Ctrl-C), write ``summary.csv``,
   ``summary.parquet``, ``report.html`` and ``run.json`` from what is on disk.

Ctrl-C once stops starting packets and lets in-flight ones finish; twice cancels
them. A SIGKILL loses at most the in-flight packets, which the next run redoes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from packet_eval.batch_cost import Budget, check_before_run
from packet_eval.batch_io import DurableAppender, LoadedResults, OutDir, ResultRef, RunKey
from packet_eval.batch_jobs import Job, expand_paths, make_estimator, read_targets, scan
from packet_eval.errors import ConfigError, DatasetError, PacketEvalError
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet, load_packet
from packet_eval.providers import RateGate, RetryPolicy
from packet_eval.schema import Assessment
from packet_eval.store import Store, now_utc

EXIT_OK, EXIT_FAILED, EXIT_STOPPED, EXIT_INTERRUPTED = 0, 1, 3, 130


@dataclass
class Failure:
    """A packet that could not be assessed in this run, and why."""

    source: str
    packet_id: str
    error: str
    error_type: str


@dataclass
class BatchSummary:
    """What a run did. ``exit_code`` is what the CLI exits with."""

    out_dir: str
    model: str
    ladder: str
    total: int = 0
    done: int = 0
    assessed: int = 0
    skipped: int = 0
    cached: int = 0
    failed: list[Failure] = field(default_factory=list)
    not_run: int = 0
    stop_reason: str | None = None
    estimate_usd: float = 0.0
    max_cost_usd: float | None = None
    cost_usd: float = 0.0
    total_cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    wall_s: float = 0.0
    throttled: int = 0
    rate_limited: int = 0
    lowest_concurrency: int | None = None
    batch_api: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    started_utc: str = field(default_factory=now_utc)

    @property
    def exit_code(self) -> int:
        if self.stop_reason == "interrupted":
            return EXIT_INTERRUPTED
        if self.failed:
            return EXIT_FAILED
        if self.not_run or self.stop_reason:
            return EXIT_STOPPED
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exit_code"] = self.exit_code
        return d


class _Progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, total: int, completed: int, console: Console | None) -> None:
        self._bar: Progress | None = None
        if enabled:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(),
                console=console or Console(stderr=True), refresh_per_second=4)
            self._task = self._bar.add_task("assessing", total=total, completed=completed,
                                            stats="")
            self._bar.start()

    def update(self, stats: str, advance: int = 0, description: str | None = None) -> None:
        if self._bar is not None:
            kw: dict[str, Any] = {"stats": stats, "advance": advance}
            if description is not None:
                kw["description"] = description
            self._bar.update(self._task, **kw)

    def print(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _tokens(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


class _Run:
    """The state of one ``run_batch`` call; see the module docstring for the flow."""

    def __init__(self, *, out: OutDir, loaded: LoadedResults, ladder: Ladder, model: str,
                 llm_model: str | None, base_url: str | None, concurrency: int,
                 use_cache: bool, budget: Budget, retry: RetryPolicy, store: Any,
                 progress: _Progress, summary: BatchSummary) -> None:
        self.out, self.loaded, self.ladder, self.model = out, loaded, ladder, model
        self.llm_model, self.base_url = llm_model, base_url
        self.concurrency, self.use_cache, self.budget = concurrency, use_cache, budget
        self.retry, self.store, self.progress, self.summary = retry, store, progress, summary
        self.gate = RateGate()
        self.limiter: Any = None
        self.client: Any = None
        self.results: DurableAppender | None = None
        self.errors: DurableAppender | None = None
        self.prior_failures = {k: int(v.get("failures", 1)) for k, v in out.load_errors().items()}
        self.llm_opts: Any = None  # LLMOptions as the live extractor resolves them (redaction)
        self.stop_reason: str | None = None
        self.tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ bookkeeping
    def stats(self) -> str:
        s = self.summary
        text = (f"done {s.done} \u00b7 failed {len(s.failed)} \u00b7 cached {s.cached} \u00b7 "
                f"{_tokens(s.input_tokens + s.output_tokens)} tok \u00b7 ${s.cost_usd:.4f}")
        if self.limiter is not None and self.limiter.rate_limited:
            text += f" \u00b7 429s {self.limiter.rate_limited}"
        return text

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.summary.stop_reason = reason

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
        s.output_tokens += u.output_tokens
        s.calls += u.calls
        self.budget.settle(reserved, 0.0 if job.cached else job.est_cost_usd, u.cost_usd)
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
        self.progress.update(self.stats(), advance=1)

    # ------------------------------------------------------------------ live path
    async def load(self, job: Job) -> Packet:
        if job.packet is not None:
            packet, job.packet = job.packet, None  # read by the scan; do not keep it around
            return packet
        if job.path.suffix.lower() in (".md", ".markdown", ".txt"):
            return load_packet(job.path)  # microseconds: a thread hop would cost more
        return await asyncio.to_thread(load_packet, job.path)

    async def assess(self, job: Job, packet: Packet) -> Assessment:
        from packet_eval.api import assess_async

        if self.llm_model is None:
            return await assess_async(packet, model="baseline", ladder=self.ladder,
                                      target_level=job.target_level)
        return await assess_async(
            packet, model=self.llm_model, ladder=self.ladder, target_level=job.target_level,
            client=self.client, base_url=self.base_url, use_cache=self.use_cache,
            store=self.store, retry=self.retry, gate=self.gate,
            redact=self.llm_opts.redact if self.llm_opts is not None else None)

    async def one(self, job: Job, reserved: float) -> None:
        started = now_utc()
        try:
            packet = await self.load(job)
            a = await self.assess(job, packet)
        except PacketEvalError as exc:
            cost = self._failed_cost(job, started)
            await self.fail(job, str(exc), type(exc).__name__, "assess", reserved, cost)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not sink the other packets
            detail = " ".join(str(exc).split())[:300]
            cost = self._failed_cost(job, started)
            await self.fail(job, f"internal error {type(exc).__name__}: {detail}",
                            type(exc).__name__, "assess", reserved, cost)
        else:
            await self.deliver(job, a, reserved)

    def _failed_cost(self, job: Job, since: str) -> float:
        if self.llm_model is None or self.store is None or job.key.packet_sha256 is None:
            return 0.0
        from packet_eval.extractors.request import request_hash
        from packet_eval.packet import packet_from_text
        from packet_eval.providers import parse_model

        # request_hash needs only the packet's sha256; a stand-in packet carries it.
        stub = packet_from_text("x", job.packet_id)
        stub = Packet(stub.packet_id, stub.text, stub.source, stub.format, job.key.packet_sha256)
        spec = parse_model(self.llm_model, base_url=self.base_url, injected=True)
        rhash = request_hash(spec, self.ladder, stub, self.llm_opts)
        return self.store.logged_cost(rhash, since)

    async def run_pool(self, jobs: Iterable[Job] | AsyncIterator[Job]) -> None:
        """Assess ``jobs`` with ``concurrency`` workers until done, stopped or out of budget.

        ``jobs`` may be an async iterator still being produced (the scan, pipelined): a small
        queue between it and the workers keeps memory bounded and lets scanning overlap the
        time workers spend waiting on the provider.
        """
        # The baseline is CPU-bound and synchronous: more workers would only interleave.
        n = 1 if self.llm_model is None else max(1, self.concurrency)
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
                reserved = self.budget.try_reserve(0.0 if job.cached else job.est_cost_usd)
                if reserved is None:
                    self.stop("budget")
                    self.progress.print(
                        f"stopping: the next packet would take spend past --max-cost "
                        f"${self.budget.max_usd:.2f} (spent ${self.budget.spent_usd:.4f}); "
                        "in-flight packets finish")
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
            exc = failure[0]
            if isinstance(exc, OSError):
                raise PacketEvalError(
                    f"cannot write results ({exc.strerror or exc}); free space or fix permissions "
                    "and rerun the same command: every finished result is kept", self.out.path) from None
            raise exc

    def cancel_all(self) -> None:
        for t in self.tasks:
            t.cancel()


def _install_sigint(run: _Run) -> list[signal.Signals]:
    """Ctrl-C once: finish in-flight packets; twice: cancel them. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    hits = {"n": 0}

    def handler() -> None:
        hits["n"] += 1
        run.stop("interrupted")
        if hits["n"] == 1:
            run.progress.print("interrupted: finishing in-flight packets (Ctrl-C again to "
                               "abandon them; they will be redone next run)")
        else:
            run.cancel_all()

    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    return installed


def _parse_labels(labels_path: str | Path | None, ladder: Ladder) -> list[Any] | None:
    if labels_path is None:
        return None
    from packet_eval.labels import parse_labels

    parsed = parse_labels(labels_path, ladder)
    if parsed.problems:
        more = f" (+{len(parsed.problems) - 1} more)" if len(parsed.problems) > 1 else ""
        raise DatasetError(f"{parsed.problems[0]}{more}")
    return parsed.labels


async def run_batch(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    model: str | None = None,
    base_url: str | None = None,
    concurrency: int = 8,
    target_level: str | None = None,
    targets_csv: str | Path | None = None,
    ladder: Ladder | str | Path | None = None,
    use_cache: bool = True,
    max_cost_usd: float | None = None,
    labels_path: str | Path | None = None,
    calibrator: str | None = None,
    progress: bool = True,
    batch_api: bool = False,
    retry: RetryPolicy | None = None,
    store: Any = None,
    poll_interval_s: float = 30.0,
    console: Console | None = None,
    redact: bool | None = None,
) -> BatchSummary:
    """Assess every packet under ``paths`` into ``out_dir``; see the module docstring.

    Args:
        paths: packet files and directories (searched recursively).
        out_dir: the run directory; rerunning with the same one resumes.
        model: ``baseline`` or ``provider/name``; None picks ``api.default_model()``.
        base_url: an OpenAI-compatible server (vLLM, llama.cpp, LM Studio).
        concurrency: the most LLM requests in flight at once.
        target_level: one target level for every packet (exclusive with ``targets_csv``).
        targets_csv: a CSV of ``packet_id`` (or ``path``) and ``target_level``.
        ladder: a Ladder, a ladder YAML path, or None for the default ladder.
        use_cache: serve identical requests from the local cache.
        max_cost_usd: the spending ceiling for this run (``--max-cost``).
        labels_path: the committee's calibration labels, to compare with in the report.
        calibrator: compare with this calibrator's labels (default: each packet's first label).
        progress: show a progress bar on stderr.
        batch_api: use the provider's Batch API (``openai/*`` and ``anthropic/*``).
        retry: the transport retry policy shared by all workers (default: ``RetryPolicy()``).
        store: the call log and cache (default: ``Store()`` under ``PACKET_EVAL_HOME``).
        poll_interval_s: how often to poll provider batches.
        console: where progress and notices go (default: stderr).
        redact: mask personal data before it leaves the machine; None decides as the live
            extractor does (on for any endpoint that is not local).

    Returns:
        A BatchSummary; its ``exit_code`` is non-zero if any packet failed or the run stopped.

    Raises:
        PacketEvalError: for problems found before any work starts (options, ladder,
            labels, targets, a missing key, a locked ``out_dir``, an estimate over
            ``max_cost_usd``).
    """
    t0 = time.perf_counter()
    if target_level is not None and targets_csv is not None:
        raise ConfigError("use --target-level or --targets, not both")
    if concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    if max_cost_usd is not None and max_cost_usd < 0:
        raise ConfigError("--max-cost must not be negative")
    lad = ladder if isinstance(ladder, Ladder) else load_ladder(ladder)
    from packet_eval.api import BASELINE, check_target_level, default_model

    check_target_level(lad, target_level)

    chosen = model or default_model()[0]
    is_llm = chosen != BASELINE
    spec = None
    if is_llm:
        from packet_eval.providers import parse_model

        spec = parse_model(chosen, base_url=base_url, injected=True)
        if batch_api and not spec.info.batch_api:
            raise ConfigError(f"--batch-api needs an openai/* or anthropic/* model, not {chosen}; "
                              "for a vLLM or other OpenAI-compatible server use --base-url "
                              "with a higher --concurrency")
    elif batch_api:
        raise ConfigError("--batch-api needs an openai/* or anthropic/* model, not the baseline")
    labels = _parse_labels(labels_path, lad)
    if labels is not None and calibrator is not None:
        from packet_eval.report.calibration import pick_labels

        try:
            pick_labels(labels, calibrator)
        except ValueError as exc:
            raise ConfigError(f"--calibrator: {exc}") from None
    targets = read_targets(targets_csv, lad) if targets_csv is not None else None
    out = OutDir(out_dir)
    files = expand_paths(paths, exclude=out.path)
    if not files:
        raise ConfigError("no packet files found (looked for "
                          ".md .markdown .txt .docx .pdf .html .htm)")

    from packet_eval.extractors.request import LLMOptions
    from packet_eval.providers.pricing import BATCH_DISCOUNT

    model_id = str(spec) if spec is not None else BASELINE
    summary = BatchSummary(out_dir=str(out.path), model=model_id, ladder=f"{lad.id} {lad.version}",
                           max_cost_usd=max_cost_usd)
    if is_llm and store is None:
        store = Store()
    out.lock()
    bar: _Progress | None = None
    run: _Run | None = None
    jobs: list[Job] = []
    scanning: Iterable[Job] = ()
    signals: list[signal.Signals] = []
    try:
        loaded = out.load_results()
        if loaded.repaired_bytes:
            summary.notes.append(f"cut a torn last line ({loaded.repaired_bytes} bytes) from "
                                 "assessments.jsonl left by an interrupted run")
        if loaded.duplicates:
            summary.notes.append(f"assessments.jsonl has {loaded.duplicates} duplicate result(s); "
                                 "the first of each is used")
        opts = LLMOptions(use_cache=use_cache)
        if spec is not None:
            from packet_eval.extractors.request import should_redact

            # Resolved as the live extractor resolves it, so cache keys match its own.
            opts.redact = should_redact(spec, base_url, redact)
        estimator = make_estimator(model_id, lad, llm=is_llm, token_budget=opts.token_budget)
        is_cached = None
        if is_llm and use_cache and spec is not None:
            from packet_eval.extractors.request import request_hash

            def is_cached(packet: Packet) -> bool:
                return store.get_cached(request_hash(spec, lad, packet, opts)) is not None

        scanning = scan(files, ladder=lad, estimator=estimator, targets=targets,
                        default_target=target_level, is_cached=is_cached)
        summary.total = len(files)
        discount = BATCH_DISCOUNT if batch_api else 1.0
        # Without a budget to check up front, scanning (reading and hashing every packet)
        # is pipelined into the workers; with one, the estimate needs the whole scan first.
        pipelined = max_cost_usd is None and not batch_api
        if not pipelined:
            jobs.extend(scanning)
            finished = [j for j in jobs if j.key.digest in loaded.refs]
            todo = [j for j in jobs if j.error is None and j.key.digest not in loaded.refs]
            summary.skipped = summary.done = len(finished)
            uncached = [j for j in todo if not j.cached]
            for j in uncached:
                j.est_cost_usd *= discount
            summary.estimate_usd = round(sum(j.est_cost_usd for j in uncached), 6)
            check_before_run(max_cost_usd, summary.estimate_usd, uncached=len(uncached),
                             cached=len(todo) - len(uncached), priced=estimator.priced,
                             model=model_id,
                             batch_discount=BATCH_DISCOUNT if batch_api else None)

        bar = _Progress(progress, len(files), summary.skipped, console)
        run = _Run(out=out, loaded=loaded, ladder=lad, model=model_id,
                   llm_model=chosen if is_llm else None, base_url=base_url,
                   concurrency=concurrency, use_cache=use_cache, budget=Budget(max_cost_usd),
                   retry=retry or RetryPolicy(), store=store, progress=bar, summary=summary)
        run.llm_opts = opts
        run.results = DurableAppender(out.results)
        run.errors = DurableAppender(out.errors)
        signals = _install_sigint(run)
        if is_llm and spec is not None:
            from packet_eval.providers import AdaptiveLimiter, adapter_for

            run.limiter = AdaptiveLimiter(concurrency)
            run.client = adapter_for(spec).client(spec, base_url, limiter=run.limiter,
                                                  timeout_s=opts.timeout_s)
        if pipelined:
            await run.run_pool(_pipeline(run, scanning, jobs))
        else:
            if summary.skipped:
                bar.print(f"resuming: {summary.skipped} of {len(jobs)} packet(s) already done "
                          f"in {out.path}")
            for job in jobs:
                if job.error is not None:
                    await run.fail(job, job.error, job.error_type or "PacketError", "load")
            bar.update(run.stats())
            # Cached packets first: free, quick, and done even if the budget stops the rest.
            live = sorted(todo, key=lambda j: (not j.cached, j.index))
            if batch_api and spec is not None:
                from packet_eval.batch_api import run_provider_batches

                await run.run_pool([j for j in live if j.cached])
                remaining = [j for j in live if not j.cached]
                live = await run_provider_batches(run, spec, remaining,
                                                  poll_interval_s=poll_interval_s)
            await run.run_pool(live)
    finally:
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)
        if run is not None:
            for appender in (run.results, run.errors):
                if appender is not None:
                    await appender.close()
            if run.client is not None:
                with contextlib.suppress(Exception):
                    await run.client.close()
            summary.throttled = run.gate.throttled
            if run.limiter is not None:
                summary.rate_limited = run.limiter.rate_limited
                summary.lowest_concurrency = run.limiter.lowest
        if bar is not None:
            bar.stop()
        try:
            if run is not None:
                from packet_eval.batch_outputs import write_outputs

                # A stopped pipelined run has not scanned everything: the summary lists all.
                jobs.extend(scanning)
                summary.estimate_usd = round(summary.estimate_usd, 6)
                summary.not_run = _count_not_run(jobs, run.loaded, summary)
                summary.wall_s = round(time.perf_counter() - t0, 3)
                summary.cost_usd = round(summary.cost_usd, 6)
                write_outputs(out, jobs, run.loaded, lad, summary, labels=labels,
                              calibrator=calibrator)
        finally:
            out.unlock()
    return summary


async def _pipeline(run: _Run, scanning: Iterable[Job], jobs: list[Job]) -> AsyncIterator[Job]:
    """Scanned jobs still to do, as the scan finds them (recording the rest in ``jobs``)."""
    for job in scanning:
        jobs.append(job)
        if job.error is not None:
            await run.fail(job, job.error, job.error_type or "PacketError", "load")
        elif job.key.digest in run.loaded.refs:
            run.summary.skipped += 1
            run.summary.done += 1
            run.progress.update(run.stats(), advance=1)
        else:
            if not job.cached:
                run.summary.estimate_usd += job.est_cost_usd
            yield job
        await asyncio.sleep(0)  # let workers pick up results between packets
    if run.summary.skipped:
        run.progress.print(f"resumed: {run.summary.skipped} of {len(jobs)} packet(s) were "
                           f"already done in {run.out.path}")


def _count_not_run(jobs: list[Job], loaded: LoadedResults, summary: BatchSummary) -> int:
    failed = {f.source for f in summary.failed}
    return sum(1 for j in jobs if j.key.digest not in loaded.refs and str(j.path) not in failed)
