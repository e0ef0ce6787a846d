"""A local fake LLM HTTP server speaking the real OpenAI and Anthropic wire formats.

It lets the real ``openai`` / ``anthropic`` SDKs and ``instructor`` run end to end with
only the transport being local (127.0.0.1, stdlib ``http.server``, no dependencies).
Every answer it gives is scripted test data produced by the test itself (or by a
schema-driven "echo" default) -- it is never a model's output and must never be
reported as one.

Endpoints::

    POST /v1/chat/completions                 OpenAI Chat Completions (JSON or SSE stream)
    GET  /v1/models                           the ids in ``served_models``
    POST /v1/files                            OpenAI file upload (multipart, purpose=batch)
    GET  /v1/files/{id}  /v1/files/{id}/content
    POST /v1/batches   GET /v1/batches/{id}   POST /v1/batches/{id}/cancel
    POST /v1/messages                         Anthropic Messages (JSON or SSE stream)
    POST /v1/messages/batches   GET /v1/messages/batches/{id}
    GET  /v1/messages/batches/{id}/results    (the batch's ``results_url``, JSONL)
    POST /v1/messages/batches/{id}/cancel

Usage::

    with FakeLLMServer() as srv:
        srv.script([reply({"answer": 42}), status(429, headers={"retry-after": "0.05"})])
        client = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="test")
        ...
        assert srv.requests[0].json["messages"][0]["content"] == "hi"

Command line (cross-process tests / benchmarks)::

    python -m tests.fakes.llm_server --port 0 --latency-ms 200 --max-concurrency 8 \
        --echo-handler echo
    # first stdout line: http://127.0.0.1:PORT ; runs until SIGTERM / SIGINT
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import hashlib
import importlib
import json
import math
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "Behaviour",
    "FakeLLMServer",
    "PromptCache",
    "RecordedRequest",
    "delay",
    "drop",
    "echo",
    "echo_object",
    "handler",
    "malformed",
    "minimal_instance",
    "raw",
    "reply",
    "status",
    "truncated",
]

MALFORMED_TEXT = '{"this is": not valid JSON,'
_MODEL_PATHS = ("/v1/chat/completions", "/v1/messages")


# --------------------------------------------------------------------------- behaviours


@dataclass(frozen=True)
class Behaviour:
    """One scripted answer. Build with the module-level constructors, not directly."""

    kind: str  # reply | handler | status | delay | malformed | truncated | raw | drop
    obj: Any = None
    fn: Callable[[dict[str, Any]], Any] | None = None
    code: int = 200
    body: Any = None
    headers: Mapping[str, str] | None = None
    seconds: float = 0.0
    then: Behaviour | None = None
    tool: str | None = None
    text: str | None = None


def reply(obj: Mapping[str, Any], *, tool: str | None = None) -> Behaviour:
    """Successful structured answer whose arguments are ``json.dumps(obj)``.

    ``tool`` overrides the tool name (default: from ``tool_choice``, else the first tool).
    """
    return Behaviour("reply", obj=dict(obj), tool=tool)


def handler(fn: Callable[[dict[str, Any]], Any]) -> Behaviour:
    """Build the answer from the request JSON: ``fn(request_json)`` returns a dict
    (answered like ``reply``) or another Behaviour (e.g. ``status(500)``)."""
    return Behaviour("handler", fn=fn)


def status(
    code: int, body: Any = None, headers: Mapping[str, str] | None = None
) -> Behaviour:
    """Error response in the provider's real error JSON shape (``body`` overrides it:
    dict -> JSON, str/bytes -> sent raw)."""
    return Behaviour("status", code=code, body=body, headers=dict(headers or {}))


def delay(seconds: float, then: Behaviour | Mapping[str, Any] | None = None) -> Behaviour:
    """Sleep ``seconds`` before answering with ``then`` (default: the server default)."""
    nxt = _coerce(then) if then is not None else None
    return Behaviour("delay", seconds=float(seconds), then=nxt)


def malformed() -> Behaviour:
    """200 whose tool-call arguments / content are not valid JSON.

    Anthropic ``tool_use.input`` is always an object on the real wire, so on
    ``/v1/messages`` this is a text-only reply (no ``tool_use`` block) with invalid JSON.
    """
    return Behaviour("malformed", text=MALFORMED_TEXT)


def truncated(obj: Mapping[str, Any]) -> Behaviour:
    """Reply cut short: ``finish_reason="length"`` / ``stop_reason="max_tokens"`` with the
    first half of ``json.dumps(obj)`` as arguments (Anthropic non-stream tool_use gets the
    first half of the keys, since ``input`` must be an object)."""
    return Behaviour("truncated", obj=dict(obj))


def raw(text: str, *, tool: str | None = None) -> Behaviour:
    """200 whose tool-call arguments (OpenAI) or text content is exactly ``text``."""
    return Behaviour("raw", text=text, tool=tool)


def drop() -> Behaviour:
    """Close the connection without answering (client sees a connection error)."""
    return Behaviour("drop")


def echo() -> Behaviour:
    """Schema-driven default: the smallest object valid for the requested schema."""
    return Behaviour("handler", fn=echo_object)


def _coerce(b: Behaviour | Mapping[str, Any]) -> Behaviour:
    if isinstance(b, Behaviour):
        return b
    if isinstance(b, Mapping):
        return reply(b)
    raise TypeError(f"not a behaviour: {b!r}")


# ------------------------------------------------------------------ schema-driven echo


def minimal_instance(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None,
                     _depth: int = 0) -> Any:
    """The smallest JSON value satisfying a (pydantic-style) JSON schema."""
    root = schema if root is None else root
    if _depth > 32 or not isinstance(schema, Mapping):
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return minimal_instance(target, root, _depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = schema[key]
            if any(isinstance(o, Mapping) and o.get("type") == "null" for o in options):
                return None
            return minimal_instance(options[0], root, _depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return minimal_instance(merged, root, _depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        if "null" in typ:
            return None
        typ = typ[0] if typ else None
    if typ == "object" or (typ is None and "properties" in schema):
        props = schema.get("properties", {})
        return {
            k: minimal_instance(props.get(k, {}), root, _depth + 1)
            for k in schema.get("required", [])
        }
    if typ == "array":
        n = int(schema.get("minItems", 0))
        return [minimal_instance(schema.get("items", {}), root, _depth + 1) for _ in range(n)]
    if typ == "string":
        return "x" * int(schema.get("minLength", 0))
    if typ in ("integer", "number"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        val = max(0, lo) + (1 if "exclusiveMinimum" in schema else 0)
        return int(val) if typ == "integer" else float(val)
    if typ == "boolean":
        return False
    if typ == "null":
        return None
    return {}


def _selected_tool(req: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any] | None]:
    """(tool name, tool schema) the request asks for, for either provider format."""
    tools = [t for t in (req.get("tools") or []) if isinstance(t, Mapping)]
    if not tools:
        return None, None
    choice = req.get("tool_choice")
    if choice == "none" or (isinstance(choice, Mapping) and choice.get("type") == "none"):
        return None, None

    def name_of(t: Mapping[str, Any]) -> str | None:
        fn = t.get("function")
        return fn.get("name") if isinstance(fn, Mapping) else t.get("name")

    def schema_of(t: Mapping[str, Any]) -> Mapping[str, Any]:
        fn = t.get("function")
        if isinstance(fn, Mapping):
            return fn.get("parameters") or {}
        return t.get("input_schema") or {}

    wanted: str | None = None
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, Mapping) else choice.get("name")
    for t in tools:
        if wanted is None or name_of(t) == wanted:
            return name_of(t), schema_of(t)
    return wanted, {}


def _requested_schema(req: Mapping[str, Any]) -> Mapping[str, Any]:
    _, tool_schema = _selected_tool(req)
    if tool_schema is not None:
        return tool_schema
    rf = req.get("response_format")
    if isinstance(rf, Mapping) and isinstance(rf.get("json_schema"), Mapping):
        return rf["json_schema"].get("schema") or {}
    for key in ("output_format", "output_config"):
        of = req.get(key)
        if isinstance(of, Mapping):
            if isinstance(of.get("schema"), Mapping):
                return of["schema"]
            fmt = of.get("format")
            if isinstance(fmt, Mapping) and isinstance(fmt.get("schema"), Mapping):
                return fmt["schema"]
    return {}


def echo_object(req: Mapping[str, Any]) -> dict[str, Any]:
    """Handler: an empty-but-valid object for whatever schema the request carries."""
    obj = minimal_instance(_requested_schema(req))
    return obj if isinstance(obj, dict) else {}


# ------------------------------------------------------------------------ wire shapes


def _hex(n: int = 24) -> str:
    return uuid.uuid4().hex[:n]


def _text_len(value: Any, skip_model: bool = True) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(
            _text_len(v, False) for k, v in value.items() if not (skip_model and k == "model")
        )
    if isinstance(value, list | tuple):
        return sum(_text_len(v, False) for v in value)
    return 0


def estimate_tokens(text_len: int) -> int:
    return max(1, math.ceil(text_len / 4))


class PromptCache:
    """Provider-side prompt caching, counted the way each provider reports it.

    OpenAI caches automatically: a request whose prefix (tools, then message text in
    order) matches an earlier request's for at least ``MIN_TOKENS`` tokens reports the
    match, in steps of 128 tokens, as ``usage.prompt_tokens_details.cached_tokens``,
    inside ``prompt_tokens``. Anthropic caches only up to a block marked
    ``cache_control`` (tools, then system blocks): the first request writes it
    (``cache_creation_input_tokens``), later ones read it (``cache_read_input_tokens``),
    and ``input_tokens`` counts only the rest. Tokens are this module's chars/4 estimate;
    entries never expire (a real cache keeps them minutes).
    """

    MIN_TOKENS = 1024
    STEP = 128

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Digests of every earlier OpenAI prefix cut at each STEP boundary (4 chars a token).
        # Only whole steps are reported, so the longest whole-step prefix shared with any
        # earlier request is the answer: a set lookup per step, not a scan of every request
        # (which made this fake spend ~125 ms of CPU a call by the 240th call).
        self._openai: set[bytes] = set()
        self._anthropic: set[str] = set()

    def clear(self) -> None:
        with self._lock:
            self._openai.clear()
            self._anthropic.clear()

    @staticmethod
    def _texts(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            return "".join(PromptCache._texts(v) for k, v in value.items() if k != "cache_control")
        if isinstance(value, list | tuple):
            return "".join(PromptCache._texts(v) for v in value)
        return ""

    def openai(self, req: Mapping[str, Any]) -> int:
        """Cached tokens of ``req``, remembering its prefix for later requests."""
        # The same characters estimate_tokens counts, tools first, so cached <= prompt.
        prefix = self._texts(req.get("tools") or []) + self._texts(req.get("messages") or [])
        chars = 4 * self.STEP
        h = hashlib.blake2b(digest_size=16)
        digests = []
        for start in range(0, len(prefix) - chars + 1, chars):
            h.update(prefix[start:start + chars].encode("utf-8", "surrogatepass"))
            digests.append(h.digest())
        with self._lock:
            steps = 0
            for d in digests:  # a prefix of a seen prefix was seen too
                if d not in self._openai:
                    break
                steps += 1
            self._openai.update(digests)
        tokens = steps * self.STEP
        return 0 if tokens < self.MIN_TOKENS else tokens

    def anthropic(self, req: Mapping[str, Any]) -> tuple[int, int]:
        """(read, written) tokens of ``req``'s prefix up to its last system breakpoint."""
        system = req.get("system")
        blocks = system if isinstance(system, list) else []
        marked = [i for i, b in enumerate(blocks)
                  if isinstance(b, Mapping) and b.get("cache_control")]
        if not marked:
            return 0, 0
        prefix = json.dumps(req.get("tools") or [], sort_keys=True) + self._texts(
            blocks[: marked[-1] + 1])
        tokens = estimate_tokens(_text_len(req.get("tools") or []) + _text_len(
            blocks[: marked[-1] + 1]))
        if tokens < self.MIN_TOKENS:
            return 0, 0
        with self._lock:
            hit = prefix in self._anthropic
            self._anthropic.add(prefix)
        return (tokens, 0) if hit else (0, tokens)


_OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request (scripted by FakeLLMServer)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: test."),
    403: ("permission_denied", None, "You are not allowed to sample from this model."),
    404: ("invalid_request_error", "not_found", "The requested resource does not exist."),
    409: ("invalid_request_error", "conflict", "Conflict (scripted by FakeLLMServer)."),
    422: ("invalid_request_error", None, "Unprocessable entity (scripted)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached (scripted by FakeLLMServer)."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "Invalid request (scripted by FakeLLMServer)."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low (scripted)."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Rate limit exceeded (scripted by FakeLLMServer)."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out."),
    529: ("overloaded_error", "Overloaded"),
}


def openai_error_body(code: int, message: str | None = None) -> dict[str, Any]:
    etype, ecode, msg = _OPENAI_ERRORS.get(
        code, ("server_error" if code >= 500 else "invalid_request_error", None,
               f"HTTP {code} (scripted by FakeLLMServer).")
    )
    return {"error": {"message": message or msg, "type": etype, "param": None, "code": ecode}}


def anthropic_error_body(code: int, message: str | None = None) -> dict[str, Any]:
    etype, msg = _ANTHROPIC_ERRORS.get(
        code, ("api_error" if code >= 500 else "invalid_request_error",
               f"HTTP {code} (scripted by FakeLLMServer).")
    )
    return {
        "type": "error",
        "error": {"type": etype, "message": message or msg},
        "request_id": f"req_{_hex()}",
    }


@dataclass
class _Outcome:
    """A resolved, answerable behaviour (no handler/delay left)."""

    kind: str  # reply | raw | malformed | truncated | status | drop
    obj: Any = None
    text: str | None = None
    tool: str | None = None
    code: int = 200
    body: Any = None
    headers: Mapping[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.kind in ("reply", "raw", "malformed", "truncated")


def _payload_text(out: _Outcome) -> tuple[str, bool]:
    """(argument/content text, cut short?)"""
    if out.kind == "reply":
        return json.dumps(out.obj), False
    if out.kind == "truncated":
        full = json.dumps(out.obj)
        return full[: max(1, len(full) // 2)], True
    return out.text or "", False


def openai_completion(req: Mapping[str, Any], out: _Outcome,
                      cache: PromptCache | None = None) -> dict[str, Any]:
    text, cut = _payload_text(out)
    tool_name, _ = _selected_tool(req)
    if out.tool:
        tool_name = out.tool
    choice = req.get("tool_choice")
    forced = isinstance(choice, Mapping) or choice == "required"
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if tool_name:
        message["tool_calls"] = [{
            "id": f"call_{_hex()}",
            "type": "function",
            "function": {"name": tool_name, "arguments": text},
        }]
        # The real API reports "stop" when tool_choice forces a named function.
        finish = "length" if cut else ("stop" if forced else "tool_calls")
    else:
        message["content"] = text
        finish = "length" if cut else "stop"
    prompt = estimate_tokens(_text_len(req))
    completion = estimate_tokens(len(text))
    cached = min(prompt, cache.openai(req)) if cache is not None else 0
    return {
        "id": f"chatcmpl-{_hex()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.get("model") or "fake-model",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fakellm",
    }


def openai_stream_chunks(req: Mapping[str, Any], completion: Mapping[str, Any],
                         piece: int) -> list[dict[str, Any]]:
    """Split a chat.completion into the chat.completion.chunk sequence the API streams."""
    base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"
    choice = completion["choices"][0]
    msg = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    chunks: list[dict[str, Any]] = []
    if msg.get("tool_calls"):
        call = msg["tool_calls"][0]
        args = call["function"]["arguments"]
        chunks.append(chunk({"role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"index": 0, "id": call["id"], "type": "function",
             "function": {"name": call["function"]["name"], "arguments": ""}}]}))
        for i in range(0, len(args), piece):
            chunks.append(chunk({"tool_calls": [
                {"index": 0, "function": {"arguments": args[i: i + piece]}}]}))
    else:
        content = msg.get("content") or ""
        chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        for i in range(0, len(content), piece):
            chunks.append(chunk({"content": content[i: i + piece]}))
    chunks.append(chunk({}, choice["finish_reason"]))
    opts = req.get("stream_options")
    if isinstance(opts, Mapping) and opts.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks


def anthropic_message(req: Mapping[str, Any], out: _Outcome,
                      cache: PromptCache | None = None) -> dict[str, Any]:
    tool_name, _ = _selected_tool(req)
    if out.tool:
        tool_name = out.tool
    content: list[dict[str, Any]]
    text, cut = _payload_text(out)
    if tool_name and out.kind in ("reply", "truncated"):
        obj = dict(out.obj)
        if cut:
            keys = list(obj)[: len(obj) // 2]
            obj = {k: obj[k] for k in keys}
        content = [{"type": "tool_use", "id": f"toolu_{_hex()}", "name": tool_name, "input": obj}]
        stop = "max_tokens" if cut else "tool_use"
    else:
        content = [{"type": "text", "text": text, "citations": None}]
        stop = "max_tokens" if cut else "end_turn"
    read, written = cache.anthropic(req) if cache is not None else (0, 0)
    return {
        "id": f"msg_{_hex()}",
        "type": "message",
        "role": "assistant",
        "model": req.get("model") or "fake-model",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            # Anthropic's input_tokens leave out what was read from or written to the cache.
            "input_tokens": max(1, estimate_tokens(_text_len(req)) - read - written),
            "output_tokens": estimate_tokens(len(text)),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "service_tier": "standard",
        },
        # the streamed form of a cut-short tool call carries the partial JSON text
        "_stream_json": text if cut else None,
    }


def anthropic_stream_events(message: dict[str, Any], piece: int) -> list[tuple[str, dict]]:
    """Split a Message into the SSE event sequence the Messages API streams."""
    stream_json = message.pop("_stream_json", None)
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**message["usage"], "output_tokens": 1}}
    events: list[tuple[str, dict]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for i, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                           "content_block": {**block, "input": {}}}))
            js = stream_json if stream_json is not None else json.dumps(block["input"])
            for j in range(0, len(js), piece):
                delta = {"type": "input_json_delta", "partial_json": js[j: j + piece]}
                events.append(("content_block_delta",
                               {"type": "content_block_delta", "index": i, "delta": delta}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                           "content_block": {"type": "text", "text": "", "citations": None}}))
            txt = block["text"]
            for j in range(0, len(txt), piece):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                               "delta": {"type": "text_delta", "text": txt[j: j + piece]}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": message["usage"]["output_tokens"]},
    }))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    """One HTTP request as received. ``headers`` keys are lower-cased."""

    method: str
    path: str  # without query string
    headers: dict[str, str]
    body: bytes
    json: Any
    query: dict[str, list[str]] = field(default_factory=dict)
    received_at: float = field(default_factory=time.time)
    response_status: int | None = None  # None until answered, or if dropped


@dataclass
class BatchLine:
    """One request inside a provider batch, as answered by the behaviour machinery."""

    provider: str  # "openai" | "anthropic"
    batch_id: str
    custom_id: str
    json: dict[str, Any]


@dataclass
class _FileObj:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int


@dataclass
class _Batch:
    provider: str
    id: str
    created_at: float
    total: int
    results: list[dict[str, Any]]  # per-line results, already computed
    succeeded: int
    failed: int
    input_file_id: str | None = None
    endpoint: str | None = None
    completion_window: str | None = None
    metadata: Any = None
    polls: int = 0
    done_at: float | None = None
    cancelled_at: float | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------- HTTP server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr: tuple[str, int], fake: FakeLLMServer) -> None:
        self.fake = fake
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle plus delayed ACKs add ~40 ms a call.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self)

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self)

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.fake._dispatch(self)

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""


class FakeLLMServer:
    """Scriptable fake OpenAI + Anthropic server on 127.0.0.1 (see module docstring)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Behaviour | Mapping[str, Any] | None = None,
        latency_s: float = 0.0,
        max_concurrency: int | None = None,
        retry_after: float | str = 1,
        batch_polls_until_done: int = 1,
        stream_chunk_chars: int = 16,
    ) -> None:
        self.host = host
        self._port = port
        self.default: Behaviour = _coerce(default) if default is not None else echo()
        self.latency_s = float(latency_s)
        self.max_concurrency = max_concurrency
        self.retry_after = retry_after
        self.batch_polls_until_done = int(batch_polls_until_done)
        self.stream_chunk_chars = max(1, int(stream_chunk_chars))

        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._batch_lines: list[BatchLine] = []
        self._errors: list[str] = []
        self._files: dict[str, _FileObj] = {}
        self._batches: dict[str, _Batch] = {}
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.served_models: list[str] = ["test-model"]  # what GET /v1/models lists
        self.calls = 0
        # Provider-side state: kept across reset(), cleared by prompt_cache.clear().
        self.prompt_cache = PromptCache()
        self.rejected_429 = 0
        self.in_flight = 0
        self.max_in_flight = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeLLMServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer((self.host, self._port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"FakeLLMServer:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.close_all_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    close = stop

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # ------------------------------------------------------------------ scripting
    def script(self, behaviours: Iterable[Behaviour | Mapping[str, Any]]) -> FakeLLMServer:
        """Append behaviours; each model request (or batch line) consumes one."""
        items = [_coerce(b) for b in behaviours]
        with self._lock:
            self._queue.extend(items)
        return self

    def set_default(self, behaviour: Behaviour | Mapping[str, Any]) -> None:
        self.default = _coerce(behaviour)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    # ------------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def model_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path in _MODEL_PATHS]

    @property
    def batch_lines(self) -> list[BatchLine]:
        with self._lock:
            return list(self._batch_lines)

    @property
    def errors(self) -> list[str]:
        """Handler exceptions and other server-side problems (each also answered 500)."""
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._batch_lines.clear()
            self._errors.clear()
            self.calls = self.rejected_429 = self.max_in_flight = 0

    # ------------------------------------------------------------------ resolution
    def _resolve(self, b: Behaviour, req: dict[str, Any], *, sleep: bool) -> _Outcome:
        for _ in range(64):
            if b.kind == "delay":
                if sleep and b.seconds > 0:
                    self._stop.wait(b.seconds)
                b = b.then if b.then is not None else self.default
                continue
            if b.kind == "handler":
                assert b.fn is not None
                try:
                    result = b.fn(req)
                except Exception as exc:  # surfaced as a 500 and in srv.errors
                    msg = f"handler {getattr(b.fn, '__name__', b.fn)!r} raised {exc!r}"
                    with self._lock:
                        self._errors.append(msg)
                    return _Outcome("status", code=500, body=None, headers={},
                                    text=f"FakeLLMServer: {msg}")
                b = _coerce(result)
                continue
            if b.kind == "status":
                return _Outcome("status", code=b.code, body=b.body, headers=b.headers or {})
            return _Outcome(b.kind, obj=b.obj, text=b.text, tool=b.tool)
        raise RuntimeError("behaviour chain too deep")

    # ------------------------------------------------------------------ HTTP plumbing
    def _dispatch(self, h: _Handler) -> None:
        try:
            body = h.read_body()
        except (OSError, ValueError):
            h.close_connection = True
            return
        split = urlsplit(h.path)
        path = split.path.rstrip("/") or "/"
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        rec = RecordedRequest(
            method=h.command, path=path,
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body, json=parsed, query=parse_qs(split.query),
        )
        with self._lock:
            self._requests.append(rec)
        anthropic_shape = path.startswith("/v1/messages") or "anthropic-version" in rec.headers
        try:
            if h.command == "POST" and path in _MODEL_PATHS:
                self._model_call(h, rec, anthropic=path == "/v1/messages")
            else:
                self._admin_call(h, rec, anthropic_shape)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            h.close_connection = True
        except Exception as exc:  # pragma: no cover - keep the server alive
            with self._lock:
                self._errors.append(f"{h.command} {path}: {exc!r}")
            try:
                self._send_error(h, rec, 500, anthropic_shape, f"FakeLLMServer bug: {exc!r}")
            except OSError:
                h.close_connection = True

    def _send(self, h: _Handler, rec: RecordedRequest, code: int, payload: bytes,
              content_type: str = "application/json",
              headers: Mapping[str, str] | None = None) -> None:
        rec.response_status = code
        h.send_response(code)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)
        h.wfile.flush()

    def _send_json(self, h: _Handler, rec: RecordedRequest, code: int, obj: Any,
                   headers: Mapping[str, str] | None = None) -> None:
        self._send(h, rec, code, json.dumps(obj).encode(), headers=headers)

    def _request_id_headers(self, anthropic: bool) -> dict[str, str]:
        return {"request-id": f"req_{_hex()}"} if anthropic else {"x-request-id": f"req_{_hex()}"}

    def _send_error(self, h: _Handler, rec: RecordedRequest, code: int, anthropic: bool,
                    message: str | None = None, body: Any = None,
                    headers: Mapping[str, str] | None = None) -> None:
        hdrs = {**self._request_id_headers(anthropic), **(headers or {})}
        if body is None:
            make = anthropic_error_body if anthropic else openai_error_body
            obj = make(code, message)
            self._send_json(h, rec, code, obj, hdrs)
        elif isinstance(body, bytes | str):
            payload = body.encode() if isinstance(body, str) else body
            self._send(h, rec, code, payload, headers=hdrs)
        else:
            self._send_json(h, rec, code, body, hdrs)

    def _retry_after_headers(self) -> dict[str, str]:
        secs = float(self.retry_after)
        text = self.retry_after if isinstance(self.retry_after, str) else f"{secs:g}"
        return {"retry-after": text, "retry-after-ms": str(int(round(secs * 1000)))}

    def _drop(self, h: _Handler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------------ model endpoints
    def _model_call(self, h: _Handler, rec: RecordedRequest, *, anthropic: bool) -> None:
        with self._lock:
            self.calls += 1
            reject = self.max_concurrency is not None and self.in_flight >= self.max_concurrency
            if reject:
                self.rejected_429 += 1
            else:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if reject:
            self._send_error(h, rec, 429, anthropic,
                             "Concurrency limit reached (FakeLLMServer throughput mode).",
                             headers=self._retry_after_headers())
            return
        try:
            req = rec.json if isinstance(rec.json, dict) else {}
            if not isinstance(rec.json, dict):
                self._send_error(h, rec, 400, anthropic, "Request body must be a JSON object.")
                return
            out = self._resolve(self._next_behaviour(), req, sleep=True)
            if out.kind == "drop":
                self._drop(h)
                return
            if out.kind == "status":
                self._send_error(h, rec, out.code, anthropic, out.text, out.body, out.headers)
                return
            if self.latency_s > 0:
                self._stop.wait(self.latency_s)
            if anthropic:
                msg = anthropic_message(req, out, self.prompt_cache)
                if req.get("stream"):
                    self._send_sse(h, rec, [(ev, json.dumps(d)) for ev, d in
                                            anthropic_stream_events(msg, self.stream_chunk_chars)],
                                   anthropic=True)
                else:
                    msg.pop("_stream_json", None)
                    self._send_json(h, rec, 200, msg, self._request_id_headers(True))
            else:
                comp = openai_completion(req, out, self.prompt_cache)
                if req.get("stream"):
                    chunks = openai_stream_chunks(req, comp, self.stream_chunk_chars)
                    events = [(None, json.dumps(c)) for c in chunks] + [(None, "[DONE]")]
                    self._send_sse(h, rec, events, anthropic=False)
                else:
                    self._send_json(h, rec, 200, comp, self._request_id_headers(False))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _send_sse(self, h: _Handler, rec: RecordedRequest, events: list[tuple[str | None, str]],
                  *, anthropic: bool) -> None:
        rec.response_status = 200
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream; charset=utf-8")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        for k, v in self._request_id_headers(anthropic).items():
            h.send_header(k, v)
        h.end_headers()
        for event, data in events:
            text = (f"event: {event}\n" if event else "") + f"data: {data}\n\n"
            raw_bytes = text.encode()
            h.wfile.write(f"{len(raw_bytes):x}\r\n".encode() + raw_bytes + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    # ------------------------------------------------------------------ batches / files
    def _admin_call(self, h: _Handler, rec: RecordedRequest, anthropic: bool) -> None:
        parts = rec.path.strip("/").split("/")
        m = rec.method
        if m == "GET" and parts == ["v1", "models"]:
            return self._send_json(h, rec, 200, {"object": "list", "data": [
                {"id": name, "object": "model", "owned_by": "fake"} for name in self.served_models]})
        # OpenAI files
        if m == "POST" and parts == ["v1", "files"]:
            return self._openai_upload(h, rec)
        if m == "GET" and len(parts) == 3 and parts[:2] == ["v1", "files"]:
            f = self._files.get(parts[2])
            if f is None:
                return self._send_error(h, rec, 404, False, f"No such File object: {parts[2]}")
            return self._send_json(h, rec, 200, self._file_json(f))
        if m == "GET" and len(parts) == 4 and parts[:2] == ["v1", "files"] \
                and parts[3] == "content":
            f = self._files.get(parts[2])
            if f is None:
                return self._send_error(h, rec, 404, False, f"No such File object: {parts[2]}")
            return self._send(h, rec, 200, f.content, "application/octet-stream")
        # OpenAI batches
        if m == "POST" and parts == ["v1", "batches"]:
            return self._openai_batch_create(h, rec)
        if len(parts) >= 3 and parts[:2] == ["v1", "batches"]:
            b = self._batches.get(parts[2])
            if b is None or b.provider != "openai":
                return self._send_error(h, rec, 404, False, f"No batch found with id '{parts[2]}'.")
            if m == "GET" and len(parts) == 3:
                self._poll(b)
                return self._send_json(h, rec, 200, self._openai_batch_json(b))
            if m == "POST" and parts[3:] == ["cancel"]:
                self._cancel(b)
                return self._send_json(h, rec, 200, self._openai_batch_json(b))
        # Anthropic batches
        if m == "POST" and parts == ["v1", "messages", "batches"]:
            return self._anthropic_batch_create(h, rec)
        if len(parts) >= 4 and parts[:3] == ["v1", "messages", "batches"]:
            b = self._batches.get(parts[3])
            if b is None or b.provider != "anthropic":
                return self._send_error(h, rec, 404, True, f"batch {parts[3]} not found")
            if m == "GET" and len(parts) == 4:
                self._poll(b)
                return self._send_json(h, rec, 200, self._anthropic_batch_json(b),
                                       self._request_id_headers(True))
            if m == "POST" and parts[4:] == ["cancel"]:
                self._cancel(b)
                return self._send_json(h, rec, 200, self._anthropic_batch_json(b))
            if m == "GET" and parts[4:] == ["results"]:
                if b.done_at is None:
                    return self._send_error(h, rec, 404, True,
                                            f"Batch {b.id} has not finished processing.")
                payload = "".join(json.dumps(r) + "\n" for r in b.results).encode()
                return self._send(h, rec, 200, payload, "application/x-jsonl")
        return self._send_error(h, rec, 404, anthropic,
                                f"Unknown route {m} {rec.path} (FakeLLMServer)")

    def _file_json(self, f: _FileObj) -> dict[str, Any]:
        return {"id": f.id, "object": "file", "bytes": len(f.content), "created_at": f.created_at,
                "filename": f.filename, "purpose": f.purpose, "status": "processed",
                "expires_at": None, "status_details": None}

    def _store_file(self, filename: str, purpose: str, content: bytes) -> _FileObj:
        f = _FileObj(f"file-{_hex()}", filename, purpose, content, int(time.time()))
        with self._lock:
            self._files[f.id] = f
        return f

    def _openai_upload(self, h: _Handler, rec: RecordedRequest) -> None:
        ctype = rec.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return self._send_error(h, rec, 400, False, "Expected multipart/form-data upload.")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + rec.body)
        fields: dict[str, str] = {}
        filename, content = "upload.jsonl", None
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if name == "file":
                filename = part.get_filename() or filename
                content = data
            elif name:
                fields[str(name)] = data.decode()
        if content is None:
            return self._send_error(h, rec, 400, False, "Missing required parameter: 'file'.")
        purpose = fields.get("purpose", "")
        if purpose not in ("batch", "fine-tune", "assistants", "vision", "user_data", "evals"):
            return self._send_error(h, rec, 400, False, f"Invalid purpose: {purpose!r}.")
        f = self._store_file(filename, purpose, content)
        self._send_json(h, rec, 200, self._file_json(f), self._request_id_headers(False))

    def _answer_line(self, provider: str, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status code, body) for one batch line, via the behaviour machinery."""
        out = self._resolve(self._next_behaviour(), req, sleep=False)
        if out.kind == "drop":
            out = _Outcome("status", code=500, text="Connection dropped (scripted).")
        if out.kind == "status":
            if isinstance(out.body, Mapping):
                return out.code, dict(out.body)
            err = anthropic_error_body if provider == "anthropic" else openai_error_body
            return out.code, err(out.code, out.text)
        if provider == "anthropic":
            msg = anthropic_message(req, out, self.prompt_cache)
            msg.pop("_stream_json", None)
            msg["usage"]["service_tier"] = "batch"
            return 200, msg
        return 200, openai_completion(req, out, self.prompt_cache)

    def _openai_batch_create(self, h: _Handler, rec: RecordedRequest) -> None:
        body = rec.json if isinstance(rec.json, dict) else {}
        f = self._files.get(str(body.get("input_file_id")))
        if f is None:
            return self._send_error(h, rec, 400, False,
                                    f"Invalid input_file_id: {body.get('input_file_id')!r}")
        endpoint = body.get("endpoint", "/v1/chat/completions")
        if endpoint != "/v1/chat/completions":
            return self._send_error(h, rec, 400, False,
                                    f"FakeLLMServer batches only support /v1/chat/completions, "
                                    f"got {endpoint!r}")
        bid = f"batch_{_hex()}"
        results, ok, failed = [], 0, 0
        usage = {"input_tokens": 0, "output_tokens": 0}
        for raw_line in f.content.decode().splitlines():
            if not raw_line.strip():
                continue
            line = json.loads(raw_line)
            line_body = line.get("body") or {}
            cid = str(line.get("custom_id"))
            with self._lock:
                self._batch_lines.append(BatchLine("openai", bid, cid, line_body))
            code, resp = self._answer_line("openai", line_body)
            results.append({
                "id": f"batch_req_{_hex()}", "custom_id": cid,
                "response": {"status_code": code, "request_id": f"req_{_hex()}", "body": resp},
                "error": None,
            })
            if code == 200:
                ok += 1
                usage["input_tokens"] += resp["usage"]["prompt_tokens"]
                usage["output_tokens"] += resp["usage"]["completion_tokens"]
            else:
                failed += 1
        b = _Batch("openai", bid, time.time(), len(results), results, ok, failed,
                   input_file_id=f.id, endpoint=endpoint,
                   completion_window=body.get("completion_window", "24h"),
                   metadata=body.get("metadata"), usage=usage)
        with self._lock:
            self._batches[bid] = b
        if self.batch_polls_until_done <= 0:
            self._finish(b)
        self._send_json(h, rec, 200, self._openai_batch_json(b), self._request_id_headers(False))

    def _anthropic_batch_create(self, h: _Handler, rec: RecordedRequest) -> None:
        body = rec.json if isinstance(rec.json, dict) else {}
        reqs = body.get("requests")
        if not isinstance(reqs, list) or not reqs:
            return self._send_error(h, rec, 400, True, "requests: must be a non-empty list")
        bid = f"msgbatch_{_hex()}"
        results, ok, failed = [], 0, 0
        for item in reqs:
            cid = str(item.get("custom_id"))
            params = item.get("params") or {}
            with self._lock:
                self._batch_lines.append(BatchLine("anthropic", bid, cid, params))
            code, resp = self._answer_line("anthropic", params)
            if code == 200:
                ok += 1
                results.append({"custom_id": cid, "result": {"type": "succeeded", "message": resp}})
            else:
                failed += 1
                results.append({"custom_id": cid, "result": {"type": "errored", "error": resp}})
        b = _Batch("anthropic", bid, time.time(), len(results), results, ok, failed)
        with self._lock:
            self._batches[bid] = b
        if self.batch_polls_until_done <= 0:
            self._finish(b)
        self._send_json(h, rec, 200, self._anthropic_batch_json(b), self._request_id_headers(True))

    def _poll(self, b: _Batch) -> None:
        with self._lock:
            b.polls += 1
            due = b.done_at is None and b.polls >= self.batch_polls_until_done
        if due:
            self._finish(b)

    def _cancel(self, b: _Batch) -> None:
        with self._lock:
            if b.done_at is None:
                b.cancelled_at = time.time()
                b.done_at = b.cancelled_at
                # nothing ran: every line becomes canceled
                b.succeeded = b.failed = 0
                if b.provider == "anthropic":
                    b.results = [{"custom_id": r["custom_id"], "result": {"type": "canceled"}}
                                 for r in b.results]
                else:
                    b.results = []

    def _finish(self, b: _Batch) -> None:
        with self._lock:
            if b.done_at is not None:
                return
            b.done_at = time.time()
        if b.provider == "openai":
            ok_lines = [r for r in b.results if r["response"]["status_code"] == 200]
            bad_lines = [r for r in b.results if r["response"]["status_code"] != 200]
            if ok_lines:
                b.output_file_id = self._store_file(
                    f"{b.id}_output.jsonl", "batch_output",
                    "".join(json.dumps(r) + "\n" for r in ok_lines).encode()).id
            if bad_lines:
                b.error_file_id = self._store_file(
                    f"{b.id}_error.jsonl", "batch_output",
                    "".join(json.dumps(r) + "\n" for r in bad_lines).encode()).id

    def _openai_batch_json(self, b: _Batch) -> dict[str, Any]:
        created = int(b.created_at)
        if b.cancelled_at is not None:
            state = "cancelled"
        elif b.done_at is not None:
            state = "completed"
        else:
            state = "validating" if b.polls == 0 else "in_progress"
        done = b.done_at is not None and b.cancelled_at is None
        usage = None
        if done:
            usage = {
                "input_tokens": b.usage.get("input_tokens", 0),
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": b.usage.get("output_tokens", 0),
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": b.usage.get("input_tokens", 0) + b.usage.get("output_tokens", 0),
            }
        return {
            "id": b.id, "object": "batch", "endpoint": b.endpoint, "errors": None,
            "input_file_id": b.input_file_id, "completion_window": b.completion_window,
            "status": state,
            "output_file_id": b.output_file_id, "error_file_id": b.error_file_id,
            "created_at": created,
            "in_progress_at": created if b.polls > 0 or b.done_at else None,
            "expires_at": created + 86400,
            "finalizing_at": int(b.done_at) if done else None,
            "completed_at": int(b.done_at) if done else None,
            "failed_at": None, "expired_at": None,
            "cancelling_at": int(b.cancelled_at) if b.cancelled_at else None,
            "cancelled_at": int(b.cancelled_at) if b.cancelled_at else None,
            "request_counts": {
                "total": b.total,
                "completed": b.succeeded if b.done_at else 0,
                "failed": b.failed if b.done_at else 0,
            },
            "metadata": b.metadata,
            "usage": usage,
        }

    def _anthropic_batch_json(self, b: _Batch) -> dict[str, Any]:
        ended = b.done_at is not None
        canceled = b.total if b.cancelled_at is not None else 0
        return {
            "id": b.id, "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else b.total,
                "succeeded": b.succeeded if ended else 0,
                "errored": b.failed if ended else 0,
                "canceled": canceled,
                "expired": 0,
            },
            "created_at": _iso(b.created_at),
            "expires_at": _iso(b.created_at + 86400),
            "ended_at": _iso(b.done_at) if b.done_at else None,
            "cancel_initiated_at": _iso(b.cancelled_at) if b.cancelled_at else None,
            "archived_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{b.id}/results" if ended else None,
        }


# --------------------------------------------------------------------------------- CLI

_NAMED_HANDLERS: dict[str, Callable[[dict[str, Any]], Any]] = {"echo": echo_object}


def _load_handler(name: str) -> Callable[[dict[str, Any]], Any]:
    if name in _NAMED_HANDLERS:
        return _NAMED_HANDLERS[name]
    if ":" in name:
        mod, _, attr = name.partition(":")
        return getattr(importlib.import_module(mod), attr)
    raise SystemExit(f"unknown handler {name!r}: use 'echo' or 'package.module:function'")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--retry-after", default="1", help="seconds (may be fractional) for 429s")
    p.add_argument("--batch-polls-until-done", type=int, default=1)
    p.add_argument("--echo-handler", default="echo",
                   help="'echo' (empty-but-valid object) or 'package.module:function'")
    args = p.parse_args(argv)

    srv = FakeLLMServer(
        host=args.host, port=args.port, default=handler(_load_handler(args.echo_handler)),
        latency_s=args.latency_ms / 1000.0, max_concurrency=args.max_concurrency,
        retry_after=args.retry_after, batch_polls_until_done=args.batch_polls_until_done,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with srv:
        print(srv.url, flush=True)
        while not done.wait(0.2):
            pass
        print(json.dumps({"calls": srv.calls, "rejected_429": srv.rejected_429,
                          "max_in_flight": srv.max_in_flight}), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
