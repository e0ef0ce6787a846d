"""The inspect-ai task that measures an extractor against calibrator labels.

Samples come from any directory in the golden layout. The solver runs the
chosen extractor on the packet file: ``llm`` runs the production LLM
extractor with an OpenAI client that inspect's agent bridge serves
(``model="inspect"``), so ``inspect eval --model X`` evaluates shipping code
with model X and the log shows its transcripts and tokens; ``baseline`` runs
offline (``--model none``); ``oracle`` and ``constant`` are the reference
extractors that prove the harness can score 1.0 and can score at chance.

The task is registered as ``packet_eval/packet_extraction`` (see ``tasks.py``)::

    inspect eval packet_eval/packet_extraction -T extractor=baseline -T dataset=DIR --model none
    inspect eval packet_eval/packet_extraction -T extractor=llm --model openai/gpt-4.1-mini
    inspect eval packet_eval/packet_extraction -T extractor=oracle --model none    # must score 1.0
    inspect eval packet_eval/packet_extraction -T extractor=constant --model none  # kappa must be 0

Options: -T dataset=DIR (any golden-layout directory; default ``datasets/golden``
under the working directory), -T split=test|dev|all, -T ladder=PATH,
-T cache=false (LLM only: skip packet-eval's response cache), -T mode=json (LLM only:
send the answer schema as response_format). A local llama.cpp server is reached with
inspect's own provider, which speaks Chat Completions (``openai/NAME`` would go to
``/v1/responses`` and get a 404)::

    inspect eval packet_eval/packet_extraction -T extractor=llm \
        --model llama-cpp-python/smollm2 --model-base-url http://127.0.0.1:8765/v1

The bridge turns the client's schema into inspect's own, which keeps no maxLength or
maxItems, and inspect then sends the standard ``json_schema`` form, which this server
refuses. So with ``-T mode=json`` and a ``llama-cpp-python/`` model a bridge filter sends
the bounded grammar in llama-cpp-python's own form instead: see ``grammar_filter``.
``-T base_url=URL -T server_model=NAME`` (with ``--model none``) sends the extractor
straight to a server instead, the same path as ``packet-eval preview --base-url``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, GenerateFilter, GenerateInput, Model
from inspect_ai.scorer import Score, Target, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from packet_eval.agreement import record_from_assessment, spans_match
from packet_eval.dataset import GoldenDataset, load_dataset
from packet_eval.errors import ConfigError
from packet_eval.evaluation import metrics as m
from packet_eval.evaluation.reference import constant, most_frequent_level, oracle
from packet_eval.evaluation.samples import label_from_dict, record_to_dict, sample_metadata
from packet_eval.extractors.grammar_bounds import bounded_answer_model
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet, load_packet
from packet_eval.schema import Assessment

EXTRACTORS = ("llm", "baseline", "oracle", "constant")
SPLITS = ("dev", "test", "all")
DEFAULT_DATASET = "datasets/golden"


def dataset_dir(path: str) -> Path:
    """A dataset directory as given (relative to the working directory, as inspect's paths are)."""
    p = Path(path)
    if not p.is_dir():
        raise ConfigError("dataset directory not found; pass -T dataset=DIR, a directory in the "
                          "golden layout (packets/, labels.jsonl, splits.json)", p)
    return p


def build_samples(ds: GoldenDataset, split: str) -> list[Sample]:
    samples = []
    for pid in ds.ids(split):
        md = sample_metadata(ds, pid)
        samples.append(Sample(id=pid, input=ds.packet(pid).text, target=ds.primary(pid).level,
                              metadata=md))
    return samples


async def extract_packet(extractor: str, packet: Packet, ladder: Ladder, *,
                         target_level: str | None, constant_level: str, cache: bool,
                         mode: str | None = None, server: tuple[str, str] | None = None,
                         ) -> Assessment:
    """Run a label-free extractor (llm, baseline, constant) on an in-memory packet.

    ``server`` is (base URL, model name): the LLM extractor talks to that server itself.
    """
    if extractor == "baseline":
        from packet_eval.extractors import baseline

        return baseline.extract(packet, ladder, target_level)
    if extractor == "constant":
        return constant(packet, ladder, constant_level, target_level)
    if extractor != "llm":
        raise ConfigError(f"extractor {extractor!r} needs a calibrator label")
    from inspect_ai.agent import agent_bridge
    from openai import AsyncOpenAI

    from packet_eval.api import assess_async

    if server is not None:
        return await assess_async(packet, model=server[1], base_url=server[0], ladder=ladder,
                                  target_level=target_level, use_cache=cache, mode=mode)

    # forward_generation_config: the extractor's max_tokens and temperature reach the model
    # (by default the bridge drops them, and a local server's default output limit cuts
    # the answer off).
    async with agent_bridge(forward_generation_config=True, filter=grammar_filter(ladder)):
        client = AsyncOpenAI(api_key="inspect-bridge", max_retries=0)
        return await assess_async(packet, model="inspect", client=client, ladder=ladder,
                                  target_level=target_level, use_cache=cache, mode=mode,
                                  redact=False if bridged_model_is_local() else None)


def bridged_model_is_local() -> bool:
    """Whether the model behind the bridge runs on this machine (its base URL is loopback).

    The extractor sees only the bridge, so by default it redacts; a local server gets the
    packet as written, the same default as ``--base-url`` outside the harness.
    """
    from inspect_ai.model import get_model

    from packet_eval.extractors.request import is_local_url

    return is_local_url(get_model().api.base_url)


def grammar_filter(ladder: Ladder) -> GenerateFilter:
    """A bridge filter that sends llama-cpp-python the bounded grammar in its own form.

    The bridge turns the client's schema into inspect's, which keeps no maxLength or
    maxItems, and inspect sends it as the standard ``json_schema`` form, which that server
    answers with HTTP 500. For a ``llama-cpp-python/`` model asked for JSON (``-T mode=json``)
    the schema goes as ``extra_body``, which the openai SDK lays over the request's own
    ``response_format``. Every other model, and tools mode, is left as inspect builds it.
    """
    schema = bounded_answer_model(ladder).model_json_schema()

    async def bounded(model: Model, messages: list[Any], tools: list[Any], tool_choice: Any,
                      config: GenerateConfig) -> GenerateInput | None:
        if config.response_schema is None or not str(model).startswith("llama-cpp-python/"):
            return None
        extra = {**(config.extra_body or {}),
                 "response_format": {"type": "json_object", "schema": schema}}
        return GenerateInput(messages, tools, tool_choice,
                             config.model_copy(update={"extra_body": extra}))

    return bounded


async def run_extractor(extractor: str, state_md: dict[str, Any], ladder: Ladder,
                        constant_level: str, cache: bool, mode: str | None = None,
                        server: tuple[str, str] | None = None) -> Assessment:
    packet = load_packet(state_md["path"])
    label = label_from_dict(state_md["labels"][0])
    if extractor == "oracle":
        return oracle(packet, ladder, label)
    return await extract_packet(extractor, packet, ladder, target_level=label.target_level,
                                constant_level=constant_level, cache=cache, mode=mode,
                                server=server)


@solver
def extract(extractor: str, ladder_path: str | None, constant_level: str, cache: bool,
            mode: str | None = None, server: tuple[str, str] | None = None) -> Solver:
    ladder = load_ladder(ladder_path)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        a = await run_extractor(extractor, state.metadata, ladder, constant_level, cache, mode,
                                server)
        state.metadata["assessment"] = a.model_dump(mode="json")
        state.output.completion = (f"level={a.level} " + " ".join(
            f"{d}={f.level}" for d, f in a.dimensions.items()))
        return state

    return solve


@scorer(metrics=[])  # metrics are attached by the task so they can carry the ladder
def agreement_scorer() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        md = state.metadata
        a = Assessment.model_validate(md["assessment"])
        text = state.input_text
        gold = md["raters"][md["labels"][0]["calibrator"]]
        pred = record_to_dict(record_from_assessment(a))
        items = [e for f in a.dimensions.values() for e in f.evidence]
        grounded = sum(1 for e in items if text[e.start:e.end] == e.quote)
        positions = _gold_positions(gold, pred, len(text))
        exact = a.level == gold["level"]
        return Score(
            value=1.0 if exact else 0.0, answer=a.level,
            explanation=f"gold {gold['level']}, predicted {a.level}; "
                        f"{len(items)} evidence items, flags {sorted(pred['flags'])}",
            metadata={"gold": gold, "pred": pred, "raters": md["raters"],
                      "evidence_total": len(items), "evidence_grounded": grounded,
                      "injection_role": md.get("injection_role"),
                      "injection_pair": md.get("injection_pair"),
                      "usage": a.usage.model_dump(), "gold_positions": positions,
                      "words": md.get("words"), "style": md.get("style"), "tags": md.get("tags")})

    return score


def _gold_positions(gold: dict[str, Any], pred: dict[str, Any], n_chars: int) -> list[list[float]]:
    """[relative position, matched (0/1)] per gold span: evidence recall by place in the packet."""
    out = []
    for d, spans in gold["evidence"].items():
        preds = [tuple(s) for s in pred["evidence"].get(d, [])]
        for s in spans:
            hit = any(spans_match(tuple(s), p) for p in preds)
            out.append([round(s[0] / max(1, n_chars), 4), 1.0 if hit else 0.0])
    return out


@task(name="packet_extraction")
def packet_extraction_task(dataset: str = DEFAULT_DATASET, split: str = "test",
                           extractor: str = "baseline", ladder: str | None = None,
                           cache: bool = True, mode: str | None = None,
                           base_url: str | None = None, server_model: str | None = None) -> Task:
    """How often does an extractor agree with the golden calibrators?

    Args:
        dataset: Any directory in the golden layout.
        split: ``dev``, ``test`` or ``all``.
        extractor: ``llm``, ``baseline``, ``oracle`` or ``constant``.
        ladder: Ladder file (default: the shipped one).
        cache: LLM only: use packet-eval's response cache.
        mode: LLM only: ``tools`` or ``json`` (the answer schema as response_format).
        base_url: LLM only: an OpenAI-compatible server the extractor calls itself (not
            through inspect's bridge); needs ``server_model``.
        server_model: LLM only: the model name that server answers to.
    """
    if extractor not in EXTRACTORS:
        raise ConfigError(f"extractor must be one of {', '.join(EXTRACTORS)}, got {extractor!r}")
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if (base_url is None) != (server_model is None):
        raise ConfigError("-T base_url and -T server_model go together: the server's URL "
                          "and the model name it answers to")
    server = (base_url, server_model) if base_url and server_model else None
    lad = load_ladder(ladder)
    ds = load_dataset(dataset_dir(dataset), lad)
    samples = build_samples(ds, split)
    constant_level = most_frequent_level((ds.primary(s.id) for s in samples), lad)  # type: ignore[arg-type]
    args = {"scale": lad.scale, "dimensions": lad.dimension_ids, "flags": lad.flag_ids}
    scorer_obj = agreement_scorer()
    metrics: list[Any] = [
        m.level_agreement(**args), m.dimension_agreement(**args), m.evidence_agreement(**args),
        m.flag_agreement(**args), m.injection_robustness(), m.calibrator_agreement(**args),
        m.aggregation_ceiling(lad.scale),
        m.epoch_consistency(lad.scale), m.usage_summary()]
    return Task(
        dataset=MemoryDataset(samples, name=f"{Path(dataset).name}-{split}"),
        solver=extract(extractor, ladder, constant_level, cache, mode, server),
        scorer=scorer_obj, metrics=metrics,
        metadata={"extractor": extractor, "split": split, "dataset": str(dataset),
                  "ladder": lad.ref(), "constant_level": constant_level})
