"""What the browser tests share: Debian's chromium, its headless flags, and highlight joining."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, and this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def skip_without_chromium() -> None:
    """Skip outside CI when chromium is missing; in CI a missing browser must fail instead."""
    if not CHROMIUM.exists() and os.environ.get("CI") != "true":
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium",
                    allow_module_level=True)


def join_highlights_js(scope: str) -> str:
    """JS that joins each evidence id's highlight pieces (inside ``scope``) into its text."""
    return ("() => { const out = {};"
            f" for (const m of document.querySelectorAll('{scope} #packet mark[data-ev]'))"
            " out[m.dataset.ev] = (out[m.dataset.ev] || '') + m.textContent; return out; }")
