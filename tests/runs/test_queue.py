"""The queue is the runs table: claims, capacity, leases, takeover. Several store instances (separate connections,
as separate replicas have) race as concurrent tasks against SQLite and against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from bot.core.run import UNFINISHED, Run, RunFacts, RunState, Target, Unsaved
from bot.core.sections import Section, SectionId
from bot.runs import RunStore, ThreadBusy
from bot.runs.sql import SqlRunStore
from tests.runs.conftest import OpenStore

T = TypeVar("T")
LEASE = 30.0


async def new_run(store: SqlRunStore, n: int, owner: str | None = None) -> int:
    return await store.create(trigger="reaction", channel="C1", thread_ts=f"{n}.0", invoker="U1", owner=owner, lease_s=LEASE)


def unsaved(store: RunStore, run_id: int, status_ts: str | None) -> Unsaved:
    return Unsaved()


async def finish(store: SqlRunStore, run_id: int) -> None:
    run = Run(RunFacts(prompt_version="v1", model="m"), id=run_id)
    run.collecting()
    run.analysing()
    run.posting()
    run.finish()
    await store.update(run_id, run=run)


async def race(stores: list[SqlRunStore], work: Callable[[SqlRunStore], Awaitable[T]]) -> list[T]:
    """Each store runs ``work`` as its own task, all started at once."""
    return list(await asyncio.gather(*(work(store) for store in stores)))


async def test_claims_take_the_oldest_run_and_skip_held_and_claimed_ones(store: SqlRunStore) -> None:
    held = await new_run(store, 1, owner="replica-a")  # its trigger is still announcing it
    free = await new_run(store, 2)
    claim = await store.claim_next("w1", capacity=5, lease_s=LEASE, sink=unsaved)
    assert claim is not None and claim.run.id == free and claim.takeover is False and claim.attempts == 1
    assert await store.claim_next("w1", capacity=5, lease_s=LEASE, sink=unsaved) is None  # the held one waits for its release
    await store.release(held, "replica-a")
    claim = await store.claim_next("w2", capacity=5, lease_s=LEASE, sink=unsaved)
    assert claim is not None and claim.run.id == held and claim.takeover is False
    assert await store.claim_next("w3", capacity=5, lease_s=LEASE, sink=unsaved) is None


async def test_capacity_counts_runs_in_progress_on_every_replica(open_store: OpenStore) -> None:
    a, b, c = await open_store(), await open_store(), await open_store()
    runs = [await new_run(a, n) for n in range(4)]
    first, second = await a.claim_next("a", capacity=2, lease_s=LEASE, sink=unsaved), await b.claim_next("b", capacity=2, lease_s=LEASE, sink=unsaved)
    assert first is not None and second is not None
    assert await c.claim_next("c", capacity=2, lease_s=LEASE, sink=unsaved) is None  # two in progress: the third replica waits
    await finish(a, first.run.id)
    await a.release(first.run.id, "a")
    third = await c.claim_next("c", capacity=2, lease_s=LEASE, sink=unsaved)
    assert third is not None and third.run.id == runs[2]


async def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it_lost_it(open_store: OpenStore) -> None:
    a, b = await open_store(), await open_store()
    run = await new_run(a, 1)
    dead = await a.claim_next("a", capacity=1, lease_s=-1, sink=unsaved)  # a lease already past: the holder died long ago
    assert dead is not None
    await a.update(run, status=RunState.ANALYSING)
    taken = await b.claim_next("b", capacity=1, lease_s=LEASE, sink=unsaved)  # the dead run does not count against capacity
    assert taken is not None and taken.run.id == run and taken.takeover is True and taken.attempts == 2
    assert await a.heartbeat(run, "a", LEASE) is False  # the old holder, if only stalled, stops
    assert await b.heartbeat(run, "b", LEASE) is True
    await a.release(run, "a")  # a stale release changes nothing
    assert await a.claim_next("a", capacity=5, lease_s=LEASE, sink=unsaved) is None


async def test_a_run_given_back_mid_way_is_resumed_as_a_takeover(open_store: OpenStore) -> None:
    a, b = await open_store(), await open_store()
    run = await new_run(a, 1)
    assert await a.claim_next("a", capacity=1, lease_s=LEASE, sink=unsaved) is not None
    await a.update(run, status=RunState.POSTING)
    assert await b.claim_next("b", capacity=1, lease_s=LEASE, sink=unsaved) is None  # held and renewed: nobody else takes it
    await a.release(run, "a")  # shutdown
    taken = await b.claim_next("b", capacity=1, lease_s=LEASE, sink=unsaved)
    assert taken is not None and taken.takeover is True


async def test_adopting_orphans_frees_sqlite_leases_but_not_shared_ones(open_store: OpenStore, request: pytest.FixtureRequest) -> None:
    a = await open_store()
    run = await new_run(a, 1)
    assert await a.claim_next("old-process", capacity=1, lease_s=LEASE, sink=unsaved) is not None
    restarted = await open_store()
    await restarted.adopt_orphans()
    claim = await restarted.claim_next("new-process", capacity=1, lease_s=LEASE, sink=unsaved)
    if "sqlite" in request.node.callspec.id:
        assert claim is not None and claim.run.id == run and claim.takeover  # one bot per DATA_DIR: it was ours
    else:
        assert claim is None  # another replica may be alive and holding it: wait for the lease to expire


async def test_racing_replicas_claim_each_run_once_within_capacity(open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(3)]
    runs = {await new_run(stores[0], n) for n in range(24)}
    capacity = 2
    in_progress, peak = 0, 0

    async def work(store: SqlRunStore) -> list[int]:
        nonlocal in_progress, peak
        done: list[int] = []
        owner = f"replica-{id(store)}"
        while True:
            claim = await store.claim_next(owner, capacity=capacity, lease_s=LEASE, sink=unsaved)
            if claim is None:
                if all(r.status not in UNFINISHED for r in await store.recent(100)):
                    return done
                continue  # capacity is full elsewhere: claim again
            # Counted after the claim and uncounted before the run ends in the store: never above the store's count.
            in_progress += 1
            peak = max(peak, in_progress)
            assert await store.heartbeat(claim.run.id, owner, LEASE)  # the run's "work": a round trip while held
            in_progress -= 1
            await finish(store, claim.run.id)
            await store.release(claim.run.id, owner)
            done.append(claim.run.id)

    claimed = [run for done in await race(stores, work) for run in done]
    assert Counter(claimed) == Counter(runs)  # every run once: none lost, none twice
    assert peak <= capacity


async def test_racing_triggers_get_one_run_per_thread_and_one_claim_per_delivery(open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(3)]

    async def trigger(store: SqlRunStore) -> tuple[list[bool], int | None]:
        deliveries = [await store.claim_delivery(f"event:Ev{n}") for n in range(20)]
        try:
            run = await store.create(trigger="mention", channel="C9", thread_ts="7.7", invoker="U1")
        except ThreadBusy:
            run = None
        return deliveries, run

    results = await race(stores, trigger)
    for n in range(20):
        assert sum(deliveries[n] for deliveries, _ in results) == 1  # each delivery handled by one replica
    assert sum(run is not None for _, run in results) == 1


async def test_llm_request_slots_count_every_replica_per_server(open_store: OpenStore) -> None:
    a, b, c = await open_store(), await open_store(), await open_store()
    servers = ["http://gpu1/v1", "http://gpu2/v1"]
    first = await a.take_llm_slot("a", servers, per_server=1, lease_s=LEASE)
    second = await b.take_llm_slot("b", servers, per_server=1, lease_s=LEASE)
    assert first is not None and second is not None
    assert (first[1], second[1]) == ("http://gpu1/v1", "http://gpu2/v1")  # gpu1 is busy on replica a: b gets gpu2
    assert await c.take_llm_slot("c", servers, per_server=1, lease_s=LEASE) is None  # both full, whoever holds them
    await a.give_back_llm_slot(first[0])
    third = await c.take_llm_slot("c", servers, per_server=1, lease_s=LEASE)
    assert third is not None and third[1] == "http://gpu1/v1"
    assert await c.take_llm_slot("c", ["http://gpu3/v1"], per_server=1, lease_s=LEASE) is not None  # only the servers asked about


async def test_a_dead_replicas_llm_slots_expire_and_a_live_ones_are_renewed(open_store: OpenStore) -> None:
    a, b = await open_store(), await open_store()
    run = await new_run(a, 1)
    assert await a.claim_next("a", capacity=1, lease_s=LEASE, sink=unsaved) is not None
    assert await a.take_llm_slot("a", ["http://gpu1/v1"], per_server=1, lease_s=-1) is not None  # already past its lease
    await a.heartbeat(run, "a", LEASE)  # the live replica renews its runs and, with them, its requests
    assert await b.take_llm_slot("b", ["http://gpu1/v1"], per_server=1, lease_s=LEASE) is None
    assert await b.take_llm_slot("dead", ["http://gpu2/v1"], per_server=1, lease_s=-1) is not None  # nobody renews this one
    assert await b.take_llm_slot("b", ["http://gpu2/v1"], per_server=1, lease_s=LEASE) is not None


async def test_a_claim_never_waits_for_another_replica_holding_the_queue(open_store: OpenStore, request: pytest.FixtureRequest) -> None:
    """A replica whose link stalls while it holds the queue lock must not stall the others: they skip the claim."""
    a, b = await open_store(), await open_store()
    await new_run(a, 1)
    holding, done = asyncio.Event(), asyncio.Event()

    async def hold(tx: object) -> None:
        assert await a._lock_queue(tx)  # type: ignore[arg-type]
        holding.set()
        await done.wait()

    held = asyncio.create_task(a._run_transaction(hold))
    await holding.wait()
    if "postgres" in request.node.callspec.id:  # SQLite has one writer per file: this replica is the only one
        assert await b.claim_next("b", capacity=5, lease_s=LEASE, sink=unsaved) is None  # at once, not after the holder lets go
        assert await b.take_llm_slot("b", ["http://gpu1/v1"], per_server=1, lease_s=LEASE) is None
    done.set()
    await held
    claim = await b.claim_next("b", capacity=5, lease_s=LEASE, sink=unsaved)
    assert claim is not None


async def test_a_claim_hands_out_the_run_as_saved_with_the_sink_it_was_asked_for(store: SqlRunStore) -> None:
    """One read: the claimed Run carries the row's target, status, facts, sections, report and posted ledger, and
    saves itself through the sink made for it from the store, its id and its status line."""
    run_id = await store.create(trigger="command-link", channel="C7", thread_ts="7.0", invoker="U7", response_url="https://hooks/r")
    saved = Run(RunFacts(prompt_version="v1", model="m", warnings=["kept"]), id=run_id)
    saved.collecting()
    saved.analysing()
    saved.posting()
    sections = [Section(SectionId("root_cause"), "Root Cause", "a race")]
    await store.update(run_id, run=saved, sections=sections, report="# saved", summary="sum", status_ts="7.5")
    await store.mark_posted(run_id, "digest/0", "7.1")
    asked: list[tuple[RunStore, int, str | None]] = []

    def sink(on: RunStore, rid: int, status_ts: str | None) -> Unsaved:
        asked.append((on, rid, status_ts))
        return Unsaved()

    claim = await store.claim_next("w", capacity=1, lease_s=-1, sink=sink)
    assert claim is not None and asked == [(store, run_id, "7.5")] and claim.run.sink is claim.sink
    run = claim.run
    assert run.id == run_id and run.target == Target("command-link", "C7", "7.0", "U7", "https://hooks/r")
    assert run.status is RunState.POSTING and run.report == "# saved" and run.summary == "sum" and run.sections == sections
    assert run.facts.warnings == ["kept"] and run.items() == {"digest/0": "7.1"}
    assert claim.takeover and claim.attempts == 1
    again = await store.claim_next("w2", capacity=1, lease_s=LEASE, sink=unsaved)  # the lease above was already past
    assert again is not None and again.attempts == 2
