"""``packet-eval log``: recent LLM calls from the local call log."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from packet_eval.cli.console import out
from packet_eval.cli.options import JsonOpt


def log(
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="How many recent calls.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Show recent LLM calls from the local call log: tokens, latency, cost, status."""
    from rich.table import Table

    from packet_eval import Store

    store = Store()
    rows = store.recent_calls(limit)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"Recent LLM calls ({store.path})", title_justify="left")
    for col in ("datetime_utc", "model", "status", "in", "out", "ms", "cost_usd", "packet"):
        table.add_column(col, justify="right" if col in ("in", "out", "ms", "cost_usd") else "left")
    for r in rows:
        table.add_row(r["datetime_utc"][:19], r["model"], r["status"] if not r["error"] else
                      f"{r['status']}: {r['error'][:60]}", str(r["input_tokens"] or 0),
                      str(r["output_tokens"] or 0), str(r["duration_ms"] or 0),
                      f"{r['cost_usd'] or 0:.5f}", (r["packet_sha256"] or "")[:10])
    out.print(table)
    total = sum((r["cost_usd"] or 0) for r in rows)
    out.print(f"{len(rows)} call(s), estimated cost ${total:.4f}")
