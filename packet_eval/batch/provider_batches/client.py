"""What a provider's Batch API client does, and the typed answer it gives for one request.

One module per provider (``openai.py``, ``anthropic.py``) implements ``BatchClient``
over that provider's SDK client; the provider's wire adapter
(``providers.Wire.batch_client``) makes it. Everything else about a round of
batches is provider-independent and lives in ``rounds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from packet_eval.providers.usage import Tokens

# instructor's own re-ask text, so a batch re-ask reads exactly as a live one.
REASK = "Validation Error found:\n{error}\nRecall the function correctly, fix the errors"


@dataclass
class Outcome:
    """A provider's answer to one request: parsed arguments, or why there are none."""

    args: dict[str, Any] | None
    error: str | None
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    turn: dict[str, Any] | None = None  # the assistant turn, for a re-ask
    call_id: str | None = None
    cache_read: int = 0  # of input_tokens: read from the provider's prompt cache
    cache_write: int = 0  # of input_tokens: written to it

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.input_tokens, self.output_tokens, self.cache_read, self.cache_write)


class BatchClient(Protocol):
    """One provider's Batch API: submit request lines, poll, read the outcomes."""

    name: str  # the provider, as the store's batch ledger records it

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        """The turns that follow the prompt to re-ask, as instructor re-asks live."""
        ...

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        """Submit (custom id, request body) lines as one batch; returns the batch id."""
        ...

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        """Whether the batch has ended, and a short status for the progress line."""
        ...

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        """The outcome of every request of an ended batch, by custom id."""
        ...
