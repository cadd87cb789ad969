"""The whole bot on loopback: Slack emulator + fake LLM + fake edge-tts, and the real BotApp over Socket Mode.

Shared by the end-to-end tests (tests/e2e/conftest.py) and the benchmarks (bench/harness.py), which must not
depend on pytest fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.core.llm.pool import make_llm
from bot.core.pipeline import Pipeline
from bot.settings import Settings, load_settings
from bot.slack.app import BotApp
from bot.slack.outbound.reminder import Clock
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.slack_emulator import SlackEmulator


@dataclass
class Loopback:
    slack: SlackEmulator
    llm: FakeLLM
    edge: FakeEdgeTTS
    bot: BotApp
    settings: Settings


def bot_settings(slack: SlackEmulator, llm: FakeLLM, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url,
        llm_base_url=llm.base_url, llm_model="llama3.1:8b", llm_timeout_s=10, tts_engine="auto", tts_timeout_s=5,
        data_dir=data_dir,
    )
    values.update(overrides)
    return load_settings(**values)


@asynccontextmanager
async def bot_on_loopback(data_dir: Path, llm: FakeLLM | None = None, more_llms: Sequence[FakeLLM] = (),
                          clock: Clock | None = None, **overrides: object) -> AsyncIterator[Loopback]:
    """Start the fakes and a connected BotApp; ``overrides`` are settings. ``llm`` lets a caller wrap the fake
    before it starts; ``more_llms`` (started by the caller) join it in a pool; ``clock`` is the weekly reminder's.
    LLM retries back off in milliseconds so failure tests stay fast."""
    llm = llm or FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192)
    async with SlackEmulator() as slack, llm, FakeEdgeTTS() as edge:
        if more_llms:
            overrides.setdefault("llm_base_url", ",".join(fake.base_url for fake in (llm, *more_llms)))
        settings = bot_settings(slack, llm, data_dir, **overrides)
        pipeline = Pipeline(settings, llm=make_llm(settings, retry_attempts=2, retry_base_delay_s=0.001))
        bot = BotApp(settings, pipeline, clock)
        try:
            await bot.start()
            await slack.wait_connected(1)
            yield Loopback(slack, llm, edge, bot, settings)
        finally:
            await bot.stop()
