"""The probe summary a user reads: each probe by name, its invariance, and the packets it moved.

``inspect eval packet_eval/probes`` logs one metric group per probe (``probe_padding/...``),
and the gate shows only the gated metrics. This reads the same log, samples included,
and lists every probe the run made (name_swap, padding, superlatives, section_order,
format, injection, hidden_text) with its invariance, 95% intervals, the changes up and
down, and which packets changed and how. Figures come from the log's own metrics; the
packet lists come from each sample's score metadata (``probes_task.invariance_scorer``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packet_eval.errors import ConfigError

PROBES_EXTRACTOR_PREFIX = "probes-"  # how the probes task names its extractor in the log


@dataclass
class ChangedPacket:
    packet_id: str
    changes: list[str]  # "padding:long: level up, eval_design up", one per changed variant


@dataclass
class ProbeLine:
    probe: str
    metrics: dict[str, float]
    changed: list[ChangedPacket] = field(default_factory=list)


@dataclass
class ProbeSummary:
    path: str
    extractor: str
    dataset: str
    split: str
    samples: int
    probes: list[ProbeLine]


def _probe_names(log: Any, scores: list[dict[str, Any]]) -> list[str]:
    named = (log.eval.metadata or {}).get("probes")
    if named:
        return [str(p) for p in named]
    seen: dict[str, None] = {}
    for md in scores:
        seen.update(dict.fromkeys(md.get("probes", {})))
    return list(seen)


def read_probe_summary(log_path: str | Path) -> ProbeSummary:
    """The per-probe summary of a probes log; one clear error for any other file."""
    from inspect_ai.log import read_eval_log

    p = Path(log_path)
    if not p.exists():
        raise ConfigError("eval log not found", p)
    try:
        log = read_eval_log(str(p))
    except Exception as exc:  # noqa: BLE001 - any unreadable log is one clear error
        raise ConfigError(f"not a readable inspect eval log ({type(exc).__name__})", p) from None
    md = log.eval.metadata or {}
    extractor = str(md.get("extractor", "?"))
    if not extractor.startswith(PROBES_EXTRACTOR_PREFIX):
        raise ConfigError("not a probes log (run `inspect eval packet_eval/probes ...`)", p)
    if log.status != "success":
        raise ConfigError(f"the probes run did not finish (status {log.status!r})", p)
    groups: dict[str, dict[str, float]] = {}
    for score in log.results.scores if log.results else []:
        for mm in score.metrics.values():
            if mm.group:
                groups.setdefault(mm.group, {})[mm.name] = float(mm.value)
    scores = [s.metadata or {} for sample in log.samples or []
              for s in (sample.scores or {}).values()]
    lines = []
    for probe in _probe_names(log, scores):
        line = ProbeLine(probe, groups.get(f"probe_{probe}", {}))
        for smd in scores:
            runs = smd.get("probes", {}).get(probe) or []
            changes = [f"{r['variant']}: " + ", ".join(f"{k} {x}" for k, x in r["changes"].items())
                       for r in runs if r.get("changed")]
            if changes:
                line.changed.append(ChangedPacket(str(smd.get("packet_id", "?")), changes))
        lines.append(line)
    return ProbeSummary(str(p), extractor.removeprefix(PROBES_EXTRACTOR_PREFIX),
                        Path(str(md.get("dataset", "?"))).name, str(md.get("split", "?")),
                        log.results.total_samples if log.results else 0, lines)


def _f(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.3f}"


def _invariance(m: dict[str, float]) -> str:
    if not m.get("packets"):
        return "— (no packet to probe)"
    text = _f(m.get("invariance"))
    if "invariance_ci_lo" in m:
        text += f" [{_f(m['invariance_ci_lo'])}, {_f(m.get('invariance_ci_hi'))}]"
    if "invariance_exact_lo" in m:
        text += f", exact lower {_f(m['invariance_exact_lo'])}"
    if "impact_ratio_min" in m:
        text += f"; impact ratio min {_f(m['impact_ratio_min'])}"
    return text


def probe_summary_markdown(s: ProbeSummary, max_variants: int = 3) -> str:
    """Markdown: one row per probe by name, then the changed packets under each probe."""
    out = [f"### Probe summary: `{s.extractor}` on `{s.dataset}/{s.split}` ({s.samples} packets)",
           "", "| probe | packets | invariance [95% CI] | changes up / down | packets changed |",
           "|---|---|---|---|---|"]
    for line in s.probes:
        m = line.metrics
        ids = ", ".join(c.packet_id for c in line.changed) or "none"
        out.append(f"| {line.probe} | {int(m.get('packets', 0))} | {_invariance(m)} | "
                   f"{int(m.get('up', 0))} / {int(m.get('down', 0))} | {ids} |")
    for line in s.probes:
        if not line.changed:
            continue
        out += ["", f"**{line.probe}** changed {len(line.changed)} packet(s):"]
        for c in line.changed:
            more = len(c.changes) - max_variants
            shown = "; ".join(c.changes[:max_variants]) + (f"; and {more} more" if more > 0 else "")
            out.append(f"- {c.packet_id}: {shown}")
    return "\n".join(out) + "\n"
