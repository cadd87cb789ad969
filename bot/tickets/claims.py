"""Local ticket claims in the run store: one row per (channel, thread, test), so Regenerate and `again` in the same
thread find the ticket an earlier run of it made. A click claims the row before the backend is asked, so a double
click or a redelivered action finds the claim and makes no second ticket; a failed creation releases it, so nothing
half-made stays behind. The backend's own dedup search (the row's ``idem`` key) covers a bot killed mid-creation (its
claim goes stale and the next click looks in the backend before creating).

Stores from before keyed claims by (run, test index): a thread's claim not found here is looked for among them (the
runs of the same thread, the test matched by name) and moved over on first use, with the backend key it was made
under, so tickets made before the upgrade are found, not made again."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.runs.store import RunStore
from bot.tickets.model import idempotency_key

# A claim older than this without a ticket belongs to a creation that died (a restart mid-call).
STALE_AFTER_S = 120.0
_NOT_A_WORD = re.compile(r"[\W_]+")


def spec_identity(name: str, kind: str = "") -> str:
    """The same test in any run of a thread: its name, case, spacing and punctuation aside (the model words its
    tests again on Regenerate, not always alike); an unnamed test goes by its type."""
    words = _NOT_A_WORD.sub(" ", name.lower()).strip()
    return words or f"unnamed {kind}".strip()


class TicketClaimState(Enum):
    NEW = "new"  # this caller creates the ticket
    BUSY = "busy"  # another click is creating it right now
    DONE = "done"  # it exists: ``url`` and ``key`` are set


@dataclass(frozen=True)
class TicketClaim:
    state: TicketClaimState
    url: str | None = None
    key: str | None = None
    idem: str | None = None  # the backend key to create or find the ticket under


@dataclass(frozen=True)
class Where:
    """One test of one thread: the claim's key."""

    channel: str
    thread: str
    test: str  # spec_identity()


class TicketClaims:
    """Uses the run store (its ``thread_tickets`` table, made by the store's migrations); every call is one short
    statement, atomic in the database, so replicas sharing a PostgreSQL store agree too."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    async def claim(self, where: Where, backend: str, idem: str, *, now: float | None = None) -> TicketClaim:
        """``idem`` is the backend key for a ticket made now; a claim found keeps the key it was made under."""
        now = time.time() if now is None else now
        await self._adopt_legacy(where)
        for _ in range(2):  # a claim released between our insert and our read: insert again, once
            _, inserted = await self.store.execute(
                "INSERT INTO thread_tickets (channel, thread, test, backend, claimed_at, idem) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING", (where.channel, where.thread, where.test, backend, now, idem))
            if inserted == 1:
                return TicketClaim(TicketClaimState.NEW, idem=idem)
            rows, _ = await self.store.execute("SELECT url, key, claimed_at, idem FROM thread_tickets"
                                         " WHERE channel = ? AND thread = ? AND test = ?", (where.channel, where.thread, where.test))
            if rows:
                return await self._existing(rows[0], where, backend, now)
        return TicketClaim(TicketClaimState.BUSY)

    async def _existing(self, row: dict[str, Any], where: Where, backend: str, now: float) -> TicketClaim:
        if row["url"]:
            return TicketClaim(TicketClaimState.DONE, row["url"], row["key"], row["idem"])
        if now - row["claimed_at"] > STALE_AFTER_S:
            # Taken over only if nobody else took it over meanwhile (the same stale time in the WHERE).
            _, taken = await self.store.execute(
                "UPDATE thread_tickets SET claimed_at = ?, backend = ? WHERE channel = ? AND thread = ? AND test = ?"
                " AND url IS NULL AND claimed_at = ?", (now, backend, where.channel, where.thread, where.test, row["claimed_at"]))
            return TicketClaim(TicketClaimState.NEW if taken == 1 else TicketClaimState.BUSY, idem=row["idem"])
        return TicketClaim(TicketClaimState.BUSY)

    async def done(self, where: Where, url: str, key: str) -> None:
        await self.store.execute("UPDATE thread_tickets SET url = ?, key = ? WHERE channel = ? AND thread = ? AND test = ?",
                           (url, key, where.channel, where.thread, where.test))

    async def release(self, where: Where) -> None:
        await self.store.execute("DELETE FROM thread_tickets WHERE channel = ? AND thread = ? AND test = ? AND url IS NULL",
                           (where.channel, where.thread, where.test))

    async def made(self, channel: str, thread: str) -> dict[str, tuple[str, str]]:
        """Test identity → (url, key) of every ticket made in the thread, by any of its runs."""
        rows, _ = await self.store.execute("SELECT test, url, key FROM thread_tickets WHERE channel = ? AND thread = ?"
                                     " AND url IS NOT NULL", (channel, thread))
        return {str(r["test"]): (str(r["url"]), str(r["key"])) for r in rows}

    async def _adopt_legacy(self, where: Where) -> None:
        """Move a claim kept by (run, test index) before this table existed to its (thread, test) row, if any."""
        rows, _ = await self.store.execute(
            "SELECT t.run_id, t.test_index, t.backend, t.claimed_at, t.url, t.key, r.info FROM tickets t"
            " JOIN runs r ON r.id = t.run_id WHERE r.channel = ? AND r.thread_ts = ? ORDER BY t.url IS NULL, t.run_id",
            (where.channel, where.thread))
        for row in rows:
            tests = (json.loads(row["info"]) if row["info"] else {}).get("tests") or []
            index = int(row["test_index"])
            if index >= len(tests) or spec_identity(str(tests[index].get("name", "")), str(tests[index].get("type", ""))) != where.test:
                continue
            await self.store.execute(
                "INSERT INTO thread_tickets (channel, thread, test, backend, claimed_at, idem, url, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (where.channel, where.thread, where.test, row["backend"], row["claimed_at"],
                 legacy_idem(where.channel, int(row["run_id"]), index), row["url"], row["key"]))
            await self.store.execute("DELETE FROM tickets WHERE run_id = ? AND test_index = ?", (row["run_id"], index))
            return


def legacy_idem(channel: str, run_id: int, index: int) -> str:
    """The backend key a ticket was made under when claims were kept per run (the marker in its body or label)."""
    return idempotency_key("slack", channel, run_id, index)
