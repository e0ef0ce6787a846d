"""The adapter for a model: one per wire format, looked up, never branched on."""

from __future__ import annotations

from packet_eval.providers.anthropic import AnthropicWire
from packet_eval.providers.openai_compat import OpenAICompatible
from packet_eval.providers.spec import ModelSpec
from packet_eval.providers.wire import Wire

WIRES: dict[str, Wire] = {w.name: w for w in (OpenAICompatible(), AnthropicWire())}


def adapter_for(spec: ModelSpec) -> Wire:
    return WIRES[spec.wire]
