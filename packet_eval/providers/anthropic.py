"""The Anthropic wire: the Messages API through the anthropic SDK."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from packet_eval.providers.wire import Wire

if TYPE_CHECKING:
    import anthropic
    from instructor import AsyncInstructor
    from instructor.mode import Mode
    from instructor.utils import Provider

    from packet_eval.batch.provider_batches.client import BatchClient


class AnthropicWire(Wire):
    name = "anthropic"

    def sdk(self) -> ModuleType:
        import anthropic

        return anthropic

    def sdk_client(self, *, key: str, base_url: str | None, timeout_s: float,
                   http_client: Any) -> anthropic.AsyncAnthropic:
        import anthropic

        return anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0,
                                        timeout=timeout_s, http_client=http_client)

    def sampling(self, temperature: float) -> dict[str, float]:
        # anthropic>=2 removed sampling parameters (its API version rejects them).
        return {}

    def mark_cache(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The system block (rules and the whole ladder) is the same for every packet of a
        # cycle: a cache breakpoint on it makes later calls read it at a tenth of the price.
        return [{**m, "content": [{"type": "text", "text": m["content"],
                                   "cache_control": {"type": "ephemeral"}}]}
                if m["role"] == "system" and isinstance(m["content"], str) else m
                for m in messages]

    def wrap(self, raw: Any, mode: str | None) -> AsyncInstructor:
        import instructor

        return instructor.from_anthropic(raw, mode=instructor.Mode.TOOLS)

    def batch_mode(self) -> tuple[Mode, Provider]:
        from instructor.mode import Mode
        from instructor.utils import Provider

        # What the live client's Mode.TOOLS becomes for Anthropic inside instructor.
        return Mode.ANTHROPIC_TOOLS, Provider.ANTHROPIC

    def batch_client(self, client: Any) -> BatchClient:
        from packet_eval.batch.provider_batches.anthropic import AnthropicBatches

        return AnthropicBatches(client)
