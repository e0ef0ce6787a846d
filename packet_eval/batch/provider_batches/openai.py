"""The OpenAI Batch API: a JSONL file of ``/v1/chat/completions`` requests, then a batch."""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING, Any, Final, Literal

from packet_eval.batch.provider_batches.client import REASK, Outcome
from packet_eval.providers.usage import tokens_of

if TYPE_CHECKING:
    import openai

logger = logging.getLogger(__name__)
DONE = {"completed", "failed", "expired", "cancelled"}
ENDPOINT: Final[Literal["/v1/chat/completions"]] = "/v1/chat/completions"


class OpenAIBatches:
    name = "openai"

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client = client

    def reask_turns(self, outcome: Outcome, error: str) -> list[dict[str, Any]]:
        # instructor's reask_tools: the assistant's tool call, then a tool message with the error.
        text = REASK.format(error=error)
        if outcome.turn is None or not outcome.call_id:
            return [{"role": "user", "content": text}]
        return [outcome.turn, {"role": "tool", "tool_call_id": outcome.call_id,
                               "name": "ExtractionAnswer", "content": text}]

    async def submit(self, lines: list[tuple[str, dict[str, Any]]], meta: dict[str, str]) -> str:
        buf = io.BytesIO()
        for cid, body in lines:
            buf.write(json.dumps({"custom_id": cid, "method": "POST", "url": ENDPOINT,
                                  "body": body}).encode() + b"\n")
        f = await self.client.files.create(file=("packet-eval-batch.jsonl", buf.getvalue()),
                                           purpose="batch")
        batch = await self.client.batches.create(input_file_id=f.id, endpoint=ENDPOINT,
                                                 completion_window="24h", metadata=meta)
        logger.debug("submitted OpenAI batch %s: %d request(s)", batch.id, len(lines))
        return str(batch.id)

    async def poll(self, batch_id: str) -> tuple[bool, str]:
        b = await self.client.batches.retrieve(batch_id)
        counts = b.request_counts
        done = f" {counts.completed}/{counts.total}" if counts is not None else ""
        logger.debug("polled OpenAI batch %s: %s%s", batch_id, b.status, done)
        return b.status in DONE, f"{b.status}{done}"

    async def results(self, batch_id: str) -> dict[str, Outcome]:
        b = await self.client.batches.retrieve(batch_id)
        out: dict[str, Outcome] = {}
        for file_id in (b.output_file_id, b.error_file_id):
            if not file_id:
                continue
            content = await self.client.files.content(file_id)
            for raw in content.text.splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    out[str(line.get("custom_id"))] = outcome_of(line)
        return out


def outcome_of(line: dict[str, Any]) -> Outcome:
    """One line of a batch's output or error file."""
    response = line.get("response") or {}
    body = response.get("body") or {}
    if line.get("error") or response.get("status_code") != 200:
        err = line.get("error") or body.get("error") or {}
        msg = err.get("message") if isinstance(err, dict) else str(err)
        return Outcome(None, f"status {response.get('status_code')}: {msg}")
    t = tokens_of(body.get("usage"))
    inp, outp, cache = t.input, t.output, {"cache_read": t.cache_read, "cache_write": t.cache_write}
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    calls = message.get("tool_calls") or []
    truncated = choice.get("finish_reason") == "length"
    raw_args = calls[0]["function"]["arguments"] if calls else message.get("content")
    turn = {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
    call_id = calls[0]["id"] if calls else None
    try:
        args = json.loads(raw_args) if isinstance(raw_args, str) else None
    except ValueError:
        args = None
    if not isinstance(args, dict):
        return Outcome(None, "the answer is not a JSON object" if not truncated else
                       "the answer was cut off (finish reason length)", inp, outp, truncated,
                       turn, call_id, **cache)
    return Outcome(args, None, inp, outp, truncated, turn, call_id, **cache)
