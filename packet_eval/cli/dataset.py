"""``packet-eval dataset check`` and ``dataset stats``: golden datasets, validated and described."""

from __future__ import annotations

import json
import sys

import typer
from rich.markup import escape

from packet_eval.cli.console import err, out
from packet_eval.cli.options import DatasetArg, JsonOpt, LadderOpt


def check(directory: DatasetArg, ladder: LadderOpt = None) -> None:
    """Validate a dataset: schema, coverage, levels, flags, evidence substrings, twins, splits."""
    from packet_eval import check_dataset, load_ladder

    problems = check_dataset(directory, load_ladder(ladder))
    for p in problems:
        err.print(f"[red]error:[/] {escape(str(p))}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print(f"{directory}: ok")


def stats(directory: DatasetArg, ladder: LadderOpt = None, as_json: JsonOpt = False) -> None:
    """Print the distribution of levels, flags, styles, tags, formats and lengths."""
    from rich.table import Table

    from packet_eval import dataset_stats, load_dataset, load_ladder

    counts = dataset_stats(load_dataset(directory, load_ladder(ladder)))
    if as_json:
        sys.stdout.write(json.dumps(counts, indent=2) + "\n")
        return
    out.print(f"[bold]{directory}[/]: {counts['packets']} packets, {counts['labels']} labels, "
              f"{counts['doubly_labelled']} doubly labelled, {counts['injection_pairs']} injection "
              f"pairs, splits {counts['splits']}")
    for key in ("levels", "target_levels", "flags", "styles", "tags", "formats", "calibrators"):
        table = Table(title=key, title_justify="left")
        table.add_column("value")
        table.add_column("count", justify="right")
        for k, v in counts[key].items():
            table.add_row(str(k), str(v))
        out.print(table)
    w = counts["words"]
    out.print(f"words: min {w['min']}, max {w['max']}, buckets {w['buckets']}")
