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
    "--model", "-m", help="'baseline' or provider/model, e.g. openai/gpt-4.1-mini. "
    "Default: an LLM if a key is set, else baseline.")]
LadderOpt = Annotated[Path | None, typer.Option(
    "--ladder", help="Ladder YAML (default: the built-in AI-engineering ladder).")]
TargetLevelOpt = Annotated[str | None, typer.Option(
    "--target-level", "-t", help="Level the packet asks for (every packet, for assess); "
    "gaps are shown against it.")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible server URL (vLLM, llama.cpp, LM Studio).")]
NoCacheOpt = Annotated[bool, typer.Option(
    "--no-cache", help="Do not serve LLM calls from the local cache.")]
RedactOpt = Annotated[bool | None, typer.Option(
    "--redact/--no-redact", help="Mask names, emails, phone numbers, URLs and employee ids "
    "before text leaves the machine. Default: on for any endpoint not on this machine.")]
CalibratorOpt = Annotated[str | None, typer.Option(
    "--calibrator", help="Compare with this calibrator's labels "
    "(default: the first label of each packet).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
DatasetArg = Annotated[Path, typer.Argument(help="A dataset directory in the golden layout.")]
HostOpt = Annotated[str, typer.Option(
    "--host", help="Address to bind. Anything but loopback exposes uploads and results.")]
PortOpt = Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Print packet-eval's debug log to stderr (what was loaded, "
    "extracted, sent and retried).")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", help="Seconds one model request may take (default: $PACKET_EVAL_TIMEOUT, "
    "else 120). A CPU-only local server may need minutes.")]
ModeOpt = Annotated[str | None, typer.Option(
    "--mode", help="How the answer schema is sent: 'tools' (function calling) or 'json' "
    "(response_format with the JSON schema; llama.cpp's json_object form for a --base-url "
    "server). "
    "Default: tools.")]
