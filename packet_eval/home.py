"""Where packet-eval keeps local state (the call log and cache).

Precedence: ``PACKET_EVAL_HOME``, then ``$XDG_DATA_HOME/packet-eval``, then
``~/.local/share/packet-eval``. Tests point ``PACKET_EVAL_HOME`` at a temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    explicit = os.environ.get("PACKET_EVAL_HOME")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "packet-eval"


def db_path() -> Path:
    return home_dir() / "logs.db"
