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

from bot.runs import Claim, RunStore, StoreError
from bot.slack.jobs import Job

log = logging.getLogger(__name__)


def replica_name() -> str:
    """Who holds a lease, as an operator reads it in the store: host, process, and a nonce for a reused pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class RunQueue:
    def __init__(self, run: Callable[[Job], Coroutine[Any, Any, None]], store: RunStore, prepare: Callable[[Claim], Job], *,
                 capacity: int, lease_s: float, owner: str | None = None) -> None:
        self._run = run
        self.store = store
        self._prepare = prepare
        self.capacity = capacity  # runs in progress on all replicas together
        self.lease_s = lease_s
        self.owner = owner or replica_name()
        self._poll_s = min(2.0, lease_s / 4)
        self._wakeup = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._store_down = False
        self.running: dict[int, Job] = {}

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

    def _claim(self) -> Claim | None:
        try:
            claim = self.store.claim_next(self.owner, capacity=self.capacity, lease_s=self.lease_s)
        except StoreError as exc:
            if not self._store_down:  # once per outage, not once per poll
                log.error("cannot take runs from the queue: %s", exc)
            self._store_down = True
            return None
        self._store_down = False
        return claim

    async def _next(self) -> Claim:
        while True:
            self._wakeup.clear()
            claim = self._claim()
            if claim is not None:
                self._wakeup.set()  # there may be more: let another idle worker look too
                return claim
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_s)

    async def _worker(self, index: int) -> None:
        while True:
            claim = await self._next()
            run_id = claim.record.id
            try:
                job = self._prepare(claim)
                self.running[run_id] = job
                await self._run_leased(job, run_id)
            except Exception:  # the runner reports failures in the thread; this only guards the worker
                log.exception("worker %d: run %d crashed", index, run_id)
            finally:
                self.running.pop(run_id, None)
                self._release(run_id)
                self.poke()  # capacity was freed: a queued run may start

    async def _run_leased(self, job: Job, run_id: int) -> None:
        """Run the job while renewing its lease; a lease another replica took (this one stalled past it) stops the run."""
        work = asyncio.create_task(self._run(job))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self.lease_s / 3)
                if done:
                    work.result()
                    return
                if not self._renew(run_id):
                    log.warning("run %d: lease lost to another replica; stopping here, it carries on there", run_id)
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
                    return
        finally:
            if not work.done():  # shutdown: stop the run; released below, another replica (or a restart) resumes it
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    def _renew(self, run_id: int) -> bool:
        try:
            return self.store.heartbeat(run_id, self.owner, self.lease_s)
        except StoreError as exc:
            # The store is down for everyone: keep working; if the lease expires meanwhile, the next renewal says so.
            log.error("run %d: cannot renew its lease: %s", run_id, exc)
            return True

    def _release(self, run_id: int) -> None:
        try:
            self.store.release(run_id, self.owner)
        except StoreError as exc:
            log.error("run %d: cannot give back its lease (it expires on its own): %s", run_id, exc)
