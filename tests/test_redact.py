"""PII redaction: nothing personal reaches an external provider, and evidence still grounds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import packet_eval
from packet_eval.extractors.request import should_redact
from packet_eval.ladder import load_ladder
from packet_eval.packet import packet_from_text
from packet_eval.providers import ModelSpec
from packet_eval.redact import Redactor
from packet_eval.store import Store
from tests.fakes.llm_server import FakeLLMServer, handler
from tests.redaction_checks import assert_masks

PACKET = """# Promotion packet: Amara Nwosu — Senior AI Engineer

Nominated by Jiří Novák, Engineering Manager (jiri.novak@example.org, +44 20 7946 0958).
Employee ID: EMP-482913. Design doc: https://wiki.example.internal/evals/harness

## Eval design

I built the failure-mode eval harness that every change to the assistant now runs against.
I paired with Søren on the labelling guide, and Søren’s review caught 40 mislabelled cases.

> “Amara found that a fifth of our model errors were eval errors.” — Priya Raman, Staff Engineer

## Production

I traced the citation failures to a stale index shard and added a freshness check.
"""
SECRETS = ["Amara", "Nwosu", "Jiří", "Novák", "jiri.novak@example.org", "7946", "EMP-482913",
           "wiki.example.internal", "Søren", "Priya", "Raman"]


def test_redactor_masks_every_kind_consistently():
    r = Redactor.for_text(PACKET)
    out = r.redact(PACKET)
    for s in SECRETS:
        assert s not in out, s
    assert out.count("[PERSON_") >= 5
    # The same person always gets the same placeholder, and restore inverts redact.
    assert len({v for k, v in r.mapping.items() if k == "Amara"}) == 1
    assert r.restore(out) == PACKET
    # Facts survive: redaction masks people, not evidence.
    assert "stale index shard" in out and "failure-mode eval harness" in out


def test_listed_names_are_masked_even_in_free_prose():
    # "Qwertina" is in no names list and sits where a product could: only the roster finds it.
    text = "I worked on the harness; later Qwertina Zell approved the plan, and Qwertina's notes helped."
    assert "Qwertina" in Redactor.for_text(text).redact(text)
    out = Redactor.for_text(text, ["Qwertina Zell"]).redact(text)
    assert "Qwertina" not in out and "Zell" not in out


@pytest.mark.parametrize(("provider", "base_url", "requested", "expected"), [
    ("openai", None, None, True), ("anthropic", None, None, True),
    ("openai", "https://vllm.internal.example:8000/v1", None, True),
    ("openai", "http://127.0.0.1:8000/v1", None, False),
    ("compatible", "http://localhost:1234/v1", None, False),
    ("ollama", None, None, False), ("openai", "http://127.0.0.1:8000/v1", True, True),
    ("openai", None, False, False),
    # A DNS name that merely starts with "127." can resolve anywhere; other loopback IPs are local.
    ("openai", "http://127.example.com/v1", None, True),
    ("openai", "http://127.0.0.1.nip.example/v1", None, True),
    ("openai", "http://127.0.0.2:8000/v1", None, False), ("openai", "http://[::1]:8000/v1", None, False),
    ("openai", "http://LOCALHOST:8000/v1", None, False),
])
def test_redaction_is_on_for_external_endpoints_by_default(provider, base_url, requested, expected):
    assert should_redact(ModelSpec(provider, "m"), base_url, requested) is expected


def _quote_first_named_sentence(req: dict) -> dict:
    """Answer like a model that quotes the (redacted) text it was sent, placeholders and all."""
    user = req["messages"][-1]["content"]
    line = next(ln for ln in user.splitlines() if "review caught" in ln)
    ladder = load_ladder()
    dims = [{"dimension": d, "reasoning": "r", "evidence": [], "level": "none"} for d in ladder.dimension_ids]
    dims[0]["evidence"] = [{"quote": line.split(", and")[0], "rationale": "r", "level": "mid",
                            "strength": "moderate", "attribution": "individual"}]
    dims[0]["level"] = "mid"
    return {"dimensions": dims, "flags": []}


def test_no_personal_data_reaches_the_provider_and_evidence_still_grounds(tmp_path, monkeypatch):
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path))
    pkt = packet_from_text(PACKET, "amara")
    with FakeLLMServer() as srv:
        srv.script([handler(_quote_first_named_sentence)])
        a = asyncio.run(packet_eval.assess_async(pkt, model="openai/gpt-test", base_url=srv.openai_base_url,
                                                 redact=True, use_cache=False))
        sent = b"".join(r.body for r in srv.requests).decode("utf-8")
    for s in SECRETS:
        assert s not in sent, f"{s!r} reached the provider"
    assert "[PERSON_" in sent
    assert a.usage.redacted is True
    a.check_grounded(pkt.text)
    [ev] = a.dimensions["eval_design"].evidence
    assert ev.quote.startswith("I paired with Søren")  # restored and grounded in the original
    logged = json.dumps([r for r in Store().recent_calls(10)])
    import sqlite3

    with sqlite3.connect(Store().path) as db:  # the stored request must be the redacted one
        requests = [row[0] for row in db.execute("SELECT request_json FROM calls")]
    assert requests
    for s in SECRETS:
        assert s not in logged and all(s not in (q or "") for q in requests), s


PII = Path(__file__).resolve().parent.parent / "datasets" / "pii"
PII_DEV = ("pii-001", "pii-002", "pii-003", "pii-004")
# dev: the redactor's development packets; test: scored once, then its missed classes were
# fixed (no longer held out); test2: a second writer's set, scored once (datasets/pii/SCORES.md).
SPLIT_SIZES = {"dev": 37, "test": 108, "test2": None}


def _split(split: str) -> tuple[list[Path], list[dict], list[str]]:
    base = PII / "test2" if split == "test2" else PII
    paths = sorted(p for p in (base / "packets").iterdir() if p.is_file()
                   and (split == "test2" or (p.stem in PII_DEV) == (split == "dev")))
    ids = {p.stem for p in paths}
    lines = (base / "details.jsonl").read_text(encoding="utf-8").splitlines()
    details = [d for d in (json.loads(x) for x in lines if x.strip()) if d["packet"] in ids]
    names = [x.strip() for x in (base / "roster.txt").read_text(encoding="utf-8").splitlines() if x.strip()]
    return paths, details, names


def _empty_answer(req: dict) -> dict:
    dims = [{"dimension": d, "reasoning": "r", "evidence": [], "level": "none"}
            for d in load_ladder().dimension_ids]
    return {"dimensions": dims, "flags": []}


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
@pytest.mark.parametrize("roster", [False, True], ids=["alone", "with-roster"])
def test_no_planted_detail_reaches_the_wire(tmp_path, monkeypatch, split, roster):
    """Every planted-PII packet, sent with redaction to a stand-in provider: no detail in any body."""
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path))
    paths, details, names = _split(split)
    leaked, checked = [], 0
    for path in paths:
        pkt = packet_eval.load_packet(path)
        with FakeLLMServer() as srv:
            srv.script([handler(_empty_answer)])
            asyncio.run(packet_eval.assess_async(pkt, model="openai/gpt-test", base_url=srv.openai_base_url,
                                                 redact=True, use_cache=False,
                                                 redact_names=tuple(names) if roster else ()))
            sent = [json.loads(r.body) for r in srv.requests]
        # Decoded, so "\u0414" escapes in the body cannot hide a Cyrillic name from the check.
        wire = json.dumps(sent, ensure_ascii=False)
        assert "promotion" in wire.lower() and "[PERSON_" in wire  # the packet was sent, redacted
        for d in (d for d in details if d["packet"] == path.stem):
            checked += 1
            if d["text"] in wire:
                leaked.append(f"{path.stem}: {d['family']} {d['text']!r}")
    assert checked == (SPLIT_SIZES[split] or len(details)) and checked >= 37
    assert not leaked, f"{len(leaked)} of {checked} reached the provider: {leaked}"


@pytest.mark.parametrize(("text", "masked", "kept"), [
    ("Will reviewed the rubric with me, and it held.", ["Will"], ["rubric"]),
    ("Will a rerun fix it? It will not, so I fixed the labels.", [], ["Will a rerun"]),
    ("I labelled cases and, thanks to Summer, the rubric held. Summer ran the second pass.",
     ["Summer"], ["labelled cases"]),
    ("I paired with our new hire, Mark, every Thursday; the Atlas catalogue links it.",
     ["Mark"], ["Thursday", "Atlas"]),
    ("My lead, Дмитрий Соколов, and 김서연 reviewed it in the Sydney office in March.",
     ["Дмитрий", "Соколов", "김서연"], ["Sydney office", "March"]),
    ("Reach me at jonah [at] feldstein [dot] io, @jfeld on GitHub, SSN 523-41-8876.",
     ["feldstein", "@jfeld", "523-41-8876"], ["GitHub"]),
    ("| Role | Name |\n|---|---|\n| Sponsor | Tomasz Wierzbicki-Lund |\n",
     ["Tomasz", "Wierzbicki-Lund"], ["Sponsor"]),
])
def test_names_in_context_and_shaped_details(text, masked, kept):
    assert_masks(text, masked, kept)
