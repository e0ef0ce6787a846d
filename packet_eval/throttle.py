"""One HTTP client for a whole batch run, with a concurrency limit that backs off on 429.

``RateGate`` (providers.py) pauses every worker after a 429. That stops a burst,
but when the pause ends the same number of requests go out at once and meet the
same limit again. ``AdaptiveLimiter`` fixes the cause: it caps requests in flight
and lowers the cap multiplicatively on a 429 (at most once per cooldown, since a
burst of 429s is one signal), then raises it by about one per window of
successful calls (AIMD, as TCP does). ``ThrottledTransport`` applies it to every
HTTP request of the provider SDK, whichever code path sends it, and one shared
SDK client also shares one connection pool across the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

import httpx

from packet_eval.providers import ModelSpec, api_key

DECREASE = 0.75
COOLDOWN_S = 1.0


class AdaptiveLimiter:
    """An AIMD limit on concurrent requests, between 1 and ``max_limit``."""

    def __init__(self, max_limit: int, *, cooldown_s: float = COOLDOWN_S) -> None:
        self.max_limit = max(1, int(max_limit))
        self.limit = float(self.max_limit)
        self.cooldown_s = cooldown_s
        self.in_use = 0
        self.requests = 0
        self.rate_limited = 0
        self.decreases = 0
        self.lowest = self.max_limit
        self._last_decrease = -1e9
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def allowed(self) -> int:
        return max(1, int(self.limit))

    async def acquire(self) -> None:
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

    def release(self, status: int | None) -> None:
        self.in_use -= 1
        if status == 429:
            self.rate_limited += 1
            now = time.monotonic()
            if now - self._last_decrease >= self.cooldown_s:
                self._last_decrease = now
                self.limit = max(1.0, self.limit * DECREASE)
                self.decreases += 1
                self.lowest = min(self.lowest, self.allowed)
        elif status is not None and status < 400:
            self.limit = min(float(self.max_limit), self.limit + 1.0 / self.limit)
        self._wake()

    def _wake(self) -> None:
        free = self.allowed - self.in_use
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1


class ThrottledTransport(httpx.AsyncBaseTransport):
    """An httpx transport that holds a limiter slot for each request until its headers arrive."""

    def __init__(self, limiter: AdaptiveLimiter, inner: httpx.AsyncBaseTransport) -> None:
        self.limiter = limiter
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.limiter.acquire()
        status: int | None = None
        try:
            response = await self._inner.handle_async_request(request)
            status = response.status_code
            return response
        finally:
            self.limiter.release(status)

    async def aclose(self) -> None:
        await self._inner.aclose()


def shared_client(spec: ModelSpec, base_url: str | None, *, limiter: AdaptiveLimiter,
                  timeout_s: float = 120.0) -> Any:
    """The provider SDK's async client for a run: SDK retries off, our limiter on every request.

    Raises ConfigError when the provider's key is missing (checked before any work).
    """
    key = api_key(spec, base_url)
    pool = httpx.Limits(max_connections=limiter.max_limit + 8,
                        max_keepalive_connections=limiter.max_limit + 8)
    transport = ThrottledTransport(limiter, httpx.AsyncHTTPTransport(limits=pool))
    http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout_s, connect=10.0),
                             follow_redirects=True)
    if spec.wire == "anthropic":
        import anthropic

        return anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0,
                                        timeout=timeout_s, http_client=http)
    import openai

    from packet_eval.providers import OLLAMA_URL

    url = base_url or (OLLAMA_URL if spec.provider == "ollama" else None)
    return openai.AsyncOpenAI(api_key=key, base_url=url, max_retries=0, timeout=timeout_s,
                              http_client=http)
