"""👍/👎 on a postmortem, in the run store: one vote per (run, person); voting again changes it."""

from __future__ import annotations

import time

from bot.runs.store import RunStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    run_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    vote TEXT NOT NULL,
    voted_at REAL NOT NULL,
    PRIMARY KEY (run_id, user)
);
"""


class FeedbackVotes:
    """Uses the run store's connection; every call is one short statement."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        store.execute(_SCHEMA)

    def vote(self, run_id: int, user: str, vote: str) -> str | None:
        """Record ``user``'s vote on the run; returns their earlier vote, if any."""
        row = self.store.execute("SELECT vote FROM feedback WHERE run_id = ? AND user = ?", (run_id, user)).fetchone()
        self.store.execute("INSERT OR REPLACE INTO feedback (run_id, user, vote, voted_at) VALUES (?, ?, ?, ?)",
                           (run_id, user, vote, time.time()))
        return str(row["vote"]) if row else None

    def tally(self, run_id: int) -> dict[str, int]:
        """{"up": n, "down": m} for one run."""
        rows = self.store.execute("SELECT vote, COUNT(*) AS n FROM feedback WHERE run_id = ? GROUP BY vote", (run_id,))
        counts = {"up": 0, "down": 0}
        counts.update({str(r["vote"]): int(r["n"]) for r in rows})
        return counts
