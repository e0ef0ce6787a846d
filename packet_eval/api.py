"""The public Python API: ``assess`` and ``assess_async``.

The CLI, the batch runner, the engineer preview and the inspect harness all
call these, so every front door runs the same code. Model strings follow the
``provider/model`` convention (``openai/gpt-4.1-mini``, ``anthropic/...``,
``ollama/...``); ``baseline`` is the offline extractor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from packet_eval.errors import ConfigError
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet, load_packet
from packet_eval.schema import Assessment

log = logging.getLogger(__name__)
BASELINE = "baseline"
DEFAULT_OPENAI_MODEL = "openai/gpt-4.1-mini"
DEFAULT_ANTHROPIC_MODEL = "anthropic/claude-sonnet-4-5"
OFFLINE_NOTICE = (
    "No OPENAI_API_KEY or ANTHROPIC_API_KEY is set, so this ran the offline baseline "
    "extractor (--model baseline). Set a key or pass --model provider/name to use an LLM."
)


def default_model() -> tuple[str, str | None]:
    """The model to use when none is given, and a notice to show if it is the baseline.

    Precedence: an explicit ``--model`` (handled by callers), then
    ``PACKET_EVAL_MODEL``, then an LLM when a provider key is present, else the baseline.
    """
    env_model = os.environ.get("PACKET_EVAL_MODEL")
    if env_model:
        return env_model, None
    if os.environ.get("OPENAI_API_KEY"):
        return DEFAULT_OPENAI_MODEL, None
    if os.environ.get("ANTHROPIC_API_KEY"):
        return DEFAULT_ANTHROPIC_MODEL, None
    return BASELINE, OFFLINE_NOTICE


def resolve_model(model: str | None, base_url: str | None = None) -> tuple[str, str | None]:
    """The model a command runs, and a notice to show when it was chosen for the user.

    An explicit ``model`` wins. With ``base_url`` and no model (and no
    ``PACKET_EVAL_MODEL``), the server is asked for its models and the only one is
    used; several, none or no answer is a ConfigError. A base URL never silently
    falls back to the offline baseline.
    """
    if model:
        if model == BASELINE and base_url:
            raise ConfigError("--base-url needs an LLM model; the offline baseline sends nothing "
                              "to a server (drop --base-url, or pass --model NAME)")
        return model, None
    if base_url and not os.environ.get("PACKET_EVAL_MODEL"):
        from packet_eval.providers.discovery import only_model

        name = only_model(base_url)
        return name, f"--model not given: using {name}, the one model {base_url} serves"
    chosen, notice = default_model()
    if chosen == BASELINE and base_url:
        raise ConfigError("--base-url needs an LLM model, but PACKET_EVAL_MODEL is 'baseline'; "
                          "pass --model NAME")
    return chosen, notice


def check_target_level(ladder: Ladder, target_level: str | None) -> str | None:
    """The ladder's own spelling of ``target_level`` (matched in any case), or None.

    Raises a one-line ConfigError when it is not a level of ``ladder``.
    """
    if target_level is None:
        return None
    by_lower = {level.lower(): level for level in ladder.scale}
    try:
        return ladder.check_level(by_lower.get(target_level.strip().lower(), target_level))
    except ValueError as exc:
        raise ConfigError(f"--target-level: {exc}") from None


def _as_packet(packet: Packet | str | Path) -> Packet:
    return packet if isinstance(packet, Packet) else load_packet(packet)


def _as_ladder(ladder: Ladder | str | Path | None) -> Ladder:
    return ladder if isinstance(ladder, Ladder) else load_ladder(ladder)


async def assess_async(
    packet: Packet | str | Path,
    *,
    model: str | None = None,
    ladder: Ladder | str | Path | None = None,
    target_level: str | None = None,
    client: Any = None,
    base_url: str | None = None,
    **llm_options: Any,
) -> Assessment:
    """Assess one packet.

    Args:
        packet: a ``Packet`` or a path to a packet file.
        model: ``baseline`` or a ``provider/model`` string; None picks the default.
        ladder: a ``Ladder``, a path to ladder YAML, or None for the default ladder.
        target_level: the level the packet asks for; gaps are computed against it.
        client: an injected async OpenAI or instructor client (the inspect bridge uses this).
        base_url: an OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio, ollama).
        **llm_options: passed to the LLM extractor (e.g. ``use_cache``, ``store``).
    """
    pkt = _as_packet(packet)
    lad = _as_ladder(ladder)
    target_level = check_target_level(lad, target_level)
    chosen = model or default_model()[0]
    log.debug("assess %s with %s (ladder %s %s, target %s)", pkt.packet_id, chosen, lad.id,
              lad.version, target_level)
    started = time.perf_counter()
    if chosen == BASELINE:
        from packet_eval.extractors import baseline

        # LLM-only options (cache, redaction, retries) mean nothing offline.
        result = baseline.extract(pkt, lad, target_level)
    else:
        from packet_eval.extractors import llm

        result = await llm.extract(pkt, lad, chosen, target_level=target_level, client=client,
                                   base_url=base_url, **llm_options)
    log.debug("assessed %s: level %s, %d evidence, %d flags in %.0f ms", pkt.packet_id,
              result.level, result.evidence_count(), len(result.flags),
              (time.perf_counter() - started) * 1000)
    return result


def assess(packet: Packet | str | Path, **kwargs: Any) -> Assessment:
    """Synchronous ``assess_async``; see it for the arguments."""
    return asyncio.run(assess_async(packet, **kwargs))
