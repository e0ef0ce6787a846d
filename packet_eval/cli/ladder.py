"""``packet-eval ladder show``: a ladder's levels, dimensions, cells, flags and level rule."""

from __future__ import annotations

import json
import sys

from packet_eval.cli.console import out
from packet_eval.cli.options import JsonOpt, LadderOpt


def show(ladder: LadderOpt = None, as_json: JsonOpt = False) -> None:
    """Print a ladder: its levels, dimensions, cells, flags and level rule."""
    from rich.table import Table

    from packet_eval import load_ladder

    lad = load_ladder(ladder)
    if as_json:
        sys.stdout.write(json.dumps(lad.model_dump(), indent=2) + "\n")
        return
    out.print(f"[bold]{lad.title or lad.id}[/] ({lad.id} {lad.version}, sha256 {lad.sha256[:12]})")
    out.print(lad.description.strip())
    if lad.fitted:
        base, lab = lad.fitted.get("from_ladder", {}), lad.fitted.get("labels", {})
        out.print(f"Level rule fitted by packet-eval calibrate from {base.get('id')} "
                  f"{base.get('version')} on {lab.get('file')} ({lab.get('packets')} packets, "
                  f"sha256 {str(lab.get('sha256'))[:12]})", highlight=False)
    for dim in lad.dimensions:
        table = Table(title=f"{dim.name} ({dim.id})", show_lines=True, title_justify="left")
        table.add_column("level")
        table.add_column("behaviour")
        table.add_column("example evidence")
        for lv in lad.levels:
            cell = dim.cells[lv]
            table.add_row(lv, cell.behaviour, cell.evidence[0])
        out.print(table)
    out.print("[bold]Flags[/]")
    for fl in lad.flags:
        out.print(f"  [yellow]{fl.id}[/]: {fl.definition}")
    rule = lad.level_rule
    out.print("[bold]Overall level rule[/]: the highest level L where, for L and every level below, "
              "at least min_dimensions dimensions are at L or above, min_core of them core "
              f"({', '.join(rule.core_dimensions)}).")
    for lv in lad.levels:
        r = rule.requirements[lv]
        out.print(f"  {lv}: min_dimensions={r.min_dimensions}, min_core={r.min_core}")
