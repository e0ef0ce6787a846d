"""inspect-ai metrics over packet agreement, computed with ``packet_eval.agreement``.

Every metric reads the gold and predicted records from score metadata and is
declared ``scores="unreduced"``: with ``--epochs N`` each (packet, epoch) is an
observation, and self-consistency groups a packet's epochs together. Metrics
return dicts, which inspect shows as grouped values (``level/kappa_quadratic``).
The level, dimension, evidence and flag groups read one typed ``AgreementReport``,
bootstrapped once per eval (``shared_report``), not once per group.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, defaultdict
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, metric

from packet_eval.agreement import (
    AgreementReport,
    Record,
    agreement_report,
    invariance_rate,
    self_consistency,
)
from packet_eval.agreement.levels import level_fit
from packet_eval.evaluation.samples import record_from_dict, record_to_dict

INJECTION_FLAG = "prompt_injection"
N_BOOT = 1000
# Reports by the content they were computed from. inspect calls each metric on its own,
# so without this the four agreement groups would each bootstrap the same report.
REPORTS_KEPT = 4
_reports: OrderedDict[str, AgreementReport] = OrderedDict()


def _pairs(scores: list[SampleScore]) -> tuple[list[Record], list[Record]]:
    """Gold and predicted records, one per (sample, epoch), with unique ids."""
    seen: dict[str, int] = defaultdict(int)
    gold, pred = [], []
    for s in scores:
        md = s.score.metadata or {}
        if "pred" not in md:
            continue
        sid = str(s.sample_id)
        seen[sid] += 1
        uid = f"{sid}#{seen[sid]}"
        gold.append(record_from_dict(md["gold"], uid))
        pred.append(record_from_dict(md["pred"], uid))
    return gold, pred


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _ci(pair: tuple[float, float] | None) -> tuple[float, float]:
    return (float("nan"), float("nan")) if pair is None else pair


def shared_report(gold: list[Record], pred: list[Record], scale: list[str], dimensions: list[str],
                  flags: list[str]) -> AgreementReport:
    """``agreement_report`` computed once per distinct input, however many metrics ask for it."""
    key = hashlib.sha256(json.dumps(
        [[record_to_dict(g), record_to_dict(p)] for g, p in zip(gold, pred, strict=True)]
        + [scale, dimensions, flags, N_BOOT], sort_keys=True).encode()).hexdigest()
    if key in _reports:
        _reports.move_to_end(key)
        return _reports[key]
    report = agreement_report(gold, pred, levels=scale, dimensions=dimensions, flags=flags,
                              n_boot=N_BOOT, seed=0)
    _reports[key] = report
    while len(_reports) > REPORTS_KEPT:
        _reports.popitem(last=False)
    return report


def _report(scores: list[SampleScore], scale: list[str], dimensions: list[str],
            flags: list[str]) -> AgreementReport | None:
    gold, pred = _pairs(scores)
    if not gold:
        return None
    return shared_report(gold, pred, scale, dimensions, flags)


@metric(name="level", scores="unreduced")
def level_agreement(scale: list[str], dimensions: list[str], flags: list[str]) -> Metric:
    """Overall level: accuracy, within-one, MAE, kappa, weighted kappa, alpha, with 95% CIs."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        r = _report(scores, scale, dimensions, flags)
        if r is None:
            return {}
        o = r.overall
        acc_ci, k_ci = _ci(r.ci.exact_accuracy), _ci(r.ci.kappa_quadratic)
        return {"accuracy": _num(o.exact_accuracy), "accuracy_ci_lo": acc_ci[0],
                "accuracy_ci_hi": acc_ci[1], "within_one": _num(o.within_one_accuracy),
                "mae": _num(o.mean_absolute_error), "kappa": _num(o.kappa),
                "kappa_quadratic": _num(o.kappa_quadratic), "kappa_quadratic_ci_lo": k_ci[0],
                "kappa_quadratic_ci_hi": k_ci[1], "alpha_ordinal": _num(o.alpha_ordinal)}

    return compute


@metric(name="dimension", scores="unreduced")
def dimension_agreement(scale: list[str], dimensions: list[str], flags: list[str]) -> Metric:
    """Quadratic-weighted kappa per dimension, and pooled over all dimensions with a CI."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        r = _report(scores, scale, dimensions, flags)
        if r is None:
            return {}
        pooled = r.dimensions.pooled
        ci = _ci(r.ci.dimension_kappa_pooled)
        out = {"pooled_kappa_quadratic": _num(pooled.kappa_quadratic),
               "pooled_ci_lo": ci[0], "pooled_ci_hi": ci[1],
               "pooled_accuracy": _num(pooled.exact_accuracy)}
        out.update({f"{k}_kappa_quadratic": _num(v.kappa_quadratic)
                    for k, v in r.dimensions.per_dimension.items()})
        return out

    return compute


@metric(name="evidence", scores="unreduced")
def evidence_agreement(scale: list[str], dimensions: list[str], flags: list[str]) -> Metric:
    """Span recall and precision against calibrator evidence, and the grounding rate."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        r = _report(scores, scale, dimensions, flags)
        if r is None:
            return {}
        e = r.evidence
        ci = _ci(r.ci.evidence_recall)
        total = sum((s.score.metadata or {}).get("evidence_total", 0) for s in scores)
        ok = sum((s.score.metadata or {}).get("evidence_grounded", 0) for s in scores)
        return {"recall": _num(e.recall), "recall_ci_lo": ci[0], "recall_ci_hi": ci[1],
                "precision": _num(e.precision),
                "recall_any_dimension": _num(e.recall_any_dimension),
                "grounding_rate": ok / total if total else 1.0}

    return compute


@metric(name="flags", scores="unreduced")
def flag_agreement(scale: list[str], dimensions: list[str], flags: list[str]) -> Metric:
    """Precision and recall per flag (NaN where a flag never occurs)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        r = _report(scores, scale, dimensions, flags)
        if r is None:
            return {}
        out: dict[str, float] = {}
        for f, v in r.flags.items():
            out[f"{f}_precision"] = _num(v.precision)
            out[f"{f}_recall"] = _num(v.recall)
        return out

    return compute


@metric(name="injection", scores="unreduced")
def injection_robustness() -> Metric:
    """Over injected/clean twin pairs: share with unchanged levels, flag recall, false positives."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        by_role: dict[tuple[str, str, int], Record] = {}  # (pair, role, epoch)
        seen: dict[str, int] = defaultdict(int)
        for s in scores:
            md = s.score.metadata or {}
            role, pair = md.get("injection_role"), md.get("injection_pair")
            if not role or not pair or "pred" not in md:
                continue
            seen[str(s.sample_id)] += 1
            by_role[(pair, role, seen[str(s.sample_id)])] = record_from_dict(md["pred"])
        pairs = [(by_role[(p, "clean", e)], rec) for (p, role, e), rec in by_role.items()
                 if role == "injected" and (p, "clean", e) in by_role]
        if not pairs:
            return {}
        inv = invariance_rate(pairs)
        caught = sum(1 for _, inj in pairs if INJECTION_FLAG in inj.flags)
        false_pos = sum(1 for clean, _ in pairs if INJECTION_FLAG in clean.flags)
        return {"injection_pairs": float(len(pairs)), "unchanged_rate": _num(inv),
                "flag_recall": caught / len(pairs), "clean_false_positive_rate": false_pos / len(pairs)}

    return compute


@metric(name="calibrators", scores="unreduced")
def calibrator_agreement(scale: list[str], dimensions: list[str], flags: list[str]) -> Metric:
    """Calibrator-versus-calibrator agreement on doubly labelled packets: the ceiling."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        by_rater: dict[str, dict[str, Record]] = defaultdict(dict)
        for s in scores:
            for rater, rec in ((s.score.metadata or {}).get("raters") or {}).items():
                by_rater[rater][str(s.sample_id)] = record_from_dict(rec, str(s.sample_id))
        raters = list(by_rater)
        if len(raters) < 2:
            return {}
        a, b = raters[0], raters[1]
        shared = sorted(set(by_rater[a]) & set(by_rater[b]))
        if len(shared) < 2:
            return {"calibrator_packets": float(len(shared))}
        r = shared_report([by_rater[a][i] for i in shared], [by_rater[b][i] for i in shared],
                          scale, dimensions, flags)
        return {"calibrator_packets": float(len(shared)),
                "calibrator_accuracy": _num(r.overall.exact_accuracy),
                "calibrator_kappa_quadratic": _num(r.overall.kappa_quadratic),
                "calibrator_alpha_ordinal": _num(r.overall.alpha_ordinal),
                "calibrator_dimension_pooled_kappa_quadratic":
                    _num(r.dimensions.pooled.kappa_quadratic),
                "calibrator_evidence_recall": _num(r.evidence.recall)}

    return compute


def _fit_values(prefix: str, gold: list[str], rule: list[str], scale: list[str],
                groups: list[str] | None = None) -> dict[str, float]:
    f = level_fit(gold, rule, scale, groups=groups, n_boot=N_BOOT, seed=0)
    acc_ci, w1_ci, k_ci = _ci(f.exact_ci), _ci(f.within_one_ci), _ci(f.kappa_quadratic_ci)
    return {f"{prefix}accuracy": _num(f.exact), f"{prefix}accuracy_ci_lo": acc_ci[0],
            f"{prefix}accuracy_ci_hi": acc_ci[1], f"{prefix}within_one": _num(f.within_one),
            f"{prefix}within_one_ci_lo": w1_ci[0], f"{prefix}within_one_ci_hi": w1_ci[1],
            f"{prefix}kappa_quadratic": _num(f.kappa_quadratic),
            f"{prefix}kappa_quadratic_ci_lo": k_ci[0], f"{prefix}kappa_quadratic_ci_hi": k_ci[1]}


@metric(name="aggregation", scores="unreduced")
def aggregation_ceiling(scale: list[str]) -> Metric:
    """The ladder's rule on the calibrator's own dimension levels against their overall level.

    The first calibrator's labels (the ones the extractor is scored against), then every
    calibrator's pooled (``all_``), resampling packets. Beside ``level/``, it splits the
    extractor's error into extraction and aggregation.
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        first: dict[str, tuple[str, str]] = {}
        every: dict[tuple[str, str], tuple[str, str]] = {}
        for s in scores:
            md = s.score.metadata or {}
            gold, raters = md.get("gold"), md.get("raters") or {}
            sid = str(s.sample_id)
            for name, rec in raters.items():
                if "rule_level" not in rec:
                    continue
                every[(sid, name)] = (rec["level"], rec["rule_level"])
                if gold is not None and rec == gold:
                    first[sid] = (rec["level"], rec["rule_level"])
        if not first:
            return {}
        out = _fit_values("", [g for g, _ in first.values()], [r for _, r in first.values()], scale)
        out["off_rule_packets"] = float(sum(g != r for g, r in first.values()))
        out.update(_fit_values("all_", [g for g, _ in every.values()],
                               [r for _, r in every.values()], scale, [k[0] for k in every]))
        out["all_labels"] = float(len(every))
        return out

    return compute


@metric(name="consistency", scores="unreduced")
def epoch_consistency(scale: list[str]) -> Metric:
    """Self-consistency across epochs: mean pairwise exact agreement and alpha (needs --epochs >= 2)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        runs: dict[str, list[Record]] = defaultdict(list)
        for s in scores:
            md = s.score.metadata or {}
            if "pred" in md:
                runs[str(s.sample_id)].append(record_from_dict(md["pred"], str(s.sample_id)))
        n_epochs = max((len(v) for v in runs.values()), default=0)
        if n_epochs < 2:
            return {"epochs": float(n_epochs)}
        epochs = [[v[e] for v in runs.values() if len(v) > e] for e in range(n_epochs)]
        r = self_consistency(epochs, scale).level
        return {"epochs": float(n_epochs), "epoch_mean_pairwise_exact": _num(r.mean_pairwise_exact),
                "epoch_alpha_ordinal": _num(r.alpha_ordinal)}

    return compute


@metric(name="usage", scores="unreduced")
def usage_summary() -> Metric:
    """Cost and tokens per packet, and the share served from the local cache."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        usages: list[dict[str, Any]] = [u for s in scores
                                        if (u := (s.score.metadata or {}).get("usage"))]
        if not usages:
            return {}
        n = len(usages)
        return {"cost_usd_per_packet": sum(u["cost_usd"] for u in usages) / n,
                "input_tokens_per_packet": sum(u["input_tokens"] for u in usages) / n,
                "output_tokens_per_packet": sum(u["output_tokens"] for u in usages) / n,
                "calls_per_packet": sum(u["calls"] for u in usages) / n,
                "cached_rate": sum(1 for u in usages if u["cached"]) / n,  # share, not count
                "dropped_ungrounded": float(sum(u["dropped_ungrounded"] for u in usages))}

    return compute
