"""Which model an OpenAI-compatible server serves, asked through its ``/models`` list.

``--base-url`` without ``--model`` used to fall through to the offline baseline, so a
committee pointing at its own server got rule-based results without noticing. A
server that serves exactly one model (vLLM, llama.cpp) names it; anything else is a
one-line ConfigError, never a silent fallback.
"""

from __future__ import annotations

import httpx

from packet_eval.errors import ConfigError

LIST_TIMEOUT_S = 10.0


def server_models(base_url: str, *, timeout_s: float = LIST_TIMEOUT_S) -> list[str]:
    """The model ids ``base_url`` lists at ``GET {base_url}/models``; ConfigError if it cannot say."""
    url = base_url.rstrip("/") + "/models"
    try:
        resp = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ConfigError(f"--base-url {base_url}: cannot reach the server to list its models "
                          f"({type(exc).__name__}); pass --model NAME or check the URL") from None
    if resp.status_code != 200:
        raise ConfigError(f"--base-url {base_url}: GET /models answered HTTP {resp.status_code}; "
                          "pass --model NAME")
    try:
        data = resp.json().get("data")
        ids = [str(m["id"]) for m in data]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ConfigError(f"--base-url {base_url}: GET /models did not return an OpenAI model "
                          "list; pass --model NAME") from None
    return ids


def only_model(base_url: str) -> str:
    """The one model ``base_url`` serves; ConfigError when it serves none or several."""
    ids = server_models(base_url)
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise ConfigError(f"--base-url {base_url}: the server lists no models; pass --model NAME")
    shown = ", ".join(ids[:5]) + (f", ... ({len(ids)} in all)" if len(ids) > 5 else "")
    raise ConfigError(f"--base-url {base_url}: the server lists several models ({shown}); "
                      "pick one with --model NAME")
