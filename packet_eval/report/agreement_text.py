"""``packet-eval agreement`` as terminal text or markdown (JSON is ``Calibration.to_dict``).

Both lead with the headline numbers a committee asks about (exact and within-one
agreement, weighted kappa with its interval), then per-dimension kappa, evidence
and flag agreement, and end with the disagreements to discuss, largest first.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from packet_eval.agreement import AgreementReport, DimensionStats
from packet_eval.ladder import Ladder
from packet_eval.report.calibration import Calibration, Disagreement
from packet_eval.report.panel import Panel, pair_kappa


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ci(pair: tuple[float, float] | None, pct: bool = False) -> str:
    if not pair:
        return ""
    return f" (95% CI {_pct(pair[0])}\u2013{_pct(pair[1])})" if pct else \
        f" (95% CI {_num(pair[0])}\u2013{_num(pair[1])})"


def _figures(r: AgreementReport | None) -> list[str]:
    """The headline figures; each reads n/a when nothing was compared."""
    if r is None:
        return ["exact level n/a, within one n/a, mean error n/a step(s)",
                "weighted kappa n/a, kappa n/a, ordinal alpha n/a",
                "evidence recall n/a, precision n/a (0 calibrator span(s), 0 tool span(s))"]
    o, ci, ev = r.overall, r.ci, r.evidence
    return [
        f"exact level {_pct(o.exact_accuracy)}{_ci(ci.exact_accuracy, True)}, "
        f"within one {_pct(o.within_one_accuracy)}, "
        f"mean error {_num(o.mean_absolute_error)} step(s)",
        f"weighted kappa {_num(o.kappa_quadratic)}{_ci(ci.kappa_quadratic)}, "
        f"kappa {_num(o.kappa)}, ordinal alpha {_num(o.alpha_ordinal)}",
        f"evidence recall {_pct(ev.recall)}, precision {_pct(ev.precision)} "
        f"({ev.gold_spans} calibrator span(s), {ev.pred_spans} tool span(s))",
    ]


def _headline(cal: Calibration) -> list[str]:
    who = f"calibrator {cal.calibrator}" if cal.calibrator else "the first label of each packet"
    compared = f"{cal.n_compared} packet(s) compared with {who}"
    if cal.labelled_not_assessed:
        compared += f"; {len(cal.labelled_not_assessed)} labelled packet(s) not assessed"
    if cal.assessed_not_labelled:
        compared += f"; {cal.assessed_not_labelled} assessed packet(s) without a label"
    lines = [compared, *_figures(cal.report), *_ceiling(cal)]
    if cal.missing_text:
        lines.append(f"{len(cal.missing_text)} packet file(s) not found or changed: their "
                     "calibrator evidence could not be located, so evidence recall reads low")
    return lines


def _ceiling(cal: Calibration) -> list[str]:
    """The aggregation ceiling: what the ladder's rule alone loses against the calibrators."""
    c = cal.ceiling
    if c is None:
        return []
    f = c.pooled
    who = ", ".join(f"{name} {_pct(x.exact)}" for name, x in c.by_calibrator.items())
    return [f"aggregation ceiling (the ladder's rule on the calibrators' own dimension levels, "
            f"{f.n} label(s)): exact {_pct(f.exact)}{_ci(f.exact_ci, True)}, within one "
            f"{_pct(f.within_one)}{_ci(f.within_one_ci, True)}, weighted kappa "
            f"{_num(f.kappa_quadratic)}{_ci(f.kappa_quadratic_ci)}; by calibrator: {who}; "
            f"{len(c.off_rule)} label(s) whose overall level departs from the rule"]


def _panel_columns(panel: Panel | None, chosen: str | None) -> list[str]:
    if panel is None:
        return []
    return [f"tool vs {c}" for c in panel.calibrators if c != chosen] + panel.pair_names()


def _panel_cells(panel: Panel | None, chosen: str | None, dimension: str) -> list[str]:
    if panel is None:
        return []
    cells = []
    for c in panel.calibrators:
        if c != chosen:
            r = panel.tool.get(c)
            cells.append(_num(_dimension(r, dimension).kappa_quadratic))
    return cells + [_num(k) for k in pair_kappa(panel, dimension)]


def _calibrator_rows(panel: Panel, ladder: Ladder) -> list[tuple[str, str, str]]:
    """(packet, overall levels, dimensions apart) for each packet the calibrators label differently."""
    rows = []
    for d in panel.disagreements:
        levels = ", ".join(f"{c} {lv}" for c, lv in d.levels.items())
        dims = "; ".join(f"{ladder.dimension(x).name} " + ", ".join(f"{c} {lv}" for c, lv in v.items())
                         for x, v in d.dimensions.items())
        rows.append((d.packet_id, levels, dims or "\u2014"))
    return rows


def _dimension(r: AgreementReport | None, dimension: str) -> DimensionStats:
    stats = r.dimensions.per_dimension.get(dimension) if r else None
    return stats or DimensionStats(n=0, exact_accuracy=None, kappa_quadratic=None)


def _dims(d: Disagreement, ladder: Ladder) -> str:
    return ", ".join(f"{ladder.dimension(x.dimension).name} {x.calibrator}\u2192{x.tool}"
                     for x in d.dimensions) or "\u2014"


def render_text(cal: Calibration, ladder: Ladder, console: Console) -> None:
    """Print the comparison as rich tables."""
    console.print("[bold]Agreement with the committee's calibrators[/]")
    for line in _headline(cal):
        console.print(f"  {line}", highlight=False)
    table = Table(title="By dimension (weighted kappa beside the tool's: the other calibrators, "
                        "and calibrators against each other)" if cal.panel else "By dimension",
                  title_justify="left")
    chosen = _chosen(cal)
    for col in ("dimension", "n", "exact", "weighted kappa", *_panel_columns(cal.panel, chosen)):
        table.add_column(col, justify="left" if col == "dimension" else "right")
    for d in ladder.dimensions:
        s = _dimension(cal.report, d.id)
        table.add_row(d.name, str(s.n), _pct(s.exact_accuracy), _num(s.kappa_quadratic),
                      *_panel_cells(cal.panel, chosen, d.id))
    console.print(table)
    if cal.panel:
        console.print(f"[bold]Calibrators disagree with each other[/] on "
                      f"{len(cal.panel.disagreements)} of {cal.panel.n_shared} packet(s) they "
                      "both labelled")
        for pid, levels, dims in _calibrator_rows(cal.panel, ladder):
            console.print(f"  {pid}: overall {levels}; {dims}", highlight=False)
    flags = {f: s for f, s in (cal.report.flags if cal.report else {}).items()
             if s.support or s.precision is not None}
    if flags:
        ft = Table(title="Flags", title_justify="left")
        for col in ("flag", "precision", "recall", "F1", "calibrator count"):
            ft.add_column(col, justify="left" if col == "flag" else "right")
        for f, fs in flags.items():
            ft.add_row(f, _num(fs.precision), _num(fs.recall), _num(fs.f1), str(fs.support))
        console.print(ft)
    console.print(f"[bold]Disagreements to discuss[/] ({len(cal.disagreements)}; "
                  f"{cal.n_minor} more differ by one step on a dimension only)")
    if not cal.disagreements:
        console.print("  none: overall levels match and no dimension is two or more steps apart")
        return
    dt = Table(show_lines=False)
    dt.add_column("packet", no_wrap=True)
    dt.add_column("calibrator", no_wrap=True)
    dt.add_column("tool", no_wrap=True)
    dt.add_column("\u0394", justify="right", no_wrap=True)
    dt.add_column("dimensions apart (calibrator\u2192tool)")
    dt.add_column("flags")
    for dis in cal.disagreements:
        flags_txt = " ".join([f"-{f}" for f in dis.flags_missed]
                             + [f"+{f}" for f in dis.flags_extra])
        dims = ", ".join(f"{x.dimension} {x.calibrator}\u2192{x.tool}" for x in dis.dimensions)
        dt.add_row(dis.packet_id, dis.calibrator_level, dis.tool_level,
                   f"{dis.steps:+d}" if dis.steps else "0", dims or "\u2014", flags_txt)
    console.print(dt)
    console.print("[dim]\u0394 = tool minus calibrator, in levels. -flag: the calibrator "
                  "raised it, "
                  "the tool did not; +flag: the other way round.[/]")


def _chosen(cal: Calibration) -> str | None:
    """The calibrator the tool's main figures are against (the first label's, by default)."""
    if cal.calibrator:
        return cal.calibrator
    return next(iter(cal.calibrators.values()), None)


def _cell(s: str) -> str:
    return " ".join(s.split()).replace("|", "\\|")


def render_markdown(cal: Calibration, ladder: Ladder) -> str:
    """The comparison as markdown, for meeting notes."""
    lines = ["# Agreement with the committee's calibrators", ""]
    lines += [f"- {line}" for line in _headline(cal)] + [""]
    lines += ["## By dimension", "", "| dimension | n | exact | weighted kappa |",
              "|---|---:|---:|---:|"]
    chosen = _chosen(cal)
    extra = _panel_columns(cal.panel, chosen)
    if extra:
        lines[-2] = lines[-2].removesuffix(" |") + "".join(f" | {c}" for c in extra) + " |"
        lines[-1] += "---:|" * len(extra)
    for d in ladder.dimensions:
        s = _dimension(cal.report, d.id)
        more = "".join(f" {c} |" for c in _panel_cells(cal.panel, chosen, d.id))
        lines.append(f"| {d.name} | {s.n} | {_pct(s.exact_accuracy)} | {_num(s.kappa_quadratic)} |"
                     + more)
    if cal.panel:
        lines += ["", f"## Calibrators disagree with each other ({len(cal.panel.disagreements)} of "
                      f"{cal.panel.n_shared} shared packet(s))", ""]
        lines += ["| packet | overall | dimensions apart |", "|---|---|---|"]
        lines += [f"| {pid} | {_cell(lv)} | {_cell(dims)} |"
                  for pid, lv, dims in _calibrator_rows(cal.panel, ladder)]
    lines += ["", f"## Disagreements to discuss ({len(cal.disagreements)})", ""]
    if not cal.disagreements:
        lines += ["None: overall levels match and no dimension is two or more steps apart.", ""]
        return "\n".join(lines)
    lines += ["| packet | calibrator | tool | \u0394 | dimensions apart | flags | notes |",
              "|---|---|---|---:|---|---|---|"]
    for dis in cal.disagreements:
        flags_txt = " ".join([f"\u2212{f}" for f in dis.flags_missed]
                             + [f"+{f}" for f in dis.flags_extra])
        lines.append(f"| {dis.packet_id} | {dis.calibrator_level} ({_cell(dis.calibrator)}) | "
                     f"{dis.tool_level} | {dis.steps:+d} | {_cell(_dims(dis, ladder))} | "
                     f"{flags_txt} | {_cell(dis.notes)[:200]} |")
    lines += ["", "\u0394 = tool minus calibrator, in levels; \u2212flag: raised by the calibrator "
              "only; +flag: raised by the tool only.", ""]
    return "\n".join(lines)
