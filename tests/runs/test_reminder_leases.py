"""The weekly reminder's lease, on both stores: of three replicas claiming a week at once exactly one gets it; a
settled week stays settled; a holder that died is taken over once its lease expired, by one replica only; a holder
that lost its lease cannot settle the week; a release frees the week."""

from __future__ import annotations

import asyncio

from bot.runs.reminders import Lease, Outcome, ReminderLeases
from tests.runs.conftest import OpenStore

WEEK = "2026-W50"
LEASE_S = 600.0


async def test_three_replicas_racing_claim_the_week_once(open_store: OpenStore) -> None:
    replicas = [ReminderLeases(await open_store(), f"r{n}", LEASE_S) for n in range(3)]
    claims = await asyncio.gather(*(r.claim(WEEK, 1000.0) for r in replicas))
    assert sorted(c.value for c in claims) == ["held", "held", "mine"]
    winner = replicas[claims.index(Lease.MINE)]
    await winner.settle(WEEK, Outcome.POSTED, posted_ts="1765000000.000100")
    assert await replicas[0].outcome(WEEK) == ("posted", "1765000000.000100")
    for replica in replicas:  # settled: nobody posts again this week, lease or not
        assert (await replica.claim(WEEK, 1000.0 + 10 * LEASE_S)) is Lease.DONE
    assert (await replicas[0].claim("2026-W51", 1000.0 + 7 * 86400)) is Lease.MINE  # next week is its own


async def test_a_dead_holder_is_taken_over_once_and_cannot_settle_after(open_store: OpenStore) -> None:
    dead, a, b = [ReminderLeases(await open_store(), name, LEASE_S) for name in ("dead", "a", "b")]
    assert (await dead.claim(WEEK, 1000.0)) is Lease.MINE
    assert (await a.claim(WEEK, 1000.0 + LEASE_S - 1)) is Lease.HELD  # still within its lease
    taken = await asyncio.gather(a.claim(WEEK, 1000.0 + LEASE_S), b.claim(WEEK, 1000.0 + LEASE_S))
    assert sorted(t.value for t in taken) == ["held", "taken over"]
    await dead.settle(WEEK, Outcome.POSTED, posted_ts="1.1")  # woke up too late: changes nothing
    assert await a.outcome(WEEK) == (None, None)
    holder = a if taken[0] is Lease.TAKEN_OVER else b
    await holder.settle(WEEK, Outcome.NOTHING)
    assert await dead.outcome(WEEK) == ("nothing open", None)


async def test_a_release_frees_the_week_and_only_its_holder_can(open_store: OpenStore) -> None:
    a, b = ReminderLeases(await open_store(), "a", LEASE_S), ReminderLeases(await open_store(), "b", LEASE_S)
    assert (await a.claim(WEEK, 1000.0)) is Lease.MINE
    await b.release(WEEK)  # not b's to give back
    assert (await b.claim(WEEK, 1001.0)) is Lease.HELD
    await a.release(WEEK)
    assert (await b.claim(WEEK, 1002.0)) is Lease.MINE
