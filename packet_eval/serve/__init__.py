"""``packet-eval serve``: a private local web page for previewing one packet.

The app lives in ``app.py`` (routes and pages) and ``upload.py`` (size-limited
form reading and temp-dir file handling); ``packet_eval.cli_serve`` runs it.
"""

from packet_eval.serve.app import create_app

__all__ = ["create_app"]
