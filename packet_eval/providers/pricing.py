"""Estimated prices per million tokens, kept in one place.

These are list prices as published by the providers when this table was last
updated (2026-11); they are estimates for budgeting, not invoices. Batch APIs
are billed at ``BATCH_DISCOUNT`` of these. Unknown models cost 0.0 and are
reported as unpriced so a budget check never silently passes on a guess.
"""

from __future__ import annotations

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


def price_for(model: str) -> tuple[float, float] | None:
    """Prices for ``provider/name`` or ``name``; None when the model is not in the table."""
    name = model.split("/", 1)[-1]
    if name in PRICES_PER_MTOK:
        return PRICES_PER_MTOK[name]
    # Dated snapshots ("gpt-4.1-mini-2025-04-14") price like their family.
    for known in sorted(PRICES_PER_MTOK, key=len, reverse=True):
        if name.startswith(known + "-"):
            return PRICES_PER_MTOK[known]
    return None


def cost_usd(model: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> float:
    prices = price_for(model)
    if prices is None:
        return 0.0
    cost = (input_tokens * prices[0] + output_tokens * prices[1]) / 1_000_000
    return round(cost * (BATCH_DISCOUNT if batch else 1.0), 6)
