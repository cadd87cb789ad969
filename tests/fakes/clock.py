"""A clock the test steps: ``now`` stands still until the test sets it, and ``sleep_until`` waits on that, never
on real time. ``wait_asleep`` lets the test know its code has finished what it does at a time."""

from __future__ import annotations

import asyncio
from datetime import datetime


class SteppedClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._changed = asyncio.Condition()
        self.asleep_until: list[datetime] = []  # one entry per sleeper waiting now

    def now(self) -> datetime:
        return self._now

    async def set(self, when: datetime) -> None:
        async with self._changed:
            self._now = when
            self._changed.notify_all()

    async def sleep_until(self, when: datetime) -> None:
        async with self._changed:
            self.asleep_until.append(when)
            self._changed.notify_all()
            try:
                await self._changed.wait_for(lambda: self._now >= when)
            finally:
                self.asleep_until.remove(when)
                self._changed.notify_all()

    async def wait_asleep(self, count: int = 1, after: datetime | None = None, timeout: float = 30) -> None:
        """Until ``count`` sleepers wait for a time later than ``after`` (default: now): their work at now is done."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: sum(t > (after or self._now) for t in self.asleep_until) >= count)
