"""inspect-ai metrics for the metamorphic probes, one metric group per probe.

Each probe's group (``probe_name_swap``, ``probe_padding`` ...) reports, over
the packets the probe applies to:

- ``invariance``: share of packets on which no variant changed the overall
  level or any dimension level, with a percentile bootstrap 95% CI over
  packets (``invariance_ci_lo``/``_hi``) and the exact (Clopper-Pearson)
  lower limit ``invariance_exact_lo``, because a bootstrap of a rate of 1.0 is
  the degenerate interval [1, 1] and says nothing about how far 1.0 can be trusted;
- ``up`` / ``down``: how many (variant, level) changes went up or down the
  ladder, over the overall level and every dimension; ``level_up`` /
  ``level_down`` count the overall level only; ``no_rise``: share of packets
  where nothing rose (padding and superlatives must never raise a level);
- ``evidence_grounded``: share of gold evidence strings that are exact
  substrings of their variant's text (must be 1.0, or the probe is broken);
- for name_swap, the selection rate of each name group (share of packets at or
  above ``selection_level``) and the LL144-style impact ratio: each group's
  rate over the highest group's rate, with ``impact_ratio_min`` the lowest.

Every value is recomputed from score metadata, so the log alone can be re-scored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from inspect_ai.scorer import Metric, SampleScore, metric

from packet_eval import agreement

N_BOOT = 1000
FIELDS_LEVEL = "level"


def exact_lower(k: int, n: int, alpha: float = 0.05) -> float:
    """Two-sided Clopper-Pearson lower limit of a binomial rate ``k / n`` (no SciPy needed)."""
    if n <= 0:
        return math.nan
    if k == 0:
        return 0.0

    def tail(p: float) -> float:  # P(X >= k | n, p)
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))

    lo, hi = 0.0, k / n
    for _ in range(60):  # bisection: tail() rises with p
        mid = (lo + hi) / 2
        if tail(mid) < alpha / 2:
            lo = mid
        else:
            hi = mid
    return lo


def _runs_by_packet(scores: list[SampleScore], probe: str) -> list[list[dict[str, Any]]]:
    out = []
    for s in scores:
        runs = ((s.score.metadata or {}).get("probes") or {}).get(probe)
        if runs:  # a probe that made no variant of this packet does not count it
            out.append(runs)
    return out


def summarise(packets: list[list[dict[str, Any]]]) -> dict[str, float]:
    """Invariance, its CIs, change directions and evidence grounding over packets' runs."""
    n = len(packets)
    if n == 0:
        return {"packets": 0.0}
    inv = np.array([all(not r["changed"] for r in runs) for runs in packets], dtype=np.float64)
    ci = agreement.bootstrap_ci(lambda idx: float(inv[idx].mean()), n, N_BOOT, 0.05, 0)
    runs = [r for rs in packets for r in rs]
    ups = sum(1 for r in runs for x in r["changes"].values() if x == "up")
    downs = sum(1 for r in runs for x in r["changes"].values() if x == "down")
    total = sum(r["evidence_total"] for r in runs)
    grounded = sum(r["evidence_grounded"] for r in runs)
    return {
        "packets": float(n), "variants": float(len(runs)),
        "invariance": float(inv.mean()),
        "invariance_ci_lo": ci[0] if ci else math.nan,
        "invariance_ci_hi": ci[1] if ci else math.nan,
        "invariance_exact_lo": exact_lower(int(inv.sum()), n),
        "variant_invariance": sum(1 for r in runs if not r["changed"]) / len(runs),
        "up": float(ups), "down": float(downs),
        "level_up": float(sum(1 for r in runs if r["changes"].get(FIELDS_LEVEL) == "up")),
        "level_down": float(sum(1 for r in runs if r["changes"].get(FIELDS_LEVEL) == "down")),
        "no_rise": sum(1 for rs in packets
                       if not any("up" in r["changes"].values() for r in rs)) / n,
        "evidence_grounded": grounded / total if total else 1.0,
    }


def impact_ratios(packets: list[list[dict[str, Any]]], scale: list[str],
                  selection_level: str) -> dict[str, float]:
    """Selection rate per name group and each group's ratio to the highest rate (LL144 style).

    A packet is selected for a group when that group's variant is at or above
    ``selection_level``. With no packet selected in any group the ratios are
    undefined (NaN), which the gate treats as a failure if it has a floor.
    """
    rank = {lv: i for i, lv in enumerate(scale)}
    bar = rank[selection_level]
    selected: dict[str, list[float]] = defaultdict(list)
    for runs in packets:
        for r in runs:
            if r["group"]:
                selected[r["group"]].append(1.0 if rank[r["level"]] >= bar else 0.0)
    if not selected:
        return {}
    rates = {g: sum(v) / len(v) for g, v in sorted(selected.items())}
    top = max(rates.values())
    out = {f"selection_rate_{g}": r for g, r in rates.items()}
    ratios = {g: (r / top if top > 0 else math.nan) for g, r in rates.items()}
    out.update({f"impact_ratio_{g}": r for g, r in ratios.items()})
    out["impact_ratio_min"] = min(ratios.values()) if top > 0 else math.nan
    return out


def probe_metric(probe: str, scale: list[str], selection_level: str | None = None) -> Metric:
    """The metric group ``probe_<probe>`` (see the module docstring for its keys)."""

    @metric(name=f"probe_{probe}", scores="unreduced")
    def factory() -> Metric:
        def compute(scores: list[SampleScore]) -> dict[str, float]:
            packets = _runs_by_packet(scores, probe)
            out = summarise(packets)
            if selection_level is not None and packets:
                out.update(impact_ratios(packets, scale, selection_level))
            return out

        return compute

    return factory()
