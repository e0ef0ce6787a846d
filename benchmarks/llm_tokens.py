"""Input tokens per packet: this LLM extractor vs one call per dimension.

- ours: ``packet_eval.extractors.llm.extract`` as shipped: one call per chunk (one chunk
  unless the packet exceeds the default token budget), all seven dimensions and the
  flags in that call.
- naive: one call per ladder dimension (7 calls), each with the whole packet and a
  system prompt holding the same rules but only that dimension's ladder cells (the
  shipped system template rendered with a one-dimension ladder and no flag list), the
  same delimited user message, and that dimension's answer schema (``DimensionAnswer``)
  as the tool. Giving naive no flag list understates its cost, so the ratio is a lower
  bound.

Both run through the real openai SDK and instructor against a local FakeLLMServer whose
handler returns a valid minimal answer (every dimension ``none``, no evidence), so no
re-asks happen and only the prompts differ. Input tokens are counted from the requests
the server recorded, with one estimator for both:

    tokens(request) = ceil(chars / 4)

where ``chars`` is the total length of every string in the request body except the
model name (system and user messages, and the tool's JSON schema). ``messages`` figures
count the message text only, without the schema.

With prompt caching: the same extractor over the whole cycle (every golden packet, one
after another, as a run sends them), through each wire, against a fake server that caches
as the provider does (``tests.fakes.llm_server.PromptCache``: Anthropic caches the
``cache_control`` system block, written on the first call and read after; OpenAI caches
an identical prefix of 1,024 tokens or more in steps of 128). The usage it reports is
priced as billed-input-equivalent tokens: uncached input at 1, cache reads at 0.1 and
writes at 1.25 (Anthropic), cached tokens at gpt-4.1-mini's 0.25 (OpenAI). The target
is at most 0.15x the naive design's input tokens per packet; naive is uncached, since
its seven per-dimension prompts differ after the shared rules.

Run: uv run --frozen python benchmarks/llm_tokens.py   (writes benchmarks/results/llm_tokens.json)
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PACKET_EVAL_HOME"] = tempfile.mkdtemp(prefix="packet-eval-bench-")

import instructor  # noqa: E402
import openai  # noqa: E402

from packet_eval.extractors import llm  # noqa: E402
from packet_eval.extractors.chunking import DEFAULT_TOKEN_BUDGET  # noqa: E402
from packet_eval.extractors.llm_schema import DimensionAnswer  # noqa: E402
from packet_eval.extractors.prompts import prompt_version, render  # noqa: E402
from packet_eval.extractors.request import DEFAULT_MAX_TOKENS  # noqa: E402
from packet_eval.ladder import Ladder, load_ladder  # noqa: E402
from packet_eval.packet import Packet, load_packet  # noqa: E402
from packet_eval.providers import RetryPolicy  # noqa: E402
from packet_eval.providers.pricing import billed_input_equivalent  # noqa: E402
from tests.fakes.llm_server import FakeLLMServer, handler  # noqa: E402

PACKETS = ROOT / "datasets" / "golden" / "packets"
# Priced model names for the cached runs; the requests only ever reach the local fake.
CACHED_MODELS = {"anthropic": "anthropic/claude-haiku-4-5", "openai": "openai/gpt-4.1-mini"}
TARGET = 0.15
OUT = ROOT / "benchmarks" / "results" / "llm_tokens.json"
MODEL = "openai/bench-model"
CHARS_PER_TOKEN = 4


# ------------------------------------------------------------------------ estimator


def _chars(value: Any, top: bool = True) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_chars(v, False) for k, v in value.items() if not (top and k == "model"))
    if isinstance(value, list):
        return sum(_chars(v, False) for v in value)
    return 0


def tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def request_tokens(req: dict[str, Any]) -> int:
    return tokens(_chars(req))


def message_tokens(req: dict[str, Any]) -> int:
    return tokens(sum(_chars(m.get("content"), False) for m in req.get("messages", [])))


# ---------------------------------------------------------------------- fake answers


def minimal_answer(ladder: Ladder):
    def answer(req: dict[str, Any]) -> dict[str, Any]:
        tool = req["tools"][0]["function"]
        if "dimensions" in tool["parameters"].get("properties", {}):
            return {"dimensions": [{"dimension": d, "reasoning": "", "evidence": [],
                                    "level": "none"} for d in ladder.dimension_ids],
                    "flags": []}
        # naive: the dimension is the only one named in its system prompt's output line
        system = req["messages"][0]["content"]
        dim = next(d for d in ladder.dimension_ids if f"exactly once: {d}." in system)
        return {"dimension": dim, "reasoning": "", "evidence": [], "level": "none"}
    return answer


# -------------------------------------------------------------------------- runners


async def run_ours(packet: Packet, ladder: Ladder, srv: FakeLLMServer) -> None:
    await llm.extract(packet, ladder, MODEL, base_url=srv.openai_base_url, use_cache=False,
                      retry=RetryPolicy(max_attempts=1))


def naive_messages(ladder: Ladder, packet: Packet, dim_id: str) -> list[dict[str, str]]:
    one = ladder.model_copy(update={"dimensions": [ladder.dimension(dim_id)], "flags": []})
    nonce = packet.sha256[:8]
    system = render("extract_system.md.j2", ladder=one, scale=ladder.scale,
                    lowest_level=ladder.levels[0])
    user = render("extract_user.md.j2", text=packet.text, nonce=nonce, chunk_index=1,
                  n_chunks=1, overlap=False)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def run_naive(packet: Packet, ladder: Ladder, client: Any) -> None:
    for dim_id in ladder.dimension_ids:
        await client.create(model=MODEL.split("/", 1)[1],
                            messages=naive_messages(ladder, packet, dim_id),
                            response_model=DimensionAnswer, max_retries=0,
                            max_tokens=DEFAULT_MAX_TOKENS, temperature=0.0)


async def run_cached_cycle(packets: list[Packet], ladder: Ladder) -> dict[str, list[float]]:
    """Billed-input-equivalent tokens per packet, per wire, over one cycle with caching."""
    def none_answer(_: dict[str, Any]) -> dict[str, Any]:
        return {"dimensions": [{"dimension": d, "reasoning": "", "evidence": [], "level": "none"}
                               for d in ladder.dimension_ids], "flags": []}

    out: dict[str, list[float]] = {}
    os.environ.setdefault("ANTHROPIC_API_KEY", "not-needed")
    for wire, model in CACHED_MODELS.items():
        with FakeLLMServer(default=handler(none_answer)) as srv:
            url = srv.anthropic_base_url if wire == "anthropic" else srv.openai_base_url
            billed = []
            for packet in packets:
                a = await llm.extract(packet, ladder, model, base_url=url, use_cache=False,
                                      retry=RetryPolicy(max_attempts=1))
                u = a.usage
                billed.append(billed_input_equivalent(model, u.input_tokens,
                                                      cache_read=u.cache_read_tokens,
                                                      cache_write=u.cache_write_tokens))
        out[wire] = billed
    return out


# ---------------------------------------------------------------------------- main


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.mean(values), 1),
            "median": round(statistics.median(values), 1)}


async def measure() -> dict[str, Any]:
    ladder = load_ladder()
    paths = sorted(p for p in PACKETS.glob("*.md") if not p.name.endswith(".clean.md"))
    rows = []
    with FakeLLMServer(default=handler(minimal_answer(ladder))) as srv:
        raw = openai.AsyncOpenAI(base_url=srv.openai_base_url, api_key="not-needed",
                                 max_retries=0)
        naive_client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
        for path in paths:
            packet = load_packet(path)
            row: dict[str, Any] = {"packet": packet.packet_id, "chars": len(packet.text)}
            for name, go in (("ours", run_ours(packet, ladder, srv)),
                             ("naive", run_naive(packet, ladder, naive_client))):
                srv.reset()
                await go
                reqs = [r.json for r in srv.model_requests]
                assert all(r.response_status == 200 for r in srv.model_requests), name
                row[f"{name}_calls"] = len(reqs)
                row[f"{name}_tokens"] = sum(request_tokens(r) for r in reqs)
                row[f"{name}_message_tokens"] = sum(message_tokens(r) for r in reqs)
            assert row["naive_calls"] == len(ladder.dimension_ids)
            row["ratio"] = round(row["naive_tokens"] / row["ours_tokens"], 2)
            rows.append(row)
        await raw.close()

    def side(name: str) -> dict[str, Any]:
        return {"calls_per_packet": summary([r[f"{name}_calls"] for r in rows]),
                "input_tokens_per_packet": summary([r[f"{name}_tokens"] for r in rows]),
                "message_tokens_per_packet": summary([r[f"{name}_message_tokens"]
                                                      for r in rows])}

    ours, naive = side("ours"), side("naive")
    cached = await run_cached_cycle([load_packet(p) for p in paths], ladder)
    naive_mean = naive["input_tokens_per_packet"]["mean"]
    caching = {wire: {"model": CACHED_MODELS[wire],
                      "billed_input_equivalent_per_packet": summary(values),
                      "ratio_to_naive": round(statistics.mean(values) / naive_mean, 3),
                      "ratio_to_ours_uncached": round(
                          statistics.mean(values) / ours["input_tokens_per_packet"]["mean"], 3),
                      "target": TARGET,
                      "met": statistics.mean(values) / naive_mean <= TARGET}
               for wire, values in cached.items()}
    return {
        "what": "input tokens per golden packet: this extractor vs one call per dimension "
                "with the whole packet",
        "estimator": "ceil(chars/4) over every string in the request body except the model "
                     "name (messages + tool schema); message_tokens count message text only",
        "packets": len(rows),
        "token_budget": DEFAULT_TOKEN_BUDGET,
        "prompt_version": prompt_version(),
        "ours": ours,
        "naive": naive,
        "ratio_naive_over_ours": {
            "mean": round(naive["input_tokens_per_packet"]["mean"]
                          / ours["input_tokens_per_packet"]["mean"], 2),
            "median": round(naive["input_tokens_per_packet"]["median"]
                            / ours["input_tokens_per_packet"]["median"], 2),
            "per_packet_median": round(statistics.median(r["ratio"] for r in rows), 2),
            "per_packet_min": min(r["ratio"] for r in rows),
            "messages_mean": round(naive["message_tokens_per_packet"]["mean"]
                                   / ours["message_tokens_per_packet"]["mean"], 2),
        },
        "caching": caching,
        "per_packet": rows,
    }


def main() -> None:
    t0 = time.perf_counter()
    result = asyncio.run(measure())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    o, n, r = result["ours"], result["naive"], result["ratio_naive_over_ours"]
    print(f"{result['packets']} golden packets, estimator chars/4 "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"{'':8}{'calls':>8}{'mean tok':>11}{'median tok':>12}{'msg mean':>10}")
    for name, s in (("ours", o), ("naive", n)):
        print(f"{name:8}{s['calls_per_packet']['mean']:>8}"
              f"{s['input_tokens_per_packet']['mean']:>11}"
              f"{s['input_tokens_per_packet']['median']:>12}"
              f"{s['message_tokens_per_packet']['mean']:>10}")
    print(f"naive/ours: mean {r['mean']}x, median {r['median']}x, per-packet median "
          f"{r['per_packet_median']}x (min {r['per_packet_min']}x), messages only "
          f"{r['messages_mean']}x")
    for wire, c in result["caching"].items():
        b = c["billed_input_equivalent_per_packet"]
        print(f"with caching ({wire}, {c['model']}): billed-input-equivalent mean {b['mean']} "
              f"tok/packet = {c['ratio_to_naive']}x naive (target <= {c['target']}x: "
              f"{'met' if c['met'] else 'NOT met'}), {c['ratio_to_ours_uncached']}x ours uncached")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
