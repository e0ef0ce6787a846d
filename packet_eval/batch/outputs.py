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

import array
import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import accumulate
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


REPORT_TEMPLATES = ("_base.html.j2", "_style.css.j2", "_result.html.j2", "_result.js.j2",
                    "report_style.css.j2", "report_script.js.j2", "report_committee.html.j2",
                    "report_drilldown.html.j2")


def load_templates(cache_dir: Path | None = None) -> None:
    """Compile the report's templates once per process, through a bytecode cache if given.

    Compiling them takes about 0.2 s of CPU in every fresh process; with ``cache_dir``
    (the call log's folder, for LLM runs) later processes load the compiled code instead.
    The cache is attached only while these load, so nothing else (``serve``) writes there.
    """
    from packet_eval.render.html import environment

    env = environment()
    if cache_dir is not None and env.bytecode_cache is None:
        from jinja2 import FileSystemBytecodeCache

        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = FileSystemBytecodeCache(str(cache_dir))
        except OSError:  # only a speed-up: compile as usual
            pass
    try:
        for name in REPORT_TEMPLATES:
            env.get_template(name)
    finally:
        env.bytecode_cache = None


def prepare(cache_dir: Path | None = None) -> None:
    """Import and compile what ``write_outputs`` needs (pyarrow, the report templates).

    Half a second of CPU that would otherwise all come after the last packet; a live
    run calls this in a thread while its workers wait on the provider.
    """
    import pyarrow.parquet  # noqa: F401

    from packet_eval.report import committee  # noqa: F401

    load_templates(cache_dir)


def _kinds(ladder: Ladder) -> dict[str, str]:
    """Each summary column's type: int, float, bool or (the rest) string."""
    ints = ["n_flags", "evidence_total", "input_tokens", "output_tokens", "calls",
            *(f"{d}_evidence" for d in ladder.dimension_ids)]
    kinds = dict.fromkeys(columns(ladder), "string")
    kinds.update(dict.fromkeys(ints, "int"))
    kinds.update({"cost_usd": "float", "meets_target": "bool", "cached": "bool"})
    return kinds


_CAST = {"int": int, "float": float, "bool": bool, "string": str}
# Arrow type and the pandas metadata a DataFrame of nullable dtypes (Int64, Float64,
# boolean, string) writes, so ``pd.read_parquet`` gives back those dtypes.
_PANDAS_TYPES = {"int": ("int64", "Int64"), "float": ("float64", "Float64"),
                 "bool": ("bool", "boolean"), "string": ("object", "string")}


def _typed_columns(rows: SummaryRows, ladder: Ladder) -> dict[str, list[Any]]:
    kinds = _kinds(ladder)
    cols = list(zip(*rows.tuples(), strict=True)) or [() for _ in rows.columns]
    return {name: [None if v is None else _CAST[kinds[name]](v) for v in col]
            for name, col in zip(rows.columns, cols, strict=True)}


def _csv(data: dict[str, list[Any]]) -> bytes:
    """The CSV pandas' ``to_csv(index=False)`` writes for the same typed frame."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(data)
    writer.writerows(("" if v is None else v for v in row) for row in zip(*data.values(), strict=True))
    return buf.getvalue().encode()


def _bits(flags: Iterable[bool]) -> bytes:
    """An Arrow bitmap (least significant bit first)."""
    out = bytearray()
    for i, flag in enumerate(flags):
        if i % 8 == 0:
            out.append(0)
        if flag:
            out[-1] |= 1 << (i % 8)
    return bytes(out)


def _arrow_array(pa: Any, arrow_type: Any, kind: str, values: list[Any]) -> Any:
    """An Arrow array built from its buffers: ``pa.array`` would import pandas to check types."""
    validity = pa.py_buffer(_bits(v is not None for v in values))
    if kind == "string":
        encoded = [b"" if v is None else v.encode() for v in values]
        offsets = array.array("q", accumulate(map(len, encoded), initial=0))
        buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    elif kind == "bool":
        buffers = [validity, pa.py_buffer(_bits(bool(v) for v in values))]
    else:  # Arrow's buffers are little-endian, as array.array is on every platform we ship to
        data = array.array("q" if kind == "int" else "d", (v or 0 for v in values))
        buffers = [validity, pa.py_buffer(data)]
    return pa.Array.from_buffers(arrow_type, len(values), buffers)


def _parquet(data: dict[str, list[Any]], ladder: Ladder) -> bytes:
    """The summary as Parquet through pyarrow alone (pandas takes ~0.4 s to import)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = _kinds(ladder)
    arrow = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
             "string": pa.large_string()}
    meta = {"index_columns": [], "column_indexes": [],
            "columns": [{"name": c, "field_name": c, "pandas_type": _PANDAS_TYPES[kinds[c]][0],
                         "numpy_type": _PANDAS_TYPES[kinds[c]][1], "metadata": None}
                        for c in data],
            "attributes": {}, "creator": {"library": "pyarrow", "version": pa.__version__}}
    schema = pa.schema([pa.field(c, arrow[kinds[c]]) for c in data],
                       metadata={"pandas": json.dumps(meta)})
    table = pa.Table.from_arrays([_arrow_array(pa, arrow[kinds[c]], kinds[c], v)
                                  for c, v in data.items()], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def summary_bytes(rows: SummaryRows, ladder: Ladder) -> tuple[bytes, bytes]:
    """summary.csv and summary.parquet as bytes, made without pandas.

    Both are what pandas wrote for a frame of nullable dtypes (Int64, Float64, boolean,
    string): the same CSV, and Parquet that ``pd.read_parquet`` reads back to those dtypes.
    """
    data = _typed_columns(rows, ladder)
    return _csv(data), _parquet(data, ladder)


def _write_summaries(out: OutDir, rows: SummaryRows, ladder: Ladder) -> dict[str, Path]:
    csv_data, parquet = summary_bytes(rows, ladder)
    files = {"summary_csv": out.write_atomic(SUMMARY_CSV, csv_data)}
    files["summary_parquet"] = out.write_atomic(SUMMARY_PARQUET, parquet)
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
                  calibrator: str | None = None, template_cache: Path | None = None
                  ) -> dict[str, Path]:
    """Rebuild errors.jsonl (unresolved only), the summaries, the report and run.json.

    ``template_cache``: where compiled report templates are kept between runs (see
    ``load_templates``).
    """
    load_templates(template_cache)
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
