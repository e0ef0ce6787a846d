"""``packet-eval calibrate``: fit the ladder's overall-level rule to a committee's labels."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated

import typer

from packet_eval.cli.console import err, out
from packet_eval.cli.options import LadderOpt


def _ci(p: tuple[float, float] | None) -> str:
    return "" if p is None else f" [{p[0]:.3f}, {p[1]:.3f}]"


def _writable(path: Path) -> None:
    from packet_eval import PacketEvalError

    if path.is_dir():
        raise PacketEvalError("is a directory; --out takes the fitted ladder's file name", path)
    if not path.parent.is_dir():
        raise PacketEvalError("cannot write output (its folder does not exist)", path)
    # Checked before fitting, without creating the file, so a refusal leaves nothing behind.
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise PacketEvalError("cannot write output (permission denied)", path)


def calibrate(
    labels: Annotated[Path, typer.Argument(help="The committee's labels (JSONL, the golden labels format).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", metavar="FITTED.yaml", help="Where to write the fitted ladder YAML.")],
    ladder: LadderOpt = None,
    folds: Annotated[int, typer.Option("--folds", min=2, metavar="N", help="Cross-validation folds (by packet).")] = 5,
    n_boot: Annotated[int, typer.Option("--n-boot", min=1, metavar="N", help="Bootstrap replicates for the 95% intervals.")] = 1000,
) -> None:
    """Fit the overall-level thresholds to the labels; compare shipped and fitted, cross-validated."""
    from rich.table import Table

    from packet_eval import (
        DatasetError,
        TooFewLabels,
        fit_rule,
        fitted_ladder_yaml,
        load_ladder,
        parse_labels,
        parse_ladder,
    )

    lad = load_ladder(ladder)
    parsed = parse_labels(labels, lad)
    parsed.valid_labels()
    _writable(out_path)
    try:
        fit = fit_rule(parsed.labels, lad, folds=folds, n_boot=n_boot)
    except TooFewLabels as exc:
        err.print(f"[yellow]warning:[/] {labels}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    table = Table(title=f"Overall level against {fit.n_labels} label(s) on {fit.n_packets} packet(s) "
                        f"by {', '.join(fit.calibrators)} (95% CIs, packets resampled)",
                  title_justify="left")
    for col in ("rule", "exact", "within one", "quadratic kappa"):
        table.add_column(col)
    for name, f in (("shipped", fit.shipped), (f"fitted, {fit.folds}-fold cross-validated", fit.cross_validated),
                    ("fitted, in sample (optimistic)", fit.in_sample)):
        table.add_row(name, f"{f.exact:.3f}{_ci(f.exact_ci)}", f"{f.within_one:.3f}{_ci(f.within_one_ci)}",
                      f"{f.kappa_quadratic:.3f}{_ci(f.kappa_quadratic_ci)}")
    out.print(table)
    rules = Table(title="Thresholds per level (min_dimensions / min_core)", title_justify="left")
    for col in ("level", "shipped", "fitted"):
        rules.add_column(col)
    for lv in lad.levels:
        was, now = fit.shipped_requirements[lv], fit.requirements[lv]
        rules.add_row(lv, f"{was[0]} / {was[1]}",
                      f"{now[0]} / {now[1]}" + ("" if was == now else "  (changed)"))
    out.print(rules)
    cv, shipped = fit.cross_validated.exact or 0.0, fit.shipped.exact or 0.0
    if fit.changed and cv <= shipped:
        # In-sample gains that vanish under cross-validation are the labels' noise, not a rule.
        err.print(f"[yellow]note:[/] cross-validated, the fitted rule is no better than the "
                  f"shipped one ({cv:.3f} vs {shipped:.3f} exact): keep the shipped rule unless "
                  "more labels say otherwise", highlight=False, soft_wrap=True)
    body = fitted_ladder_yaml(lad, fit, labels.name, hashlib.sha256(labels.read_bytes()).hexdigest())
    fitted = parse_ladder(body, str(out_path))  # what assess --ladder will read back
    tmp = out_path.with_name(out_path.name + ".tmp")
    try:
        tmp.write_bytes(body)
        tmp.replace(out_path)
    except OSError as exc:
        raise DatasetError(f"cannot write output ({exc.strerror})", out_path) from None
    err.print(f"wrote {out_path}: ladder {fitted.id} version {fitted.version}, sha256 "
              f"{fitted.sha256[:12]}; use it with --ladder {out_path}", highlight=False, soft_wrap=True)
