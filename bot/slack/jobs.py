"""The run queue: triggers enqueue jobs and return at once; LLM_CONCURRENCY workers run them in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Job:
    kind: str  # "command" | "command-link" | "reaction" | "shortcut" | "mention"
    channel: str
    user: str
    # The thread root; None for `/postmortem` without a link (the channel's recent history).
    root_ts: str | None
    channel_name: str | None = None
    # Slash commands and shortcuts carry one; it reaches the user even where the bot cannot post.
    response_url: str | None = None
    regenerate: bool = False
    # Set once the job posts its status message, so a duplicate trigger can point at it.
    status_ts: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.root_ts or "channel-history")


@dataclass(frozen=True)
class Submission:
    accepted: bool
    position: int  # 1-based place in the queue when accepted
    existing: Job | None = None  # the job already queued or running for that thread


class JobQueue:
    """An asyncio queue with de-duplication per thread. Never blocks the trigger that submits."""

    def __init__(self, run: Callable[[Job], Awaitable[None]], concurrency: int) -> None:
        self._run = run
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._active: dict[tuple[str, str], Job] = {}
        self._concurrency = concurrency
        self._workers: list[asyncio.Task[None]] = []

    def submit(self, job: Job) -> Submission:
        existing = self._active.get(job.key)
        if existing is not None:
            return Submission(False, 0, existing)
        self._active[job.key] = job
        self._queue.put_nowait(job)
        return Submission(True, self._queue.qsize())

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._worker(i), name=f"postmortem-worker-{i}") for i in range(self._concurrency)]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def join(self) -> None:
        await self._queue.join()

    @property
    def active(self) -> list[Job]:
        return list(self._active.values())

    async def _worker(self, index: int) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._run(job)
            except Exception:  # the runner reports failures in the thread; this only guards the worker
                log.exception("worker %d: job for %s crashed", index, job.key)
            finally:
                self._active.pop(job.key, None)
                job.done.set()
                self._queue.task_done()
