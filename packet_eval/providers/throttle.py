"""Slowing down together: a gate every worker waits at after a 429, and a concurrency
limit that backs off on 429 for every HTTP request of a run.

``RateGate`` pauses every worker after a 429. That stops a burst,
but when the pause ends the same number of requests go out at once and meet the
same limit again. ``AdaptiveLimiter`` fixes the cause: it caps requests in flight
and, on a 429, lowers the cap to at most the requests still in flight (an upper
bound on what the provider is accepting) and, once per window, by a quarter; then it raises
the cap by about one per window of successful calls (AIMD, as TCP does), four
times more slowly near the level that last drew a 429. Only a
429 to a request sent after the last decrease counts, since a burst of 429s to
requests that were already on the wire is one signal, not many. The throttled
transport applies it to every HTTP request of the provider SDK, whichever code
path sends it, and one shared SDK client also shares one connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections import deque
from types import ModuleType
from typing import Any

DECREASE = 0.75


class RateGate:
    """Shared by all workers of a run: after a 429, everyone waits until it lifts."""

    def __init__(self) -> None:
        self._resume_at = 0.0
        self.throttled = 0

    async def wait(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def throttle(self, seconds: float) -> None:
        self.throttled += 1
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)


class AdaptiveLimiter:
    """An AIMD limit on concurrent requests, between 1 and ``max_limit``."""

    def __init__(self, max_limit: int) -> None:
        self.max_limit = max(1, int(max_limit))
        self.limit = float(self.max_limit)
        self.in_use = 0
        self.requests = 0
        self.rate_limited = 0
        self.decreases = 0
        self.lowest = self.max_limit
        self.epoch = 0  # bumped at each decrease; a request remembers the epoch it started in
        self.ceiling = float("inf")  # where the last 429 came; probe above it slowly
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def allowed(self) -> int:
        return max(1, int(self.limit))

    async def acquire(self) -> int:
        """Wait for a slot; returns the epoch to hand back to ``release``."""
        while self.in_use >= self.allowed:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
                self._wake()  # we may have been woken just before the cancel: pass it on
                raise
        self.in_use += 1
        self.requests += 1
        return self.epoch

    def release(self, status: int | None, epoch: int | None = None) -> None:
        self.in_use -= 1
        if status == 429:
            self.rate_limited += 1
            # Every 429 caps the limit at the requests still in flight: an upper bound on what
            # the provider is accepting right now. Only the first of a window also cuts it.
            cap = float(max(1, self.in_use))
            if epoch is None or epoch == self.epoch:
                self.epoch += 1
                self.ceiling = float(self.allowed)
                self.limit = max(1.0, min(self.limit * DECREASE, cap))
                self.decreases += 1
            else:
                self.limit = max(1.0, min(self.limit, cap))
            self.lowest = min(self.lowest, self.allowed)
        elif status is not None and status < 400:
            # +1 per window of successes; near the level that last drew a 429, a quarter of that.
            step = 1.0 / self.limit if self.limit + 1 < self.ceiling else 0.25 / self.limit
            self.limit = min(float(self.max_limit), self.limit + step)
            if self.limit > self.ceiling:
                self.ceiling = float("inf")  # passed it without a 429: capacity grew
        self._wake()

    def _wake(self) -> None:
        free = self.allowed - self.in_use
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1


def http_module(sdk: ModuleType) -> ModuleType:
    """The httpx-compatible package an SDK is built on (``httpx`` or its fork ``httpx2``).

    The SDKs reject an ``http_client`` from any other package, so ask the SDK's own
    default client class rather than guessing.
    """
    base = sdk.DefaultAsyncHttpxClient.__mro__[1]
    return importlib.import_module(base.__module__.split(".")[0])


def throttled_transport(http: ModuleType, limiter: AdaptiveLimiter, inner: Any) -> Any:
    """An ``AsyncBaseTransport`` that holds a limiter slot per request until its headers arrive."""

    class ThrottledTransport(http.AsyncBaseTransport):  # type: ignore[misc,name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            epoch = await limiter.acquire()
            status: int | None = None
            try:
                response = await inner.handle_async_request(request)
                status = response.status_code
                return response
            finally:
                limiter.release(status, epoch)

        async def aclose(self) -> None:
            await inner.aclose()

    return ThrottledTransport()


def throttled_http_client(sdk: ModuleType, limiter: AdaptiveLimiter, timeout_s: float) -> Any:
    """An HTTP client for ``sdk`` whose every request holds a slot of ``limiter``.

    One such client serves a whole run, so all its workers also share one connection pool.
    """
    http = http_module(sdk)
    pool = http.Limits(max_connections=limiter.max_limit + 8,
                       max_keepalive_connections=limiter.max_limit + 8)
    transport = throttled_transport(http, limiter, http.AsyncHTTPTransport(limits=pool))
    return http.AsyncClient(transport=transport, timeout=http.Timeout(timeout_s, connect=10.0),
                            follow_redirects=True)
