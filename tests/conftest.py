"""Suite-wide isolation: a developer's .env or exported settings must not change what the tests check."""

from __future__ import annotations

import os

import edge_tts.communicate
import pytest

from bot.settings import Settings

_PREFIXES = ("LLM_", "TTS_", "SLACK_", "POSTMORTEM_", "PIPER_", "DATA_DIR", "MAX_FILE_BYTES", "TICKETS", "GITHUB_",
             "JIRA_")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point edge-tts at a closed local port, so a test without FakeEdgeTTS fails instead of
    reaching Microsoft's service. FakeEdgeTTS patches over this and restores it."""
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", "ws://127.0.0.1:9/closed?TrustedClientToken=x")
