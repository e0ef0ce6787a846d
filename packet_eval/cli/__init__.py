"""The ``packet-eval`` command line: a thin typer layer over the public Python API.

One module per command group (``preview``, ``assess``, ``agreement``, ``ladder``,
``dataset``, ``calls`` for ``log``, ``evals`` for ``eval``, ``serve``, ``label``); options
several commands share live in ``options.py``, terminal output in ``console.py``.
Commands are plain functions that import only from ``packet_eval`` and raise
``PacketEvalError`` for what a user can fix. They are all registered in the one
table below, each wrapped by ``friendly``, which prints such an error as one
line on stderr and exits non-zero, with no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
import typer.core

from packet_eval.cli import agreement, assess, calibrate, calls, dataset, evals, ladder, preview, serve
from packet_eval.cli import label as label_cmd
from packet_eval.cli.console import debug_log_to_stderr, friendly, set_quiet
from packet_eval.cli.options import QuietOpt, VerboseOpt, VersionOpt

# Every argument has a metavar that names what it takes (PATHS..., PACKET, LOG); this typer
# also appends the Python type (``<list[Path]>``), which a user of llm or inspect reads as noise.
if hasattr(typer.core.TyperArgument, "display_type_rich"):
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

app = typer.Typer(no_args_is_help=True, add_completion=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False,
                  help="Grounded evidence from AI-engineering promotion packets.")
ladder_app = typer.Typer(no_args_is_help=True, help="Inspect ladders.")
dataset_app = typer.Typer(no_args_is_help=True, help="Validate and describe golden datasets.")
eval_app = typer.Typer(no_args_is_help=True, help="Gate, compare and summarise inspect eval logs (probes by name).")

COMMANDS: tuple[tuple[typer.Typer, str, Callable[..., Any]], ...] = (
    (app, "preview", preview.preview),
    (ladder_app, "show", ladder.show),
    (app, "log", calls.log),
    (dataset_app, "check", dataset.check),
    (dataset_app, "stats", dataset.stats),
    (app, "assess", assess.assess),
    (app, "agreement", agreement.agreement),
    (eval_app, "gate", evals.gate),
    (eval_app, "compare", evals.compare),
    (eval_app, "probes", evals.probes),
    (app, "serve", serve.serve),
    (app, "calibrate", calibrate.calibrate),
    (app, "label", label_cmd.label),
)
for group, name, command in COMMANDS:
    group.command(name)(friendly(command))
app.add_typer(ladder_app, name="ladder")
app.add_typer(dataset_app, name="dataset")
app.add_typer(eval_app, name="eval")


@app.callback()
def _global_options(ctx: typer.Context, verbose: VerboseOpt = False, quiet: QuietOpt = False,
                    version: VersionOpt = False) -> None:
    # Options that go before the command: `packet-eval --verbose preview ...`.
    if verbose and quiet:
        raise typer.BadParameter("--quiet and --verbose exclude each other")
    if verbose:
        ctx.call_on_close(debug_log_to_stderr())
    set_quiet(quiet)
    ctx.call_on_close(lambda: set_quiet(False))


def main() -> None:  # pragma: no cover - console-script entry point
    app()


__all__ = ["app", "main"]
