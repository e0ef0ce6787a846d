"""One HTTP client for a whole batch run, with a concurrency limit that backs off on 429.

``RateGate`` (providers.py) pauses every worker after a 429. That stops a burst,
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
from collections import deque
from types import ModuleType
from typing import Any

from packet_eval.providers import ModelSpec, api_key

DECREASE = 0.75


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


def shared_client(spec: ModelSpec, base_url: str | None, *, limiter: AdaptiveLimiter,
                  timeout_s: float = 120.0) -> Any:
    """The provider SDK's async client for a run: SDK retries off, our limiter on every request.

    Raises ConfigError when the provider's key is missing (checked before any work).
    """
    key = api_key(spec, base_url)
    sdk: Any
    if spec.wire == "anthropic":
        import anthropic as sdk
    else:
        import openai as sdk
    http = http_module(sdk)
    pool = http.Limits(max_connections=limiter.max_limit + 8,
                       max_keepalive_connections=limiter.max_limit + 8)
    transport = throttled_transport(http, limiter, http.AsyncHTTPTransport(limits=pool))
    client = http.AsyncClient(transport=transport, timeout=http.Timeout(timeout_s, connect=10.0),
                              follow_redirects=True)
    if spec.wire == "anthropic":
        return sdk.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0,
                                  timeout=timeout_s, http_client=client)
    from packet_eval.providers import OLLAMA_URL

    url = base_url or (OLLAMA_URL if spec.provider == "ollama" else None)
    return sdk.AsyncOpenAI(api_key=key, base_url=url, max_retries=0, timeout=timeout_s,
                           http_client=client)
