"""``packet-eval serve``: run the private preview web app on this machine.

Kept out of ``cli.py`` so the web stack is only imported when serving;
``cli.py`` calls ``register(app)`` to add the command.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
NON_LOOPBACK_WARNING = (
    "WARNING: serving on {host}, which is not a loopback address. Anyone who can reach "
    "{host}:{port} can upload packets and read the results, with no login. Packets may "
    "contain personal data. Use the default --host 127.0.0.1 unless you mean this."
)


HostOpt = Annotated[str, typer.Option(
    "--host", help="Address to bind. Anything but loopback exposes uploads and results.")]
PortOpt = Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="Model to preselect: 'baseline' or provider/model. "
    "Default: an LLM if a key is set, else baseline.")]
LadderOpt = Annotated[Path | None, typer.Option(
    "--ladder", help="Ladder YAML (default: the built-in AI-engineering ladder).")]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1); False for 0.0.0.0 and names."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere: treat it as exposed


def allowed_hosts_for(host: str) -> list[str]:
    """Host headers to answer: loopback names (and the bound address) on loopback binds.

    A loopback server refuses other Host headers so that a web page using DNS
    rebinding cannot read results; an exposed server answers any name.
    """
    from packet_eval.serve.app import LOOPBACK_HOSTS

    if not is_loopback(host):
        return ["*"]
    bare = host.strip("[]").lower()
    return [*LOOPBACK_HOSTS, f"[{bare}]" if ":" in bare else bare]


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the packet-eval typer app (once, however often called)."""
    from packet_eval.cli import err, friendly

    if any((c.name or getattr(c.callback, "__name__", "")) == "serve"
           for c in app.registered_commands):
        return

    @app.command()
    @friendly
    def serve(
        host: HostOpt = DEFAULT_HOST,
        port: PortOpt = DEFAULT_PORT,
        model: ModelOpt = None,
        ladder: LadderOpt = None,
    ) -> None:
        """Serve a private local page to upload a packet and see its evidence and gaps."""
        import uvicorn

        from packet_eval.serve import create_app

        web = create_app(model, ladder, allowed_hosts=allowed_hosts_for(host))
        if not is_loopback(host):
            err.print(NON_LOOPBACK_WARNING.format(host=host, port=port), style="bold yellow",
                      highlight=False, soft_wrap=True)
        shown = f"[{host}]" if ":" in host else host
        err.print(f"packet-eval preview on http://{shown}:{port}/  (Ctrl-C to stop)",
                  highlight=False)
        uvicorn.run(web, host=host, port=port, log_level="warning")
