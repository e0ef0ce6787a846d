"""Shared test setup: hypothesis profiles and isolated packet-eval state."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

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
