"""What redaction misses and what it costs.

Usage: ``uv run python benchmarks/redaction.py [--split dev|test|test2|all] [--wire]``
→ ``benchmarks/results/redaction_<split>.json``.

Splits: ``dev`` and ``test`` are ``datasets/pii/packets`` (pii-001 … 004 and 005 … 016);
``test2`` is the second writer's held-out set in ``datasets/pii/test2/``.

- **Leaks**, on the planted-PII set (``datasets/pii``): a planted detail leaks
  when its exact text is still in the redacted packet; it leaks *in part* when
  any of its words of three or more letters or digits survives (a name whose
  surname is masked but first name is not). Measured without and with the
  committee's roster passed as listed names.
- **Over-redaction**: ``not_pii.jsonl`` strings (product names, months, a city
  that is also a given name) that redaction altered.
- **On the wire** (``--wire``): each packet is assessed with ``redact=True``
  against the in-process stand-in provider (``tests/fakes/llm_server.py``,
  loopback) and the decoded request bodies are searched for every detail, whole
  and in part, counted by family. This is the figure SECURITY.md reports.
- **Cost to evidence**: over the golden labels' evidence quotes, the share of
  quotes redaction alters at all and the share of their characters it masks.
  The model sees placeholders in exactly these places.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections import Counter
from pathlib import Path

from packet_eval.packet import load_packet
from packet_eval.redact import Redactor
from packet_eval.redact.names import english_words

ROOT = Path(__file__).resolve().parent.parent
PII = ROOT / "datasets" / "pii"
GOLDEN = ROOT / "datasets" / "golden"
DEV = {"pii-001", "pii-002", "pii-003", "pii-004"}
OUT = ROOT / "benchmarks" / "results"
SPLITS = ("dev", "test", "test2")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _words(detail: str) -> list[str]:
    """A detail's distinctive words: three or more letters or digits, not common English."""
    return [w for w in re.findall(r"[^\W_]{3,}", detail)
            if w.lower() not in english_words() and w.lower() not in {"ext", "from"}]


def split_set(split: str) -> tuple[list[Path], list[dict], list[dict], list[str]]:
    """A split's packet files, planted details, must-keep strings and roster names."""
    base = PII / "test2" if split == "test2" else PII
    paths = sorted(p for p in (base / "packets").iterdir() if p.is_file()
                   and (split == "test2" or (p.stem in DEV) == (split == "dev")))
    roster = base / "roster.txt"
    names = [x.strip() for x in roster.read_text(encoding="utf-8").splitlines()
             if x.strip()] if roster.exists() else []
    ids = {p.stem for p in paths}
    return (paths, [d for d in _jsonl(base / "details.jsonl") if d["packet"] in ids],
            [d for d in _jsonl(base / "not_pii.jsonl") if d["packet"] in ids], names)


def _score(items: list[tuple[str, str]], details: list[dict], not_pii: list[dict]) -> dict:
    """Leaks of each packet's details in the text that left it (``(packet, text)`` pairs)."""
    whole, part, over, missed = 0, 0, 0, []
    by_family: Counter[str] = Counter()
    whole_by, part_by = Counter(), Counter()
    n = m = 0
    for pid, out in items:
        for d in (d for d in details if d["packet"] == pid):
            n += 1
            family = d.get("family", "?")
            by_family[family] += 1
            if d["text"] in out:
                whole += 1
                whole_by[family] += 1
                missed.append({"packet": pid, "family": family, "text": d["text"]})
            elif left := [w for w in _words(d["text"])
                          if re.search(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", out)]:
                part += 1
                part_by[family] += 1
                missed.append({"packet": pid, "family": family, "text": d["text"], "in_part": left})
        for d in (d for d in not_pii if d["packet"] == pid):
            m += 1
            over += d["text"] not in out
    families = {f: {"details": c, "leaked": whole_by[f], "leaked_in_part": part_by[f]}
                for f, c in sorted(by_family.items())}
    return {"details": n, "leaked": whole, "leaked_in_part": part, "not_pii": m,
            "not_pii_altered": over, "by_family": families, "missed": missed}


def _splits(split: str) -> list[str]:
    return [x for x in SPLITS if (PII / "test2").exists() or x != "test2"] if split == "all" else [split]


def leaks(split: str, roster: list[str] | None) -> dict:
    """Leaks in the redacted text itself; ``roster=None`` passes each split's own roster."""
    items, details, not_pii = [], [], []
    for sp in _splits(split):
        paths, d, k, names = split_set(sp)
        details += d
        not_pii += k
        for path in paths:
            text = load_packet(path).text
            redactor = Redactor.for_text(text, names if roster is None else roster)
            items.append((path.stem, redactor.redact(text)))
    return _score(items, details, not_pii)


def wire_leaks(split: str, with_roster: bool) -> dict:
    """Leaks in the decoded request bodies the stand-in provider received."""
    sys.path.insert(0, str(ROOT))
    from packet_eval import assess_async
    from packet_eval.ladder import load_ladder
    from tests.fakes.llm_server import FakeLLMServer, handler

    dims = load_ladder().dimension_ids

    def empty(req: dict) -> dict:
        return {"dimensions": [{"dimension": d, "reasoning": "r", "evidence": [], "level": "none"}
                               for d in dims], "flags": []}

    items, details = [], []
    for sp in _splits(split):
        paths, d, _, names = split_set(sp)
        details += d
        for path in paths:
            with FakeLLMServer() as srv:
                srv.script([handler(empty)])
                asyncio.run(assess_async(load_packet(path), model="openai/gpt-test",
                                         base_url=srv.openai_base_url, redact=True, use_cache=False,
                                         redact_names=tuple(names) if with_roster else ()))
                sent = [json.loads(r.body) for r in srv.requests]
            # Decoded, so "\u0414" escapes cannot hide a Cyrillic name from the search.
            items.append((path.stem, json.dumps(sent, ensure_ascii=False)))
    # Must-keep strings are scored on the redacted text (leaks()); the wire also holds the prompt.
    return _score(items, details, [])


def evidence_cost() -> dict:
    labels = _jsonl(GOLDEN / "labels.jsonl")
    quotes = altered = chars = masked = 0
    by_packet: dict[str, list[str]] = {}
    for lb in labels:
        for dim in lb["dimensions"].values():
            by_packet.setdefault(lb["packet_id"], []).extend(dim.get("evidence", []))
    for pid, evidence in sorted(by_packet.items()):
        path = next((GOLDEN / "packets").glob(f"{pid}.*"), None)
        if path is None:
            continue
        text = load_packet(path).text
        spans = Redactor.for_text(text).masked_spans(text)
        for q in set(evidence):
            start = text.find(q)
            if start < 0:
                continue
            end = start + len(q)
            quotes += 1
            chars += len(q)
            hit = sum(max(0, min(b, end) - max(a, start)) for a, b, _ in spans)
            masked += hit
            altered += hit > 0
    return {"quotes": quotes, "quotes_altered": altered, "share_quotes_altered": altered / quotes,
            "chars": chars, "chars_masked": masked, "share_chars_masked": masked / chars}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=[*SPLITS, "all"], default="dev")
    ap.add_argument("--wire", action="store_true", help="also count leaks on the stand-in provider's wire")
    args = ap.parse_args()
    split = args.split
    result = {"split": split, "without_roster": leaks(split, []), "with_roster": leaks(split, None),
              "evidence": evidence_cost()}
    if args.wire:
        result |= {"wire_without_roster": wire_leaks(split, False),
                   "wire_with_roster": wire_leaks(split, True)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"redaction_{split}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
    for key in [k for k in result if "roster" in k]:
        r = result[key]
        print(f"{split} {key}: {r['leaked']}/{r['details']} leaked whole, {r['leaked_in_part']} in part; "
              f"not_pii altered {r['not_pii_altered']}/{r['not_pii']}")
        for x in r["missed"]:
            print(f"  missed [{x['family']}] {x['text']!r} ({x['packet']})"
                  + (f": {x['in_part']} survive" if "in_part" in x else ""))
    e = result["evidence"]
    print(f"evidence: {e['quotes_altered']}/{e['quotes']} quotes altered "
          f"({e['share_quotes_altered']:.1%}), {e['share_chars_masked']:.1%} of their characters masked")


if __name__ == "__main__":
    main()
