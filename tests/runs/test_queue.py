"""The queue is the runs table: claims, capacity, leases, takeover. Several store instances (separate connections,
as separate replicas have) race from threads against SQLite and against a real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from bot.core.report import RunInfo
from bot.core.run import UNFINISHED, RunState
from bot.runs import ThreadBusy
from bot.runs.sql import SqlRunStore
from tests.runs.conftest import OpenStore

T = TypeVar("T")
LEASE = 30.0


def new_run(store: SqlRunStore, n: int, owner: str | None = None) -> int:
    return store.create(trigger="reaction", channel="C1", thread_ts=f"{n}.0", invoker="U1", owner=owner, lease_s=LEASE)


def finish(store: SqlRunStore, run_id: int) -> None:
    info = RunInfo(prompt_version="v1", model="m")
    for state in (RunState.COLLECTING, RunState.ANALYSING, RunState.POSTING, RunState.DONE):
        info.advance(state)
    store.update(run_id, info=info)


def race(stores: list[SqlRunStore], work: Callable[[SqlRunStore], T]) -> list[T]:
    """Each store runs ``work`` on its own thread, all released at once."""
    start = threading.Barrier(len(stores))

    def go(store: SqlRunStore) -> T:
        start.wait()
        return work(store)

    with ThreadPoolExecutor(len(stores)) as pool:
        return list(pool.map(go, stores))


def test_claims_take_the_oldest_run_and_skip_held_and_claimed_ones(store: SqlRunStore) -> None:
    held = new_run(store, 1, owner="replica-a")  # its trigger is still announcing it
    free = new_run(store, 2)
    claim = store.claim_next("w1", capacity=5, lease_s=LEASE)
    assert claim is not None and claim.record.id == free and claim.takeover is False and claim.record.attempts == 1
    assert store.claim_next("w1", capacity=5, lease_s=LEASE) is None  # the held one waits for its release
    store.release(held, "replica-a")
    claim = store.claim_next("w2", capacity=5, lease_s=LEASE)
    assert claim is not None and claim.record.id == held and claim.takeover is False
    assert store.claim_next("w3", capacity=5, lease_s=LEASE) is None


def test_capacity_counts_runs_in_progress_on_every_replica(open_store: OpenStore) -> None:
    a, b, c = open_store(), open_store(), open_store()
    runs = [new_run(a, n) for n in range(4)]
    first, second = a.claim_next("a", capacity=2, lease_s=LEASE), b.claim_next("b", capacity=2, lease_s=LEASE)
    assert first is not None and second is not None
    assert c.claim_next("c", capacity=2, lease_s=LEASE) is None  # two in progress: the third replica waits
    finish(a, first.record.id)
    a.release(first.record.id, "a")
    third = c.claim_next("c", capacity=2, lease_s=LEASE)
    assert third is not None and third.record.id == runs[2]


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it_lost_it(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    run = new_run(a, 1)
    dead = a.claim_next("a", capacity=1, lease_s=-1)  # a lease already past: the holder died long ago
    assert dead is not None
    a.update(run, status=RunState.ANALYSING)
    taken = b.claim_next("b", capacity=1, lease_s=LEASE)  # the dead run does not count against capacity
    assert taken is not None and taken.record.id == run and taken.takeover is True and taken.record.attempts == 2
    assert a.heartbeat(run, "a", LEASE) is False  # the old holder, if only stalled, stops
    assert b.heartbeat(run, "b", LEASE) is True
    a.release(run, "a")  # a stale release changes nothing
    assert a.claim_next("a", capacity=5, lease_s=LEASE) is None


def test_a_run_given_back_mid_way_is_resumed_as_a_takeover(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    run = new_run(a, 1)
    assert a.claim_next("a", capacity=1, lease_s=LEASE) is not None
    a.update(run, status=RunState.POSTING)
    assert b.claim_next("b", capacity=1, lease_s=LEASE) is None  # held and renewed: nobody else takes it
    a.release(run, "a")  # shutdown
    taken = b.claim_next("b", capacity=1, lease_s=LEASE)
    assert taken is not None and taken.takeover is True


def test_adopting_orphans_frees_sqlite_leases_but_not_shared_ones(open_store: OpenStore, request: pytest.FixtureRequest) -> None:
    a = open_store()
    run = new_run(a, 1)
    assert a.claim_next("old-process", capacity=1, lease_s=LEASE) is not None
    restarted = open_store()
    restarted.adopt_orphans()
    claim = restarted.claim_next("new-process", capacity=1, lease_s=LEASE)
    if "sqlite" in request.node.callspec.id:
        assert claim is not None and claim.record.id == run and claim.takeover  # one bot per DATA_DIR: it was ours
    else:
        assert claim is None  # another replica may be alive and holding it: wait for the lease to expire


def test_racing_replicas_claim_each_run_once_within_capacity(open_store: OpenStore) -> None:
    stores = [open_store() for _ in range(3)]
    runs = {new_run(stores[0], n) for n in range(24)}
    capacity = 2
    lock = threading.Lock()
    in_progress, peak = 0, 0

    def work(store: SqlRunStore) -> list[int]:
        nonlocal in_progress, peak
        done: list[int] = []
        owner = f"replica-{id(store)}"
        while True:
            claim = store.claim_next(owner, capacity=capacity, lease_s=LEASE)
            if claim is None:
                if all(r.status not in UNFINISHED for r in store.recent(100)):
                    return done
                continue  # capacity is full elsewhere: claim again
            # Counted after the claim and uncounted before the run ends in the store: never above the store's count.
            with lock:
                in_progress += 1
                peak = max(peak, in_progress)
            assert store.heartbeat(claim.record.id, owner, LEASE)  # the run's "work": a round trip while held
            with lock:
                in_progress -= 1
            finish(store, claim.record.id)
            store.release(claim.record.id, owner)
            done.append(claim.record.id)

    claimed = [run for done in race(stores, work) for run in done]
    assert Counter(claimed) == Counter(runs)  # every run once: none lost, none twice
    assert peak <= capacity


def test_racing_triggers_get_one_run_per_thread_and_one_claim_per_delivery(open_store: OpenStore) -> None:
    stores = [open_store() for _ in range(3)]

    def trigger(store: SqlRunStore) -> tuple[list[bool], int | None]:
        deliveries = [store.claim_delivery(f"event:Ev{n}") for n in range(20)]
        try:
            run = store.create(trigger="mention", channel="C9", thread_ts="7.7", invoker="U1")
        except ThreadBusy:
            run = None
        return deliveries, run

    results = race(stores, trigger)
    for n in range(20):
        assert sum(deliveries[n] for deliveries, _ in results) == 1  # each delivery handled by one replica
    assert sum(run is not None for _, run in results) == 1


def test_llm_request_slots_count_every_replica_per_server(open_store: OpenStore) -> None:
    a, b, c = open_store(), open_store(), open_store()
    servers = ["http://gpu1/v1", "http://gpu2/v1"]
    first = a.take_llm_slot("a", servers, per_server=1, lease_s=LEASE)
    second = b.take_llm_slot("b", servers, per_server=1, lease_s=LEASE)
    assert first is not None and second is not None
    assert (first[1], second[1]) == ("http://gpu1/v1", "http://gpu2/v1")  # gpu1 is busy on replica a: b gets gpu2
    assert c.take_llm_slot("c", servers, per_server=1, lease_s=LEASE) is None  # both full, whoever holds them
    a.give_back_llm_slot(first[0])
    third = c.take_llm_slot("c", servers, per_server=1, lease_s=LEASE)
    assert third is not None and third[1] == "http://gpu1/v1"
    assert c.take_llm_slot("c", ["http://gpu3/v1"], per_server=1, lease_s=LEASE) is not None  # only the servers asked about


def test_a_dead_replicas_llm_slots_expire_and_a_live_ones_are_renewed(open_store: OpenStore) -> None:
    a, b = open_store(), open_store()
    run = new_run(a, 1)
    assert a.claim_next("a", capacity=1, lease_s=LEASE) is not None
    assert a.take_llm_slot("a", ["http://gpu1/v1"], per_server=1, lease_s=-1) is not None  # already past its lease
    a.heartbeat(run, "a", LEASE)  # the live replica renews its runs and, with them, its requests
    assert b.take_llm_slot("b", ["http://gpu1/v1"], per_server=1, lease_s=LEASE) is None
    assert b.take_llm_slot("dead", ["http://gpu2/v1"], per_server=1, lease_s=-1) is not None  # nobody renews this one
    assert b.take_llm_slot("b", ["http://gpu2/v1"], per_server=1, lease_s=LEASE) is not None
