"""``--batch-api``: a cycle through the OpenAI or Anthropic Batch API, at about half the price.

Every request is the one the live extractor would send, and every answer is validated
and finished by the same code (``extractors.request``), so a batch answer is
interchangeable with a live one (it even lands in the same cache entry).
``rounds.py`` runs the rounds; ``openai.py`` and ``anthropic.py`` speak each
provider's Batch API; ``context.py`` is all they see of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from packet_eval.batch.jobs import Job
from packet_eval.batch.provider_batches.context import RunContext
from packet_eval.batch.provider_batches.rounds import BatchRunner
from packet_eval.extractors.request import LLMOptions
from packet_eval.ladder import Ladder
from packet_eval.providers import ModelSpec
from packet_eval.store import Store

if TYPE_CHECKING:
    from packet_eval.providers.wire import SDKClient

__all__ = ["RunContext", "run_provider_batches"]


async def run_provider_batches(run: RunContext, jobs: list[Job], *, spec: ModelSpec,
                               ladder: Ladder, opts: LLMOptions, store: Store, client: SDKClient,
                               out_dir: Path, poll_interval_s: float = 30.0) -> list[Job]:
    """Assess ``jobs`` through the provider's Batch API; returns those left for live calls."""
    runner = BatchRunner(run, spec=spec, ladder=ladder, opts=opts, store=store, client=client,
                         out_dir=out_dir, poll_interval_s=poll_interval_s)
    try:
        return await runner.run_all(jobs)
    finally:
        run.summary.batch_api = dict(runner.stats)
