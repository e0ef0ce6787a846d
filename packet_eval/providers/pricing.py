"""Estimated prices per million tokens, kept in one place.

These are list prices as published by the providers when this table was last
updated (2026-11); they are estimates for budgeting, not invoices. Batch APIs
are billed at ``BATCH_DISCOUNT`` of these. Unknown models cost 0.0 and are
reported as unpriced so a budget check never silently passes on a guess.

Prompt caching: Anthropic bills cache reads at ``ANTHROPIC_CACHE_READ`` and cache
writes (5-minute entries) at ``ANTHROPIC_CACHE_WRITE`` of the input price; OpenAI
bills ``cached_tokens`` at each model's cached-input price and has no write charge.
A model with no cache price known pays full input price for cached tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UPDATED = "2026-11"
BATCH_DISCOUNT = 0.5

# model name (without provider prefix) -> (input USD / 1M tokens, output USD / 1M tokens)
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-opus-4-1": (15.00, 75.00),
}


ANTHROPIC_CACHE_READ = 0.1
ANTHROPIC_CACHE_WRITE = 1.25

# OpenAI's cached-input prices, USD / 1M tokens.
OPENAI_CACHED_INPUT_PER_MTOK: dict[str, float] = {
    "gpt-4.1": 0.50,
    "gpt-4.1-mini": 0.10,
    "gpt-4.1-nano": 0.025,
    "gpt-4o": 1.25,
    "gpt-4o-mini": 0.075,
    "gpt-5": 0.125,
    "gpt-5-mini": 0.025,
}

# model name -> (cache read USD / 1M tokens, cache write USD / 1M tokens)
CACHE_PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    **{n: (c, PRICES_PER_MTOK[n][0]) for n, c in OPENAI_CACHED_INPUT_PER_MTOK.items()},
    **{n: (p[0] * ANTHROPIC_CACHE_READ, p[0] * ANTHROPIC_CACHE_WRITE)
       for n, p in PRICES_PER_MTOK.items() if n.startswith("claude-")},
}


def _family(name: str, table: Mapping[str, Any]) -> str | None:
    if name in table:
        return name
    # Dated snapshots ("gpt-4.1-mini-2025-04-14") price like their family.
    return next((k for k in sorted(table, key=len, reverse=True) if name.startswith(k + "-")),
                None)


def price_for(model: str) -> tuple[float, float] | None:
    """Prices for ``provider/name`` or ``name``; None when the model is not in the table."""
    known = _family(model.split("/", 1)[-1], PRICES_PER_MTOK)
    return PRICES_PER_MTOK[known] if known else None


def cache_prices_for(model: str) -> tuple[float, float] | None:
    """(cache read, cache write) USD / 1M tokens; input price for both when not known."""
    prices = price_for(model)
    if prices is None:
        return None
    known = _family(model.split("/", 1)[-1], CACHE_PRICES_PER_MTOK)
    return CACHE_PRICES_PER_MTOK[known] if known else (prices[0], prices[0])


def cost_usd(model: str, input_tokens: int, output_tokens: int, *, batch: bool = False,
             cache_read: int = 0, cache_write: int = 0) -> float:
    """USD for one call; ``input_tokens`` counts every input token, the cached ones included."""
    prices = price_for(model)
    cache = cache_prices_for(model)
    if prices is None or cache is None:
        return 0.0
    fresh = max(0, input_tokens - cache_read - cache_write)
    cost = (fresh * prices[0] + cache_read * cache[0] + cache_write * cache[1]
            + output_tokens * prices[1]) / 1_000_000
    return round(cost * (BATCH_DISCOUNT if batch else 1.0), 6)


def billed_input_equivalent(model: str, input_tokens: int, *, cache_read: int = 0,
                            cache_write: int = 0) -> float:
    """Input tokens at full input price that cost what these input tokens cost."""
    prices, cache = price_for(model), cache_prices_for(model)
    if prices is None or cache is None or prices[0] == 0:
        return float(input_tokens)
    fresh = max(0, input_tokens - cache_read - cache_write)
    return fresh + (cache_read * cache[0] + cache_write * cache[1]) / prices[0]
