"""Token counts of one provider response, cached prompt tokens included, on either wire.

The wires count a cached prefix differently:

- OpenAI (and compatible servers): ``usage.prompt_tokens`` counts every input token;
  ``usage.prompt_tokens_details.cached_tokens`` says how many of them were read from
  its automatic prefix cache. There are no cache writes to pay for.
- Anthropic: ``usage.input_tokens`` counts only the tokens after the last cache
  breakpoint; ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` count
  the cached prefix read, or written on a miss, separately.

``Tokens.input`` is always every input token, so both wires read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tokens:
    input: int = 0  # every input token, cached or not
    output: int = 0
    cache_read: int = 0  # of ``input``: read from the provider's prompt cache
    cache_write: int = 0  # of ``input``: written to it (Anthropic bills these above input)


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def tokens_of(usage: Any) -> Tokens:
    """The counts in a response's ``usage`` (an SDK object or its JSON); zeros when absent."""
    if usage is None:
        return Tokens()
    out = _int(_get(usage, "completion_tokens")) or _int(_get(usage, "output_tokens"))
    prompt = _get(usage, "prompt_tokens")
    if prompt is not None:  # the OpenAI shape
        cached = _int(_get(_get(usage, "prompt_tokens_details"), "cached_tokens"))
        return Tokens(_int(prompt), out, min(cached, _int(prompt)), 0)
    read = _int(_get(usage, "cache_read_input_tokens"))
    write = _int(_get(usage, "cache_creation_input_tokens"))
    return Tokens(_int(_get(usage, "input_tokens")) + read + write, out, read, write)
