"""What provider batches see of the run they belong to: deliver a result, the budget,
the summary, progress and stopping; never the runner's internals."""

from __future__ import annotations

from typing import Protocol

from packet_eval.batch.budget import Budget
from packet_eval.batch.jobs import Job
from packet_eval.batch.progress import ProgressBar
from packet_eval.batch.summary import BatchSummary
from packet_eval.schema import Assessment


class RunContext(Protocol):
    @property
    def budget(self) -> Budget: ...

    @property
    def summary(self) -> BatchSummary: ...

    @property
    def progress(self) -> ProgressBar: ...

    @property
    def stop_reason(self) -> str | None: ...

    def stop(self, reason: str) -> None:
        """Start no further packets, recording why."""
        ...

    def stats(self) -> str:
        """The run's counters for the progress line."""
        ...

    def is_finished(self, job: Job) -> bool:
        """Whether ``job`` already has a durable result."""
        ...

    async def deliver(self, job: Job, a: Assessment, reserved: float = 0.0) -> None:
        """Write a finished Assessment durably, count it and settle its reserved budget."""
        ...
