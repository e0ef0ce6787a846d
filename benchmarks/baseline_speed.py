"""Wall time of `packet-eval preview` on a 1,500-word packet with the offline baseline.

Measured as a user sees it: a fresh process, start-up included. Compared with
- the ideal: a bare Python interpreter start (`python -c pass`), the floor any
  CLI in Python pays;
- the naive approach: the same preview after eagerly importing the whole LLM
  stack (openai, anthropic, instructor, inspect_ai, pandas), which is what the
  CLI would cost without lazy imports.

Run: uv run python benchmarks/baseline_speed.py   (writes benchmarks/results/baseline_speed.json)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
TARGET_WORDS = 1500
GOAL_S = 1.5  # issue 13: a whole preview process under 1.5 s


def make_packet() -> Path:
    """A 1,500-word packet: the shipped sample, its sections repeated with varied numbers."""
    base = (ROOT / "packet_eval" / "examples" / "sample-packet.md").read_text(encoding="utf-8")
    body = base.split("## Eval design", 1)[1]
    parts, i = [base], 0
    while len(" ".join(parts).split()) < TARGET_WORDS:
        i += 1
        parts.append(f"\n## Quarter {i} notes\n" + body.replace("18%", f"{10 + i}%"))
    words = " ".join(parts).split()
    text = "\n".join(parts)
    path = Path(tempfile.mkdtemp()) / "packet-1500.md"
    path.write_text(text, encoding="utf-8")
    print(f"packet: {len(words)} words")
    return path


def time_cmd(cmd: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    packet = make_packet()
    py = sys.executable
    ideal = time_cmd([py, "-c", "pass"])
    ours = time_cmd([py, "-m", "packet_eval", "preview", str(packet), "--model", "baseline",
                     "--format", "json"])
    naive_code = ("import openai, anthropic, instructor, inspect_ai, pandas, sys;"
                  "from packet_eval.cli import app; sys.argv=['packet-eval','preview',"
                  f"{str(packet)!r},'--model','baseline','--format','json'];app()")
    naive = time_cmd([py, "-c", naive_code])
    result = {
        "words": len(packet.read_text().split()), "runs": RUNS,
        "median_s": {"ideal_python_start": round(ideal, 3), "packet_eval_preview": round(ours, 3),
                     "naive_eager_imports": round(naive, 3)},
        "ratio_vs_ideal": round(ours / ideal, 2), "speedup_vs_naive": round(naive / ours, 2),
        "goal_s": GOAL_S, "meets_goal": ours < GOAL_S,
    }
    out = ROOT / "benchmarks" / "results" / "baseline_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
