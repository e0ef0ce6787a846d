"""What redaction misses and what it costs.

Usage: ``uv run python benchmarks/redaction.py [--split dev|test|all]``
→ ``benchmarks/results/redaction_<split>.json``.

- **Leaks**, on the planted-PII set (``datasets/pii``): a planted detail leaks
  when its exact text is still in the redacted packet; it leaks *in part* when
  any of its words of three or more letters or digits survives (a name whose
  surname is masked but first name is not). Measured without and with the
  committee's roster passed as listed names.
- **Over-redaction**: ``not_pii.jsonl`` strings (product names, months, a city
  that is also a given name) that redaction altered.
- **Cost to evidence**: over the golden labels' evidence quotes, the share of
  quotes redaction alters at all and the share of their characters it masks.
  The model sees placeholders in exactly these places.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from packet_eval.packet import load_packet
from packet_eval.redact import Redactor
from packet_eval.redact.names import english_words

ROOT = Path(__file__).resolve().parent.parent
PII = ROOT / "datasets" / "pii"
GOLDEN = ROOT / "datasets" / "golden"
DEV = {"pii-001", "pii-002", "pii-003", "pii-004"}
OUT = ROOT / "benchmarks" / "results"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _words(detail: str) -> list[str]:
    """A detail's distinctive words: three or more letters or digits, not common English."""
    return [w for w in re.findall(r"[^\W_]{3,}", detail)
            if w.lower() not in english_words() and w.lower() not in {"ext", "from"}]


def leaks(split: str, roster: list[str]) -> dict:
    details = _jsonl(PII / "details.jsonl")
    not_pii = _jsonl(PII / "not_pii.jsonl")
    whole, part, over, missed = 0, 0, 0, []
    n = m = 0
    for path in sorted((PII / "packets").glob("*.md")):
        if split != "all" and (path.stem in DEV) != (split == "dev"):
            continue
        text = path.read_text(encoding="utf-8")
        out = Redactor.for_text(text, roster).redact(text)
        for d in (d for d in details if d["packet"] == path.stem):
            n += 1
            if d["text"] in out:
                whole += 1
                missed.append({"packet": path.stem, "family": d.get("family"), "text": d["text"]})
            elif left := [w for w in _words(d["text"])
                          if re.search(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", out)]:
                part += 1
                missed.append({"packet": path.stem, "family": d.get("family"), "text": d["text"],
                               "in_part": left})
        for d in (d for d in not_pii if d["packet"] == path.stem):
            m += 1
            over += d["text"] not in out
    return {"details": n, "leaked": whole, "leaked_in_part": part, "not_pii": m,
            "not_pii_altered": over, "missed": missed}


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
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    split = ap.parse_args().split
    roster = [x.strip() for x in (PII / "roster.txt").read_text(encoding="utf-8").splitlines() if x.strip()]
    result = {"split": split, "without_roster": leaks(split, []), "with_roster": leaks(split, roster),
              "evidence": evidence_cost()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"redaction_{split}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
    for key in ("without_roster", "with_roster"):
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
