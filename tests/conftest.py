"""Suite-wide isolation: a developer's .env or exported settings must not change what the tests check."""

from __future__ import annotations

import os
from collections.abc import Iterator

import edge_tts.communicate
import pytest
import slack_sdk.http_retry.builtin_async_handlers
import slack_sdk.http_retry.handler
import slack_sdk.http_retry.jitter

from bot.settings import Settings
from tests.fakes.postgres import PostgresServer

_PREFIXES = ("LLM_", "TTS_", "SLACK_", "POSTMORTEM_", "PIPER_", "DATA_DIR", "MAX_FILE_BYTES", "DATABASE_URL", "RUN_",
             "TICKETS", "GITHUB_", "JIRA_", "HEALTH_", "LOG_FORMAT")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.upper().startswith(_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    # Each test's own run store (memory included): a CLI run never reads or writes another test's, or the checkout's.
    monkeypatch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point edge-tts at a closed local port, so a test without FakeEdgeTTS fails instead of
    reaching Microsoft's service. FakeEdgeTTS patches over this and restores it."""
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", "ws://127.0.0.1:9/closed?TrustedClientToken=x")


class _NoJitter:
    """Stands in for the ``random`` module inside slack_sdk's retry code: jitter of 0 s."""

    @staticmethod
    def random() -> float:
        return 0.0


@pytest.fixture(autouse=True)
def _fast_slack_retries(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sleeps Retry-After + rand(0..1) s after a 429 and 0.5·2ⁿ + rand(0..1) s after a 5xx: ~1-2 s of
    idle waiting per fault test, ~20 s over the suite. Tests about *whether* the bot retries do not need the wait;
    the Retry-After itself (whole seconds from the emulator) is still slept. Tests about *how long* the bot waits
    are marked ``slack_retry_waits`` and keep slack_sdk's real timing (tests/slack/test_retry_waits.py)."""
    if request.node.get_closest_marker("slack_retry_waits"):
        return
    # raising=True (the default): if slack_sdk renames these, the suite fails here instead of silently slowing down.
    monkeypatch.setattr(slack_sdk.http_retry.builtin_async_handlers, "random", _NoJitter)
    monkeypatch.setattr(slack_sdk.http_retry.jitter, "random", _NoJitter)
    monkeypatch.setattr(slack_sdk.http_retry.handler.default_interval_calculator, "backoff_factor", 0.01)
@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the whole session (started on first use, about a second); tests take fresh databases."""
    with PostgresServer() as server:
        yield server
