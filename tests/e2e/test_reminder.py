"""The weekly follow-up reminder end to end (issue 22): three real BotApps on one real PostgreSQL, each connected to
the Slack emulator over Socket Mode, woken together by one stepped clock: a week with nothing open posts nothing,
the next week posts exactly once. A bad reminder channel (unknown, or the bot not in it) logs one clear error and
the bot goes on answering."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.memory import Signals
from bot.memory.index import Entry
from bot.memory.recall import Memory
from bot.slack.app import BotApp
from bot.slack.outbound.reminder import EVENT_TYPE, iso_week
from tests.e2e.conftest import Stack
from tests.e2e.test_home_tab import open_home
from tests.fakes.bot_stack import bot_settings
from tests.fakes.clock import SteppedClock
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.postgres import PostgresServer
from tests.fakes.slack_emulator import SlackEmulator

MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
POOL = Signals(("connection-pool-exhaustion",), ("payments-api",), (), (), "INC-4711 payments pool")
REPLICAS = 3


async def remember(memory: Memory, channel: str, title: str, started: datetime) -> None:
    assert await memory.remember(Entry(
        f"slack:{channel}/{title}", title, POOL, "done", "the pool was too small", [{"name": "Pool saturation", "type": "load"}],
        "body", channel=channel, thread_ts=title, link=f"https://acme.test/{title}", started_at=started.timestamp()))


def reminders(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.workspace.channel(channel).messages.values()
            if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


async def test_three_replicas_post_once_a_week_and_never_when_nothing_is_open(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    clock = SteppedClock(MONDAY_9 - timedelta(hours=1))
    async with SlackEmulator(round_robin=True) as slack, FakeLLM() as llm, AsyncExitStack() as running:
        alice = slack.add_user("alice")
        followups = slack.add_channel("eng-followups", members=[alice])
        incidents = slack.add_channel("inc-payments", members=[alice])
        bots: list[BotApp] = []
        for n in range(REPLICAS):
            settings = bot_settings(slack, llm, tmp_path / f"data{n}", database_url=url, tts_engine="none",
                                    followup_reminder_channel=followups, followup_reminder_after_days=14)
            bot = BotApp(settings, clock=clock)
            running.push_async_callback(bot.stop)
            await bot.start()
            bots.append(bot)
        await slack.wait_connected(REPLICAS)
        await clock.wait_asleep(REPLICAS)  # every replica waits for 09:00
        memory = bots[0].memory
        assert memory is not None
        await remember(memory, incidents, "INC-4711", MONDAY_9 - timedelta(days=10))  # open, but not 14 days old yet

        await clock.set(MONDAY_9)
        await clock.wait_asleep(REPLICAS)
        assert reminders(slack, followups) == []  # nothing open long enough: no post that week

        next_week = MONDAY_9 + timedelta(days=7)
        await clock.set(next_week)
        await clock.wait_asleep(REPLICAS)
        [post] = reminders(slack, followups)
        assert "1 follow-up still open after 14 days" in post["text"] and "Pool saturation" in str(post["blocks"])
        assert "<https://acme.test/INC-4711|INC-4711>" in str(post["blocks"]) and "17 days old" in str(post["blocks"])
        rows, _ = await bots[1].store.execute("SELECT week, outcome, posted_ts FROM followup_reminders ORDER BY week")  # type: ignore[union-attr]
        assert [(r["week"], r["outcome"], r["posted_ts"]) for r in rows] == [
            (iso_week(MONDAY_9), "nothing open", None), (iso_week(next_week), "posted", post["ts"])]
        assert len([c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == followups]) == 1


@pytest.fixture
async def stepped() -> SteppedClock:
    return SteppedClock(MONDAY_9 - timedelta(hours=1))


@pytest.mark.parametrize("where", ["missing", "not_a_member"])
async def test_a_bad_reminder_channel_is_one_clear_error(stack_factory: Any, stepped: SteppedClock, where: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    stack: Stack = await stack_factory(tts_engine="none", followup_reminder_channel="C0NOPE", clock=stepped)
    assert stack.bot.reminder is not None
    if where == "not_a_member":  # a channel the emulator makes only now, so the setting cannot name it: set it here
        stack.bot.reminder.channel = stack.slack.add_channel("eng-elsewhere", bot_member=False)
    await stepped.wait_asleep()
    assert stack.bot.memory is not None
    await remember(stack.bot.memory, stack.channel, "INC-4711", MONDAY_9 - timedelta(days=30))
    with caplog.at_level(logging.WARNING, logger="bot.slack.outbound.reminder"):
        await stepped.set(MONDAY_9)
        await stepped.wait_asleep()
        await stepped.set(MONDAY_9 + timedelta(hours=3))  # later that week: not tried again
        await stepped.wait_asleep()
    [error] = [r for r in caplog.records if r.name == "bot.slack.outbound.reminder"]
    assert error.levelno == logging.ERROR and "FOLLOWUP_REMINDER_CHANNEL=" in error.getMessage() and "/invite" in error.getMessage()
    assert ("channel_not_found" if where == "missing" else "not_in_channel") in error.getMessage()
    assert stack.bot.reminder_task is not None and not stack.bot.reminder_task.done()  # still running, for next week
    assert await open_home(stack, stack.alice) != []  # and the bot goes on answering


async def test_a_reminder_with_memory_off_is_a_warning_not_a_silent_nothing(stack_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.slack.app"):
        stack: Stack = await stack_factory(tts_engine="none", followup_reminder_channel="C0NOPE", memory_retention_days=0)
    assert stack.bot.reminder is None and "MEMORY_RETENTION_DAYS=0" in caplog.text and "no weekly reminder" in caplog.text
