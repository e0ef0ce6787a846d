"""What a batch run did (``BatchSummary``), and the exit codes the CLI turns it into."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from packet_eval.store import now_utc

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
    ladder_sha256: str | None = None
    target: str | None = None  # --target-level, or "targets:" and the CSV's path
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
    # Prompt caching: tokens of input_tokens read from / written to the provider's cache,
    # the read share this run saw, and the share its estimate expected (from earlier runs).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_share: float | None = None
    expected_cache_read_share: float = 0.0
    calls: int = 0
    wall_s: float = 0.0
    throttled: int = 0
    rate_limited: int = 0
    lowest_concurrency: int | None = None
    batch_api: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False  # --dry-run: scanned and estimated only
    priced: bool = True  # False: no price is known for the model, so the estimate is $0
    started_utc: str = field(default_factory=now_utc)

    @property
    def exit_code(self) -> int:
        if self.dry_run:
            return EXIT_FAILED if self.failed else EXIT_OK
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
