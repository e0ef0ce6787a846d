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
    from packet_eval import aggregation_ceiling, check_dataset, load_dataset, load_ladder

    lad = load_ladder(ladder)
    problems = check_dataset(directory, lad)
    for p in problems:
        err.print(f"[red]error:[/] {escape(str(p))}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print(f"{directory}: ok")
    ceiling = aggregation_ceiling(load_dataset(directory, lad).labels, lad, n_boot=1)
    if ceiling.off_rule:
        shown = ", ".join(f"{o.packet_id} ({o.calibrator}: {o.level}, rule {o.rule_level})"
                          for o in ceiling.off_rule[:5])
        more = f" and {len(ceiling.off_rule) - 5} more" if len(ceiling.off_rule) > 5 else ""
        out.print(f"note: {len(ceiling.off_rule)} label(s) give an overall level the ladder's rule "
                  f"would not: {shown}{more}. Kept as the calibrator's judgement; the aggregation "
                  "ceiling in `packet-eval agreement` measures them.", highlight=False, soft_wrap=True)


def stats(directory: DatasetArg, ladder: LadderOpt = None, as_json: JsonOpt = False) -> None:
    """Print the distribution of levels, flags, styles, tags, formats and lengths."""
    from packet_eval import dataset_stats, load_dataset, load_ladder

    counts = dataset_stats(load_dataset(directory, load_ladder(ladder)))
    if as_json:
        sys.stdout.write(json.dumps(counts, indent=2) + "\n")
        return
    splits = ", ".join(f"{k} {v}" for k, v in counts["splits"].items())
    out.print(f"[bold]{escape(str(directory))}[/]: {counts['packets']} packets, {counts['labels']} "
              f"labels, {counts['doubly_labelled']} doubly labelled, {counts['injection_pairs']} "
              f"injection pairs; splits: {splits}", highlight=False)
    # One aligned line per property: a dozen tiny tables scrolled the summary off screen.
    for key in ("levels", "target_levels", "flags", "styles", "tags", "formats", "calibrators"):
        values = " \u00b7 ".join(f"{k} {v}" for k, v in counts[key].items()) or "(none)"
        out.print(f"  {key.replace('_', ' '):<14}{escape(values)}", highlight=False, soft_wrap=True)
    w = counts["words"]
    buckets = " \u00b7 ".join(f"{k} {v}" for k, v in w["buckets"].items())
    out.print(f"  {'words':<14}min {w['min']}, max {w['max']}; {buckets}", highlight=False,
              soft_wrap=True)
