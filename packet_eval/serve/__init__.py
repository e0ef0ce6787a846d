"""``packet-eval serve``: a private local web page for previewing one packet.

The app lives in ``app.py`` (routes and pages), ``upload.py`` (size-limited
form reading and temp-dir file handling) and ``bind.py`` (where it may listen
and which Host headers it answers); ``packet_eval.cli.serve`` runs it. The bind
policy imports eagerly and the app on first use, so the CLI can show serve's
defaults without loading the web stack. ``labelling/`` is ``packet-eval label``'s
page, built on the same app rules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from packet_eval.serve.bind import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    allowed_hosts_for,
    exposure_warning,
    is_loopback,
    listen_socket,
    server_url,
)

if TYPE_CHECKING:
    from packet_eval.serve.app import create_app

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "allowed_hosts_for", "create_app", "exposure_warning",
           "is_loopback", "listen_socket", "server_url"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        return importlib.import_module("packet_eval.serve.app").create_app
    raise AttributeError(f"module 'packet_eval.serve' has no attribute {name!r}")
