"""The committee report: one self-contained HTML file for a whole run.

It is built for a calibration meeting: headline numbers first (packets, failures,
flags, targets met, agreement, cost), then where the tool and the committee's
calibrators disagree (when labels are given), then every candidate in a sortable
table whose per-dimension levels form a heatmap, and behind each row a
drill-down with the evidence highlighted in the packet text.

Drill-downs reuse the single-assessment view's pieces (``render.html.view_model``,
the highlight segmenter and the ``mark.ev`` / ``data-ev`` markup and styles), so an
evidence id means the same thing in both. Each drill-down is rendered into an
inert ``<template>`` and only cloned into the page when opened, and the file is
written by streaming the template (``Template.generate``) while assessments are
read one at a time, so a cycle of thousands of packets neither bloats the open
page nor the memory of the process writing it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packet_eval.ladder import Ladder
from packet_eval.providers.pricing import BATCH_DISCOUNT, UPDATED
from packet_eval.render.html import environment, view_model
from packet_eval.report.calibration import Calibration
from packet_eval.report.panel import panel_table
from packet_eval.schema import Assessment

# Sequential blues, light to dark: more demonstrated level reads as more ink. Blue-only ramps
# stay readable for the common colour-vision deficiencies, and every cell also carries its name.
# The lightest stop is blue-300, not blue-100: junior's bar was nearly the colour of the empty
# track (#f1f5f9), so a chart of juniors looked empty.
_STOPS = [(147, 197, 253), (96, 165, 250), (37, 99, 235), (30, 58, 138)]
TRACK_BG = "#f1f5f9"  # the empty part of every bar (report_style.css.j2)
_NONE_BG = "#f1f5f9"


def _ramp(t: float) -> tuple[int, int, int]:
    pos = t * (len(_STOPS) - 1)
    i = min(int(pos), len(_STOPS) - 2)
    f = pos - i
    a, b = _STOPS[i], _STOPS[i + 1]
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f),
            round(a[2] + (b[2] - a[2]) * f))


def level_colours(scale: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Level -> (background, text colour) for heatmap cells; ``none`` is a neutral grey."""
    out = {scale[0]: (_NONE_BG, "#64748b")}
    steps = max(1, len(scale) - 2)
    for i, lv in enumerate(scale[1:]):
        rgb = _ramp(i / steps)
        # Relative luminance decides the text colour so every cell stays readable.
        lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
        out[lv] = ("#{:02x}{:02x}{:02x}".format(*rgb), "#0f172a" if lum > 140 else "#ffffff")
    return out


def _short_source(source: str) -> str:
    """The file's folder and name: enough to find it, short enough for a table cell."""
    p = Path(source)
    return str(Path(p.parent.name) / p.name) if p.parent.name else p.name


def _aggregate(rows: Iterable[Mapping[str, Any]], ladder: Ladder) -> dict[str, Any]:
    """Everything the headline cards and charts need, in one pass without keeping rows."""
    levels: Counter[str] = Counter()
    flag_counts: Counter[str] = Counter()
    by_dim: dict[str, Counter[str]] = {d: Counter() for d in ladder.dimension_ids}
    targets: Counter[str | None] = Counter()
    done_targets: Counter[str] = Counter()
    n_rows = n_done = met = flagged = 0
    totals: dict[str, Any] = {"cost": 0.0, "input_tokens": 0, "output_tokens": 0, "calls": 0,
                              "cached": 0, "evidence": 0}
    pid_idx: dict[str, int] = {}
    for i, r in enumerate(rows):
        n_rows += 1
        pid_idx.setdefault(r["packet_id"], i)
        targets[r["target_level"]] += 1
        if r["status"] != "done":
            continue
        n_done += 1
        levels[r["level"]] += 1
        flag_counts.update(f for f in r["flags"].split(";") if f)
        flagged += bool(r["n_flags"])
        for d in ladder.dimension_ids:
            by_dim[d][r[d]] += 1
        if r["target_level"]:
            done_targets[r["target_level"]] += 1
            met += bool(r["meets_target"])
        totals["cost"] += r["cost_usd"] or 0.0
        for k, col in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                       ("calls", "calls"), ("evidence", "evidence_total")):
            totals[k] += r[col] or 0
        totals["cached"] += bool(r["cached"])
    top = max(levels.values(), default=0) or 1
    dist = [{"level": lv, "n": levels.get(lv, 0), "pct": 100 * levels.get(lv, 0) / top}
            for lv in ladder.scale]
    ftop = max(flag_counts.values(), default=0) or 1
    flags = [{"flag": f.id, "name": f.name, "n": flag_counts.get(f.id, 0),
              "pct": 100 * flag_counts.get(f.id, 0) / ftop} for f in ladder.flags]
    common = done_targets.most_common(1)
    mid = common[0][0] if common else ladder.levels[len(ladder.levels) // 2]
    rank = ladder.rank
    dims = []
    for dim in ladder.dimensions:
        counts = by_dim[dim.id]
        n = n_done or 1
        dims.append({"id": dim.id, "name": dim.name,
                     "segments": [{"level": lv, "n": counts.get(lv, 0),
                                   "pct": 100 * counts.get(lv, 0) / n} for lv in ladder.scale],
                     "above": sum(c for lv, c in counts.items()
                                  if lv in rank and rank[lv] >= rank[mid])})
    charts = {"distribution": dist, "flags": flags, "targeted": sum(done_targets.values()),
              "met": met, "targets_vary": len(targets) > 1,
              "one_target": next(iter(targets)) if len(targets) == 1 else None,
              "flagged": flagged, "by_dimension": dims, "mid_level": mid}
    return {"charts": charts, "totals": totals, "n_rows": n_rows, "n_done": n_done,
            "pid_idx": pid_idx}


def _row_view(i: int, r: Mapping[str, Any], ladder: Ladder, cal: Calibration | None
              ) -> dict[str, Any]:
    rank = ladder.rank
    target = r["target_level"]
    dims = []
    for d in ladder.dimension_ids:
        lv = r.get(d)
        dims.append({"id": d, "level": lv, "rank": rank.get(lv, -1) if lv else -1,
                     "n": r.get(f"{d}_evidence") or 0,
                     "below": bool(lv in rank and target and rank[lv] < rank[target])})
    gold = cal.gold_levels.get(r["packet_id"]) if cal else None
    delta = rank[r["level"]] - rank[gold] if gold and r["level"] in rank else None
    error = r.get("error")
    if error:  # packet errors start with the file's path, which the row already shows
        error = error.removeprefix(f"{r['source']}: ")
    return {**r, "idx": i, "dims": dims, "short_source": _short_source(r["source"]),
            "error": error,
            "level_rank": rank.get(r["level"], -1) if r["level"] else -1,
            "target_rank": rank.get(target, -1) if target else -1,
            "flag_list": [f for f in r["flags"].split(";") if f], "gold": gold, "delta": delta,
            "gold_rank": rank.get(gold, -1) if gold else -1}


def _drilldowns(items: Iterator[tuple[int, Assessment, str | None]], ladder: Ladder,
                cal: Calibration | None, heat: Mapping[str, tuple[str, str]]
                ) -> Iterator[dict[str, Any]]:
    """Each packet's drill-down HTML, rendered one at a time as the report is written."""
    template = environment().get_template("report_drilldown.html.j2")
    colours = dict(zip(ladder.dimension_ids, dimension_colours(ladder), strict=True))
    by_packet = {d.packet_id: d for d in cal.disagreements} if cal else {}
    for idx, a, text in items:
        has_text = text is not None and not a.ungrounded(text)
        ctx = view_model(a, ladder, text) if has_text and text is not None else {
            "a": a, "ladder": ladder, "colours": colours}
        gold = cal.gold_levels.get(a.packet_id) if cal else None
        dis = by_packet.get(a.packet_id)
        dd = {"has_text": has_text, "gold": gold,
              "gold_dims": cal.gold_dimensions.get(a.packet_id, {}) if cal else {},
              "notes": cal.notes.get(a.packet_id) if cal else None,
              "calibrator": cal.calibrators.get(a.packet_id) if cal else None,
              "flags_missed": dis.flags_missed if dis else [],
              "flags_extra": dis.flags_extra if dis else []}
        yield {"idx": idx, "html": template.render(**ctx, dd=dd, heat=heat)}


def write_committee_report(
    path: str | Path,
    *,
    ladder: Ladder,
    rows: Iterable[Mapping[str, Any]],
    run: Mapping[str, Any],
    drilldowns: Iterator[tuple[int, Assessment, str | None]],
    calibration: Calibration | None = None,
    failures: Sequence[Mapping[str, Any]] = (),
    title: str = "Promotion cycle: committee report",
) -> Path:
    """Render the report to ``path`` (via a temp file and rename) and return it.

    Args:
        path: where to write report.html.
        ladder: the ladder the run used.
        rows: one summary row per packet (as in summary.csv), in run order; iterated a few
            times, so pass a re-iterable (a list, or batch.outputs.SummaryRows).
        run: the run's BatchSummary as a dict (model, cost, stop reason, ...).
        drilldowns: (row index, Assessment, packet text or None) for each assessed
            packet, consumed lazily while the file is written.
        calibration: the comparison with the committee's labels, if any.
        failures: unresolved failures (errors.jsonl entries).
        title: the page title.
    """
    target = Path(path)
    colours = level_colours(ladder.scale)
    ctx: dict[str, Any] = {
        **_aggregate(rows, ladder),
        "title": title, "ladder": ladder, "scale": ladder.scale, "rank": ladder.rank,
        "heat": colours, "run": run, "cal": calibration,
        # Row views are made as the table is written, not all at once (thousands of rows).
        "rows": (_row_view(i, r, ladder, calibration) for i, r in enumerate(rows)),
        "agreement": calibration.report if calibration else None,
        "failures": [{**f, "error": str(f.get("error", "")).removeprefix(f"{f.get('source')}: ")}
                     for f in failures],
        "pricing_updated": UPDATED, "batch_discount": BATCH_DISCOUNT,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "drilldowns": _drilldowns(drilldowns, ladder, calibration, colours),
        "dis_ids": set(), "cal_cm_max": 1,
    }
    if calibration is not None and calibration.panel is not None:
        chosen = calibration.calibrator or next(iter(calibration.calibrators.values()), None)
        ctx["panel_cols"], ctx["panel_rows"] = panel_table(calibration.panel, calibration.report,
                                                           chosen, ladder)
    if calibration is not None:
        ctx["dis_ids"] = {d.packet_id for d in calibration.disagreements}
        if calibration.report:
            cm = calibration.report.overall.confusion_matrix
            ctx["cal_cm_max"] = max([n for row in cm.values() for n in row.values()] + [1])
    template = environment().get_template("report_committee.html.j2")
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for piece in template.generate(**ctx):
            fh.write(piece)
    os.replace(tmp, target)
    return target


def dimension_colours(ladder: Ladder) -> list[str]:
    """The per-dimension highlight colours of the single-assessment view, in ladder order."""
    from packet_eval.render.html import PALETTE

    return [PALETTE[i % len(PALETTE)] for i in range(len(ladder.dimensions))]
