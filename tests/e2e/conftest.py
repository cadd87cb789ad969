"""The whole bot on loopback: Slack emulator + fake LLM + fake edge-tts, the real BotApp over Socket Mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.settings import Settings, load_settings
from bot.slack.app import BotApp
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.slack_emulator import SlackEmulator


@dataclass
class Stack:
    slack: SlackEmulator
    llm: FakeLLM
    edge: FakeEdgeTTS
    bot: BotApp
    settings: Settings
    alice: str
    bob: str
    channel: str

    def sections_in(self, root_ts: str, channel: str | None = None) -> list[str]:
        """Titles of the section replies in a thread, in posting order."""
        titles = []
        for msg in self.slack.thread(channel or self.channel, root_ts):
            for block in msg.get("blocks", []) or []:
                if block.get("type") == "markdown" and block["text"].startswith("## "):
                    titles.append(block["text"].splitlines()[0][3:])
        return titles


def bot_settings(slack: SlackEmulator, llm: FakeLLM, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url,
        llm_base_url=llm.base_url, llm_model="llama3.1:8b", llm_timeout_s=10, tts_engine="auto", tts_timeout_s=5,
        data_dir=data_dir,
    )
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
async def stack_factory(tmp_path: Path) -> AsyncIterator:
    """Build a running stack; settings overrides per test. Everything is torn down afterwards."""
    started: list[tuple[BotApp, object, object, object]] = []

    async def build(**overrides: object) -> Stack:
        slack = SlackEmulator()
        llm = FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192)
        edge = FakeEdgeTTS()
        await slack.__aenter__()
        await llm.__aenter__()
        await edge.__aenter__()
        settings = bot_settings(slack, llm, tmp_path / f"data{len(started)}", **overrides)
        pipeline = Pipeline(settings, llm=LLMClient(settings, retry_attempts=2, retry_base_delay_s=0.001))
        bot = BotApp(settings, pipeline)
        started.append((bot, edge, llm, slack))
        alice = slack.add_user("alice", display_name="Alice")
        bob = slack.add_user("bob", display_name="Bob")
        channel = slack.add_channel("inc-checkout", members=[alice, bob])
        await bot.start()
        await slack.wait_connected(1)
        return Stack(slack, llm, edge, bot, settings, alice, bob, channel)

    yield build
    for bot, edge, llm, slack in started:
        await bot.stop()
        await edge.__aexit__(None, None, None)  # type: ignore[attr-defined]
        await llm.__aexit__(None, None, None)  # type: ignore[attr-defined]
        await slack.__aexit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture
async def stack(stack_factory) -> Stack:  # type: ignore[no-untyped-def]
    return await stack_factory()
