"""The Anthropic Message Batches API: ``messages.batches.create`` with the Messages params."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from packet_eval.batch.provider_batches.client import REASK, Outcome
from packet_eval.providers.usage import tokens_of

if TYPE_CHECKING:
    import anthropic

logger = logging.getLogger(__name__)


class AnthropicBatches:
    name = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self.client = client

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        # instructor's Anthropic reask: the assistant's tool_use, then a tool_result with the error.
        text = REASK.format(error=error)
        if outcome.turn is None or not outcome.call_id:
            return [{"role": "user", "content": text}]
        return [outcome.turn, {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": outcome.call_id, "content": text,
             "is_error": True}]}]

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        # The params are a Messages request built by instructor, as the live path sends it.
        requests: list[Any] = [{"custom_id": cid, "params": params} for cid, params in lines]
        batch = await self.client.messages.batches.create(requests=requests)
        logger.debug("submitted Anthropic batch %s: %d request(s)", batch.id, len(lines))
        return str(batch.id)

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        b = await self.client.messages.batches.retrieve(batch_id)
        c = b.request_counts
        total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
        status = f"{b.processing_status} {c.succeeded + c.errored}/{total}"
        logger.debug("polled Anthropic batch %s: %s", batch_id, status)
        return b.processing_status == "ended", status

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        out: dict[str, Outcome] = {}
        decoder = await self.client.messages.batches.results(batch_id)
        async for entry in decoder:
            out[str(entry.custom_id)] = outcome_of(entry.result.model_dump(mode="json"))
        return out


def outcome_of(result: dict[str, Any]) -> Outcome:
    """One entry of a batch's results."""
    if result.get("type") != "succeeded":
        err = result.get("error") or {}
        inner = err.get("error") if isinstance(err, dict) else None
        msg = (inner or {}).get("message") if isinstance(inner, dict) else None
        return Outcome(None, f"{result.get('type')}: {msg or err or 'no result'}")
    msg = result.get("message") or {}
    t = tokens_of(msg.get("usage"))
    inp, outp, cache = t.input, t.output, {"cache_read": t.cache_read, "cache_write": t.cache_write}
    blocks = msg.get("content") or []
    tool = next((b for b in blocks if b.get("type") == "tool_use"), None)
    truncated = msg.get("stop_reason") == "max_tokens"
    turn = {"role": "assistant", "content": blocks}
    if tool is None or not isinstance(tool.get("input"), dict):
        return Outcome(None, "no tool_use in the answer" if not truncated else
                       "the answer was cut off (stop reason max_tokens)", inp, outp, truncated,
                       turn, None, **cache)
    return Outcome(tool["input"], None, inp, outp, truncated, turn, tool.get("id"), **cache)
