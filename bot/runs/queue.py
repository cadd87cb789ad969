"""The run queue is the run store's table: every replica runs workers that claim the oldest run nobody holds, while
fewer than the LLM servers' capacity are in progress on all replicas together. A worker holds its run with a lease
it renews every third of RUN_LEASE_S; a replica that dies stops renewing, and once the lease expires another
replica's worker takes the run over (reconciling the thread first, so nothing is posted twice).

A trigger wakes this replica's workers at once (``poke``); runs that other replicas give back or abandon are found by
polling a few times per lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from bot import metrics
from bot.core.run import TERMINAL, RunFacts, RunState
from bot.runs import Claimed, RunStore, StoreError
from bot.runs.sink import StoreSink

log = logging.getLogger(__name__)

# Claims of one run before it is failed: a takeover after a kill is normal, a run that kills every worker is not.
MAX_ATTEMPTS = 3


def replica_name() -> str:
    """Who holds a lease, as an operator reads it in the store: host, process, and a nonce for a reused pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class RunQueue:
    def __init__(self, run: Callable[[Claimed[StoreSink]], Coroutine[Any, Any, None]], store: RunStore, new_facts: Callable[[], RunFacts], *,
                 capacity: int, lease_s: float, owner: str | None = None) -> None:
        self._run = run
        self.store = store
        self._new_facts = new_facts
        self.capacity = capacity  # runs in progress on all replicas together
        self.lease_s = lease_s
        self.owner = owner or replica_name()
        self._poll_s = min(2.0, lease_s / 4)
        self._wakeup = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._store_down = False

    def poke(self) -> None:
        """A run was queued or given back here: claim now, not at the next poll."""
        self._wakeup.set()

    def start(self) -> None:
        # As many workers as runs the whole deployment may have in progress: this replica may be the only one up.
        self._workers = [asyncio.create_task(self._worker(i), name=f"postmortem-worker-{i}") for i in range(self.capacity)]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _claim(self) -> Claimed[StoreSink] | None:
        try:
            claim = await self.store.claim_next(self.owner, capacity=self.capacity, lease_s=self.lease_s, sink=StoreSink)
        except StoreError as exc:
            if not self._store_down:  # once per outage, not once per poll
                log.error("cannot take runs from the queue: %s", exc)
            self._store_down = True
            return None
        self._store_down = False
        return claim

    async def _next(self) -> Claimed[StoreSink]:
        while True:
            self._wakeup.clear()
            claim = await self._claim()
            if claim is not None:
                self._wakeup.set()  # there may be more: let another idle worker look too
                return claim
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that lands as the event is set
            # (a worker released its run at shutdown), and the worker then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wakeup.wait()

    async def _worker(self, index: int) -> None:
        while True:
            claim = await self._next()
            run_id = claim.run.id
            assert run_id is not None  # a run from the store has its id
            metrics.queue_waited(claim.created_at, first_claim=not claim.takeover)
            try:
                if await self._prepare(claim):
                    await self._run_leased(claim, run_id)
            except Exception as exc:  # the runner reports failures in the thread; this only guards the worker
                log.exception("worker %d: run %d crashed", index, run_id)
                await self._crashed(claim, exc)
            finally:
                await self._release(run_id)
                self.poke()  # capacity was freed: a queued run may start

    async def _run_leased(self, claim: Claimed[StoreSink], run_id: int) -> None:
        """Run it while renewing its lease; a lease another replica took (this one stalled past it) stops the run."""
        work = asyncio.create_task(self._run(claim))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self.lease_s / 3)
                if done:
                    work.result()
                    return
                if not await self._renew(run_id):
                    log.warning("run %d: lease lost to another replica; stopping here, it carries on there", run_id)
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
                    return
        finally:
            if not work.done():  # shutdown: stop the run; released below, another replica (or a restart) resumes it
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    async def _prepare(self, claim: Claimed[StoreSink]) -> bool:
        """Ready a claimed run for the runner; False when it must not run. Without a saved report it is analysed
        afresh (a new attempt under its own id, so what an earlier attempt posted is still skipped); with one, the
        saved run carries on. A run a restart or a dead replica left mid-way is marked interrupted, so the runner
        resumes it. A run that has taken down MAX_ATTEMPTS workers is failed instead: it must not crash every
        replica in turn."""
        run = claim.run
        if claim.attempts > MAX_ATTEMPTS:  # first: the failed record keeps what the earlier attempts measured
            await self._give_up(claim, f"gave up after {MAX_ATTEMPTS} attempts")
            return False
        was = run.status
        if claim.takeover:
            log.info("resuming run %s (%s in %s, was %s)", run.id, run.target.trigger, run.target.channel, was.value)
            if was in (RunState.COLLECTING, RunState.ANALYSING, RunState.POSTING):
                run.interrupt()
        if run.report is None:
            run.restart(self._new_facts())
        await claim.sink.written()
        return True

    async def _give_up(self, claim: Claimed[StoreSink], why: str) -> None:
        """Recorded failed, so no worker takes it again; a new trigger in the thread retries it."""
        run = claim.run
        if run.status in TERMINAL or run.status is RunState.FAILED:
            return
        run.fail(f"{why}; the bot's logs have the details")
        await claim.sink.written()

    async def _crashed(self, claim: Claimed[StoreSink], exc: Exception) -> None:
        try:
            await self._give_up(claim, f"unexpected error ({type(exc).__name__})")
        except Exception:  # the store is down too: the run is retried when a worker can claim it again
            log.exception("run %s: cannot record the crash", claim.run.id)

    async def _renew(self, run_id: int) -> bool:
        try:
            return await self.store.heartbeat(run_id, self.owner, self.lease_s)
        except StoreError as exc:
            # The store is down for everyone: keep working; if the lease expires meanwhile, the next renewal says so.
            log.error("run %d: cannot renew its lease: %s", run_id, exc)
            return True

    async def _release(self, run_id: int) -> None:
        try:
            await self.store.release(run_id, self.owner)
        except StoreError as exc:
            log.error("run %d: cannot give back its lease (it expires on its own): %s", run_id, exc)


class StoreCallSlots:
    """The pool's request slots in the run store, so LLM_CONCURRENCY per server holds over every replica."""

    def __init__(self, store: RunStore, owner: str, *, per_server: int, lease_s: float) -> None:
        self.store, self.owner, self.per_server, self.lease_s = store, owner, per_server, lease_s

    async def take(self, servers: list[str]) -> tuple[int | None, str] | None:
        try:
            return await self.store.take_llm_slot(self.owner, servers, per_server=self.per_server, lease_s=self.lease_s)
        except StoreError as exc:
            # The run goes on; only the count across replicas is lost while the store is down.
            log.error("cannot count LLM requests across replicas: %s", exc)
            return None, servers[0]

    async def give_back(self, slot: int) -> None:
        try:
            await self.store.give_back_llm_slot(slot)
        except StoreError as exc:
            log.error("cannot give back LLM request slot %d (it expires with this replica's lease): %s", slot, exc)

