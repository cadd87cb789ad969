"""The weekly follow-up reminder's lease (issue 22): one row per ISO week in the run store, so replicas sharing it
post once a week between them. The first to insert the week's row posts; the others see it taken. A holder that
dies before finishing loses the week to the next replica once the lease has expired, which first looks whether the
post went out anyway (``posted_ts`` is recorded right after posting). Every call is one short atomic statement."""

from __future__ import annotations

from enum import Enum

from bot.runs.store import RunStore


class Outcome(Enum):
    POSTED = "posted"
    NOTHING = "nothing open"  # nothing to remind of this week: no post, and none later this week
    FAILED = "failed"  # Slack refused for good (a bad channel): logged once, retried next week


class Lease(Enum):
    MINE = "mine"  # this replica posts (a first claim)
    TAKEN_OVER = "taken over"  # this replica posts, after a holder that died: it checks for its post first
    HELD = "held"  # another replica is posting now
    DONE = "done"  # the week is settled


class ReminderLeases:
    def __init__(self, store: RunStore, owner: str, lease_s: float) -> None:
        self.store = store
        self.owner = owner
        self.lease_s = lease_s

    async def claim(self, week: str, now: float) -> Lease:
        """Take ``week`` ("2026-W49") if nobody holds it, or if its holder's lease expired before it finished."""
        _, inserted = await self.store.execute(
            "INSERT INTO followup_reminders (week, owner, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (week, self.owner, now))
        if inserted == 1:
            return Lease.MINE
        rows, _ = await self.store.execute("SELECT owner, claimed_at, outcome FROM followup_reminders WHERE week = ?", (week,))
        if not rows or rows[0]["outcome"] is not None:
            return Lease.DONE
        claimed = float(rows[0]["claimed_at"])
        if now - claimed < self.lease_s:
            return Lease.HELD
        # Taken over only if nobody else took it over meanwhile (the same claim time in the WHERE).
        _, taken = await self.store.execute(
            "UPDATE followup_reminders SET owner = ?, claimed_at = ? WHERE week = ? AND outcome IS NULL AND claimed_at = ?",
            (self.owner, now, week, claimed))
        return Lease.TAKEN_OVER if taken == 1 else Lease.HELD

    async def settle(self, week: str, outcome: Outcome, *, posted_ts: str | None = None, note: str | None = None) -> None:
        """Record how the week ended; only while this replica holds it (a holder that lost its lease changes nothing)."""
        await self.store.execute(
            "UPDATE followup_reminders SET outcome = ?, posted_ts = ?, note = ? WHERE week = ? AND owner = ? AND outcome IS NULL",
            (outcome.value, posted_ts, note, week, self.owner))

    async def release(self, week: str) -> None:
        """Give the week back after a failure that may pass (Slack down, rate limited): the next try claims it anew."""
        await self.store.execute("DELETE FROM followup_reminders WHERE week = ? AND owner = ? AND outcome IS NULL", (week, self.owner))

    async def outcome(self, week: str) -> tuple[str | None, str | None]:
        """(outcome, posted ts) of ``week``; (None, None) while nobody settled it."""
        rows, _ = await self.store.execute("SELECT outcome, posted_ts FROM followup_reminders WHERE week = ?", (week,))
        return (rows[0]["outcome"], rows[0]["posted_ts"]) if rows else (None, None)
