"""The workers that take runs from the store's table: a lease another replica took stops the run here; a shutdown
gives the run back for another replica; a run that crashes frees its worker; the LLM pools of two replicas count
each other's requests. Real SQLite store, real asyncio, real fake LLM servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.core.llm.pool import LLMPool
from bot.core.run import Run, RunFacts, RunState
from bot.runs import Claimed
from bot.runs.queue import MAX_ATTEMPTS, RunQueue, StoreCallSlots
from bot.runs.sink import StoreSink
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.fake_llm import FakeLLM, text

LEASE_S = 0.3  # renewed every 0.1 s: the lease-loss test notices within a tick


def new_facts() -> RunFacts:
    return RunFacts(prompt_version="v1", model="m")


@pytest.fixture
async def store(tmp_path: Path) -> SqliteRunStore:
    return await SqliteRunStore.open(tmp_path / "runs.db")


@pytest.fixture
async def start_queue(store: SqliteRunStore) -> AsyncIterator[Callable[..., RunQueue]]:
    queues: list[RunQueue] = []

    def start(run: Callable[[Claimed[StoreSink]], object], capacity: int = 1) -> RunQueue:
        queue = RunQueue(run, store, new_facts, capacity=capacity, lease_s=LEASE_S, owner="here")  # type: ignore[arg-type]
        queue.start()
        queues.append(queue)
        return queue

    yield start
    for queue in queues:
        await queue.stop()
    await store.close()


async def queued(store: SqliteRunStore, thread_ts: str = "1.1") -> int:
    return await store.create(trigger="reaction", channel="C1", thread_ts=thread_ts, invoker="U1")


async def test_a_run_whose_lease_another_replica_took_is_stopped_here(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def run(claim: Claimed[StoreSink]) -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # the model streams forever
        except asyncio.CancelledError:
            cancelled.set()
            raise

    run_id = await queued(store)
    start_queue(run)
    await asyncio.wait_for(started.wait(), 5)
    await store._q("UPDATE runs SET owner = 'another-replica' WHERE id = ?", (run_id,))  # this replica stalled past its lease
    await asyncio.wait_for(cancelled.wait(), 5)
    assert (await store._rows("SELECT owner FROM runs WHERE id = ?", (run_id,)))[0]["owner"] == "another-replica"  # left to the taker


async def test_shutdown_gives_the_run_back_for_another_replica(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    started = asyncio.Event()

    async def run(claim: Claimed[StoreSink]) -> None:
        await store.update(run_id, status=RunState.ANALYSING)
        started.set()
        await asyncio.Event().wait()

    run_id = await queued(store)
    queue = start_queue(run)
    await asyncio.wait_for(started.wait(), 5)
    await queue.stop()
    taken = await store.claim_next("another-replica", capacity=1, lease_s=30, sink=StoreSink)
    assert taken is not None and taken.run.id == run_id and taken.takeover  # at once, not after the lease


async def test_a_crashing_run_frees_its_worker_for_the_next(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    second_done = asyncio.Event()

    async def run(claim: Claimed[StoreSink]) -> None:
        ran.append(claim.run.id)  # type: ignore[arg-type]
        if len(ran) == 1:
            raise RuntimeError("runner bug")
        second_done.set()

    first, second = await queued(store, "1.1"), await queued(store, "2.2")
    start_queue(run, capacity=1)
    await asyncio.wait_for(second_done.wait(), 5)
    assert ran == [first, second]  # the crashed run is not taken again
    record = await store.get(first)
    assert record is not None and record.status is RunState.FAILED and "unexpected error (RuntimeError)" in (record.error or "")


async def test_a_run_that_keeps_killing_its_workers_is_failed_not_retried_forever(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    run_id = await queued(store)
    for n in range(MAX_ATTEMPTS):  # each claim's holder "died" at once (lease already past)
        assert await store.claim_next(f"dead-{n}", capacity=1, lease_s=-1, sink=StoreSink) is not None
    ran: list[Claimed[StoreSink]] = []

    async def run(claim: Claimed[StoreSink]) -> None:
        ran.append(claim)

    written = asyncio.Event()
    update = store.update

    async def noted_update(run_id: int, **values: object) -> None:
        await update(run_id, **values)
        written.set()

    store.update = noted_update  # type: ignore[method-assign]  # the real store, observed
    start_queue(run)
    await asyncio.wait_for(written.wait(), 5)
    record = await store.get(run_id)
    assert record is not None and record.status is RunState.FAILED and f"gave up after {MAX_ATTEMPTS} attempts" in (record.error or "")
    assert ran == []


async def test_a_run_given_up_keeps_what_its_attempts_measured(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    """The failed record is what an operator reads (`python -m bot runs`): giving up must not first wipe the run's
    facts as if a new attempt were starting."""
    run_id = await queued(store)
    run = Run(new_facts(), id=run_id)
    run.collecting()
    run.analysing()  # killed while the model wrote: no saved report
    run.facts.prompt_tokens = 1234
    run.facts.warnings.append("the model server was slow")
    await store.update(run_id, run=run)
    for n in range(MAX_ATTEMPTS):
        assert await store.claim_next(f"dead-{n}", capacity=1, lease_s=-1, sink=StoreSink) is not None
    written = asyncio.Event()
    update = store.update

    async def noted_update(run_id: int, **values: object) -> None:
        await update(run_id, **values)
        written.set()

    store.update = noted_update  # type: ignore[method-assign]  # the real store, observed
    start_queue(lambda claim: None)
    await asyncio.wait_for(written.wait(), 5)
    record = await store.get(run_id)
    assert record is not None and record.status is RunState.FAILED and record.facts is not None
    assert record.facts.prompt_tokens == 1234 and "the model server was slow" in record.facts.warnings


async def test_a_taken_over_run_resumes_as_interrupted(store: SqliteRunStore, start_queue) -> None:  # type: ignore[no-untyped-def]
    run_id = await queued(store)
    run = Run(new_facts(), id=run_id)
    run.collecting()
    run.analysing()
    run.posting()
    await store.update(run_id, run=run, report="# saved")
    assert await store.claim_next("dead", capacity=1, lease_s=-1, sink=StoreSink) is not None
    claims: asyncio.Queue[Claimed[StoreSink]] = asyncio.Queue()
    start_queue(claims.put)
    claim = await asyncio.wait_for(claims.get(), 5)
    record = await store.get(run_id)
    assert claim.takeover and claim.run.id == run_id and record is not None and record.status is RunState.INTERRUPTED
    # The runner gets the saved run itself (no second read), interrupted in memory as in the store.
    assert claim.run.status is RunState.INTERRUPTED and claim.run.report == "# saved"


async def test_two_replicas_pools_share_llm_concurrency_per_server(tmp_path: Path) -> None:
    """Replica one streams on gpu1 (LLM_CONCURRENCY=1); replica two, idle itself, must send its request to gpu2."""
    async with FakeLLM() as gpu1, FakeLLM() as gpu2:
        gate = asyncio.Event()
        gpu1.script(text("## Root Cause\nfrom gpu1", gate=gate, gate_at="from"))
        settings = load_settings(llm_base_url=f"{gpu1.base_url},{gpu2.base_url}", llm_model="llama3.1:8b", llm_concurrency=1)
        stores = [await SqliteRunStore.open(tmp_path / "runs.db"), await SqliteRunStore.open(tmp_path / "runs.db")]
        pools = [LLMPool(settings, retry_attempts=1) for _ in stores]
        for n, (pool, store) in enumerate(zip(pools, stores, strict=True)):
            pool.slots = StoreCallSlots(store, f"replica-{n}", per_server=1, lease_s=30)
        try:
            first = asyncio.create_task(pools[0].stream("system", "user"))
            await gpu1.at_gate.wait()
            assert "from gpu1" not in (await pools[1].stream("system", "user")).text
            assert len(gpu2.chat_requests) == 1
            gate.set()
            assert "from gpu1" in (await first).text
            assert (await stores[0]._rows("SELECT COUNT(*) AS n FROM llm_calls"))[0]["n"] == 0  # every slot given back
        finally:
            for pool in pools:
                await pool.aclose()
            for store in stores:
                await store.close()
