"""The weekly follow-up reminder against the Slack emulator and both run stores: one post a week listing what the
reminder channel may see; nothing when nothing is open; a holder that died after posting is not posted again, one
that died before is posted once; a bad channel is one clear error a week; the loop waits for the due time on a
stepped clock (no sleeps)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.memory import Signals
from bot.errors import ConfigError
from bot.memory.index import Entry, MemoryIndex
from bot.memory.recall import Memory
from bot.memory.tickets import TicketStates
from bot.runs.reminders import Lease
from bot.runs.sql import SqlRunStore
from bot.settings import load_settings
from bot.slack.outbound.reminder import EVENT_TYPE, LEASE_S, Reminder, due_in_week, iso_week
from bot.slack.privacy import ChannelPrivacy
from tests.fakes.clock import SteppedClock
from tests.fakes.slack_emulator import SlackEmulator
from tests.runs.conftest import OpenStore, open_store

__all__ = ["open_store"]

MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
POOL = Signals(("connection-pool-exhaustion",), ("payments-api",), (), (), "pool")


@dataclass
class World:
    slack: SlackEmulator
    client: AsyncWebClient
    memory: Memory
    store: SqlRunStore
    alice: str
    public: str  # the reminder goes here unless a test says otherwise
    other_public: str
    secret: str

    def reminder(self, owner: str = "r1", channel: str | None = None) -> Reminder:
        settings = load_settings(slack_bot_token="xoxb-x", slack_app_token="xapp-x",
                                 followup_reminder_channel=channel or self.public, followup_reminder_after_days=14)
        return Reminder(self.client, settings, self.memory, self.store, ChannelPrivacy(self.client, cache_s=0), owner)

    async def remember(self, title: str, channel: str | None, *, days_old: float, private: bool = False) -> None:
        await self.memory.remember(Entry(
            f"slack:{channel}/{title}", title, POOL, "done", "cause", [{"name": f"{title} load test", "type": "load"}], "body",
            channel=channel, thread_ts=title if channel else None, private=private, link=f"https://acme.test/{title}",
            started_at=(MONDAY_9 - timedelta(days=days_old)).timestamp()))

    def posts(self, channel: str | None = None) -> list[dict[str, object]]:
        ch = self.slack.workspace.channel(channel or self.public)
        return [m for m in ch.messages.values() if m.get("bot_id") == self.slack.workspace.bot_id]


@pytest.fixture
async def world(open_store: OpenStore) -> AsyncIterator[World]:
    store = await open_store()
    async with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        world = World(slack, AsyncWebClient(base_url=slack.api_url, token=slack.bot_token),
                      Memory(MemoryIndex(store), TicketStates(None), retention_days=3650), store, alice,
                      slack.add_channel("eng-followups", members=[alice]), slack.add_channel("inc-payments", members=[alice]),
                      slack.add_channel("sec-ledger", private=True, members=[alice]))
        yield world


async def test_one_post_a_week_with_what_the_channel_may_see(world: World) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    await world.remember("INC-2", world.other_public, days_old=3)  # too young: not yet
    await world.remember("INC-3", world.secret, days_old=40, private=True)  # another channel's private incident
    await world.remember("INC-4", None, days_old=20)  # a CLI run
    made_private = world.slack.add_channel("inc-ledger", members=[world.alice])
    await world.remember("INC-5", made_private, days_old=25)  # public when remembered, private now
    world.slack.workspace.channel(made_private).is_private = True

    reminder = world.reminder()
    assert await reminder.tick(MONDAY_9)
    [post] = world.posts()
    text = str(post["blocks"])
    assert "2 follow-ups still open after 14 days" in str(post["text"])
    assert text.index("INC-1 load test") < text.index("INC-4 load test")  # oldest first
    assert "30 days old" in text and "<https://acme.test/INC-1|INC-1>" in text and "no ticket" in text
    for hidden in ("INC-2", "INC-3", "INC-5"):
        assert hidden not in text
    assert post["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"week": iso_week(MONDAY_9)}}
    # Later that week, on this replica or another: settled, no second post.
    assert await reminder.tick(MONDAY_9 + timedelta(days=2)) and await world.reminder("r2").tick(MONDAY_9 + timedelta(hours=1))
    assert len(world.posts()) == 1
    assert await reminder.leases.outcome(iso_week(MONDAY_9)) == ("posted", post["ts"])
    # The next week posts again.
    assert await reminder.tick(MONDAY_9 + timedelta(days=7)) and len(world.posts()) == 2


async def test_a_private_channel_sees_its_own_follow_ups(world: World) -> None:
    await world.remember("INC-3", world.secret, days_old=40, private=True)
    assert await world.reminder(channel=world.secret).tick(MONDAY_9)
    assert "INC-3 load test" in str(world.posts(world.secret)[0]["blocks"])


async def test_nothing_open_posts_nothing_that_week(world: World) -> None:
    await world.remember("INC-2", world.other_public, days_old=3)
    reminder = world.reminder()
    assert await reminder.tick(MONDAY_9)
    await world.remember("INC-1", world.other_public, days_old=30)  # found later that week: next week's reminder
    assert await reminder.tick(MONDAY_9 + timedelta(hours=5))
    assert world.posts() == [] and await reminder.leases.outcome(iso_week(MONDAY_9)) == ("nothing open", None)


async def test_a_holder_that_died_after_posting_is_not_posted_again(world: World) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    dying = world.reminder("dying")

    async def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed right after the post, before recording it")

    dying.leases.settle = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await dying.tick(MONDAY_9)
    assert len(world.posts()) == 1
    other = world.reminder("r2")
    assert not await other.tick(MONDAY_9 + timedelta(seconds=LEASE_S - 1))  # its lease still runs: wait
    assert await other.tick(MONDAY_9 + timedelta(seconds=LEASE_S))
    assert len(world.posts()) == 1 and (await other.leases.outcome(iso_week(MONDAY_9)))[1] == world.posts()[0]["ts"]


async def test_a_holder_that_died_before_posting_is_posted_once(world: World) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    assert (await world.reminder("dead").leases.claim(iso_week(MONDAY_9), MONDAY_9.timestamp())) is Lease.MINE
    other = world.reminder("r2")
    assert await other.tick(MONDAY_9 + timedelta(seconds=LEASE_S)) and len(world.posts()) == 1


@pytest.mark.parametrize("where", ["missing", "not_a_member"])
async def test_a_bad_channel_is_one_clear_error_a_week(world: World, where: str, caplog: pytest.LogCaptureFixture) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    channel = "C0NOPE" if where == "missing" else world.slack.add_channel("eng-elsewhere", bot_member=False)
    reminder = world.reminder(channel=channel)
    with caplog.at_level(logging.WARNING, logger="bot.slack.outbound.reminder"):
        assert await reminder.tick(MONDAY_9)
        assert await reminder.tick(MONDAY_9 + timedelta(hours=1))
    [error] = [r for r in caplog.records if r.name == "bot.slack.outbound.reminder"]
    code = "channel_not_found" if where == "missing" else "not_in_channel"
    assert error.levelno == logging.ERROR and f"FOLLOWUP_REMINDER_CHANNEL={channel}" in error.getMessage()
    assert code in error.getMessage() and "/invite" in error.getMessage()
    assert (await reminder.leases.outcome(iso_week(MONDAY_9)))[0] == "failed"


async def test_the_loop_waits_for_the_due_time(world: World) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    clock = SteppedClock(MONDAY_9 - timedelta(hours=1))
    reminder = world.reminder()
    reminder.clock = clock
    task = asyncio.create_task(reminder.run())
    try:
        await clock.wait_asleep()
        assert clock.asleep_until == [MONDAY_9] and world.posts() == []
        await clock.set(MONDAY_9 + timedelta(minutes=1))
        await clock.wait_asleep()
        assert clock.asleep_until == [due_in_week(MONDAY_9 + timedelta(days=7), "mon", 9)] and len(world.posts()) == 1
    finally:
        task.cancel()


@pytest.mark.parametrize("name, value", [("followup_reminder_channel", "#eng-followups"), ("followup_reminder_channel", "D0DM"),
                                         ("followup_reminder_weekday", "monday"), ("followup_reminder_hour", "24"),
                                         ("followup_reminder_after_days", "-1")])
def test_a_bad_reminder_setting_is_one_line_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(slack_bot_token="xoxb-x", slack_app_token="xapp-x", **{name: value})
    assert name.upper() in error.value.message


def test_a_blank_reminder_channel_is_off() -> None:
    assert load_settings(slack_bot_token="xoxb-x", slack_app_token="xapp-x", followup_reminder_channel=" ").followup_reminder_channel is None


async def test_slack_or_the_store_failing_is_tried_again_without_a_double_post(world: World, caplog: pytest.LogCaptureFixture) -> None:
    await world.remember("INC-1", world.other_public, days_old=30)
    reminder = world.reminder()
    world.slack.fail_next("chat.postMessage", "internal_error", status=500)
    with caplog.at_level(logging.WARNING, logger="bot.slack.outbound.reminder"):
        assert not await reminder.tick(MONDAY_9)  # may have been posted: kept until the lease expires, then checked
        assert not await reminder.tick(MONDAY_9 + timedelta(minutes=5))
    assert "trying again once the lease expires" in caplog.text and world.posts() == []
    assert await reminder.tick(MONDAY_9 + timedelta(seconds=LEASE_S)) and len(world.posts()) == 1

    await world.store.execute("DROP TABLE followup_reminders")
    with caplog.at_level(logging.WARNING, logger="bot.slack.outbound.reminder"):
        assert not await reminder.tick(MONDAY_9 + timedelta(days=7))
    assert "the run store is unreachable" in caplog.text and len(world.posts()) == 1
