"""The CI gate: read an inspect eval log, check thresholds and regressions, print markdown.

``inspect eval`` exits 0 even when a run errored, so the gate checks the log's
own status first. Thresholds are floors per extractor (``evals/thresholds.toml``);
the committed baseline (``evals/baseline.json``) holds the last accepted figures
per (extractor, dataset, split), and a metric that falls more than its
tolerance below them fails the gate too. Metric names are ``group/name`` as
inspect shows them (``level/kappa_quadratic``). For metrics where lower is
better (``level/mae``), thresholds are ceilings.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packet_eval.errors import ConfigError

LOWER_IS_BETTER = {"level/mae", "injection/clean_false_positive_rate",
                   "injection_suite/clean_false_positive_rate", "injection_suite/benign_false_positive_rate"}


@dataclass
class EvalSummary:
    path: str
    status: str
    error: str | None
    extractor: str
    dataset: str
    split: str
    metrics: dict[str, float]
    samples: int


@dataclass
class Row:
    metric: str
    value: float | None
    threshold: float | None
    baseline: float | None
    ci: tuple[float, float] | None
    status: str  # pass | FAIL | info


@dataclass
class GateResult:
    summary: EvalSummary
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def read_summary(log_path: str | Path) -> EvalSummary:
    from inspect_ai.log import read_eval_log

    p = Path(log_path)
    if not p.exists():
        raise ConfigError("eval log not found", p)
    try:
        log = read_eval_log(str(p), header_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable log is one clear error
        raise ConfigError(f"not a readable inspect eval log ({type(exc).__name__})", p) from None
    metrics: dict[str, float] = {}
    if log.results:
        for score in log.results.scores:
            for key, mm in score.metrics.items():
                name = f"{mm.group}/{mm.name}" if mm.group else key
                metrics[name] = float(mm.value)
    md = log.eval.metadata or {}
    args = log.eval.task_args or {}
    return EvalSummary(
        path=str(p), status=log.status, error=log.error.message if log.error else None,
        extractor=str(md.get("extractor", args.get("extractor", "?"))),
        dataset=Path(str(md.get("dataset", args.get("dataset", "?")))).name,
        split=str(md.get("split", args.get("split", "?"))),
        metrics=metrics, samples=log.results.total_samples if log.results else 0)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("thresholds file not found", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", path) from None


def _load_baseline(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON ({exc.msg} at line {exc.lineno})", path) from None


POOLED_KAPPA = "pooled_kappa_quadratic"  # the pooled metric its group's pooled_ci_* belongs to


def baseline_key(s: EvalSummary) -> str:
    return f"{s.extractor}/{s.dataset}/{s.split}"


def _ci(metrics: dict[str, float], name: str) -> tuple[float, float] | None:
    """The 95% CI logged beside a metric: ``<name>_ci_lo``; ``<group>/pooled_ci_lo`` is pooled kappa's.

    Only ``pooled_kappa_quadratic`` owns the pooled interval: matching on a ``pooled``
    prefix once showed kappa's interval beside ``pooled_accuracy``.
    """
    group, _, leaf = name.partition("/")
    prefix = f"{group}/pooled" if leaf == POOLED_KAPPA else name
    lo, hi = metrics.get(f"{prefix}_ci_lo"), metrics.get(f"{prefix}_ci_hi")
    return (lo, hi) if lo is not None and hi is not None else None


def run_gate(log_path: str | Path, thresholds_path: str | Path,
             baseline_path: str | Path | None = None) -> GateResult:
    s = read_summary(log_path)
    result = GateResult(s)
    if s.status != "success":
        result.failures.append(f"eval status is {s.status!r}" + (f": {s.error}" if s.error else ""))
        return result
    if s.samples == 0:
        result.failures.append("the eval scored no samples")
        return result
    config = _load_toml(Path(thresholds_path))
    # A dataset may have its own floors ("baseline/fresh"); else the extractor's apply.
    floors: dict[str, float] = config.get(f"{s.extractor}/{s.dataset}", config.get(s.extractor, {}))
    if not floors:
        result.failures.append(f"no thresholds for extractor {s.extractor!r} in {thresholds_path}")
    tolerance: dict[str, float] = config.get("tolerance", {})
    base = _load_baseline(Path(baseline_path) if baseline_path else None).get(baseline_key(s), {})
    for name in sorted(set(floors) | set(base)):
        value = s.metrics.get(name)
        threshold = floors.get(name)
        before = base.get(name)
        lower = name in LOWER_IS_BETTER
        status = "pass"
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if threshold is not None:
                status = "FAIL"
                result.failures.append(f"{name}: missing from the log")
        else:
            if threshold is not None and ((value > threshold) if lower else (value < threshold)):
                status = "FAIL"
                result.failures.append(f"{name} = {value:.3f} is {'above' if lower else 'below'} "
                                       f"its threshold {threshold:.3f}")
            tol = float(tolerance.get(name, tolerance.get("default", 0.05)))
            if before is not None and ((value - before > tol) if lower else (before - value > tol)):
                status = "FAIL"
                result.failures.append(f"{name} = {value:.3f} regressed from the baseline "
                                       f"{before:.3f} by more than {tol:.3f}")
        if threshold is None and status == "pass":
            status = "info"
        result.rows.append(Row(name, value, threshold, before, _ci(s.metrics, name), status))
    return result


def _fmt(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def gate_markdown(r: GateResult) -> str:
    s = r.summary
    head = [f"### packet-eval gate: {'PASSED' if r.passed else 'FAILED'}", "",
            f"`{s.extractor}` on `{s.dataset}/{s.split}` ({s.samples} samples), log status "
            f"`{s.status}`", ""]
    table = ["| metric | value | 95% CI | threshold | baseline | status |", "|---|---|---|---|---|---|"]
    for row in r.rows:
        ci = f"[{_fmt(row.ci[0])}, {_fmt(row.ci[1])}]" if row.ci else ""
        table.append(f"| {row.metric} | {_fmt(row.value)} | {ci} | {_fmt(row.threshold)} | "
                     f"{_fmt(row.baseline)} | {row.status} |")
    tail = ["", *(f"- {f}" for f in r.failures)] if r.failures else []
    return "\n".join(head + table + tail) + "\n"


def update_baseline(summary: EvalSummary, baseline_path: str | Path, names: list[str]) -> None:
    path = Path(baseline_path)
    data = _load_baseline(path)
    data[baseline_key(summary)] = {n: round(summary.metrics[n], 4) for n in sorted(names)
                                   if n in summary.metrics and not math.isnan(summary.metrics[n])}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def compare_markdown(a: EvalSummary, b: EvalSummary) -> str:
    names = sorted(n for n in set(a.metrics) | set(b.metrics) if "_ci_" not in n)
    lines = [f"| metric | A: {a.extractor} | B: {b.extractor} | Δ (B−A) | A 95% CI | B 95% CI |",
             "|---|---|---|---|---|---|"]
    for n in names:
        va, vb = a.metrics.get(n), b.metrics.get(n)
        delta = (vb - va) if va is not None and vb is not None else None
        ca, cb = _ci(a.metrics, n), _ci(b.metrics, n)
        lines.append(f"| {n} | {_fmt(va)} | {_fmt(vb)} | {_fmt(delta)} | "
                     f"{f'[{_fmt(ca[0])}, {_fmt(ca[1])}]' if ca else ''} | "
                     f"{f'[{_fmt(cb[0])}, {_fmt(cb[1])}]' if cb else ''} |")
    return (f"A: `{a.path}` ({a.dataset}/{a.split}, {a.samples} samples)\n\n"
            f"B: `{b.path}` ({b.dataset}/{b.split}, {b.samples} samples)\n\n" + "\n".join(lines) + "\n")
