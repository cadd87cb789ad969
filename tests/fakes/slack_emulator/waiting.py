"""Event-based waiting: state changes notify; waiters re-check their predicate.

asyncio.Condition can only be notified while its lock is held, i.e. from
coroutines; builders like `post()` are plain functions, so notification swaps a
fresh asyncio.Event instead (same semantics as Condition.notify_all).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class ChangeSignal:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, check: Callable[[], Any], timeout: float) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                event = self._event  # grab before checking, so no change can slip between
                result = check()
                if result:
                    return result
                await event.wait()
