"""Live ticket states for "Seen before": read through the configured backend's REST API when the digest is built,
at most once a minute per ticket, all at once and within the digest's time. A ticket the backend cannot read now is
shown with why; it never holds the digest back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from bot.core.memory import PastIncident, PastTest, TicketState
from bot.tickets.model import TicketBackend, TicketError

CACHE_S = 60.0
TIMEOUT_S = 1.0
# Reads in flight at once: the Home tab's follow-ups may ask for hundreds of tickets, and GitHub and Jira rate-limit
# bursts. A digest's few dozen still fit in one second.
CONCURRENT = 16
_STATES = {"open": TicketState.OPEN, "done": TicketState.DONE, "not_planned": TicketState.NOT_PLANNED}


class TicketStates:
    def __init__(self, backend: TicketBackend | None, *, cache_s: float = CACHE_S, timeout_s: float = TIMEOUT_S) -> None:
        self.backend = backend
        self.cache_s = cache_s
        self.timeout_s = timeout_s
        self._cache: dict[str, tuple[float, TicketState, str]] = {}
        self._slots = asyncio.Semaphore(CONCURRENT)

    async def read(self, pasts: list[PastIncident]) -> list[PastIncident]:
        """The same incidents, each ticket with its state now."""
        keys = {t.ticket_url: t.ticket_key for p in pasts for t in p.tests if t.ticket_url and t.ticket_key}
        await asyncio.gather(*(self._state(url, key) for url, key in keys.items() if not self._fresh(url)))
        return [replace(p, tests=tuple(self._with_state(t) for t in p.tests)) for p in pasts]

    def _fresh(self, url: str) -> bool:
        cached = self._cache.get(url)
        return cached is not None and time.monotonic() - cached[0] < self.cache_s

    def _with_state(self, test: PastTest) -> PastTest:
        if not test.ticket_url or test.ticket_url not in self._cache:
            return test
        _, state, note = self._cache[test.ticket_url]
        return replace(test, state=state, state_note=note)

    async def _state(self, url: str, key: str) -> None:
        if self.backend is None or not self.backend.owns(url):
            self._cache[url] = (time.monotonic(), TicketState.UNKNOWN, "not in the ticket backend configured now")
            return
        try:
            async with self._slots, asyncio.timeout(self.timeout_s):  # not wait_for: see bot/core/memory/__init__.py
                raw = await self.backend.state(key)
            state, note = _STATES.get(raw, TicketState.UNKNOWN), ""
        except TimeoutError:
            state, note = TicketState.UNKNOWN, f"{self.backend.name} did not answer in time"
        except TicketError as exc:
            state, note = TicketState.UNKNOWN, exc.message
        if state is TicketState.UNKNOWN:  # not cached for long: the next digest asks again
            self._cache[url] = (time.monotonic() - max(0.0, self.cache_s - 5), state, note)
        else:
            self._cache[url] = (time.monotonic(), state, note)
