"""How commands talk to the terminal: results on stdout, notes and errors on stderr.

``friendly`` turns a ``PacketEvalError`` (and Ctrl-C) into one red line and the
error's exit code, so a user never sees a traceback for something they can fix.
``debug_log_to_stderr`` is what ``--verbose`` switches on.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from packet_eval import PacketEvalError

out = Console(soft_wrap=False)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned Exit."""
    # Messages carry file names, which may contain [brackets]: never read them as markup.
    err.print(f"[red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


_QUIET = {"on": False}  # --quiet: set once per invocation by the app's callback


def set_quiet(on: bool) -> None:
    """Silence ``note`` lines (``--quiet``); errors always print."""
    _QUIET["on"] = on


def note(message: str) -> None:
    """A yellow ``note:`` line on stderr (a default was chosen, a file had a quirk)."""
    if _QUIET["on"]:
        return
    err.print(f"[yellow]note:[/] {message}", highlight=False, soft_wrap=True)


def say_retry(attempt: int, seconds: float, why: str) -> None:
    """Print one line per transport retry, so a slow provider never looks like a hang."""
    err.print(f"[dim]retrying in {seconds:.1f}s (attempt {attempt + 1}): {why}[/]", highlight=False,
              soft_wrap=True)


def say_wait(seconds: float) -> None:
    """One line while a single model call runs for minutes (a CPU server), so it is not a hang."""
    err.print(f"[dim]still waiting for the model: {seconds:.0f}s so far[/]", highlight=False,
              soft_wrap=True)


def friendly(fn: F) -> F:
    """Turn PacketEvalError (and Ctrl-C) into a one-line message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PacketEvalError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper  # type: ignore[return-value]


def emit(body: str, out_path: Path | None) -> None:
    """Write ``body`` to ``out_path``, or to stdout when it is None."""
    if out_path is None:
        sys.stdout.write(body if body.endswith("\n") else body + "\n")
        return
    try:
        out_path.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise PacketEvalError(f"cannot write output ({exc.strerror})", out_path) from None
    err.print(f"wrote {out_path}", highlight=False)


def debug_log_to_stderr() -> Callable[[], None]:
    """Show the ``packet_eval`` loggers' debug lines on stderr; returns the undo.

    The handler binds the stderr of this moment (a test runner swaps it per
    invocation), so callers undo it when the command ends.
    """
    logger = logging.getLogger("packet_eval")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    return undo
