"""The harness against a real local model server: agreement, grounding, dropped quotes, latency.

    uv run python benchmarks/real_llm.py --base-url http://127.0.0.1:8765/v1 --model smollm2 -n 5

Runs ``packet_eval/packet_extraction -T extractor=llm`` on the first N golden test packets
and writes ``benchmarks/results/real_llm_<model>.json`` (``..._bridge.json`` with ``--bridge``).
By default the extractor calls the
server itself (``-T base_url``, ``--mode json``: llama-cpp-python's bounded grammar);
``--bridge`` goes through inspect's llama-cpp-python provider and agent bridge instead (Chat
Completions, so any OpenAI-compatible server: llama.cpp, vLLM; with ``--mode json`` the bridge
filter sends llama-cpp-python the same bounded grammar). Set
``PACKET_EVAL_MAX_TOKENS`` / ``PACKET_EVAL_MAX_REASKS`` to bound a CPU server's calls; the
values used are recorded. Figures are
what the model did on this machine; nothing is scripted. Agreement is exact level agreement
with the primary calibrator, with a Wilson 95% interval (few packets: a wide one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
RESULTS = ROOT / "benchmarks" / "results"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)


def subset(n: int, into: Path, shortest: bool = False) -> list[str]:
    """A golden-layout directory with ``n`` test packets: the first (split order) or shortest."""
    ids = json.loads((GOLDEN / "splits.json").read_text(encoding="utf-8"))["test"]
    if shortest:  # fewer prompt tokens: what a CPU server can finish in minutes
        ids = sorted(ids, key=lambda p: sum(f.stat().st_size
                                            for f in (GOLDEN / "packets").glob(f"{p}.*")))
    ids = ids[:n]
    (into / "packets").mkdir(parents=True)
    for pid in ids:
        for f in (GOLDEN / "packets").glob(f"{pid}.*"):
            shutil.copy(f, into / "packets")
    labels = [ln for ln in (GOLDEN / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if ln.strip() and json.loads(ln)["packet_id"] in ids]
    (into / "labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")
    (into / "splits.json").write_text(json.dumps({"dev": [], "test": ids}), encoding="utf-8")
    return ids


def summarise(log: Any, wall_s: float) -> dict[str, Any]:
    rows = []
    for s in log.samples or []:
        score = next(iter((s.scores or {}).values()), None)
        md = score.metadata if score is not None and score.metadata else {}
        usage = md.get("usage", {})
        rows.append({
            "id": s.id, "error": str(s.error.message)[:200] if s.error else None,
            "exact": score is not None and score.value == 1.0,
            "gold": (md.get("gold") or {}).get("level"), "pred": score.answer if score else None,
            "evidence_total": md.get("evidence_total", 0),
            "evidence_grounded": md.get("evidence_grounded", 0),
            "dropped_ungrounded": usage.get("dropped_ungrounded", 0),
            "validation_retries": usage.get("validation_retries", 0),
            "calls": usage.get("calls", 0), "input_tokens": usage.get("input_tokens", 0),
            "output_tokens": usage.get("output_tokens", 0),
            "latency_s": round(s.total_time or 0.0, 1)})
    scored = [r for r in rows if r["error"] is None and r["pred"] is not None]
    k = sum(r["exact"] for r in scored)
    ev = sum(r["evidence_total"] for r in scored)
    grounded = sum(r["evidence_grounded"] for r in scored)

    def per(key: str) -> float | None:
        return round(statistics.mean(r[key] for r in scored), 1) if scored else None

    return {
        "packets": len(rows), "scored": len(scored), "failed": len(rows) - len(scored),
        "status": log.status, "exact_agreement": round(k / len(scored), 3) if scored else None,
        "exact_agreement_ci95": wilson(k, len(scored)),
        "evidence_shown": ev, "grounding_rate": round(grounded / ev, 3) if ev else None,
        "dropped_ungrounded": sum(r["dropped_ungrounded"] for r in scored),
        "validation_retries": sum(r["validation_retries"] for r in scored),
        "latency_s_per_packet_median": (statistics.median(r["latency_s"] for r in scored)
                                        if scored else None),
        "calls_per_packet": per("calls"), "input_tokens_per_packet": per("input_tokens"),
        "output_tokens_per_packet": per("output_tokens"), "wall_s": round(wall_s, 1),
        "per_packet": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="OpenAI-compatible server, e.g. "
                    "http://127.0.0.1:8765/v1")
    ap.add_argument("--model", required=True, help="the model name the server answers to")
    ap.add_argument("-n", "--packets", type=int, default=5, help="golden test packets")
    ap.add_argument("--mode", default="json", choices=("json", "tools"))
    ap.add_argument("--concurrency", type=int, default=1,
                    help="samples at once (the server's slots: 1 for llama-cpp-python)")
    ap.add_argument("--shortest", action="store_true",
                    help="the N shortest test packets instead of the first N")
    ap.add_argument("--bridge", action="store_true",
                    help="through inspect's agent bridge instead of the extractor's own client")
    ap.add_argument("--hardware", default=f"{platform.machine()} CPU, {_cores()} cores",
                    help="how to label the figures")
    args = ap.parse_args()

    from inspect_ai import eval as inspect_eval

    from packet_eval.evaluation.inspect_task import packet_extraction_task

    with tempfile.TemporaryDirectory() as tmp:
        ids = subset(args.packets, Path(tmp) / "ds", args.shortest)
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        direct = {} if args.bridge else {"base_url": args.base_url, "server_model": args.model}
        [log] = inspect_eval(
            packet_extraction_task(dataset=str(Path(tmp) / "ds"), split="test",
                                   extractor="llm", cache=False, mode=args.mode, **direct),
            model=f"llama-cpp-python/{args.model}" if args.bridge else "none",
            model_base_url=args.base_url if args.bridge else None,
            max_samples=args.concurrency, log_dir=str(Path(tmp) / "logs"), display="none",
            fail_on_error=False)
        wall = time.perf_counter() - t0
        load = {"load_avg_1m_start": round(load_before, 2),
                "load_avg_1m_end": round(os.getloadavg()[0], 2)}
        summary = summarise(log, wall)  # inside: the log's samples are read from its file
    result = {"model": args.model, "base_url": args.base_url, "mode": args.mode,
              "path": "bridge" if args.bridge else "direct", "hardware": args.hardware,
              "max_tokens": os.environ.get("PACKET_EVAL_MAX_TOKENS") or "default (4096)",
              "max_reasks": os.environ.get("PACKET_EVAL_MAX_REASKS") or "default (2)",
              "packets_chosen": "shortest" if args.shortest else "first", "packet_ids": ids,
              **load, **summary}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = "_bridge" if args.bridge else ""
    out = RESULTS / f"real_llm_{args.model.replace('/', '_')}{path}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    keys = ("packets", "scored", "failed", "exact_agreement", "exact_agreement_ci95",
            "evidence_shown", "grounding_rate", "dropped_ungrounded", "validation_retries",
            "latency_s_per_packet_median", "calls_per_packet", "input_tokens_per_packet",
            "output_tokens_per_packet", "wall_s")
    for key in keys:
        print(f"{key:32} {result[key]}")
    print(f"wrote {out.relative_to(ROOT)}")


def _cores() -> int:
    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
