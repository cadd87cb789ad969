"""The process's Memory: a store that refuses to remember costs the run nothing; retention 0 remembers and shows
nothing; a run's view excludes its own thread."""

from __future__ import annotations

from bot.core.digest import build_digest
from bot.core.incident.model import Incident, Message
from bot.core.memory import Signals
from bot.memory.index import Entry, MemoryIndex
from bot.memory.recall import Memory
from bot.memory.tickets import TicketStates
from bot.runs.sql import SqlRunStore

POOL = Signals(("connection-pool-exhaustion",), ("orders-api",), (), (), "INC-1 orders pool")


def entry(source: str) -> Entry:
    return Entry(source, POOL.headline, POOL, "done", "cause", [], "body", channel="C1", thread_ts=source[-3:])


async def test_a_store_that_refuses_costs_the_run_nothing(store: SqlRunStore) -> None:
    memory = Memory(MemoryIndex(store), TicketStates(None), retention_days=30)
    await store.execute("DROP TABLE memory_signals")
    assert await memory.remember(entry("slack:C1/1.1")) is False


async def test_retention_zero_is_off_and_a_run_never_recalls_itself(store: SqlRunStore) -> None:
    off = Memory(MemoryIndex(store), TicketStates(None), retention_days=0)
    assert await off.remember(entry("slack:C1/1.1")) is False and off.for_run("slack:C1/2.2", "C1") is None
    on = Memory(MemoryIndex(store), TicketStates(None), retention_days=30)
    assert await on.remember(entry("slack:C1/1.1"))
    digest = build_digest(Incident([Message("a", "x")]))
    incident = Incident([Message("a", "x")])
    itself = on.for_run("slack:C1/1.1", "C1")
    other = on.for_run("slack:C1/2.2", "C1")
    assert itself is not None and other is not None
    assert (await itself.seen_before(digest, incident, POOL)).matches == []
    assert [m.past.title for m in (await other.seen_before(digest, incident, POOL)).matches] == [POOL.headline]
