"""Batch runs: a whole promotion cycle, concurrent, resumable, within budget, with a report.

``run_batch`` (``runner.py``) is the entry point; it checks the options
(``options.py``), plans from the scan (``jobs.py``), executes with a pool of live
workers (``run.py``) and, with ``--batch-api``, provider batches
(``provider_batches/``), keeps the budget (``budget.py``), writes durably into the
output directory (``outdir.py``) and rebuilds the summaries and report
(``outputs.py``).
"""

from packet_eval.batch.runner import run_batch
from packet_eval.batch.summary import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STOPPED,
    BatchSummary,
    Failure,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STOPPED",
    "BatchSummary",
    "Failure",
    "run_batch",
]
