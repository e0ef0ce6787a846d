"""How many requests a self-hosted server runs at once, so a run never queues past it.

A llama.cpp server has a fixed number of slots; llama-cpp-python's serves one request at a
time. Requests beyond that wait in the server's queue while the client's timeout runs, time
out, and are retried behind the abandoned ones (the server keeps working on those). So a
run against such a server sends at most as many requests as it has slots.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0


def server_slots(base_url: str) -> int | None:
    """The server's slots, if it says (llama.cpp ``/props``) or is known (llama-cpp-python).

    None when the server does not tell (vLLM, a hosted API): then ``--concurrency`` rules.
    """
    import httpx

    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT_S) as http:
            props = http.get(f"{root}/props")
            if props.status_code == 200:
                slots = props.json().get("total_slots")
                if isinstance(slots, int) and slots > 0:
                    return slots
            api = http.get(f"{root}/openapi.json")
            if api.status_code == 200 and "llama.cpp Python" in str(
                    api.json().get("info", {}).get("title", "")):
                return 1  # llama-cpp-python's server holds one lock around the model
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        logger.debug("no slot count from %s: %s", root, exc)
    return None
