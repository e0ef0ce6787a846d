"""``packet-eval agreement``: assessments against the committee's own labels."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from packet_eval.cli.console import note, out
from packet_eval.cli.options import AgreementFormat, CalibratorOpt, LadderOpt


def agreement(
    labels: Annotated[Path, typer.Argument(metavar="LABELS", help="The committee's labels (JSONL, the golden labels format).")],
    assessments: Annotated[Path, typer.Argument(metavar="ASSESSMENTS", help="assessments.jsonl from `packet-eval assess`.")],
    fmt: Annotated[AgreementFormat, typer.Option("--format", "-f", metavar="text|json|markdown", help="Output format.")] = AgreementFormat.text,
    ladder: LadderOpt = None,
    calibrator: CalibratorOpt = None,
    n_boot: Annotated[int, typer.Option("--n-boot", metavar="N", help="Bootstrap replicates for the 95% intervals.")] = 1000,
) -> None:
    """Agreement of assessments with the committee's labels, and the disagreements to discuss."""
    from packet_eval import (
        ConfigError,
        compare,
        load_ladder,
        parse_labels,
        read_assessments,
        render_agreement_markdown,
        render_agreement_text,
        unchanged_packet_text,
    )

    lad = load_ladder(ladder)
    parsed = parse_labels(labels, lad)
    parsed.valid_labels()
    found, notes = read_assessments(assessments)
    labelled = {lb.packet_id for lb in parsed.labels}
    # Only labelled packets need their text (for evidence overlap): skip reading the rest.
    pairs = ((a, unchanged_packet_text(a.source, a.packet_sha256) if a.packet_id in labelled
              else None) for a in found)
    try:
        cal = compare(parsed.labels, pairs, lad, calibrator=calibrator, n_boot=n_boot)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if cal.n_compared == 0:
        raise ConfigError(f"no packet is in both {labels.name} ({len(labelled)} labelled) and "
                          f"{assessments.name} ({len(found)} assessed); packet ids must match")
    for line in notes:
        note(line)
    if fmt is AgreementFormat.json:
        sys.stdout.write(json.dumps(cal.to_dict(), indent=2) + "\n")
    elif fmt is AgreementFormat.markdown:
        sys.stdout.write(render_agreement_markdown(cal, lad))
    else:
        render_agreement_text(cal, lad, out)
