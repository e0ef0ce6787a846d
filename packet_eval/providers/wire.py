"""What an adapter for one wire format does; ``openai_compat.py`` and ``anthropic.py`` are the two.

Every difference between the OpenAI-compatible and the Anthropic wire lives behind
these methods, so the live extractor, the batch runner and provider batches never
branch on a provider name: the SDK client (one factory, with the SDK's own retries
off and, for a run, our limiter on every request), the sampling arguments, the
instructor client, the mode instructor prepares a batch request in, and the
provider's batch client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import ModuleType
from typing import TYPE_CHECKING, Any

from packet_eval.providers.spec import ModelSpec, api_key, endpoint
from packet_eval.providers.throttle import AdaptiveLimiter, throttled_http_client

if TYPE_CHECKING:
    import anthropic
    import openai
    from instructor import AsyncInstructor
    from instructor.mode import Mode
    from instructor.utils import Provider

    from packet_eval.batch.provider_batches.client import BatchClient

    SDKClient = openai.AsyncOpenAI | anthropic.AsyncAnthropic


class Wire(ABC):
    """One wire format's SDK, client, sampling arguments and instructor integration."""

    name: str

    @abstractmethod
    def sdk(self) -> ModuleType:
        """The provider SDK's package, imported on first use."""

    @abstractmethod
    def sdk_client(self, *, key: str, base_url: str | None, timeout_s: float,
                   http_client: Any) -> SDKClient:
        """The SDK's async client with its own retries off."""

    @abstractmethod
    def sampling(self, temperature: float) -> dict[str, float]:
        """The sampling arguments this wire accepts."""

    @abstractmethod
    def wrap(self, raw: Any, mode: str | None) -> AsyncInstructor:
        """An instructor client over the raw SDK client."""

    @abstractmethod
    def batch_mode(self) -> tuple[Mode, Provider]:
        """The instructor mode and provider a batch request is prepared in, as live."""

    @abstractmethod
    def batch_client(self, client: SDKClient) -> BatchClient:
        """The provider's Batch API over ``client``."""

    def mark_cache(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages as this wire sends them for prompt caching (default: unchanged).

        OpenAI-compatible servers cache an identical prefix on their own, so the static
        system message first is all they need.
        """
        return messages

    def client(self, spec: ModelSpec, base_url: str | None, *, timeout_s: float,
               limiter: AdaptiveLimiter | None = None) -> SDKClient:
        """The SDK client for ``spec``; with ``limiter``, every request holds one of its slots.

        Raises ConfigError when the provider's key is missing (checked before any work).
        """
        key = api_key(spec, base_url)
        http = (throttled_http_client(self.sdk(), limiter, timeout_s)
                if limiter is not None else None)
        return self.sdk_client(key=key, base_url=endpoint(spec, base_url), timeout_s=timeout_s,
                               http_client=http)

    def instructor_client(self, raw: Any, mode: str | None = None) -> AsyncInstructor:
        """Wrap a raw SDK client (or re-wrap an injected instructor client) for one extraction.

        A fresh wrapper per extraction keeps hook registrations private to it while
        the underlying HTTP connection pool is shared.
        """
        import instructor

        if isinstance(raw, instructor.AsyncInstructor):
            raw = raw.client
        return self.wrap(raw, mode)
