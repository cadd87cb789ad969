"""👍/👎 on a postmortem, in the run store (its ``feedback`` table, made by the store's migrations): one vote per
(run, person); voting again changes it. Plain SQL both stores speak, so replicas sharing PostgreSQL agree."""

from __future__ import annotations

import time

from bot.runs.store import RunStore


class FeedbackVotes:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    def vote(self, run_id: int, user: str, vote: str) -> str | None:
        """Record ``user``'s vote on the run; returns their earlier vote, if any."""
        rows, _ = self.store.execute("SELECT vote FROM feedback WHERE run_id = ? AND voter = ?", (run_id, user))
        self.store.execute("INSERT INTO feedback (run_id, voter, vote, voted_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, voter)"
                           " DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at", (run_id, user, vote, time.time()))
        return str(rows[0]["vote"]) if rows else None

    def tally(self, run_id: int) -> dict[str, int]:
        """{"up": n, "down": m} for one run."""
        rows, _ = self.store.execute("SELECT vote, COUNT(*) AS n FROM feedback WHERE run_id = ? GROUP BY vote", (run_id,))
        counts = {"up": 0, "down": 0}
        counts.update({str(r["vote"]): int(r["n"]) for r in rows})
        return counts
