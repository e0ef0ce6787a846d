"""The inspect-ai task for metamorphic probes: does the level move when nothing that matters does?

One sample per packet (the injected member of an injection twin pair is
represented by its clean twin). The solver runs the chosen extractor on the
original packet and on every variant each probe makes of it
(``packet_eval.probes``), and records the overall and dimension levels of
each run. The scorer marks a packet 1.0 only if no variant changed any level;
``probe_metrics`` turns the runs into invariance rates, change directions and
the name-swap impact ratio.

Extractors are selected by name, as in ``inspect_task``: ``llm`` (production
LLM extractor through inspect's agent bridge), ``baseline``, ``oracle`` (gold
labels, with each variant's evidence mapped into its text: it proves the
mapping, and must be invariant everywhere) and ``constant``.
:func:`register_extractor` adds a name, which is how tests plug in a
deliberately biased extractor.

The task is registered as ``packet_eval/probes`` (see ``tasks.py``)::

    inspect eval packet_eval/probes -T extractor=baseline -T dataset=DIR --model none
    inspect eval packet_eval/probes -T extractor=llm --model openai/gpt-4.1-mini
    inspect eval packet_eval/probes -T extractor=oracle --model none   # must be invariant everywhere

The probes: name_swap (every person renamed into each of 12 name groups,
pronouns to match), padding, superlatives, section_order, format (.docx and
.pdf round trips) and injection (the golden injection twins). Reported per
probe: invariance with a bootstrap 95% CI, the direction of every change, and
for name_swap the LL144-style impact ratio across name groups.

Options: -T dataset=DIR, -T split=test|dev|all, -T probes=name_swap,padding,...,
-T name_groups=white_woman,black_man,..., -T selection_level=senior, -T seed=0,
-T ladder=PATH, -T cache=false (LLM only). Gate: packet-eval eval gate LOG.
"""

from __future__ import annotations

import inspect as pyinspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, Target, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from packet_eval.agreement import change_direction
from packet_eval.assemble import HIDDEN_TEXT_FLAG
from packet_eval.dataset import TWIN_SUFFIX, GoldenDataset, Label, load_dataset
from packet_eval.errors import ConfigError
from packet_eval.evaluation import probe_metrics as pm
from packet_eval.evaluation.inspect_task import DEFAULT_DATASET, SPLITS, dataset_dir, extract_packet
from packet_eval.evaluation.reference import most_frequent_level, oracle
from packet_eval.evaluation.samples import label_from_dict, sample_metadata
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet, load_packet, packet_from_text
from packet_eval.probes import PROBES, Variant, make_variants
from packet_eval.probes.base import derive_seed
from packet_eval.probes.name_swap import load_groups
from packet_eval.probes.render_formats import pdf_unavailable
from packet_eval.schema import Assessment

BUILTIN = ("llm", "baseline", "oracle", "constant")
ExtractFn = Callable[[Packet, Ladder, Label], Assessment | Awaitable[Assessment]]
_REGISTERED: dict[str, ExtractFn] = {}


def register_extractor(name: str, fn: ExtractFn) -> None:
    """Make ``fn(packet, ladder, label)`` selectable as ``extractor=name`` (tests, experiments)."""
    if name in BUILTIN:
        raise ConfigError(f"{name!r} is a built-in extractor")
    _REGISTERED[name] = fn


def _choose(arg: str | list[str], allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    """``all`` or a comma-separated subset of ``allowed``, in the order given.

    ``inspect eval -T probes=a,b`` hands the task a list, Python callers a string.
    """
    if arg == "all":
        return list(allowed)
    parts = arg.split(",") if isinstance(arg, str) else [str(x) for x in arg]
    chosen = [p.strip() for p in parts if p.strip()]
    bad = [p for p in chosen if p not in allowed]
    if bad or not chosen:
        raise ConfigError(f"{what} must be 'all' or a comma-separated list of "
                          f"{', '.join(allowed)}; got {arg!r}")
    return chosen


def build_samples(ds: GoldenDataset, split: str) -> list[Sample]:
    """One sample per packet; an injected twin is probed through its clean twin."""
    samples = []
    for pid in ds.ids(split):
        if pid + TWIN_SUFFIX in ds.packet_files:
            continue  # the injected member of a pair: its clean twin carries the content
        md = sample_metadata(ds, pid)
        md["format"] = ds.packet(pid).format
        base = pid.removesuffix(TWIN_SUFFIX)
        if pid.endswith(TWIN_SUFFIX) and base in ds.packet_files:
            md["twin_path"] = str(ds.packet_files[base].resolve())
        samples.append(Sample(id=pid, input=ds.packet(pid).text, target="unchanged", metadata=md))
    return samples


async def _assess(extractor: str, packet: Packet, label: Label, ladder: Ladder,
                  constant_level: str, cache: bool) -> Assessment:
    if extractor in _REGISTERED:
        out = _REGISTERED[extractor](packet, ladder, label)
        return await out if pyinspect.isawaitable(out) else out  # type: ignore[return-value]
    if extractor == "oracle":
        return oracle(packet, ladder, label)
    return await extract_packet(extractor, packet, ladder, target_level=label.target_level,
                                constant_level=constant_level, cache=cache)


def _levels(a: Assessment) -> dict[str, Any]:
    return {"level": a.level, "dimensions": {d: f.level for d, f in a.dimensions.items()},
            # The hidden-text note reports what a probe added; it is no change of judgement.
            "flags": sorted({f.flag for f in a.flags if f.flag != HIDDEN_TEXT_FLAG})}


# Probes whose variants must not raise or drop a flag either (hidden text is no injection).
FLAG_INVARIANT = ("hidden_text",)


def run_record(v: Variant, original: dict[str, Any], a: Assessment, scale: list[str]
               ) -> dict[str, Any]:
    """What the log keeps of one variant run: its levels and the direction of every change."""
    got = _levels(a)
    directions = {"level": change_direction(original["level"], got["level"], scale)}
    for d, lv in original["dimensions"].items():
        directions[d] = change_direction(lv, got["dimensions"].get(d, lv), scale)
    if v.probe in FLAG_INVARIANT and got["flags"] != original.get("flags", got["flags"]):
        directions["flags"] = "changed"
    grounded, total = v.grounded
    return {"variant": v.name, "group": v.group, "fmt": v.fmt, **got,
            "changed": any(x != "same" for x in directions.values()),
            "changes": {k: x for k, x in directions.items() if x != "same"},
            "evidence_grounded": grounded, "evidence_total": total,
            "words": len(v.text.split()), "details": v.details}


@solver
def run_probes(extractor: str, ladder_path: str | None, probes: list[str], seed: int,
               constant_level: str, cache: bool, name_groups: list[str]) -> Solver:
    ladder = load_ladder(ladder_path)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        md = state.metadata
        packet = load_packet(md["path"])
        label = label_from_dict(md["labels"][0])
        twin = load_packet(md["twin_path"]).text if md.get("twin_path") else None
        original = _levels(await _assess(extractor, packet, label, ladder, constant_level, cache))
        results: dict[str, list[dict[str, Any]]] = {}
        pseed = derive_seed(seed, packet.packet_id)
        for probe in probes:
            runs = []
            for v in make_variants(probe, packet.text, label, seed=pseed, source_fmt=packet.format,
                                   twin=twin, name_groups=name_groups):
                vp = packet_from_text(v.text, packet.packet_id, f"{packet.source}#{v.name}", v.fmt)
                a = await _assess(extractor, vp, v.label or label, ladder, constant_level, cache)
                runs.append(run_record(v, original, a, ladder.scale))
            results[probe] = runs
        md["probe_original"] = original
        md["probe_results"] = results
        changed = [r["variant"] for runs in results.values() for r in runs if r["changed"]]
        state.output.completion = (f"level={original['level']}; {sum(map(len, results.values()))} "
                                   f"variants, changed: {', '.join(changed) or 'none'}")
        return state

    return solve


@scorer(metrics=[])  # metrics are attached by the task so they can carry the ladder
def invariance_scorer() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        md = state.metadata
        results = md["probe_results"]
        changed = {f"{r['variant']}: " + ", ".join(f"{k} {x}" for k, x in r["changes"].items())
                   for runs in results.values() for r in runs if r["changed"]}
        return Score(value=0.0 if changed else 1.0,
                     answer="changed" if changed else "unchanged",
                     explanation="; ".join(sorted(changed)) or "no variant changed any level",
                     metadata={"packet_id": md["packet_id"], "original": md["probe_original"],
                               "probes": results, "words": md.get("words")})

    return score


@task(name="probes")
def packet_probes_task(dataset: str = DEFAULT_DATASET, split: str = "test",
                       extractor: str = "baseline", probes: str | list[str] = "all",
                       ladder: str | None = None, cache: bool = True, seed: int = 0,
                       selection_level: str = "senior", name_groups: str | list[str] = "all"
                       ) -> Task:
    """Does the level move when nothing that matters changes? (see the module docstring)

    Args:
        dataset: Any directory in the golden layout.
        split: ``dev``, ``test`` or ``all``.
        extractor: ``llm``, ``baseline``, ``oracle``, ``constant`` or a registered name.
        probes: ``all`` or a comma-separated subset of ``packet_eval.probes.PROBES``.
        ladder: Ladder file (default: the shipped one).
        cache: LLM only: use packet-eval's response cache.
        seed: Base seed; each packet and probe derive their own from it.
        selection_level: For the impact ratio, a packet is "selected" at this level or above.
        name_groups: ``all`` or a comma-separated subset of ``names.yaml``'s groups.
    """
    if extractor not in BUILTIN and extractor not in _REGISTERED:
        raise ConfigError(f"extractor must be one of {', '.join([*BUILTIN, *_REGISTERED])}, "
                          f"got {extractor!r}")
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    chosen = _choose(probes, PROBES, "probes")
    if "format" in chosen and (reason := pdf_unavailable()):
        raise ConfigError(f"the format probe cannot run: {reason}; or leave it out with "
                          "-T probes=name_swap,padding,superlatives,section_order,injection")
    groups = _choose(name_groups, sorted(load_groups()), "name_groups")
    lad = load_ladder(ladder)
    if selection_level not in lad.scale:
        raise ConfigError(f"selection_level must be one of {', '.join(lad.scale)}, "
                          f"got {selection_level!r}")
    ds = load_dataset(dataset_dir(dataset), lad)
    samples = build_samples(ds, split)
    constant_level = most_frequent_level((ds.primary(str(s.id)) for s in samples), lad)
    metrics: list[Any] = [
        pm.probe_metric(p, lad.scale, selection_level if p == "name_swap" else None)
        for p in chosen]
    return Task(
        dataset=MemoryDataset(samples, name=f"{Path(dataset).name}-{split}-probes"),
        solver=run_probes(extractor, ladder, chosen, seed, constant_level, cache, groups),
        scorer=invariance_scorer(), metrics=metrics,
        metadata={"extractor": f"probes-{extractor}", "split": split, "dataset": str(dataset),
                  "ladder": lad.ref(), "probes": chosen, "seed": seed,
                  "selection_level": selection_level, "name_groups": groups})
