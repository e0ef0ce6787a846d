"""Prove instructor 1.17 still parses correctly with the overridden jiter>=0.16.

instructor 1.17 declares ``jiter<0.15``; pyproject.toml overrides it with ``jiter>=0.16``
(``[tool.uv] override-dependencies``) because openai>=2 needs the newer jiter. instructor's
only jiter calls are ``jiter.from_json(bytes)`` (strict, raising ValueError when incomplete)
and ``jiter.from_json(bytes, partial_mode="trailing-strings")`` in
``instructor/v2/dsl/{partial,json_tracker}.py`` -- the Partial[...] streaming machinery.
These tests pin the exact semantics instructor relies on and run them end to end through
the real SDKs against the local fake server (scripted data, never a model's output).
"""

from __future__ import annotations

import importlib.metadata as md
import json
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import anthropic
import instructor
import jiter
import openai
import pytest
from instructor import Partial
from instructor.v2.dsl import partial as instructor_partial
from instructor.v2.dsl.json_tracker import JsonCompleteness, is_json_complete
from pydantic import BaseModel, Field, ValidationError

from tests.fakes.llm_server import FakeLLMServer, reply

ROOT = Path(__file__).resolve().parents[1]


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


class Claim(BaseModel):
    quote: str
    strength: int = Field(ge=1, le=5)


class Packet(BaseModel):
    name: str
    level: Literal["junior", "senior"]
    claims: list[Claim]


PACKET = {
    "name": "Ada Lovelace",
    "level": "senior",
    "claims": [
        {"quote": "built the evaluation harness", "strength": 4},
        {"quote": "led the on-call rotation", "strength": 3},
    ],
}
PACKET_JSON = json.dumps(PACKET)
MESSAGES = [{"role": "user", "content": "Extract the packet."}]


# ----------------------------------------------------------------- the override itself


def test_installed_versions_are_the_overridden_ones():
    jiter_version = md.version("jiter")
    assert _version_tuple(jiter_version) >= (0, 16, 0)
    assert jiter.__version__ == jiter_version  # the module imported is the installed dist
    assert md.version("instructor").startswith("1.17.")
    # instructor really does pin jiter<0.15, i.e. the override is doing something
    jiter_reqs = [r for r in md.requires("instructor") or [] if r.startswith("jiter")]
    assert jiter_reqs and "<0.15" in jiter_reqs[0]
    # instructor's partial parser uses this very jiter function
    assert instructor_partial.from_json is jiter.from_json


def test_pyproject_and_lock_agree_with_environment():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "jiter>=0.16" in pyproject["tool"]["uv"]["override-dependencies"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    [locked] = [p for p in lock["package"] if p["name"] == "jiter"]
    assert locked["version"] == md.version("jiter")


# ----------------------------------------------------------------- jiter semantics used


@pytest.mark.parametrize(
    ("text", "trailing", "strict_ok"),
    [
        (b'{"a": "hel', {"a": "hel"}, False),
        (b'{"a": "hello", "b": [1, 2', {"a": "hello", "b": [1, 2]}, False),
        (b'{"a": "x", "b": {"c": tru', {"a": "x", "b": {}}, False),
        (b'{"a": "x", "b": {"c": true}}', {"a": "x", "b": {"c": True}}, True),
        (b"   ", None, False),
    ],
)
def test_jiter_from_json_modes_instructor_relies_on(text, trailing, strict_ok):
    if trailing is None:
        with pytest.raises(ValueError):
            jiter.from_json(text, partial_mode="trailing-strings")
    else:
        assert jiter.from_json(text, partial_mode="trailing-strings") == trailing
    if strict_ok:
        assert jiter.from_json(text) == trailing
    else:
        # is_json_complete() catches exactly ValueError; anything else would escape
        with pytest.raises(ValueError):
            jiter.from_json(text)
    # "on" mode drops an unfinished trailing string -- instructor deliberately avoids it
    assert jiter.from_json(b'{"a": "hel', partial_mode="on") == {}


def test_json_completeness_tracker():
    assert is_json_complete(PACKET_JSON)
    assert not is_json_complete(PACKET_JSON[:-1])
    assert not is_json_complete("")
    t = JsonCompleteness()
    t.analyze('{"name": "Ada", "claims": [{"quote": "a", "strength": 4}, {"quote": "b')
    assert t.is_path_complete("name")
    assert t.is_path_complete("claims[0]") and t.is_path_complete("claims[0].strength")
    assert not t.is_path_complete("claims[1]") and not t.is_root_complete()
    t.analyze(PACKET_JSON)
    assert t.is_root_complete() and t.is_path_complete("claims[1].quote")


def test_partial_model_from_chunks():
    chunks = [PACKET_JSON[i: i + 7] for i in range(0, len(PACKET_JSON), 7)]
    objs = list(Partial[Packet].model_from_chunks(iter(chunks)))

    assert len(objs) == len(chunks)
    assert objs[-1].model_dump() == PACKET
    names = [o.name for o in objs if o.name]
    # trailing-strings mode: unfinished strings are surfaced as growing prefixes
    assert names[0] != PACKET["name"] and PACKET["name"].startswith(names[0])
    claim_counts = [len(o.claims or []) for o in objs]
    assert claim_counts == sorted(claim_counts) and claim_counts[-1] == 2
    # an unfinished Literal is kept as-is, not validated mid-stream
    lvl = list(Partial[Packet].model_from_chunks(iter(['{"name": "x", "level": "sen'])))
    assert lvl[-1].level == "sen"


def test_partial_final_validation_rejects_bad_complete_json():
    bad = json.dumps({**PACKET, "claims": [{"quote": "q", "strength": 9}]})
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        list(Partial[Packet].model_from_chunks(iter([bad[:20], bad[20:]])))
    # the same JSON cut off mid-stream is not validated (still incomplete)
    objs = list(Partial[Packet].model_from_chunks(iter([bad[:-3]])))
    assert objs[-1].claims[0].strength == 9


# ----------------------------------------------------------------- end to end via SDKs


@pytest.fixture
def srv():
    with FakeLLMServer(stream_chunk_chars=5) as server:
        yield server


@pytest.fixture
async def oai(srv) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="t",
                                  max_retries=0) as c:
        yield c


@pytest.fixture
async def ant(srv) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=srv.anthropic_base_url, api_key="t",
                                        max_retries=0) as c:
        yield c


async def test_full_tool_call_parse_through_fake_server(srv, oai):
    srv.script([reply(PACKET)])
    packet = await instructor.from_openai(oai, mode=instructor.Mode.TOOLS).create(
        model="gpt-test", response_model=Packet, messages=MESSAGES)
    assert packet.model_dump() == PACKET
    assert srv.requests[0].json["tools"][0]["function"]["name"] == "Packet"


def _assert_progressive(partials: list[Packet]) -> None:
    assert len(partials) > 10
    assert partials[-1].model_dump() == PACKET
    quotes = [p.claims[0].quote for p in partials if p.claims and p.claims[0].quote]
    final = PACKET["claims"][0]["quote"]
    assert any(q != final and final.startswith(q) for q in quotes)  # saw a growing prefix


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA])
async def test_openai_streamed_partial(srv, oai, mode):
    srv.script([reply(PACKET)])
    client = instructor.from_openai(oai, mode=mode)
    partials = [p async for p in client.create_partial(
        model="gpt-test", response_model=Packet, messages=MESSAGES)]
    _assert_progressive(partials)
    assert srv.requests[0].json["stream"] is True


async def test_anthropic_streamed_partial(srv, ant):
    srv.script([reply(PACKET)])
    client = instructor.from_anthropic(ant)
    partials = [p async for p in client.create_partial(
        model="claude-test", max_tokens=512, response_model=Packet, messages=MESSAGES)]
    _assert_progressive(partials)
    assert srv.requests[0].json["stream"] is True
