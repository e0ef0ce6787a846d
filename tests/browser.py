"""What the browser tests share: Debian's chromium, pages, a web command in a subprocess, paths."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "datasets" / "golden"
SHOTS = ROOT / "artifacts" / "screenshots"
LAUNCH = "from packet_eval.cli import app; app()"
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


def shot(name: str) -> Path:
    """Where a screenshot called ``name`` goes (artifacts/screenshots/)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


def dev_packet() -> Path:
    """The first dev-split golden packet that exists as markdown."""
    for pid in json.loads((GOLDEN / "splits.json").read_text(encoding="utf-8"))["dev"]:
        path = GOLDEN / "packets" / f"{pid}.md"
        if path.exists():
            return path
    raise AssertionError("no dev packet with a .md file")


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless chromium. Start it after every asyncio.run the test needs: Playwright's
    sync API then runs its own event loop in this thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def new_page(browser: Any, width: int = 1440, height: int = 900) -> Iterator[Any]:
    """A page in its own context; ``page.errors`` collects the page's uncaught script errors."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(home: Path) -> dict[str, str]:
    """This environment without provider keys or a default model, its state under ``home``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "PACKET_EVAL_MODEL")}
    env["PACKET_EVAL_HOME"] = str(home)
    return env


def serve_command(port: int, env: dict[str, str]) -> list[str]:
    """``packet-eval serve`` on ``port`` with the baseline; the installed script when it works."""
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--model", "baseline"]
    script = Path(sys.executable).with_name("packet-eval")
    if script.exists() and subprocess.run([str(script), "serve", "--help"], env=env,
                                          capture_output=True, timeout=60).returncode == 0:
        return [str(script), *args]
    return [sys.executable, "-c", LAUNCH, *args]


class ServedApp:
    """A packet-eval web command in a subprocess on a free loopback port, up once ``/`` answers.

    ``command(port, env)`` builds its argv; its output goes to a log under ``home``, and
    ``stop`` fails the test if that log holds a traceback.
    """

    def __init__(self, name: str, command: Callable[[int, dict[str, str]], list[str]],
                 home: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"{name}-{self.port}.log"
        env = app_env(home)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command(self.port, env), env=env, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=cwd)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        # Until it answers; uvicorn exits (it does not hang) when it cannot bind.
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert "Traceback" not in self.log.read_text(), self.log.read_text()
