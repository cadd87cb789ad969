"""The run queue: triggers enqueue jobs and return at once; LLM_CONCURRENCY workers run them in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Job:
    trigger: str  # "command" | "command-link" | "reaction" | "shortcut" | "mention"
    channel: str
    invoker: str
    # The thread root; None for `/postmortem` without a link (the channel's recent history).
    thread_ts: str | None
    channel_name: str | None = None
    # Slash commands and shortcuts carry one; it reaches the user even where the bot cannot post.
    response_url: str | None = None
    regenerate: bool = False
    # An earlier run of this thread posted the digest (`again`, or a retrigger after a degraded run).
    skip_digest: bool = False
    # The run store's id; set when the job is accepted, or taken from the store when resuming.
    run_id: int | None = None
    resumed: bool = False
    # The trigger's 👀 + "Queued" status; the runner waits for it so the status line is not posted twice.
    announced: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.thread_ts or "channel-history")


class JobQueue:
    """An asyncio queue with de-duplication per thread. Never blocks the trigger that submits."""

    def __init__(self, run: Callable[[Job], Awaitable[None]], concurrency: int) -> None:
        self._run = run
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._active: dict[tuple[str, str], Job] = {}
        self._concurrency = concurrency
        self._workers: list[asyncio.Task[None]] = []

    def submit(self, job: Job) -> bool:
        """Queue the job; False when its thread already has a job queued or running."""
        if job.key in self._active:
            return False
        self._active[job.key] = job
        self._queue.put_nowait(job)
        return True

    def has(self, key: tuple[str, str]) -> bool:
        return key in self._active

    def ahead(self, job: Job) -> int:
        """How many accepted jobs (running or waiting) come before this one."""
        jobs = list(self._active.values())
        return jobs.index(job) if job in jobs else 0

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._worker(i), name=f"postmortem-worker-{i}") for i in range(self._concurrency)]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _worker(self, index: int) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._run(job)
            except Exception:  # the runner reports failures in the thread; this only guards the worker
                log.exception("worker %d: job for %s crashed", index, job.key)
            finally:
                self._active.pop(job.key, None)
                self._queue.task_done()
