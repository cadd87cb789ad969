"""A channel's privacy now, not only as remembered: recall elsewhere leaves out a channel that became private (and
flags it in the store, so recurrence counts and later recalls leave it out too), hides one it cannot check without
flagging it, and gives the freed places to incidents that may be shown. Its own channel still recalls it."""

from __future__ import annotations

from bot.core.memory import Signals
from bot.memory.index import MemoryIndex, Scope
from bot.memory.privacy import similar_visible_now
from bot.memory.recall import Memory
from bot.memory.tickets import TicketStates
from bot.runs.sql import SqlRunStore
from tests.memory.test_index import POOL, entry


class Channels:
    """How channels are now, as the test says; counts the questions."""

    def __init__(self, now: dict[str, bool | None]) -> None:
        self.now = now
        self.asked: list[str] = []

    async def private_now(self, channel: str) -> bool | None:
        self.asked.append(channel)
        return self.now.get(channel, False)


def titled(title: str) -> Signals:
    return Signals(POOL.classes, POOL.services, POOL.alerts, POOL.templates, title)


async def test_a_channel_made_private_is_left_out_elsewhere_and_flagged(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    for n, channel in enumerate(("C1", "C2", "C3", "C4", "C5")):
        await index.remember(entry(f"slack:{channel}/{n}.{n}", titled(f"INC-{n}"), channel=channel))
    channels = Channels({"C4": True, "C5": None})  # C4 made private; C5 cannot be checked now (the bot left)
    found = await similar_visible_now(index, channels, POOL, Scope("C9"))
    assert [p.channel for p, *_ in found] == ["C3", "C2", "C1"]  # newest first among equals; C4 and C5 gave their places
    rows, _ = await store.execute("SELECT channel, private FROM memory ORDER BY channel")
    assert {r["channel"]: r["private"] for r in rows} == {"C1": 0, "C2": 0, "C3": 0, "C4": 1, "C5": 0}
    # Its own channel sees it; and the flag now keeps it out of every other channel's queries without asking.
    assert "C4" in [p.channel for p, *_ in await similar_visible_now(index, Channels({}), POOL, Scope("C4"))]
    memory = Memory(index, TicketStates(None), retention_days=30, privacy=Channels({"C5": None}))
    seen = await memory.seen_before(POOL, Scope("C9"))
    assert [m.past.channel for m in seen.matches] == ["C3", "C2", "C1"]
    assert [r.count for r in seen.recurrences] == [5]  # C1-C3 and C5 (unknown now, not flagged), and this one: not C4


async def test_without_a_check_the_stored_flag_decides(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL, channel="C1"))
    memory = Memory(index, TicketStates(None), retention_days=30)
    assert [m.past.channel for m in (await memory.seen_before(POOL, Scope("C9"))).matches] == ["C1"]
