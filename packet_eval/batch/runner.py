"""``run_batch``: assess a whole promotion cycle, concurrently, resumably and within budget.

A run has four phases, one function each:

1. **check** (``options.check_options``): every problem a user can fix, before any work.
2. **plan**: lock ``--out DIR``, index the results already there (a torn last line
   is cut), and scan every packet for its key, size and cache status; with a
   ``--max-cost`` or ``--batch-api``, scan everything first and check the estimate.
3. **execute**: assess what is not finished yet with a pool of ``concurrency``
   workers sharing one HTTP client, one ``RateGate``, one retry policy and one
   ``AdaptiveLimiter`` (so a 429 slows the whole run). Without a budget the scan is
   pipelined into the workers. Cached packets go first: they are free and quick.
   With ``batch_api`` the rest goes through the provider's Batch API
   (``provider_batches``) and live calls only pick up what the batches could not do.
   Every result is appended durably to ``assessments.jsonl`` the moment it is
   ready; every failure to ``errors.jsonl``; a failure never stops the others.
4. **finish**: whatever happened (done, failures, budget stop, Ctrl-C), write
   ``summary.csv``, ``summary.parquet``, ``report.html`` and ``run.json`` from what is on disk.

Ctrl-C once stops starting packets and lets in-flight ones finish; twice cancels
them. A SIGKILL loses at most the in-flight packets, which the next run redoes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console

from packet_eval.batch.budget import Budget, check_before_run
from packet_eval.batch.jobs import Job, make_estimator, scan
from packet_eval.batch.options import Checked, Settings, check_options, run_settings
from packet_eval.batch.outdir import DurableAppender, LoadedResults
from packet_eval.batch.outputs import write_outputs
from packet_eval.batch.progress import ProgressBar
from packet_eval.batch.provider_batches import run_provider_batches
from packet_eval.batch.run import BatchRun
from packet_eval.batch.summary import BatchSummary, Failure
from packet_eval.extractors.prompts import prompt_version
from packet_eval.extractors.request import LLMOptions, check_timeout, request_hash, should_redact
from packet_eval.ladder import Ladder
from packet_eval.packet import Packet
from packet_eval.providers import AdaptiveLimiter, RetryPolicy, adapter_for
from packet_eval.providers.pricing import BATCH_DISCOUNT
from packet_eval.providers.slots import server_slots
from packet_eval.store import Store

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """What the scan found, and what is left to do."""

    loaded: LoadedResults
    opts: LLMOptions
    scanning: Iterator[Job]  # the rest of the scan (empty unless pipelined)
    pipelined: bool
    jobs: list[Job] = field(default_factory=list)  # scanned so far
    todo: list[Job] = field(default_factory=list)  # unfinished and readable (not pipelined)


def _install_sigint(run: BatchRun) -> list[signal.Signals]:
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


def _loaded(c: Checked, summary: BatchSummary) -> LoadedResults:
    loaded = c.out.load_results()
    if loaded.repaired_bytes:
        summary.notes.append(f"cut a torn last line ({loaded.repaired_bytes} bytes) from "
                             "assessments.jsonl left by an interrupted run")
    if loaded.duplicates:
        summary.notes.append(f"assessments.jsonl has {loaded.duplicates} duplicate result(s); "
                             "the first of each is used")
    return loaded


def plan(c: Checked, s: Settings, summary: BatchSummary, store: Store | None, *,
         full_scan: bool = False) -> Plan:
    """Index what is done, scan the packets, and check the estimate against ``--max-cost``."""
    loaded = _loaded(c, summary)
    opts = LLMOptions(use_cache=s.use_cache, timeout_s=check_timeout(s.timeout_s), mode=s.mode)
    spec, lad = c.spec, c.ladder
    if spec is not None:
        # Resolved as the live extractor resolves it, so cache keys match its own.
        opts.redact = should_redact(spec, s.base_url, s.redact)
        opts.redact_names = tuple(s.redact_names)
    shares = (store.cache_shares(c.model_id, prompt_version())
              if spec is not None and store is not None else None)
    estimator = make_estimator(c.model_id, lad, llm=spec is not None,
                               token_budget=opts.token_budget, cache_shares=shares)
    summary.expected_cache_read_share = round(estimator.cache_read_share, 4)
    is_cached = None
    if spec is not None and store is not None and s.use_cache:
        def is_cached(packet: Packet) -> bool:
            return store.get_cached(request_hash(spec, lad, packet, opts)) is not None

    scanning = iter(scan(c.files, ladder=lad, estimator=estimator, targets=c.targets,
                         default_target=s.target_level, is_cached=is_cached))
    summary.total = len(c.files)
    # Without a budget to check up front, scanning (reading and hashing every packet)
    # is pipelined into the workers; with one, the estimate needs the whole scan first.
    p = Plan(loaded, opts, scanning,
             pipelined=not full_scan and s.max_cost_usd is None and not s.batch_api)
    if p.pipelined:
        return p
    p.jobs.extend(scanning)
    finished = [j for j in p.jobs if j.key.digest in loaded.refs]
    p.todo = [j for j in p.jobs if j.error is None and j.key.digest not in loaded.refs]
    summary.skipped = summary.done = len(finished)
    uncached = [j for j in p.todo if not j.cached]
    for j in uncached:
        j.est_cost_usd *= BATCH_DISCOUNT if s.batch_api else 1.0
    summary.estimate_usd = round(sum(j.est_cost_usd for j in uncached), 6)
    summary.priced = estimator.priced
    check_before_run(s.max_cost_usd, summary.estimate_usd, uncached=len(uncached),
                     cached=len(p.todo) - len(uncached), priced=estimator.priced,
                     model=c.model_id, batch_discount=BATCH_DISCOUNT if s.batch_api else None)
    return p


async def _pipeline(run: BatchRun, scanning: Iterable[Job], jobs: list[Job]) -> AsyncIterator[Job]:
    """Scanned jobs still to do, as the scan finds them (recording the rest in ``jobs``)."""
    for job in scanning:
        jobs.append(job)
        if job.error is not None:
            await run.fail(job, job.error, job.error_type or "PacketError", "load")
        elif run.is_finished(job):
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


async def execute(run: BatchRun, c: Checked, s: Settings, p: Plan) -> None:
    """Assess everything the plan left to do: live workers, and provider batches if asked."""
    if p.pipelined:
        await run.run_pool(_pipeline(run, p.scanning, p.jobs))
        return
    if run.summary.skipped:
        run.progress.print(f"resuming: {run.summary.skipped} of {len(p.jobs)} packet(s) already "
                           f"done in {c.out.path}")
    for job in p.jobs:
        if job.error is not None:
            await run.fail(job, job.error, job.error_type or "PacketError", "load")
    run.progress.update(run.stats())
    # Cached packets first: free, quick, and done even if the budget stops the rest.
    live = sorted(p.todo, key=lambda j: (not j.cached, j.index))
    client = run.shared_client() if s.batch_api else None
    if s.batch_api and c.spec is not None and run.store is not None and client is not None:
        await run.run_pool([j for j in live if j.cached])
        live = await run_provider_batches(
            run, [j for j in live if not j.cached], spec=c.spec, ladder=c.ladder, opts=run.opts,
            store=run.store, client=client, out_dir=c.out.path,
            poll_interval_s=s.poll_interval_s)
    await run.run_pool(live)


def _count_not_run(jobs: list[Job], loaded: LoadedResults, summary: BatchSummary) -> int:
    failed = {f.source for f in summary.failed}
    return sum(1 for j in jobs if j.key.digest not in loaded.refs and str(j.path) not in failed)


def finish(run: BatchRun, c: Checked, s: Settings, p: Plan, t0: float) -> None:
    """Fill in the summary and rebuild every derived file from what is on disk."""
    summary = run.summary
    # A stopped pipelined run has not scanned everything: the summary lists all.
    p.jobs.extend(p.scanning)
    summary.estimate_usd = round(summary.estimate_usd, 6)
    summary.not_run = _count_not_run(p.jobs, run.loaded, summary)
    summary.wall_s = round(time.perf_counter() - t0, 3)
    summary.cost_usd = round(summary.cost_usd, 6)
    if summary.input_tokens:
        summary.cache_read_share = round(summary.cache_read_tokens / summary.input_tokens, 4)
    if run.preparing is not None:
        run.preparing.join()  # its imports are the ones write_outputs needs
    write_outputs(c.out, p.jobs, run.loaded, c.ladder, summary, labels=c.labels,
                  calibrator=s.calibrator, template_cache=run.template_cache)
    logger.debug("finished %s: %d done, %d failed, %d not run", c.out.path, summary.done,
                 len(summary.failed), summary.not_run)


def _fit_slots(c: Checked, s: Settings, summary: BatchSummary) -> Settings:
    """Lower the concurrency to a self-hosted server's slots, saying so."""
    if c.spec is None or not s.base_url or s.concurrency == 1 or c.spec.info.key_var:
        return s
    slots = server_slots(s.base_url)
    if slots is None or slots >= s.concurrency:
        return s
    summary.notes.append(f"the server at {s.base_url} runs {slots} request(s) at a time: "
                         f"--concurrency lowered from {s.concurrency} to {slots}")
    return replace(s, concurrency=slots)


def _connect(run: BatchRun, c: Checked, s: Settings) -> None:
    """Open the result files, and the one HTTP client every worker of the run shares."""
    run.results = DurableAppender(c.out.results)
    run.errors = DurableAppender(c.out.errors)
    if c.spec is not None:
        spec, limiter = c.spec, AdaptiveLimiter(s.concurrency)
        run.limiter = limiter
        run.connect = lambda: adapter_for(spec).client(spec, s.base_url, limiter=limiter,
                                                       timeout_s=run.opts.timeout_s)


async def _run(c: Checked, s: Settings, t0: float, notes: list[str] | None = None) -> BatchSummary:
    summary = BatchSummary(out_dir=str(c.out.path), model=c.model_id,
                           ladder=f"{c.ladder.id} {c.ladder.version}", max_cost_usd=s.max_cost_usd,
                           notes=list(notes or []),
                           ladder_sha256=c.ladder.sha256,
                           target=run_settings(s, c.ladder, c.model_id)["target"])
    store = s.store if s.store is not None or c.spec is None else Store()
    c.out.lock()
    bar: ProgressBar | None = None
    run: BatchRun | None = None
    p: Plan | None = None
    signals: list[signal.Signals] = []
    try:
        p = plan(c, s, summary, store)
        s = _fit_slots(c, s, summary)
        bar = ProgressBar(s.progress, len(c.files), summary.skipped, s.console)
        run = BatchRun(out=c.out, loaded=p.loaded, ladder=c.ladder, llm_model=c.llm_model,
                       spec=c.spec, base_url=s.base_url, concurrency=s.concurrency, opts=p.opts,
                       budget=Budget(s.max_cost_usd), retry=s.retry or RetryPolicy(),
                       store=store, progress=bar, summary=summary)
        _connect(run, c, s)
        signals = _install_sigint(run)
        await execute(run, c, s, p)
    finally:
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.remove_signal_handler(sig)
        if run is not None:
            await run.close()
        if bar is not None:
            bar.stop()
        try:
            if run is not None and p is not None:
                finish(run, c, s, p, t0)
        finally:
            c.out.unlock()
    return summary


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
    store: Store | None = None,
    poll_interval_s: float = 30.0,
    console: Console | None = None,
    redact: bool | None = None,
    redact_names: tuple[str, ...] = (),
    dry_run: bool = False,
    timeout_s: float | None = None,
    mode: str | None = None,
) -> BatchSummary:
    """Assess every packet under ``paths`` into ``out_dir``; see the module docstring.

    Args:
        paths: packet files and directories (searched recursively).
        out_dir: the run directory; rerunning with the same one resumes.
        model: ``baseline`` or ``provider/name``; None picks ``api.default_model()``.
        base_url: an OpenAI-compatible server (vLLM, llama.cpp, LM Studio).
        concurrency: the most LLM requests in flight at once (lowered to a self-hosted
            server's slots when it tells them, see ``providers.slots``).
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
        redact_names: names always masked when redacting (a committee's roster).
        dry_run: only scan and estimate (``--dry-run``): no call, nothing written.
        timeout_s: seconds one request may take (None: ``$PACKET_EVAL_TIMEOUT``, else 120).
        mode: ``tools`` or ``json`` (the answer schema as response_format); None: tools.

    Returns:
        A BatchSummary; its ``exit_code`` is non-zero if any packet failed or the run stopped.

    Raises:
        PacketEvalError: for problems found before any work starts (options, ladder,
            labels, targets, a missing key, a locked ``out_dir``, an estimate over
            ``max_cost_usd``).
    """
    t0 = time.perf_counter()
    s = Settings(model=model, base_url=base_url, concurrency=concurrency,
                 target_level=target_level, targets_csv=targets_csv, ladder=ladder,
                 use_cache=use_cache, max_cost_usd=max_cost_usd, labels_path=labels_path,
                 calibrator=calibrator, progress=progress, batch_api=batch_api, retry=retry,
                 store=store, poll_interval_s=poll_interval_s, console=console, redact=redact,
                 redact_names=tuple(redact_names), timeout_s=timeout_s, mode=mode)
    c = check_options(paths, out_dir, s)
    s = replace(s, target_level=c.target_level)
    if dry_run:
        return _estimate(c, s)
    if s.max_cost_usd is not None and not c.max_cost_applies:
        s = replace(s, max_cost_usd=None)
        return await _run(c, s, t0, notes=[f"--max-cost ignored: {c.model_id} runs unpriced "
                                           "(offline or self-hosted), so nothing is spent"])
    return await _run(c, s, t0)


def _estimate(c: Checked, s: Settings) -> BatchSummary:
    """``--dry-run``: what a run would do and cost, from a full scan; no call, no file written."""
    summary = BatchSummary(out_dir=str(c.out.path), model=c.model_id, dry_run=True,
                           ladder=f"{c.ladder.id} {c.ladder.version}", max_cost_usd=s.max_cost_usd)
    store = s.store if s.store is not None or c.spec is None else Store()
    p = plan(c, replace(s, max_cost_usd=None), summary, store, full_scan=True)
    summary.failed = [Failure(str(j.path), j.packet_id, j.error, j.error_type or "PacketError")
                      for j in p.jobs if j.error is not None]
    summary.not_run = len(p.todo)
    summary.cached = sum(1 for j in p.todo if j.cached) if c.spec is not None else 0
    return summary
