"""The derived files of a run: summary.csv, summary.parquet, report.html, run.json.

All of them are rebuilt from what is durably on disk (``assessments.jsonl`` and
``errors.jsonl``) at the end of every run, however it ended, so they always
describe exactly the finished results. Each is written to a temp file and renamed,
so a crash while writing them leaves the previous version, never half a file.

The summary has one row per packet of the run, in run order: finished packets
with their levels, failed ones with their error, and packets a stopped run never
reached as ``not run``. Assessments are read one at a time from their byte
offsets, so memory does not grow with the evidence of thousands of packets.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packet_eval.batch.outdir import RUN_INFO, LoadedResults, OutDir, ResultRef
from packet_eval.ladder import Ladder
from packet_eval.packet import unchanged_packet_text
from packet_eval.schema import Assessment

if TYPE_CHECKING:
    from packet_eval.batch.jobs import Job
    from packet_eval.batch.summary import BatchSummary
    from packet_eval.dataset import Label
    from packet_eval.report.calibration import Calibration

SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"
REPORT = "report.html"


def columns(ladder: Ladder) -> list[str]:
    """The summary's columns, in order."""
    return (["packet_id", "source", "status", "level", "target_level", "meets_target"]
            + ladder.dimension_ids
            + ["flags", "n_flags", "evidence_total"]
            + [f"{d}_evidence" for d in ladder.dimension_ids]
            + ["cost_usd", "input_tokens", "output_tokens", "calls", "cached", "model",
               "packet_sha256", "error"])


def row_of(obj: dict[str, Any], ladder: Ladder) -> dict[str, Any]:
    """One summary row from an Assessment as parsed JSON."""
    rank = ladder.rank
    dims = obj["dimensions"]
    target = obj.get("target_level")
    usage = obj.get("usage", {})
    flags = sorted({f["flag"] for f in obj.get("flags", [])})
    row: dict[str, Any] = {
        "packet_id": obj["packet_id"], "source": obj["source"], "status": "done",
        "level": obj["level"], "target_level": target,
        "meets_target": (rank[obj["level"]] >= rank[target]) if target in rank else None,
    }
    for d in ladder.dimension_ids:
        row[d] = dims.get(d, {}).get("level")
    row["flags"] = ";".join(flags)
    row["n_flags"] = len(flags)
    counts = {d: len(dims.get(d, {}).get("evidence", [])) for d in ladder.dimension_ids}
    row["evidence_total"] = sum(counts.values())
    for d, n in counts.items():
        row[f"{d}_evidence"] = n
    row.update({"cost_usd": usage.get("cost_usd", 0.0),
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0), "calls": usage.get("calls", 0),
                "cached": bool(usage.get("cached", False)), "model": obj["extractor"]["model"],
                "packet_sha256": obj["packet_sha256"], "error": None})
    return row


class SummaryRows:
    """Summary rows kept as tuples in column order (a few hundred bytes each, not kilobytes).

    Iterating yields a fresh dict per row, so readers keep name access without every row
    of a cycle of thousands living as a dict at once.
    """

    def __init__(self, cols: list[str]) -> None:
        self.columns = cols
        self._rows: list[tuple[Any, ...]] = []

    def append(self, row: dict[str, Any]) -> None:
        self._rows.append(tuple(row[c] for c in self.columns))

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cols = self.columns
        return (dict(zip(cols, t, strict=True)) for t in self._rows)

    def tuples(self) -> list[tuple[Any, ...]]:
        return self._rows


def _empty_row(job: Job, ladder: Ladder, status: str, error: str | None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(columns(ladder))
    row.update({"packet_id": job.packet_id, "source": str(job.path), "status": status,
                "target_level": job.target_level, "flags": "", "model": job.key.model,
                "packet_sha256": job.key.packet_sha256, "error": error, "cached": False})
    return row


def prepare() -> None:
    """Import and compile what ``write_outputs`` needs (pandas, pyarrow, the report templates).

    About a second of CPU that would otherwise all come after the last packet; a live
    run calls this in a thread while its workers wait on the provider.
    """
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from packet_eval.render.html import environment
    from packet_eval.report import committee  # noqa: F401

    for name in ("report_committee.html.j2", "report_drilldown.html.j2"):
        environment().get_template(name)


def _frame(rows: SummaryRows, ladder: Ladder) -> Any:
    import pandas as pd

    df = pd.DataFrame.from_records(rows.tuples(), columns=rows.columns)
    ints = ["n_flags", "evidence_total", "input_tokens", "output_tokens", "calls",
            *(f"{d}_evidence" for d in ladder.dimension_ids)]
    for c in ints:
        df[c] = df[c].astype("Int64")
    df["cost_usd"] = df["cost_usd"].astype("Float64")
    for c in ("meets_target", "cached"):
        df[c] = df[c].astype("boolean")
    strings = [c for c in df.columns if c not in {*ints, "cost_usd", "meets_target", "cached"}]
    for c in strings:
        df[c] = df[c].astype("string")
    return df


def _write_summaries(out: OutDir, rows: SummaryRows, ladder: Ladder) -> dict[str, Path]:
    """summary.csv and summary.parquet; the frame is freed before the report is rendered."""
    df = _frame(rows, ladder)
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    files = {"summary_csv": out.write_atomic(SUMMARY_CSV, buf.getvalue().encode())}
    pq = io.BytesIO()
    df.to_parquet(pq, index=False)
    files["summary_parquet"] = out.write_atomic(SUMMARY_PARQUET, pq.getvalue())
    return files


def _assessed(out: OutDir, refs: list[tuple[int, ResultRef]], wanted: set[str] | None = None
              ) -> Iterator[tuple[int, Assessment, str | None]]:
    """(row index, Assessment, packet text) for finished packets, one at a time."""
    pairs = [(i, r) for i, r in refs if wanted is None or r.packet_id in wanted]
    for (i, _), obj in zip(pairs, out.iter_results([r for _, r in pairs]), strict=True):
        a = Assessment.model_validate(obj)
        yield i, a, unchanged_packet_text(a.source, a.packet_sha256)


def write_outputs(out: OutDir, jobs: list[Job], loaded: LoadedResults, ladder: Ladder,
                  summary: BatchSummary, *, labels: list[Label] | None = None,
                  calibrator: str | None = None) -> dict[str, Path]:
    """Rebuild errors.jsonl (unresolved only), the summaries, the report and run.json."""
    latest = out.load_errors()
    unresolved = [e for k, e in latest.items() if k not in loaded.refs]
    out.rewrite_errors(unresolved)
    errors = {e["key"]: e for e in unresolved}

    rows = SummaryRows(columns(ladder))
    refs: list[tuple[int, ResultRef]] = []
    done_refs = [(j, loaded.refs.get(j.key.digest)) for j in jobs]
    parsed = out.iter_results([r for _, r in done_refs if r is not None])
    for j, ref in done_refs:
        if ref is not None:
            refs.append((len(rows), ref))
            rows.append(row_of(next(parsed), ladder))
        elif j.key.digest in errors:
            rows.append(_empty_row(j, ladder, "failed", errors[j.key.digest]["error"]))
        else:
            rows.append(_empty_row(j, ladder, "not run", None))
    cost_at = rows.columns.index("cost_usd")
    summary.total_cost_usd = round(sum(t[cost_at] or 0.0 for t in rows.tuples()), 6)

    files = _write_summaries(out, rows, ladder)

    cal: Calibration | None = None
    if labels is not None:
        from packet_eval.report.calibration import compare

        wanted = {lb.packet_id for lb in labels}
        cal = compare(labels, ((a, t) for _, a, t in _assessed(out, refs, wanted)), ladder,
                      calibrator=calibrator)
    from packet_eval.report.committee import write_committee_report

    files["report"] = write_committee_report(
        out.path / REPORT, ladder=ladder, rows=rows, run=summary.to_dict(),
        drilldowns=_assessed(out, refs), calibration=cal,
        failures=[errors[j.key.digest] for j in jobs if j.key.digest in errors])
    files["assessments"] = out.results
    if unresolved:
        files["errors"] = out.errors
    summary.files = {k: str(v) for k, v in files.items()}
    files["run"] = out.write_atomic(
        RUN_INFO, (json.dumps(summary.to_dict(), indent=2, default=str) + "\n").encode())
    return files
