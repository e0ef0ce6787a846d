"""``packet-eval serve``: run the private preview web page on this machine.

Where it may listen and whom it answers is ``packet_eval.serve``'s policy; this
command only prints it. The web stack loads when the command runs, not when the
CLI starts.
"""

from __future__ import annotations

from packet_eval import DEFAULT_HOST, DEFAULT_PORT
from packet_eval.cli.console import err
from packet_eval.cli.options import HostOpt, LadderOpt, ModelOpt, PortOpt


def serve(
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    model: ModelOpt = None,
    ladder: LadderOpt = None,
) -> None:
    """Serve a private local page to upload a packet and see its evidence and gaps.

    --model is the model the page preselects.
    """
    import uvicorn

    from packet_eval import allowed_hosts_for, create_app, exposure_warning, listen_socket, server_url

    web = create_app(model, ladder, allowed_hosts=allowed_hosts_for(host))
    sock = listen_socket(host, port)  # a busy port fails here, before any banner
    warning = exposure_warning(host, port)
    if warning:
        err.print(warning, style="bold yellow", highlight=False, soft_wrap=True)
    err.print(f"packet-eval preview on {server_url(host, port)}  (Ctrl-C to stop)",
              highlight=False)
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    server.run(sockets=[sock])
