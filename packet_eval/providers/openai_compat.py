"""The OpenAI wire: OpenAI itself, ollama, and any OpenAI-compatible server (vLLM, llama.cpp)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from packet_eval.providers.wire import Wire

if TYPE_CHECKING:
    import openai
    from instructor import AsyncInstructor
    from instructor.mode import Mode
    from instructor.utils import Provider

    from packet_eval.batch.provider_batches.client import BatchClient


class OpenAICompatible(Wire):
    name = "openai"

    def sdk(self) -> ModuleType:
        import openai

        return openai

    def sdk_client(self, *, key: str, base_url: str | None, timeout_s: float,
                   http_client: Any) -> openai.AsyncOpenAI:
        import openai

        return openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0,
                                  timeout=timeout_s, http_client=http_client)

    def sampling(self, temperature: float) -> dict[str, float]:
        return {"temperature": temperature}

    def wrap(self, raw: Any, mode: str | None) -> AsyncInstructor:
        import instructor

        chosen = instructor.Mode.JSON_SCHEMA if mode == "json" else instructor.Mode.TOOLS
        return instructor.from_openai(raw, mode=chosen)

    def batch_mode(self) -> tuple[Mode, Provider]:
        from instructor.mode import Mode
        from instructor.utils import Provider

        return Mode.TOOLS, Provider.OPENAI

    def batch_client(self, client: Any) -> BatchClient:
        from packet_eval.batch.provider_batches.openai import OpenAIBatches

        return OpenAIBatches(client)
