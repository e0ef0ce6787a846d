"""Shared test setup: hypothesis profiles, isolated state, the fake LLM server, browser fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.browser import ROOT, ServedApp, new_page, serve_command
from tests.fakes.llm_server import FakeLLMServer

# CI runs a short profile; `HYPOTHESIS_PROFILE=long uv run pytest -m slow_fuzz` digs deeper.
settings.register_profile("default", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Keep every test's call log and cache out of the developer's real home."""
    if "PACKET_EVAL_HOME" not in os.environ:
        monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def fake_llm_env(tmp_path, monkeypatch):
    """Dummy provider keys, state under tmp_path, and no base URL, model or timeout from outside.

    Modules that talk to the fake server use it: ``pytestmark = pytest.mark.usefixtures(...)``.
    """
    monkeypatch.setenv("PACKET_EVAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-dummy")
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "PACKET_EVAL_MODEL", "PACKET_EVAL_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def srv():
    """The scripted fake LLM server with its default answers; a module overrides it for others."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``packet-eval serve`` (baseline, no provider keys) for a browser test module; its URL."""
    app = ServedApp("serve", serve_command, tmp_path_factory.mktemp("home"), cwd=ROOT)
    try:
        yield app.url
    finally:
        app.stop()


@pytest.fixture
def page(browser):
    """A 1440x900 page of the test module's own ``browser`` fixture."""
    with new_page(browser) as pg:
        yield pg
