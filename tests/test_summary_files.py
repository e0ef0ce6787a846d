"""summary.csv and summary.parquet without pandas: the same files pandas wrote before.

The reference below is the pandas code the batch used (a frame of nullable dtypes, then
``to_csv`` and ``to_parquet``); the new writer must give the same CSV bytes and a Parquet
file that pandas reads back to the same frame, dtypes included.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from packet_eval.batch.outputs import SummaryRows, columns, summary_bytes
from packet_eval.ladder import load_ladder

LADDER = load_ladder()


def reference(rows: SummaryRows) -> tuple[bytes, pd.DataFrame]:
    df = pd.DataFrame.from_records(rows.tuples(), columns=rows.columns)
    ints = ["n_flags", "evidence_total", "input_tokens", "output_tokens", "calls",
            *(f"{d}_evidence" for d in LADDER.dimension_ids)]
    for c in ints:
        df[c] = df[c].astype("Int64")
    df["cost_usd"] = df["cost_usd"].astype("Float64")
    for c in ("meets_target", "cached"):
        df[c] = df[c].astype("boolean")
    for c in df.columns:
        if c not in {*ints, "cost_usd", "meets_target", "cached"}:
            df[c] = df[c].astype("string")
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode(), df


def sample_rows(n_done: int) -> SummaryRows:
    rows = SummaryRows(columns(LADDER))
    dims = LADDER.dimension_ids
    for i in range(n_done):
        row = dict.fromkeys(rows.columns)
        row.update({"packet_id": f"cand-{i:03d}", "source": f"/tmp/a, \"b\"/p{i}.md",
                    "status": "done", "level": LADDER.scale[i % len(LADDER.scale)],
                    "target_level": LADDER.scale[-1], "meets_target": i % 2 == 0,
                    "flags": "a;b" if i else "", "n_flags": 2 if i else 0,
                    "evidence_total": 3 * i, "cost_usd": [0.000123, 1e-05, 0.0, 12.5][i % 4],
                    "input_tokens": 4000 + i, "output_tokens": 700, "calls": 1,
                    "cached": i == 1, "model": "openai/gpt-4.1-mini",
                    "packet_sha256": f"{i:064x}", "error": None})
        for d in dims:
            row[d] = LADDER.scale[0]
            row[f"{d}_evidence"] = i
        rows.append(row)
    failed = dict.fromkeys(rows.columns)
    failed.update({"packet_id": "broken", "source": "/tmp/broken.md", "status": "failed",
                   "flags": "", "cached": False, "error": "line one\nline, two"})
    rows.append(failed)
    return rows


@pytest.mark.parametrize("n_done", [0, 1, 5])
def test_summary_files_match_what_pandas_wrote(n_done):
    rows = sample_rows(n_done)
    csv_bytes, parquet = summary_bytes(rows, LADDER)
    want_csv, want_df = reference(rows)
    assert csv_bytes == want_csv
    got = pd.read_parquet(io.BytesIO(parquet))
    pd.testing.assert_frame_equal(got, want_df)
    old = io.BytesIO()
    want_df.to_parquet(old, index=False)
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(old.getvalue())))
