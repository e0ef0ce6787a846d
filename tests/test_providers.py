"""Model strings, error classification, Retry-After, backoff, the rate gate, key hygiene.

Exceptions are the real SDK classes (openai / anthropic, built on ``httpx2``) constructed
around real ``httpx2.Response`` objects, as the SDKs raise them.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from instructor.core import InstructorRetryException

from packet_eval.api import assess_async
from packet_eval.errors import ConfigError, ProviderError
from packet_eval.providers import (
    ModelSpec,
    RateGate,
    RetryPolicy,
    describe,
    is_retryable,
    parse_model,
    provider_error,
    retry_after_s,
    root_cause,
)
from packet_eval.store import Store
from tests.fakes.llm_server import (
    FakeLLMServer,
    anthropic_error_body,
    openai_error_body,
    status,
)

ROOT = Path(__file__).resolve().parent.parent
# Built at run time so no key-shaped literal is committed.
KEY = "sk" + "-test-RECOGNISABLE-4f7c2a9e1b"
ANT_KEY = "sk" + "-ant-test-RECOGNISABLE-93d1"
REQ = httpx2.Request("POST", "https://provider.invalid/v1/chat/completions")


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANT_KEY)
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "PACKET_EVAL_MODEL"):
        monkeypatch.delenv(var, raising=False)


def status_error(cls: type, code: int, message: str = "scripted",
                 headers: dict[str, str] | None = None) -> Exception:
    body = {"error": {"message": message, "type": "x"}}
    resp = httpx2.Response(code, headers=headers or {}, json=body, request=REQ)
    return cls(message, response=resp, body=body)


def wrapped(cause: Exception) -> InstructorRetryException:
    """What instructor raises around a provider error."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise InstructorRetryException("retry failed", n_attempts=1, total_usage=0) from exc
    except InstructorRetryException as outer:
        return outer


# ------------------------------------------------------------------------ parse_model


@pytest.mark.parametrize("model,kwargs,expected", [
    ("openai/gpt-4.1-mini", {}, ModelSpec("openai", "gpt-4.1-mini")),
    ("anthropic/claude-sonnet-4-5", {}, ModelSpec("anthropic", "claude-sonnet-4-5")),
    ("ollama/qwen2.5:7b", {}, ModelSpec("ollama", "qwen2.5:7b")),
    ("openai/ft:gpt-4o:org/custom", {}, ModelSpec("openai", "ft:gpt-4o:org/custom")),
    ("my-local-model", {"base_url": "http://127.0.0.1:8000/v1"},
     ModelSpec("compatible", "my-local-model")),
    ("mistral/large", {"base_url": "http://x/v1"}, ModelSpec("compatible", "mistral/large")),
    ("openai/gpt-4o", {"base_url": "http://x/v1"}, ModelSpec("openai", "gpt-4o")),
    ("whatever", {"injected": True}, ModelSpec("compatible", "whatever")),
])
def test_parse_model(model, kwargs, expected):
    spec = parse_model(model, **kwargs)
    assert spec == expected
    assert spec.wire == ("anthropic" if expected.provider == "anthropic" else "openai")
    assert str(spec) == f"{expected.provider}/{expected.name}"


@pytest.mark.parametrize("model", ["gpt-4o", "openai/", "anthropic/", "mistral/large", "", "/x"])
def test_parse_model_rejects_unknown_strings(model):
    with pytest.raises(ConfigError) as exc:
        parse_model(model)
    msg = str(exc.value)
    assert "\n" not in msg and f"unknown model '{model}'" in msg and "--base-url" in msg


# ------------------------------------------------------------------- classification

RETRYABLE = [
    (openai.RateLimitError, 429), (openai.InternalServerError, 500),
    (openai.InternalServerError, 503), (openai.ConflictError, 409),
    (openai.APIStatusError, 408), (openai.APIStatusError, 502),
    (anthropic.RateLimitError, 429), (anthropic.InternalServerError, 500),
    (anthropic.OverloadedError, 529), (anthropic.ServiceUnavailableError, 503),
    (anthropic.GatewayTimeoutError, 504), (anthropic.RequestTimeoutError, 408),
    (anthropic.ConflictError, 409),
]
FATAL = [
    (openai.BadRequestError, 400), (openai.AuthenticationError, 401),
    (openai.PermissionDeniedError, 403), (openai.NotFoundError, 404),
    (openai.UnprocessableEntityError, 422),
    (anthropic.BadRequestError, 400), (anthropic.AuthenticationError, 401),
    (anthropic.PaymentRequiredError, 402), (anthropic.PermissionDeniedError, 403),
    (anthropic.NotFoundError, 404), (anthropic.ContentTooLargeError, 413),
]


@pytest.mark.parametrize("cls,code", RETRYABLE)
def test_transient_statuses_are_retryable(cls, code):
    exc = status_error(cls, code)
    assert exc.status_code == code
    assert is_retryable(exc) and is_retryable(wrapped(exc))


@pytest.mark.parametrize("cls,code", FATAL)
def test_client_errors_are_not_retryable(cls, code):
    exc = status_error(cls, code)
    assert not is_retryable(exc) and not is_retryable(wrapped(exc))


@pytest.mark.parametrize("exc", [
    openai.APIConnectionError(request=REQ), openai.APITimeoutError(request=REQ),
    anthropic.APIConnectionError(request=REQ), anthropic.APITimeoutError(request=REQ),
    httpx2.ConnectError("refused", request=REQ), httpx2.ReadTimeout("slow", request=REQ),
], ids=lambda e: f"{type(e).__module__.split('.')[0]}.{type(e).__name__}")
def test_connection_errors_are_retryable(exc):
    assert is_retryable(exc) and is_retryable(wrapped(exc))


@pytest.mark.parametrize("exc", [ValueError("bad json"), KeyError("x"), RuntimeError("bug")])
def test_other_exceptions_are_not_retryable(exc):
    assert not is_retryable(exc) and not is_retryable(wrapped(exc))


def test_root_cause_unwraps_instructor():
    inner = status_error(openai.RateLimitError, 429)
    assert root_cause(wrapped(inner)) is inner
    assert root_cause(inner) is inner


# ------------------------------------------------------------------------- describe

OPENAI_SPEC = ModelSpec("openai", "gpt-4.1-mini")
ANT_SPEC = ModelSpec("anthropic", "claude-sonnet-4-5")


@pytest.mark.parametrize("spec,cls,code,must", [
    (OPENAI_SPEC, openai.AuthenticationError, 401, ["401", "OPENAI_API_KEY"]),
    (ANT_SPEC, anthropic.AuthenticationError, 401, ["401", "ANTHROPIC_API_KEY"]),
    (OPENAI_SPEC, openai.PermissionDeniedError, 403, ["403", "access"]),
    (OPENAI_SPEC, openai.NotFoundError, 404, ["404", "model name", "--base-url"]),
    (OPENAI_SPEC, openai.BadRequestError, 400, ["400", "rejected the request"]),
    (OPENAI_SPEC, openai.RateLimitError, 429, ["429", "--concurrency"]),
    (ANT_SPEC, anthropic.OverloadedError, 529, ["529"]),
    (OPENAI_SPEC, openai.InternalServerError, 500, ["500"]),
    (OPENAI_SPEC, openai.UnprocessableEntityError, 422, ["422"]),
])
def test_describe_is_one_fix_oriented_line_without_the_key(spec, cls, code, must):
    # The provider echoes the key (as some proxies and the OpenAI 401 message do).
    key = ANT_KEY if spec.provider == "anthropic" else KEY
    exc = status_error(cls, code, f"Incorrect API key provided: {key}\nsecond line")
    for e in (exc, wrapped(exc)):
        msg = describe(e, spec)
        assert msg.startswith(f"{spec}: ") and "\n" not in msg and len(msg) < 300
        for part in must:
            assert part in msg
        assert KEY not in msg and ANT_KEY not in msg
    assert isinstance(provider_error(exc, spec), ProviderError)
    assert str(provider_error(exc, spec)) == describe(exc, spec)


@pytest.mark.parametrize("exc", [
    openai.APIConnectionError(message=f"cannot connect to https://h/?api-key={KEY}", request=REQ),
    openai.APITimeoutError(request=REQ),
    anthropic.APIConnectionError(request=REQ),
    RuntimeError(f"unexpected: token {KEY} rejected"),
], ids=["openai-conn", "openai-timeout", "anthropic-conn", "other"])
def test_describe_connection_and_other_errors(exc):
    msg = describe(exc, OPENAI_SPEC)
    assert "\n" not in msg and KEY not in msg and msg.startswith("openai/gpt-4.1-mini: ")
    if "Timeout" in type(exc).__name__:
        assert "did not answer in time" in msg and type(exc).__name__ in msg
    elif isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        assert "cannot reach the provider" in msg and type(exc).__name__ in msg


def test_describe_with_a_plain_model_string():
    msg = describe(status_error(openai.AuthenticationError, 401), "inspect/model")
    assert "the API key" in msg and "401" in msg


# ---------------------------------------------------------------------- Retry-After


def _http_date(delta_s: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=delta_s), usegmt=True)


@pytest.mark.parametrize("headers,expected", [
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "0.25"}, 0.25),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # ms is the more precise
    ({"retry-after-ms": "abc", "retry-after": "3"}, 3.0),  # garbage ms falls back
    ({"retry-after": "-4"}, 0.0),
    ({"retry-after": _http_date(-3600)}, 0.0),  # a date in the past: no wait
    ({"retry-after": "soon"}, None),
    ({"retry-after": "Wed, 99 Foo 20xx"}, None),
    ({"retry-after": ""}, None),
    ({}, None),
])
def test_retry_after_header_forms(headers, expected):
    for cls in (openai.RateLimitError, anthropic.RateLimitError):
        exc = status_error(cls, 429, headers=headers)
        assert retry_after_s(exc) == expected
        assert retry_after_s(wrapped(exc)) == expected


def test_retry_after_http_date_in_the_future():
    exc = status_error(openai.RateLimitError, 429, headers={"retry-after": _http_date(30)})
    assert 28.0 <= retry_after_s(exc) <= 30.5


def test_retry_after_without_a_response():
    assert retry_after_s(openai.APIConnectionError(request=REQ)) is None
    assert retry_after_s(ValueError("x")) is None


# --------------------------------------------------------------------------- backoff


@settings(max_examples=300, deadline=None)
@given(attempt=st.integers(1, 60), base=st.floats(0.001, 10), cap=st.floats(0.01, 120),
       asked=st.one_of(st.none(), st.floats(0, 500)))
def test_backoff_is_capped_and_honours_retry_after(attempt, base, cap, asked):
    headers = {} if asked is None else {"retry-after": repr(asked)}
    exc = status_error(openai.RateLimitError, 429, headers=headers)
    policy = RetryPolicy(base_s=base, cap_s=cap)
    b = policy.backoff(attempt, exc)
    honoured = asked if asked is not None and asked <= policy.max_retry_after_s else 0.0
    assert 0.0 <= b <= max(cap, honoured)
    assert b <= base * 2 ** (attempt - 1) or honoured > 0
    # The provider's wait is honoured even above our own cap, up to max_retry_after_s.
    assert b >= honoured


@pytest.mark.parametrize("garbage", ["inf", "nan", "1e400", "NaN", "soon"])
def test_backoff_is_finite_for_odd_headers(garbage):
    exc = status_error(openai.RateLimitError, 429, headers={"retry-after": garbage})
    for attempt in range(1, 10):
        b = RetryPolicy(base_s=0.5, cap_s=7).backoff(attempt, exc)
        assert math.isfinite(b) and 0 <= b <= 7


def test_backoff_grows_exponentially_without_retry_after():
    exc = openai.APIConnectionError(request=REQ)
    policy = RetryPolicy(base_s=1.0, cap_s=60.0)
    for attempt in range(1, 8):
        samples = [policy.backoff(attempt, exc) for _ in range(200)]
        ceiling = min(60.0, 2 ** (attempt - 1))
        assert max(samples) <= ceiling and max(samples) > ceiling / 2  # full jitter up to it


# ------------------------------------------------------------------------- rate gate


class GateClock:
    """The gate's clock and sleep: time stands still until a waiter's sleep ends."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        until = self.now + seconds
        await asyncio.sleep(0)  # the other waiters reach the gate meanwhile
        self.now = max(self.now, until)


async def test_rate_gate_holds_everyone_until_it_lifts(monkeypatch):
    clock = GateClock()
    home = sys.modules[RateGate.__module__]
    monkeypatch.setattr(home, "time", clock)
    monkeypatch.setattr(home, "asyncio", clock)
    gate = RateGate()
    await gate.wait()
    assert clock.sleeps == []  # open gate: no wait
    gate.throttle(0.3)
    gate.throttle(0.05)  # a shorter throttle never shortens the current one
    await asyncio.gather(gate.wait(), gate.wait(), gate.wait())
    assert clock.sleeps == pytest.approx([0.3] * 3)  # all held for the longer throttle
    assert gate.throttled == 2
    await gate.wait()
    assert len(clock.sleeps) == 3  # lifted: nobody waits any more


# ------------------------------------------------------------------------ key hygiene


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("code", [401, 500])
async def test_the_key_never_reaches_messages_or_the_call_log(tmp_path, wire, code):
    key = ANT_KEY if wire == "anthropic" else KEY
    body = (anthropic_error_body(code, f"invalid x-api-key {key}") if wire == "anthropic"
            else openai_error_body(code, f"Incorrect API key provided: {key}."))
    with FakeLLMServer() as srv:
        srv.set_default(status(code, body=body))
        base = srv.anthropic_base_url if wire == "anthropic" else srv.openai_base_url
        with pytest.raises(ProviderError) as exc:
            await assess_async(ROOT / "packet_eval" / "examples" / "sample-packet.md",
                               model=f"{wire}/test-model", base_url=base, use_cache=False,
                               retry=RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.02))
        sent = srv.model_requests
    # The key really was in play: the SDK sent it, and the provider echoed it back.
    assert sent and all(any(key in v for v in r.headers.values()) for r in sent)
    assert len(sent) == (1 if code == 401 else 2)
    assert key not in str(exc.value) and str(code) in str(exc.value)

    store = Store()
    with sqlite3.connect(store.path) as db:
        rows: list[tuple[Any, ...]] = []
        for table in ("calls", "cache", "batches", "_migrations"):
            rows += db.execute(f"SELECT * FROM {table}").fetchall()
    assert store.count_calls() == len(sent) and rows
    for row in rows:
        for value in row:
            assert key not in str(value)
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob("logs.db*"))
    assert key.encode() not in raw
