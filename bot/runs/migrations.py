"""The run store's schema, as an ordered list of migrations per backend. Each store applies the missing ones at
start-up, in one transaction, and records the version in ``schema_version``; on PostgreSQL an advisory lock makes
replicas that start together apply them once. Append new migrations (a new table: one list at the end of both);
never edit a released one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.core.memory.rank import document
from bot.runs.memory_schema import MEMORY_POSTGRES, MEMORY_RECALL, MEMORY_SQLITE

Rows = tuple[list[dict[str, Any]], int]


class Tx(Protocol):
    """Statements of one transaction, on one connection: what a migration step (and every store query) runs on."""

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows: ...


# A step is one SQL statement, or a function of the migration's transaction for what SQL alone cannot say portably.
Step = str | Callable[[Tx], Awaitable[None]]

# The states a run can be in while it still needs a worker (RunState's UNFINISHED; "narrating" was 0.1's name for posting).
_ACTIVE = "('queued', 'collecting', 'analysing', 'posting', 'interrupted', 'narrating')"


async def _fill_memory_terms(tx: Tx) -> None:
    """Incidents remembered before migration 10 get the words recall ranks them by, a few hundred rows a statement."""
    rows, _ = await tx.execute("SELECT id, title, primary_cause, signals FROM memory")
    for start in range(0, len(rows), 200):
        chunk = rows[start:start + 200]
        await tx.execute(f"INSERT INTO memory_terms (memory_id, terms) VALUES {', '.join(['(?, ?)'] * len(chunk))}",
                         tuple(p for r in chunk for p in (r["id"], document(r["title"], r["primary_cause"], r["signals"]))))


async def _sqlite_info_column(tx: Tx) -> None:
    """Stores written by 0.1 lack the JSON column; their old per-field columns stay but are no longer read."""
    rows, _ = await tx.execute("PRAGMA table_info(runs)")
    if "info" not in {row["name"] for row in rows}:
        await tx.execute("ALTER TABLE runs ADD COLUMN info TEXT")


_RUN_COLUMNS = """
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    trigger TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    invoker TEXT NOT NULL,
    response_url TEXT,
    status TEXT NOT NULL,
    error TEXT,
    status_ts TEXT,
    info TEXT,
    sections TEXT,
    summary TEXT,
    report TEXT
"""

# The queue (issue 11): who holds a run and until when, whether a worker (not only its trigger) holds it, and the
# thread a run is for as accepted (a channel-history run later gets a thread_ts of its own). The partial unique index
# is "one unfinished run per thread" for every replica at once.
_QUEUE = [
    "ALTER TABLE runs ADD COLUMN thread_key TEXT",
    "ALTER TABLE runs ADD COLUMN owner TEXT",
    "ALTER TABLE runs ADD COLUMN lease_until {real}",
    "ALTER TABLE runs ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
    "UPDATE runs SET thread_key = COALESCE(thread_ts, 'channel-history')",
]
_ONE_PER_THREAD = f"CREATE UNIQUE INDEX one_unfinished_run_per_thread ON runs(channel, thread_key) WHERE status IN {_ACTIVE}"

# Requests in progress on each LLM server, over every replica: LLM_CONCURRENCY holds per server, not per replica.
# A row lives as long as its request, renewed with its replica's run leases, so a dead replica's rows expire.
_LLM_CALLS = "server TEXT NOT NULL, owner TEXT NOT NULL, lease_until {real} NOT NULL"

# Ticket claims (issue 9): one row per (run, test), so a double click or a redelivered action makes one ticket.
_TICKETS = ("CREATE TABLE IF NOT EXISTS tickets (run_id BIGINT NOT NULL, test_index INTEGER NOT NULL, backend TEXT NOT NULL,"
            " claimed_at {real} NOT NULL, url TEXT, key TEXT, PRIMARY KEY (run_id, test_index))")

# Ticket claims per (channel, thread, test) (issue 19): Regenerate and `again` find the ticket an earlier run of the
# thread made. ``idem`` is the backend key it is made and found under. Rows of ``tickets`` move here on first use.
_THREAD_TICKETS = ("CREATE TABLE IF NOT EXISTS thread_tickets (channel TEXT NOT NULL, thread TEXT NOT NULL, test TEXT NOT NULL,"
                   " backend TEXT NOT NULL, claimed_at {real} NOT NULL, idem TEXT NOT NULL, url TEXT, key TEXT,"
                   " PRIMARY KEY (channel, thread, test))")

# 👍/👎 on a postmortem (issue 10): one vote per (run, person).
_FEEDBACK = ("CREATE TABLE IF NOT EXISTS feedback (run_id BIGINT NOT NULL, voter TEXT NOT NULL, vote TEXT NOT NULL,"
             " voted_at {real} NOT NULL, PRIMARY KEY (run_id, voter))")

# The reads that must stay one indexed query however many runs the store holds (issue 19): a thread's latest run
# and "was the digest posted in this thread" (runs by thread, then posted by its primary key). Migration 8, with
# thread_tickets again: the store branch shipped this index as its 6 while main's 6 was thread_tickets, so a store
# migrated by either numbering ends up with both (each step is a no-op where it already applied).
_BY_THREAD = "CREATE INDEX IF NOT EXISTS runs_by_thread ON runs(channel, thread_ts, id)"

# The weekly follow-up reminder (issue 22): one row per ISO week, claimed by the replica that posts it.
_REMINDERS = ("CREATE TABLE IF NOT EXISTS followup_reminders (week TEXT PRIMARY KEY, owner TEXT NOT NULL,"
              " claimed_at {real} NOT NULL, outcome TEXT, posted_ts TEXT, note TEXT)")

SQLITE: list[list[Step]] = [
    [
        f"CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, {_RUN_COLUMNS.format(real='REAL')})",
        _sqlite_info_column,
        "CREATE TABLE IF NOT EXISTS posted (run_id INTEGER NOT NULL REFERENCES runs(id), item TEXT NOT NULL, ts TEXT,"
        " PRIMARY KEY (run_id, item))",
        "CREATE TABLE IF NOT EXISTS deliveries (delivery_id TEXT PRIMARY KEY, run_id INTEGER, seen_at REAL NOT NULL)",
        "CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status)",
    ],
    [
        *(s.format(real="REAL") for s in _QUEUE),
        # One process could queue a thread twice before 0.3 (a restart superseded the older run in memory only):
        # the older of two unfinished runs of a thread is marked failed, so the unique index can be built.
        "UPDATE runs SET status = 'failed', error = 'superseded by a later run of the same thread',"
        " info = CASE WHEN info IS NULL THEN NULL ELSE json_set(info, '$.status', 'failed') END"
        f" WHERE status IN {_ACTIVE} AND id NOT IN (SELECT MAX(id) FROM runs WHERE status IN {_ACTIVE} GROUP BY channel, thread_key)",
        _ONE_PER_THREAD,
    ],
    [f"CREATE TABLE llm_calls (id INTEGER PRIMARY KEY AUTOINCREMENT, {_LLM_CALLS.format(real='REAL')})"],
    [_TICKETS.format(real="REAL")],
    [_FEEDBACK.format(real="REAL")],
    [_THREAD_TICKETS.format(real="REAL")],
    [*MEMORY_SQLITE],  # issue 22
    [_THREAD_TICKETS.format(real="REAL"), _BY_THREAD],  # after both branches' 6: see _BY_THREAD
    [_REMINDERS.format(real="REAL")],
    [*MEMORY_RECALL, _fill_memory_terms],  # issue 22's recall speed
]

POSTGRES: list[list[Step]] = [
    [
        f"CREATE TABLE runs (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_RUN_COLUMNS.format(real='DOUBLE PRECISION')})",
        "CREATE TABLE posted (run_id BIGINT NOT NULL REFERENCES runs(id), item TEXT NOT NULL, ts TEXT, PRIMARY KEY (run_id, item))",
        "CREATE TABLE deliveries (delivery_id TEXT PRIMARY KEY, run_id BIGINT, seen_at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX runs_by_status ON runs(status)",
    ],
    [*(s.format(real="DOUBLE PRECISION") for s in _QUEUE), _ONE_PER_THREAD],
    [f"CREATE TABLE llm_calls (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_LLM_CALLS.format(real='DOUBLE PRECISION')})"],
    [_TICKETS.format(real="DOUBLE PRECISION")],
    [_FEEDBACK.format(real="DOUBLE PRECISION")],
    [_THREAD_TICKETS.format(real="DOUBLE PRECISION")],
    [*MEMORY_POSTGRES],  # issue 22
    [_THREAD_TICKETS.format(real="DOUBLE PRECISION"), _BY_THREAD],  # after both branches' 6: see _BY_THREAD
    [_REMINDERS.format(real="DOUBLE PRECISION")],
    [*MEMORY_RECALL, _fill_memory_terms],  # issue 22's recall speed
]
