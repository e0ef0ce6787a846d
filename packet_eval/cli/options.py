"""Options that several commands share, defined once so they read the same everywhere.

Each is a typer ``Annotated`` alias: a command declares ``model: ModelOpt = None``
and gets the same flag, short form and help text as every other command.
Options only one command has stay in that command's signature.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    """How ``preview`` prints an Assessment."""

    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


class AgreementFormat(StrEnum):
    """How ``agreement`` prints its report."""

    text = "text"
    json = "json"
    markdown = "markdown"


ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", metavar="MODEL", help="'baseline' or provider/model, e.g. openai/gpt-4.1-mini. "
    "Default: an LLM if a key is set, else baseline.")]
LadderOpt = Annotated[Path | None, typer.Option(
    "--ladder", metavar="YAML", help="Ladder YAML (default: the built-in AI-engineering ladder).")]
TargetLevelOpt = Annotated[str | None, typer.Option(
    "--target-level", "-t", metavar="LEVEL", help="Level the packet asks for (every packet, for "
    "assess); gaps are shown against it. A level of the ladder, in any case: junior, mid, "
    "senior, staff for the built-in one (see 'packet-eval ladder show').")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    "--base-url", metavar="URL", help="OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio).")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Do not serve LLM calls from the local cache.")]
RedactOpt = Annotated[bool | None, typer.Option(
    "--redact/--no-redact", help="Mask names, emails, phone numbers, URLs and employee ids "
    "before text leaves the machine. Default: on for any endpoint not on this machine.")]
RosterOpt = Annotated[Path | None, typer.Option(
    "--roster", metavar="FILE", help="Names the committee lists, one per line: always masked before "
    "text leaves the machine (turns --redact on unless --no-redact is given, which is refused).")]
CalibratorOpt = Annotated[str | None, typer.Option(
    "--calibrator", metavar="NAME", help="Compare with this calibrator's labels "
    "(default: the first label of each packet).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DatasetArg = Annotated[Path, typer.Argument(metavar="DIR", help="A dataset directory in the golden layout.")]
HostOpt = Annotated[str, typer.Option(
    "--host", metavar="HOST", help="Address to bind. Anything but loopback exposes uploads and results.")]
PortOpt = Annotated[int, typer.Option("--port", "-p", metavar="PORT", help="Port to listen on.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No notes on stderr (which model was chosen, file quirks); errors "
    "still print.")]
def roster_names(roster: Path | None, redact: bool | None) -> tuple[tuple[str, ...], bool | None]:
    """``--roster``'s names and the redaction setting they imply (one line on a bad file)."""
    if roster is None:
        return (), redact
    from packet_eval import ConfigError, read_roster

    if redact is False:
        raise ConfigError("--roster names people to mask; it cannot go with --no-redact")
    return read_roster(roster), True


def _print_version(value: bool) -> None:
    if value:
        from packet_eval import __version__

        typer.echo(f"packet-eval {__version__}")
        raise typer.Exit(0)


VersionOpt = Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Print packet-eval's debug log to stderr (what was loaded, "
    "extracted, sent and retried).")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", metavar="SECONDS", help="Seconds one model request may take (default: $PACKET_EVAL_TIMEOUT, "
    "else 120). A CPU-only local server may need minutes.")]
ModeOpt = Annotated[str | None, typer.Option(
    "--mode", metavar="tools|json", help="How the answer schema is sent: 'tools' (function calling) or 'json' "
    "(response_format with the JSON schema; llama.cpp's json_object form for a --base-url "
    "server). "
    "Default: tools.")]
