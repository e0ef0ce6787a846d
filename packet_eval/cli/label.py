"""``packet-eval label``: run the private labelling page for one calibrator on this machine.

Inputs are checked before anything listens (one line each for a missing folder,
no packets, an unwritable --out, labels for another ladder); where the page may
listen is ``packet_eval.serve``'s policy, as for ``serve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from packet_eval import DEFAULT_HOST, DEFAULT_PORT
from packet_eval.cli.console import err
from packet_eval.cli.options import HostOpt, LadderOpt, PortOpt


def label(
    packets_dir: Annotated[Path, typer.Argument(
        help="Folder of packets (or a dataset folder with packets/).")],
    calibrator: Annotated[str, typer.Option("--calibrator", metavar="NAME", help="Your name, as saved in each label.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="LABELS.jsonl", help="Labels JSONL to write; labelling resumes from it.")],
    ladder: LadderOpt = None,
    blind: Annotated[bool, typer.Option(
        "--blind", help="Hide other calibrators' labels in --out.")] = False,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
) -> None:
    """Label packets in the browser: evidence per dimension, levels, flags and notes.

    Each packet is saved to --out as soon as you save it; the next start resumes.
    """
    import uvicorn

    from packet_eval import (
        allowed_hosts_for,
        create_label_app,
        exposure_warning,
        load_ladder,
        open_label_session,
        server_url,
    )

    session = open_label_session(packets_dir, calibrator, out, load_ladder(ladder), blind=blind)
    web = create_label_app(session, allowed_hosts=allowed_hosts_for(host))
    warning = exposure_warning(host, port)
    if warning:
        err.print(warning, style="bold yellow", highlight=False, soft_wrap=True)
    done, total = session.progress()
    err.print(f"packet-eval label on {server_url(host, port)}  ({done} of {total} labelled by "
              f"{session.calibrator}; Ctrl-C to stop)", highlight=False)
    uvicorn.run(web, host=host, port=port, log_level="warning")
