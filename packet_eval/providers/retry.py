"""The transport retry policy: bounded attempts and time, full-jitter backoff, Retry-After.

The SDKs' own retries are switched off so that this one policy decides. Which
failures are retried is ``failures.is_retryable``; how long to wait is here. A
Retry-After longer than our own cap is still honoured (hammering a provider that
asked us to wait only earns more 429s), up to ``max_retry_after_s``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from packet_eval.providers.failures import retry_after_s


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    max_total_s: float = 300.0
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, exc: BaseException) -> float:
        """Seconds to wait: full-jitter exponential, but never less than the provider asked.

        A Retry-After longer than ``cap_s`` is still honoured, up to ``max_retry_after_s``
        and the run's total time budget; a longer or non-numeric value is ignored, as the
        SDKs do.
        """
        jittered = random.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        asked = retry_after_s(exc) or 0.0
        if not math.isfinite(asked) or asked > self.max_retry_after_s:
            asked = 0.0  # a nonsense header, like the SDKs we ignore it
        return min(self.max_total_s, max(jittered, asked))

    def will_retry(self, attempt: int, elapsed_s: float, wait_s: float) -> bool:
        """Whether attempt number ``attempt`` is followed by another one after ``wait_s``."""
        return attempt < self.max_attempts and elapsed_s + wait_s < self.max_total_s
