"""``packet-eval label``: a private local page where a calibrator labels packets (serve's stack).

``session.py`` holds the packets, the labels file and the atomic save;
``app.py`` is the web page, on the same stack and safety rules as
``packet-eval serve``. The app loads on first use so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from packet_eval.serve.labelling.session import LabelRejected, LabelSession, open_session

if TYPE_CHECKING:
    from packet_eval.serve.labelling.app import create_label_app

__all__ = ["LabelRejected", "LabelSession", "create_label_app", "open_session"]


def __getattr__(name: str) -> Any:
    if name == "create_label_app":
        return importlib.import_module("packet_eval.serve.labelling.app").create_label_app
    raise AttributeError(f"module 'packet_eval.serve.labelling' has no attribute {name!r}")
