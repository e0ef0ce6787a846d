"""Everything that talks to an LLM provider: model strings and keys, failures and retries,
throttling, prices, and one adapter per wire format.

The public names are re-exported here; each lives in the module named for it.
"""

from packet_eval.providers.adapters import adapter_for
from packet_eval.providers.failures import (
    describe,
    is_connection_error,
    is_retryable,
    provider_error,
    retry_after_s,
    root_cause,
)
from packet_eval.providers.retry import RetryPolicy
from packet_eval.providers.spec import KEY_VARS, OLLAMA_URL, ModelSpec, api_key, parse_model
from packet_eval.providers.throttle import AdaptiveLimiter, RateGate
from packet_eval.providers.wire import Wire

__all__ = [
    "KEY_VARS",
    "OLLAMA_URL",
    "AdaptiveLimiter",
    "ModelSpec",
    "RateGate",
    "RetryPolicy",
    "Wire",
    "adapter_for",
    "api_key",
    "describe",
    "is_connection_error",
    "is_retryable",
    "parse_model",
    "provider_error",
    "retry_after_s",
    "root_cause",
]
