"""Local ticket claims in the run store: one row per (run, test). A click claims the row before the backend is
asked, so a double click or a redelivered action finds the claim and makes no second ticket; a failed creation
releases it, so nothing half-made stays behind. The backend's own dedup search covers a bot killed mid-creation
(its claim goes stale and the next click looks in the backend before creating)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.runs.store import RunStore

# A claim older than this without a ticket belongs to a creation that died (a restart mid-call).
STALE_AFTER_S = 120.0


class ClaimState(Enum):
    NEW = "new"  # this caller creates the ticket
    BUSY = "busy"  # another click is creating it right now
    DONE = "done"  # it exists: ``url`` and ``key`` are set


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    url: str | None = None
    key: str | None = None


class TicketClaims:
    """Uses the run store (its ``tickets`` table, made by the store's migrations); every call is one short statement,
    atomic in the database, so replicas sharing a PostgreSQL store agree too."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    async def claim(self, run_id: int, index: int, backend: str, *, now: float | None = None) -> Claim:
        now = time.time() if now is None else now
        for _ in range(2):  # a claim released between our insert and our read: insert again, once
            _, inserted = await self.store.execute("INSERT INTO tickets (run_id, test_index, backend, claimed_at) VALUES (?, ?, ?, ?)"
                                             " ON CONFLICT DO NOTHING", (run_id, index, backend, now))
            if inserted == 1:
                return Claim(ClaimState.NEW)
            rows, _ = await self.store.execute("SELECT url, key, claimed_at FROM tickets WHERE run_id = ? AND test_index = ?",
                                         (run_id, index))
            if rows:
                return await self._existing(rows[0], run_id, index, backend, now)
        return Claim(ClaimState.BUSY)

    async def _existing(self, row: dict[str, Any], run_id: int, index: int, backend: str, now: float) -> Claim:
        if row["url"]:
            return Claim(ClaimState.DONE, row["url"], row["key"])
        if now - row["claimed_at"] > STALE_AFTER_S:
            # Taken over only if nobody else took it over meanwhile (the same stale time in the WHERE).
            _, taken = await self.store.execute("UPDATE tickets SET claimed_at = ?, backend = ? WHERE run_id = ? AND test_index = ?"
                                          " AND url IS NULL AND claimed_at = ?", (now, backend, run_id, index, row["claimed_at"]))
            return Claim(ClaimState.NEW if taken == 1 else ClaimState.BUSY)
        return Claim(ClaimState.BUSY)

    async def done(self, run_id: int, index: int, url: str, key: str) -> None:
        await self.store.execute("UPDATE tickets SET url = ?, key = ? WHERE run_id = ? AND test_index = ?",
                         (url, key, run_id, index))

    async def release(self, run_id: int, index: int) -> None:
        await self.store.execute("DELETE FROM tickets WHERE run_id = ? AND test_index = ? AND url IS NULL",
                         (run_id, index))

    async def made(self, run_id: int) -> dict[int, tuple[str, str]]:
        """Test index → (url, key) of every ticket made for the run."""
        rows, _ = await self.store.execute("SELECT test_index, url, key FROM tickets WHERE run_id = ? AND url IS NOT NULL", (run_id,))
        return {int(r["test_index"]): (str(r["url"]), str(r["key"])) for r in rows}
