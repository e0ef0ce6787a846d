"""Model strings to async instructor clients, keys, and the transport retry policy.

A model string is ``provider/name``: ``openai/gpt-4.1-mini``,
``anthropic/claude-sonnet-4-5``, ``ollama/qwen2.5:7b``. With ``--base-url`` any
OpenAI-compatible server (vLLM, llama.cpp, LM Studio) is reached through the
openai SDK. With an injected client (the inspect agent bridge), the name is
passed through as is.

The SDKs' own retries are switched off so that one policy, here, decides:
429, 5xx, timeouts and connection errors back off exponentially with jitter,
honouring ``Retry-After``, bounded in attempts and total time; 400/401/403/404
fail at once with a message that says what to fix. A ``RateGate`` shared by a
batch makes every worker wait after any 429, so the run slows down as a whole.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from packet_eval.errors import ConfigError, ProviderError

KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
OLLAMA_URL = "http://localhost:11434/v1"
RETRYABLE_STATUS = {408, 409, 429}


@dataclass(frozen=True)
class ModelSpec:
    provider: str  # openai | anthropic | ollama | compatible
    name: str

    @property
    def wire(self) -> str:
        return "anthropic" if self.provider == "anthropic" else "openai"

    def __str__(self) -> str:
        return f"{self.provider}/{self.name}"


def parse_model(model: str, *, base_url: str | None = None, injected: bool = False) -> ModelSpec:
    if "/" in model:
        provider, name = model.split("/", 1)
        if provider in ("openai", "anthropic", "ollama") and name:
            return ModelSpec(provider, name)
    if base_url or injected:
        return ModelSpec("compatible", model)
    raise ConfigError(
        f"unknown model '{model}': use 'baseline', openai/NAME, anthropic/NAME, ollama/NAME, "
        "or pass --base-url for an OpenAI-compatible server")


def api_key(spec: ModelSpec, base_url: str | None) -> str:
    var = KEY_VARS.get(spec.provider)
    key = os.environ.get(var) if var else None
    if key:
        return key
    if spec.provider in ("ollama", "compatible") or base_url:
        return "not-needed"  # local servers accept any key
    raise ConfigError(f"{var} is not set: export {var}=... to use {spec}, "
                      "or run offline with --model baseline")


def make_raw_client(spec: ModelSpec, base_url: str | None, timeout_s: float) -> Any:
    """The provider SDK's async client, with the SDK's own retries off."""
    key = api_key(spec, base_url)
    if spec.wire == "anthropic":
        import anthropic

        return anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0,
                                        timeout=timeout_s)
    import openai

    url = base_url or (OLLAMA_URL if spec.provider == "ollama" else None)
    return openai.AsyncOpenAI(api_key=key, base_url=url, max_retries=0, timeout=timeout_s)


def instructor_client(raw: Any, wire: str, mode: str | None = None) -> Any:
    """Wrap a raw SDK client (or re-wrap an injected instructor client) for one extraction.

    A fresh wrapper per extraction keeps hook registrations private to it while
    the underlying HTTP connection pool is shared.
    """
    import instructor

    if isinstance(raw, instructor.AsyncInstructor):
        raw = raw.client
    if wire == "anthropic":
        return instructor.from_anthropic(raw, mode=instructor.Mode.TOOLS)
    chosen = instructor.Mode.JSON_SCHEMA if mode == "json" else instructor.Mode.TOOLS
    return instructor.from_openai(raw, mode=chosen)


def root_cause(exc: BaseException) -> BaseException:
    """The provider error inside instructor's wrapper, if any."""
    seen = 0
    while exc.__cause__ is not None and seen < 5 and type(exc).__name__ == "InstructorRetryException":
        exc = exc.__cause__
        seen += 1
    return exc


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_connection_error(exc: BaseException) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"APIConnectionError", "APITimeoutError", "ConnectError", "ReadTimeout",
                         "TimeoutException"})


def is_retryable(exc: BaseException) -> bool:
    exc = root_cause(exc)
    status = _status(exc)
    if status is not None:
        return status in RETRYABLE_STATUS or status >= 500
    return is_connection_error(exc)


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After / retry-after-ms), if it did."""
    response = getattr(root_cause(exc), "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def describe(exc: BaseException, spec: ModelSpec | str) -> str:
    """A one-line, fix-oriented description of a provider failure (never includes keys)."""
    exc = root_cause(exc)
    status = _status(exc)
    var = KEY_VARS.get(spec.provider if isinstance(spec, ModelSpec) else "", "the API key")
    if status == 401:
        return f"{spec}: the provider rejected the API key (401); check {var}"
    if status == 403:
        return f"{spec}: access denied (403); the key may lack access to this model"
    if status == 404:
        return f"{spec}: model or endpoint not found (404); check the model name and --base-url"
    if status == 400:
        return f"{spec}: the provider rejected the request (400): {_short(exc)}"
    if status == 429:
        return f"{spec}: rate limited (429) and retries ran out; lower --concurrency or try later"
    if status is not None:
        return f"{spec}: provider error {status} after retries: {_short(exc)}"
    if "Timeout" in type(exc).__name__:
        return (f"{spec}: the provider did not answer in time ({type(exc).__name__}); "
                "it may be overloaded, try again later")
    if is_connection_error(exc):
        return f"{spec}: cannot reach the provider ({type(exc).__name__}); check the network or --base-url"
    return f"{spec}: {type(exc).__name__}: {_short(exc)}"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for var in KEY_VARS.values():  # a provider or proxy may echo the key in its message
        key = os.environ.get(var)
        if key and len(key) >= 8:
            text = text.replace(key, "***")
    return text[:200]


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    max_total_s: float = 300.0
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, exc: BaseException) -> float:
        """Seconds to wait: full-jitter exponential, but never less than the provider asked.

        A Retry-After longer than ``cap_s`` is still honoured (hammering a provider that
        asked us to wait only earns more 429s), up to ``max_retry_after_s`` and the run's
        total time budget; a longer or non-numeric value is ignored, as the SDKs do.
        """
        jittered = random.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        asked = retry_after_s(exc) or 0.0
        if not math.isfinite(asked) or asked > self.max_retry_after_s:
            asked = 0.0  # a nonsense header, like the SDKs we ignore it
        return min(self.max_total_s, max(jittered, asked))


class RateGate:
    """Shared by all workers of a run: after a 429, everyone waits until it lifts."""

    def __init__(self) -> None:
        self._resume_at = 0.0
        self.throttled = 0

    async def wait(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def throttle(self, seconds: float) -> None:
        self.throttled += 1
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)


def provider_error(exc: BaseException, spec: ModelSpec | str) -> ProviderError:
    return ProviderError(describe(exc, spec))
