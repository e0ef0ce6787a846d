"""Drive the REAL openai / anthropic SDKs and instructor against tests.fakes.llm_server.

Only the transport is local; every reply is scripted test data.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path

import anthropic
import instructor
import openai
import pytest
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, Field

from tests.fakes.llm_server import (
    FakeLLMServer,
    delay,
    drop,
    handler,
    malformed,
    minimal_instance,
    raw,
    reply,
    status,
    truncated,
)

ROOT = Path(__file__).resolve().parents[1]


class Evidence(BaseModel):
    quote: str
    strength: int


class Level(StrEnum):
    low = "low"
    high = "high"


class Finding(BaseModel):
    title: str
    level: Level
    quotes: list[str]
    note: str | None = None
    evidence: Evidence
    count: int = Field(ge=3)


USER_MSG = [{"role": "user", "content": "Packet text: 'Shipped the eval harness in Q3.'"}]

# `srv`, the fake server with its default answers, is a fixture of tests/conftest.py.


@pytest.fixture
async def oai(srv: FakeLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=srv.openai_base_url, api_key="test", max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def ant(srv: FakeLLMServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=srv.anthropic_base_url, api_key="test", max_retries=0
    ) as client:
        yield client


# ----------------------------------------------------------------- structured parsing


async def test_openai_tools_mode_parses_and_records(srv, oai):
    client = instructor.from_openai(oai, mode=instructor.Mode.TOOLS)
    srv.script([reply({"quote": "Shipped the eval harness", "strength": 4})])

    ev, completion = await client.create_with_completion(
        model="gpt-test", response_model=Evidence, messages=USER_MSG
    )

    # compare dumps: instructor attaches a private _raw_response, which breaks BaseModel ==
    assert ev.model_dump() == {"quote": "Shipped the eval harness", "strength": 4}
    assert ev._raw_response is completion
    assert completion.model == "gpt-test"
    assert completion.choices[0].message.tool_calls[0].function.name == "Evidence"
    # usage ~ len(request text)/4 and len(arguments)/4
    assert completion.usage.completion_tokens == -(-len(json.dumps(ev.model_dump())) // 4)
    assert 10 <= completion.usage.prompt_tokens <= 200
    [req] = srv.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == "Bearer test"
    assert req.json["messages"] == USER_MSG
    assert req.json["tool_choice"] == {"type": "function", "function": {"name": "Evidence"}}
    assert req.json["tools"][0]["function"]["parameters"]["required"] == ["quote", "strength"]
    assert req.response_status == 200


async def test_openai_json_schema_mode(srv, oai):
    client = instructor.from_openai(oai, mode=instructor.Mode.JSON_SCHEMA)
    srv.script([reply({"quote": "eval harness", "strength": 2})])

    ev = await client.create(model="gpt-test", response_model=Evidence, messages=USER_MSG)

    assert ev.model_dump() == {"quote": "eval harness", "strength": 2}
    body = srv.requests[0].json
    assert "tools" not in body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "Evidence"


async def test_anthropic_tools_mode(srv, ant):
    client = instructor.from_anthropic(ant)
    srv.script([reply({"quote": "Q3", "strength": 5})])

    ev, msg = await client.create_with_completion(
        model="claude-test", max_tokens=256, response_model=Evidence,
        messages=[{"role": "system", "content": "Be exact."}, *USER_MSG],
    )

    assert ev.model_dump() == {"quote": "Q3", "strength": 5}
    assert msg.stop_reason == "tool_use"
    assert msg.content[0].type == "tool_use" and msg.content[0].input == ev.model_dump()
    assert msg.model == "claude-test" and msg.usage.output_tokens >= 1
    [req] = srv.requests
    assert req.path == "/v1/messages"
    # anthropic 2.x sends the api key as a Bearer token, not x-api-key
    assert req.headers["authorization"] == "Bearer test" and "anthropic-version" in req.headers
    assert req.json["messages"] == USER_MSG  # instructor moves system out of messages
    assert req.json["system"] == [{"type": "text", "text": "Be exact."}]
    assert req.json["tool_choice"]["name"] == "Evidence"
    assert req.json["tools"][0]["input_schema"]["required"] == ["quote", "strength"]


async def test_handler_answers_from_prompt(srv, oai, ant):
    def quote_back(body: dict) -> dict:
        text = body["messages"][-1]["content"]
        return {"quote": text.split("'")[1], "strength": len(body["messages"])}

    srv.script([handler(quote_back), handler(quote_back)])
    o = await instructor.from_openai(oai).create(
        model="m", response_model=Evidence, messages=USER_MSG)
    a = await instructor.from_anthropic(ant).create(
        model="m", max_tokens=64, response_model=Evidence, messages=USER_MSG)

    want = {"quote": "Shipped the eval harness in Q3.", "strength": 1}
    assert o.model_dump() == a.model_dump() == want
    assert o.quote in srv.requests[0].json["messages"][0]["content"]


async def test_default_echo_is_schema_valid_and_default_is_configurable(srv, oai, ant):
    # nothing scripted: the default "echo" builds the smallest schema-valid object
    f1 = await instructor.from_openai(oai).create(
        model="m", response_model=Finding, messages=USER_MSG)
    f2 = await instructor.from_anthropic(ant).create(
        model="m", max_tokens=64, response_model=Finding, messages=USER_MSG)
    expected = Finding(title="", level=Level.low, quotes=[], note=None,
                       evidence=Evidence(quote="", strength=0), count=3)
    assert f1.model_dump() == f2.model_dump() == expected.model_dump()
    assert minimal_instance({"type": "string", "minLength": 2}) == "xx"

    srv.set_default(status(503))
    with pytest.raises(openai.InternalServerError):
        await oai.chat.completions.create(model="m", messages=USER_MSG)


async def test_raw_content_and_tool_override(srv, oai):
    srv.script([raw("not json at all"), reply({"a": 1}, tool="Other")])
    r1 = await oai.chat.completions.create(model="m", messages=USER_MSG)
    r2 = await oai.chat.completions.create(
        model="m", messages=USER_MSG,
        tools=[{"type": "function", "function": {"name": "F", "parameters": {}}}],
    )
    assert r1.choices[0].message.content == "not json at all"
    assert r2.choices[0].finish_reason == "tool_calls"  # tool_choice not forced
    assert r2.choices[0].message.tool_calls[0].function.name == "Other"


# ----------------------------------------------------------------- errors and retries


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("retry_after", ["0.05", "0.6"])
async def test_429_retry_after_is_honoured_by_sdk(srv, provider, retry_after, monkeypatch):
    # The SDK's own backoff would be a jittered 0.375-0.5 s: a wait of exactly the header's
    # value, shorter and longer than that, proves the header is used.
    import anyio

    waits: list[float] = []
    real_sleep = anyio.sleep

    async def recording_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(anyio, "sleep", recording_sleep)
    srv.script([status(429, headers={"retry-after": retry_after}), reply({"ok": True})])
    if provider == "openai":
        async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t",
                                      max_retries=1) as c:
            r = await c.chat.completions.create(model="m", messages=USER_MSG)
        assert json.loads(r.choices[0].message.content) == {"ok": True}
    else:
        async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="t",
                                            max_retries=1) as c:
            r = await c.messages.create(model="m", max_tokens=8, messages=USER_MSG)
        assert json.loads(r.content[0].text) == {"ok": True}
    assert waits == [float(retry_after)]
    assert [q.response_status for q in srv.requests] == [429, 200]
    assert srv.requests[1].headers.get("x-stainless-retry-count") == "1"


@pytest.mark.parametrize(
    ("code", "oai_exc", "ant_exc", "oai_type", "ant_type"),
    [
        (500, openai.InternalServerError, anthropic.InternalServerError, "server_error",
         "api_error"),
        (401, openai.AuthenticationError, anthropic.AuthenticationError,
         "invalid_request_error", "authentication_error"),
    ],
)
async def test_status_maps_to_sdk_exceptions(srv, oai, ant, code, oai_exc, ant_exc, oai_type,
                                             ant_type):
    srv.script([status(code), status(code)])
    with pytest.raises(oai_exc) as ei:
        await oai.chat.completions.create(model="m", messages=USER_MSG)
    assert ei.value.status_code == code and ei.value.body["type"] == oai_type
    with pytest.raises(ant_exc) as ea:
        await ant.messages.create(model="m", max_tokens=8, messages=USER_MSG)
    assert ea.value.status_code == code and ea.value.body["error"]["type"] == ant_type


async def test_status_custom_body_and_headers(srv, oai):
    srv.script([status(400, body={"error": {"message": "bad schema", "type": "x", "code": "c"}},
                       headers={"x-custom": "1"})])
    with pytest.raises(openai.BadRequestError) as ei:
        await oai.chat.completions.create(model="m", messages=USER_MSG)
    assert ei.value.message.endswith("bad schema") and ei.value.code == "c"
    assert ei.value.response.headers["x-custom"] == "1"


async def test_instructor_wraps_api_errors_in_retry_exception(srv, oai):
    srv.script([status(401)])
    with pytest.raises(InstructorRetryException) as ei:
        await instructor.from_openai(oai).create(
            model="m", response_model=Evidence, messages=USER_MSG)
    assert isinstance(ei.value.__cause__, openai.AuthenticationError)
    assert len(srv.requests) == 1  # API errors are not re-asked


async def test_delay_with_short_client_timeout(srv):
    # Far longer than the client waits; stopping the server cuts the delays short.
    srv.script([delay(60.0, then=reply({"late": 1})), delay(60.0)])
    async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t", max_retries=0,
                                  timeout=0.25) as c:
        with pytest.raises(openai.APITimeoutError):
            await c.chat.completions.create(model="m", messages=USER_MSG)
    async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="t",
                                        max_retries=0, timeout=0.25) as c:
        with pytest.raises(anthropic.APITimeoutError):
            await c.messages.create(model="m", max_tokens=8, messages=USER_MSG)
    # Both clients gave up while the server was still holding their requests.
    assert [q.response_status for q in srv.requests] == [None, None]


async def test_delay_then_answers(srv, oai):
    srv.script([delay(1.0, then={"x": 1})])
    pending = asyncio.create_task(oai.chat.completions.create(model="m", messages=USER_MSG))
    while srv.in_flight == 0 and not pending.done():
        await asyncio.sleep(0.005)
    # Received and held: in flight, unanswered, the client still waiting.
    assert srv.in_flight == 1 and srv.requests[0].response_status is None
    assert not pending.done()
    r = await pending
    assert json.loads(r.choices[0].message.content) == {"x": 1}
    assert srv.requests[0].response_status == 200


async def test_drop_is_a_connection_error(srv, oai, ant):
    srv.script([drop(), drop(), reply({"after": "drop"})])
    with pytest.raises(openai.APIConnectionError):
        await oai.chat.completions.create(model="m", messages=USER_MSG)
    with pytest.raises(anthropic.APIConnectionError):
        await ant.messages.create(model="m", max_tokens=8, messages=USER_MSG)
    r = await oai.chat.completions.create(model="m", messages=USER_MSG)  # server still fine
    assert json.loads(r.choices[0].message.content) == {"after": "drop"}
    assert [q.response_status for q in srv.requests] == [None, None, 200]


async def test_truncated_reports_length_and_instructor_raises(srv, oai, ant):
    obj = {"quote": "a long quote that gets cut", "strength": 3}
    srv.script([truncated(obj), truncated(obj), truncated(obj), truncated(obj)])

    r = await oai.chat.completions.create(
        model="m", messages=USER_MSG,
        tools=[{"type": "function", "function": {"name": "Evidence", "parameters": {}}}])
    assert r.choices[0].finish_reason == "length"
    args = r.choices[0].message.tool_calls[0].function.arguments
    assert json.dumps(obj).startswith(args) and args != json.dumps(obj)
    with pytest.raises(json.JSONDecodeError):
        json.loads(args)

    m = await ant.messages.create(model="m", max_tokens=8, messages=USER_MSG)
    assert m.stop_reason == "max_tokens" and m.content[0].text == args

    with pytest.raises(IncompleteOutputException):
        await instructor.from_openai(oai).create(
            model="m", response_model=Evidence, messages=USER_MSG)
    with pytest.raises(IncompleteOutputException):
        await instructor.from_anthropic(ant).create(
            model="m", max_tokens=8, response_model=Evidence, messages=USER_MSG)


async def test_malformed_raises_then_reasks(srv, oai, ant):
    client = instructor.from_openai(oai)
    srv.script([malformed()])
    with pytest.raises(InstructorRetryException) as ei:
        await client.create(model="m", response_model=Evidence, messages=USER_MSG,
                            max_retries=0)
    assert "json_invalid" in str(ei.value)

    # with one retry instructor re-asks, sending the validation error back as a tool message
    srv.reset()
    srv.script([malformed(), reply({"quote": "fixed", "strength": 1})])
    ev = await client.create(model="m", response_model=Evidence, messages=USER_MSG,
                             max_retries=1)
    assert ev.quote == "fixed"
    first, second = srv.requests
    assert first.json["messages"] == USER_MSG
    tool_msg = second.json["messages"][-1]
    assert tool_msg["role"] == "tool" and "Validation Error" in tool_msg["content"]
    assert tool_msg["tool_call_id"] == second.json["messages"][1]["tool_calls"][0]["id"]

    # anthropic: malformed = no tool_use block, text is not JSON -> re-ask without tool
    srv.script([malformed(), reply({"quote": "fixed2", "strength": 2})])
    ev2 = await instructor.from_anthropic(ant).create(
        model="m", max_tokens=64, response_model=Evidence, messages=USER_MSG, max_retries=1)
    assert ev2.quote == "fixed2"
    reask = srv.requests[-1].json["messages"][-1]
    assert "no tool invocation" in reask["content"]


async def test_handler_exception_becomes_500_and_is_recorded(srv, oai):
    def boom(_body: dict) -> dict:
        raise KeyError("missing")

    srv.script([handler(boom), handler(lambda b: status(409))])
    with pytest.raises(openai.InternalServerError):
        await oai.chat.completions.create(model="m", messages=USER_MSG)
    with pytest.raises(openai.ConflictError):
        await oai.chat.completions.create(model="m", messages=USER_MSG)
    assert len(srv.errors) == 1 and "KeyError" in srv.errors[0]


async def test_unknown_route_is_provider_shaped_404(oai):
    with pytest.raises(openai.NotFoundError):
        await oai.models.retrieve("gpt-whatever")


# ----------------------------------------------------------------- streaming


async def test_openai_and_anthropic_streams(srv, oai, ant):
    obj = {"quote": "streamed quote", "strength": 9}
    srv.script([reply(obj), reply(obj)])
    stream = await oai.chat.completions.create(
        model="m", messages=USER_MSG, stream=True, stream_options={"include_usage": True},
        tools=[{"type": "function", "function": {"name": "Evidence", "parameters": {}}}],
        tool_choice={"type": "function", "function": {"name": "Evidence"}})
    chunks = [c async for c in stream]
    args = "".join(c.choices[0].delta.tool_calls[0].function.arguments or ""
                   for c in chunks if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(args) == obj and len(chunks) > 3
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-1].usage.total_tokens > 0

    events = [e async for e in await ant.messages.create(
        model="m", max_tokens=64, messages=USER_MSG, stream=True,
        tools=[{"name": "Evidence", "input_schema": {"type": "object"}}])]
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    partial = "".join(e.delta.partial_json for e in events
                      if e.type == "content_block_delta")
    assert json.loads(partial) == obj
    assert events[-2].delta.stop_reason == "tool_use"


# ----------------------------------------------------------------- throughput mode


async def test_throughput_mode_rejects_above_cap():
    with FakeLLMServer(latency_s=0.3, max_concurrency=2, retry_after="0.05") as srv:
        async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t",
                                      max_retries=0) as c:
            results = await asyncio.gather(
                *[c.chat.completions.create(model="m", messages=USER_MSG) for _ in range(6)],
                return_exceptions=True)
        errors = [r for r in results if isinstance(r, Exception)]
        assert errors and all(isinstance(e, openai.RateLimitError) for e in errors)
        assert len(errors) == srv.rejected_429 == 4
        assert srv.calls == 6 and srv.max_in_flight == 2 and srv.in_flight == 0
        hdrs = errors[0].response.headers
        assert hdrs["retry-after"] == "0.05" and hdrs["retry-after-ms"] == "50"


async def test_throughput_mode_with_sdk_retries_all_succeed():
    with FakeLLMServer(latency_s=0.05, max_concurrency=4, retry_after=0.02) as srv:
        async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="t",
                                            max_retries=30) as c:
            results = await asyncio.gather(*[
                c.messages.create(model="m", max_tokens=8, messages=USER_MSG)
                for _ in range(20)])
        assert len(results) == 20 and all(r.stop_reason == "end_turn" for r in results)
        assert srv.rejected_429 > 0 and srv.max_in_flight <= 4
        assert srv.calls == 20 + srv.rejected_429


async def test_hundreds_of_concurrent_requests():
    with FakeLLMServer(latency_s=0.25) as srv:
        async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t",
                                      max_retries=0) as c:
            results = await asyncio.gather(*[
                c.chat.completions.create(model="m", messages=USER_MSG) for _ in range(200)])
        assert len(results) == 200 and srv.calls == 200
        # Actually concurrent, not serialised: at least 50 requests held at once by the server.
        assert srv.max_in_flight >= 50


# ----------------------------------------------------------------- batch APIs


async def test_openai_batch_roundtrip(tmp_path):
    with FakeLLMServer(batch_polls_until_done=2) as srv:
        async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t",
                                      max_retries=0) as c:
            lines = [{"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"model": "gpt-test",
                               "messages": [{"role": "user", "content": f"item {i}"}]}}
                     for i in range(3)]
            path = tmp_path / "batch.jsonl"
            path.write_text("".join(json.dumps(x) + "\n" for x in lines))
            srv.set_default(handler(lambda b: {"echo": b["messages"][0]["content"]}))
            srv.script([status(400)])  # first line fails, the rest use the handler

            with path.open("rb") as fh:
                f = await c.files.create(file=fh, purpose="batch")
            assert f.filename == "batch.jsonl" and f.bytes == path.stat().st_size
            b = await c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                                       completion_window="24h")
            assert b.status == "validating" and b.output_file_id is None
            b = await c.batches.retrieve(b.id)
            assert b.status == "in_progress"
            b = await c.batches.retrieve(b.id)
            assert b.status == "completed"
            assert (b.request_counts.total, b.request_counts.completed,
                    b.request_counts.failed) == (3, 2, 1)

            out = (await c.files.content(b.output_file_id)).text.splitlines()
            err = (await c.files.content(b.error_file_id)).text.splitlines()
    got = {}
    for line in out:
        rec = json.loads(line)
        comp = openai.types.chat.ChatCompletion.model_validate(rec["response"]["body"])
        got[rec["custom_id"]] = json.loads(comp.choices[0].message.content)
    assert got == {"req-1": {"echo": "item 1"}, "req-2": {"echo": "item 2"}}
    [bad] = [json.loads(x) for x in err]
    assert bad["custom_id"] == "req-0" and bad["response"]["status_code"] == 400
    assert [x.custom_id for x in srv.batch_lines] == ["req-0", "req-1", "req-2"]
    assert srv.batch_lines[1].json == lines[1]["body"]
    multipart = srv.requests_to("/v1/files")[0]
    assert multipart.headers["content-type"].startswith("multipart/form-data")
    assert b"item 2" in multipart.body and multipart.json is None


async def test_anthropic_batch_roundtrip():
    with FakeLLMServer(batch_polls_until_done=1) as srv:
        srv.script([reply({"quote": "one", "strength": 1}), status(529)])
        tool = {"name": "Evidence", "input_schema": Evidence.model_json_schema()}
        async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="t",
                                            max_retries=0) as c:
            b = await c.messages.batches.create(requests=[
                {"custom_id": f"c{i}", "params": {
                    "model": "claude-test", "max_tokens": 64, "tools": [tool],
                    "tool_choice": {"type": "tool", "name": "Evidence"},
                    "messages": [{"role": "user", "content": f"doc {i}"}]}}
                for i in range(3)])
            assert b.processing_status == "in_progress" and b.request_counts.processing == 3
            assert b.results_url is None
            b = await c.messages.batches.retrieve(b.id)
            assert b.processing_status == "ended"
            assert (b.request_counts.succeeded, b.request_counts.errored) == (2, 1)
            assert b.results_url.startswith(srv.anthropic_base_url)
            results = {r.custom_id: r.result async for r in await c.messages.batches.results(b.id)}

    assert results["c0"].type == "succeeded"
    assert Evidence(**results["c0"].message.content[0].input) == Evidence(quote="one", strength=1)
    assert results["c1"].type == "errored" and results["c1"].error.error.type == "overloaded_error"
    # third line fell through to the default echo: schema-valid minimal object
    assert results["c2"].message.content[0].input == {"quote": "", "strength": 0}
    assert results["c2"].message.usage.service_tier == "batch"


# ----------------------------------------------------------------- command line


def test_cli_entry_point_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--port", "0", "--latency-ms", "20",
         "--max-concurrency", "8", "--echo-handler", "echo"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with openai.OpenAI(base_url=url + "/v1", api_key="t", max_retries=0) as c:
            r = c.chat.completions.create(
                model="m", messages=USER_MSG,
                tools=[{"type": "function", "function": {
                    "name": "Evidence", "parameters": Evidence.model_json_schema()}}])
        assert json.loads(r.choices[0].message.tool_calls[0].function.arguments) == {
            "quote": "", "strength": 0}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert json.loads(err.strip().splitlines()[-1])["calls"] == 1


def test_the_openai_prompt_cache_model_reports_the_longest_shared_prefix_in_whole_steps():
    """Against the definition written out: the longest common prefix with any earlier
    request, in whole 128-token steps (4 characters a token), nothing under 1,024 tokens.
    The prefix is the request's strings in order, so here "user" and then the content."""
    import os
    import random

    from tests.fakes.llm_server import PromptCache

    rng = random.Random(7)
    base = "".join(rng.choice("abcdefgh ") for _ in range(9000))
    cache, seen = PromptCache(), []
    for i in range(60):
        cut = rng.randrange(0, len(base))
        text = base[:cut] + "".join(rng.choice("xyz") for _ in range(rng.randrange(0, 3000)))
        req = {"messages": [{"role": "user", "content": text}]}
        common = max((len(os.path.commonprefix(["user" + text, p])) for p in seen), default=0)
        tokens = common // 4 // 128 * 128
        expected = tokens if tokens >= PromptCache.MIN_TOKENS else 0
        assert cache.openai(req) == expected, (i, cut, common)
        seen.append("user" + text)
    assert cache.openai({"messages": [{"role": "user", "content": base}]}) >= 2048
