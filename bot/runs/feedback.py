"""👍/👎 on a postmortem, in the run store (its ``feedback`` table, made by the store's migrations): one vote per
(run, person); voting again changes it. Plain SQL both stores speak, so replicas sharing PostgreSQL agree."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.runs.store import RunStore


class FeedbackVotes:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    async def vote(self, run_id: int, user: str, vote: str) -> str | None:
        """Record ``user``'s vote on the run; returns their earlier vote, if any."""
        rows, _ = await self.store.execute("SELECT vote FROM feedback WHERE run_id = ? AND voter = ?", (run_id, user))
        await self.store.execute("INSERT INTO feedback (run_id, voter, vote, voted_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, voter)"
                                 " DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at", (run_id, user, vote, time.time()))
        return str(rows[0]["vote"]) if rows else None

    async def tally(self, run_id: int) -> dict[str, int]:
        """{"up": n, "down": m} for one run."""
        return (await self.tallies([run_id]))[run_id]

    async def tallies(self, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """The tally of each run, in one query however many runs (the history lists a hundred)."""
        counts = {run_id: {"up": 0, "down": 0} for run_id in run_ids}
        if not counts:
            return counts
        marks = ", ".join("?" for _ in counts)
        rows, _ = await self.store.execute(f"SELECT run_id, vote, COUNT(*) AS n FROM feedback WHERE run_id IN ({marks})"
                                           " GROUP BY run_id, vote", tuple(counts))
        for row in rows:
            counts[int(row["run_id"])][str(row["vote"])] = int(row["n"])
        return counts
