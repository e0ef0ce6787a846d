"""What a provider failure is: retryable or not, how long the provider asked us to wait, and
a one-line message that says what to fix.

Failures are classified by the SDKs' own exception classes (``openai.APIStatusError``,
``anthropic.APIConnectionError``, instructor's ``InstructorRetryException`` ...), imported
on first use so that the offline path never pays for importing the SDKs. 429, 5xx,
408/409, timeouts and connection errors are retryable; 400/401/403/404 fail at once.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache

from packet_eval.errors import ProviderError
from packet_eval.providers.spec import KEY_VARS, ModelSpec

RETRYABLE_STATUS = {408, 409, 429}


@dataclass(frozen=True)
class SDKErrors:
    """The exception classes of the SDKs in use, grouped by what they mean."""

    status: tuple[type[BaseException], ...]  # an HTTP answer with an error status
    connection: tuple[type[BaseException], ...]  # no answer: refused, reset, timed out
    timeout: tuple[type[BaseException], ...]
    wrapper: type[BaseException]  # instructor's wrapper around the last attempt's error
    incomplete: type[BaseException]  # instructor: the output was cut off at max_tokens
    invalid_answer: tuple[type[BaseException], ...]  # no valid structured answer


@lru_cache(maxsize=1)
def sdk_errors() -> SDKErrors:
    import json

    import anthropic
    import httpx
    import openai
    import pydantic
    from instructor.core import (
        IncompleteOutputException,
        InstructorRetryException,
        ResponseParsingError,
    )
    from instructor.core import ValidationError as InstructorValidationError

    from packet_eval.providers.throttle import http_module

    # The SDKs run on an httpx fork; a raw transport error may come from either package.
    https = {httpx, http_module(openai), http_module(anthropic)}
    transport = tuple(cls for h in https for cls in (h.ConnectError, h.TimeoutException))
    return SDKErrors(
        status=(openai.APIStatusError, anthropic.APIStatusError),
        connection=(openai.APIConnectionError, anthropic.APIConnectionError, *transport),
        timeout=(openai.APITimeoutError, anthropic.APITimeoutError, TimeoutError,
                 *(h.TimeoutException for h in https)),
        wrapper=InstructorRetryException,
        incomplete=IncompleteOutputException,
        invalid_answer=(pydantic.ValidationError, InstructorValidationError, json.JSONDecodeError,
                        ResponseParsingError, ValueError))


def root_cause(exc: BaseException) -> BaseException:
    """The provider error inside instructor's wrapper, if any."""
    wrapper = sdk_errors().wrapper
    seen = 0
    while exc.__cause__ is not None and seen < 5 and isinstance(exc, wrapper):
        exc = exc.__cause__
        seen += 1
    return exc


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a provider's error answer (after unwrapping), or None."""
    exc = root_cause(exc)
    if isinstance(exc, sdk_errors().status):
        status = getattr(exc, "status_code", None)
        return status if isinstance(status, int) else None
    return None


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, sdk_errors().connection)


def is_timeout(exc: BaseException) -> bool:
    """No answer within the client's request timeout."""
    return isinstance(root_cause(exc), sdk_errors().timeout)


def is_incomplete_output(exc: BaseException) -> bool:
    """instructor's error for an answer cut off at ``max_tokens``."""
    return isinstance(exc, sdk_errors().incomplete)


def is_invalid_answer(exc: BaseException) -> bool:
    """The model answered, but never with a valid structured answer (after re-asks)."""
    return isinstance(root_cause(exc), sdk_errors().invalid_answer)


def is_retryable(exc: BaseException) -> bool:
    exc = root_cause(exc)
    status = status_of(exc)
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
    status = status_of(exc)
    var = KEY_VARS.get(spec.provider if isinstance(spec, ModelSpec) else "", "the API key")
    if status == 401:
        return f"{spec}: the provider rejected the API key (401); check {var}"
    if status == 403:
        return f"{spec}: access denied (403); the key may lack access to this model"
    if status == 404:
        return f"{spec}: model or endpoint not found (404); check the model name and --base-url"
    if status == 400 and (sizes := context_overflow(exc)) is not None:
        limit, asked = sizes
        return (f"{spec}: the request needs {asked} tokens but the server's context window is "
                f"{limit} tokens; start the server with a larger context (llama.cpp: --n_ctx) "
                "or lower the token budget so the packet is cut into chunks")
    if status == 400:
        return f"{spec}: the provider rejected the request (400): {short(exc)}"
    if status == 429:
        return f"{spec}: rate limited (429) and retries ran out; lower --concurrency or try later"
    if status is not None:
        return f"{spec}: provider error {status} after retries: {short(exc)}"
    if isinstance(exc, sdk_errors().timeout):
        return (f"{spec}: the provider did not answer in time ({type(exc).__name__}); "
                "it may be overloaded, try again later")
    if is_connection_error(exc):
        return f"{spec}: cannot reach the provider ({type(exc).__name__}); check the network or --base-url"
    return f"{spec}: {type(exc).__name__}: {short(exc)}"


CONTEXT_PATTERNS = (
    # llama-cpp-python and OpenAI: "maximum context length is 8192 tokens, however you
    # requested 9000 tokens"; llama.cpp's server: "request (9000 tokens) exceeds the
    # available context size (8192 tokens)".
    re.compile(r"maximum context length is (?P<limit>\d+) tokens.*?requested (?P<asked>\d+)"),
    re.compile(r"\((?P<asked>\d+) tokens\) exceeds the available context size "
               r"\((?P<limit>\d+) tokens\)"),
)


def context_overflow(exc: BaseException) -> tuple[int, int] | None:
    """(the server's context, the tokens asked) when a 400 says the prompt does not fit."""
    text = " ".join(str(root_cause(exc)).split())
    for pattern in CONTEXT_PATTERNS:
        if m := pattern.search(text):
            return int(m["limit"]), int(m["asked"])
    return None


def error_key(exc: BaseException) -> str:
    """What identifies a failure across attempts: its status and message, not request ids."""
    root = root_cause(exc)
    body = getattr(root, "body", None)
    message: object = None
    if isinstance(body, dict):
        err = body.get("error", body)
        message = err.get("message", err) if isinstance(err, dict) else err
    elif isinstance(body, str):
        message = body
    return f"{status_of(root)}: {message if message is not None else short(root)}"


def short(exc: BaseException) -> str:
    """The exception's message on one line, at most 200 characters, with any key masked."""
    text = " ".join(str(exc).split())
    for var in KEY_VARS.values():  # a provider or proxy may echo the key in its message
        key = os.environ.get(var)
        if key and len(key) >= 8:
            text = text.replace(key, "***")
    return text[:200]


def provider_error(exc: BaseException, spec: ModelSpec | str) -> ProviderError:
    return ProviderError(describe(exc, spec))
