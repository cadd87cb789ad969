"""Starting the bot: token errors are one line naming the variable; `doctor` checks each part."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.cli.doctor import doctor
from tests.fakes.fake_llm import FakeLLM, unused_base_url
from tests.fakes.slack_emulator import SlackEmulator


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must start with xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN must start with xapp-"),
        ({"POSTMORTEM_LOOKBACK": "a week"}, "POSTMORTEM_LOOKBACK"),
        ({"DATABASE_URL": "mysql://db/runs"}, "DATABASE_URL"),
        # The shared store is down: the replica does not start (nothing could be recorded), and says where and why.
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "DATABASE_URL": "postgresql://bot:pw@127.0.0.1:9/runs"},
         "cannot connect to the run store postgresql://127.0.0.1:9/runs"),
    ],
)
def test_bad_tokens_and_settings_exit_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                     env: dict[str, str], needle: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "fix:" in err[0]


async def test_doctor_all_green_against_local_servers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async with SlackEmulator() as slack, FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        for name, value in {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token,
                            "SLACK_API_URL": slack.api_url, "LLM_BASE_URL": llm.base_url, "TTS_ENGINE": "piper"}.items():
            monkeypatch.setenv(name, value)
        assert await doctor() == 0
    out = capsys.readouterr().out
    assert "[ok] slack auth: postmortem-bot" in out
    assert "[ok] llm: ollama" in out and "[ok] context: 8192 tokens" in out
    assert "[ok] tts piper" in out and "FAIL" not in out


async def test_doctor_reports_each_failure_with_its_fix(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeLLM(model="llama3.1:8b", ollama=True) as llm:
        monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("LLM_MODEL", "mistral:7b")
        assert await doctor() == 1
    out = capsys.readouterr().out
    assert "[FAIL] slack: SLACK_BOT_TOKEN is not set" in out or "[FAIL] slack: SLACK_APP_TOKEN is not set" in out
    assert "ollama pull mistral:7b" in out
    monkeypatch.setenv("LLM_BASE_URL", unused_base_url())
    assert await doctor() == 1
    assert "ollama serve" in capsys.readouterr().out
