"""Open follow-ups (issue 22): tests recommended by past postmortems whose ticket is still open, or that never got a
ticket, oldest first. The ticket states are read live through the backend (memory's cache of a minute). Imported
reviews are left out: the bot never tracked their action items, so it cannot say whether they are done."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.core.memory import PastIncident, PastTest, TicketState
from bot.memory.recall import Memory

# Postmortems whose tests are considered, newest first (each one's tickets are read live): retention bounds the rest.
SCANNED = 200
DAY_S = 86400.0
_CLOSED = (TicketState.DONE, TicketState.NOT_PLANNED)


@dataclass(frozen=True)
class FollowUp:
    past: PastIncident  # the postmortem that recommended the test
    test: PastTest  # with its ticket (None: never got one) and the ticket's state now
    private: bool  # the channel was private when the postmortem was remembered

    def age_days(self, now: float) -> int:
        return max(0, int((now - self.past.when.timestamp()) // DAY_S))


async def open_followups(memory: Memory, *, older_than_days: int = 0, now: float | None = None,
                         scanned: int = SCANNED) -> list[FollowUp]:
    """Follow-ups still open whose postmortem is at least ``older_than_days`` old, oldest first, every channel's:
    the caller keeps what its reader may see."""
    if not memory.enabled:
        return []
    now = time.time() if now is None else now
    rows, _ = await memory.index.store.execute(
        "SELECT id, private FROM memory WHERE tests <> '[]' AND source NOT LIKE 'file:%'"
        " AND COALESCE(started_at, remembered_at) <= ? ORDER BY COALESCE(started_at, remembered_at) DESC, id DESC LIMIT ?",
        (now - older_than_days * DAY_S, scanned))
    private = {int(r["id"]): bool(r["private"]) for r in rows}
    pasts = await memory.tickets.read(await memory.index.fetch(list(private)))
    found = [FollowUp(past, test, private[past.id]) for past in pasts for test in past.tests if test.state not in _CLOSED]
    return sorted(found, key=lambda f: (f.past.when, f.past.id))
