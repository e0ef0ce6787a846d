"""Model strings, the providers they name, and where each provider's key comes from.

A model string is ``provider/name``: ``openai/gpt-4.1-mini``,
``anthropic/claude-sonnet-4-5``, ``ollama/qwen2.5:7b``. With ``--base-url`` any
OpenAI-compatible server (vLLM, llama.cpp, LM Studio) is reached through the
openai SDK as the ``compatible`` provider. With an injected client (the inspect
agent bridge), the name is passed through as is.

What differs between providers is data here (``PROVIDERS``); what differs between
wire formats is code in one adapter per wire (``openai_compat.py``, ``anthropic.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from packet_eval.errors import ConfigError

OLLAMA_URL = "http://localhost:11434/v1"
NOT_NEEDED = "not-needed"  # local servers accept any key


@dataclass(frozen=True)
class ProviderInfo:
    """What packet-eval knows about one provider."""

    wire: str  # the adapter that speaks to it: "openai" or "anthropic"
    key_var: str | None = None  # None: any key is accepted (a local or compatible server)
    default_url: str | None = None  # None: the SDK's own default
    batch_api: bool = False  # offers a Batch API at about half price


PROVIDERS: dict[str, ProviderInfo] = {
    "openai": ProviderInfo("openai", "OPENAI_API_KEY", batch_api=True),
    "anthropic": ProviderInfo("anthropic", "ANTHROPIC_API_KEY", batch_api=True),
    "ollama": ProviderInfo("openai", default_url=OLLAMA_URL),
}
COMPATIBLE = "compatible"  # any OpenAI-compatible server, named by --base-url or injected
COMPATIBLE_INFO = ProviderInfo("openai")
KEY_VARS = {p: info.key_var for p, info in PROVIDERS.items() if info.key_var}


@dataclass(frozen=True)
class ModelSpec:
    provider: str  # openai | anthropic | ollama | compatible
    name: str

    @property
    def info(self) -> ProviderInfo:
        return PROVIDERS.get(self.provider, COMPATIBLE_INFO)

    @property
    def wire(self) -> str:
        return self.info.wire

    def __str__(self) -> str:
        return f"{self.provider}/{self.name}"


def parse_model(model: str, *, base_url: str | None = None, injected: bool = False) -> ModelSpec:
    """The ModelSpec of ``model``; raises ConfigError for a string no provider answers to."""
    if "/" in model:
        provider, name = model.split("/", 1)
        if provider in PROVIDERS and name:
            return ModelSpec(provider, name)
    if base_url or injected:
        return ModelSpec(COMPATIBLE, model)
    raise ConfigError(
        f"unknown model '{model}': use 'baseline', openai/NAME, anthropic/NAME, ollama/NAME, "
        "or pass --base-url for an OpenAI-compatible server")


def api_key(spec: ModelSpec, base_url: str | None) -> str:
    """The key for ``spec``, or ConfigError saying which variable to set."""
    var = spec.info.key_var
    key = os.environ.get(var) if var else None
    if key:
        return key
    if var is None or base_url:
        return NOT_NEEDED
    raise ConfigError(f"{var} is not set: export {var}=... to use {spec}, "
                      "or run offline with --model baseline")


def endpoint(spec: ModelSpec, base_url: str | None) -> str | None:
    """The URL requests go to: ``--base-url``, else the provider's default (None: the SDK's)."""
    return base_url or spec.info.default_url
