"""The run store's interface: what the Slack adapter and the CLI may ask of it, whichever database holds the runs.

Two implementations share one SQL core (sql.py): SQLite in DATA_DIR (the embedded default, one replica) and PostgreSQL
(``DATABASE_URL``, several replicas). Every call is a coroutine that never runs database I/O on the event loop
(PostgreSQL: psycopg's async connection pool; SQLite: one worker thread of its own) and that ends within
DATABASE_STATEMENT_TIMEOUT_S, with an answer or a StoreError: a slow or stalled database slows the runs that need
it, never Slack's acks or the other runs.

Building on it: a new table is a migration (migrations.py) plus a companion class that speaks through ``execute``
(tickets.py, feedback.py); a new query of the runs is a method here and in sql.py, tested on both backends
(tests/runs/). ``claim_next`` hands a worker the Run itself (``Claimed``), saving itself through the sink the
worker names: the one place a run changes hands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from bot.core.run import Run, RunFacts, RunSink, RunState, Target
from bot.core.sections import Section
from bot.errors import PostmortemError


class StoreError(PostmortemError):
    """The run store cannot be opened, written or read in time. Says which store (file path, or database host)."""

    exit_code = 2  # a setting or the machine needs fixing, like a ConfigError


class ThreadBusy(PostmortemError):
    """The thread already has a run queued or running (on this replica or another): the database's unique index said so."""


@dataclass
class RunRecord:
    """A run's row as read, for views (the Home tab, `runs`, a trigger's check of the thread's last run); ``run``
    turns it into the Run that owns it."""

    id: int
    created_at: float
    trigger: str
    channel: str
    thread_ts: str | None
    invoker: str
    status: RunState
    response_url: str | None = None
    error: str | None = None
    status_ts: str | None = None
    facts: RunFacts | None = None
    mode: str = "full"  # "degraded": the digest stood in for the model (``cause`` says why)
    cause: str | None = None
    sections: list[Section] | None = None
    summary: str | None = None
    report: str | None = None
    posted: dict[str, str] = field(default_factory=dict)
    attempts: int = 0  # how many times a worker claimed this run

    @property
    def target(self) -> Target:
        return Target(self.trigger, self.channel, self.thread_ts, self.invoker, self.response_url)

    def run(self, sink: RunSink | None = None) -> Run:
        """The run as saved, saving itself to ``sink`` (a new attempt without a saved report: ``Run.restart``). A row
        no run has saved facts in yet gets empty ones, replaced when it is restarted."""
        return Run(self.facts or RunFacts(prompt_version="", model=""), target=self.target, sink=sink, id=self.id,
                   status=self.status, error=self.error, mode=self.mode, cause=self.cause, posted=self.posted,
                   sections=self.sections, report=self.report, summary=self.summary)


S = TypeVar("S", bound=RunSink)
# How a claimed run gets its sink: given the store, the run's id and its status line's ts (bot/runs/sink.py).
SinkFactory = Callable[["RunStore", int, "str | None"], S]


@dataclass(frozen=True)
class Claimed(Generic[S]):
    """A run a worker now holds the lease of, as saved, built from the one row the claim read; it saves itself
    through ``sink`` (``run.sink``). ``takeover``: an earlier holder (a dead replica, or this one before a restart,
    or a failed attempt) may have posted part of it, so the thread must be reconciled before posting."""

    run: Run
    sink: S
    takeover: bool
    attempts: int  # this claim included
    created_at: float


class RunStore(Protocol):
    # Set when a corrupt SQLite file was moved aside at start-up; the app logs it where an operator looks.
    moved_aside: Path | None

    @property
    def where(self) -> str:
        """The store as an operator knows it: the file's path, or the database's host and name (never a password)."""

    async def schema_version(self) -> int: ...

    async def close(self) -> None: ...

    # -- runs --------------------------------------------------------------------------------
    async def create(self, *, trigger: str, channel: str, thread_ts: str | None, invoker: str, response_url: str | None = None,
                     owner: str | None = None, lease_s: float = 0.0) -> int:
        """A new queued run. With ``owner`` it is held for ``lease_s`` (while its trigger announces it) and no worker
        takes it before ``release``. Raises ThreadBusy when the thread has an unfinished run."""

    async def update(self, run_id: int, **values: Any) -> None:
        """Set columns; ``run`` takes a Run: its status and error columns and its facts (with mode and cause)."""

    async def mark_posted(self, run_id: int, item: str, ts: str | None) -> None: ...

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        """One statement on a companion table (bot/tickets/claims.py), in SQL both databases speak (``?``
        placeholders; a literal ``%`` is fine): its rows and how many rows it changed, with the store's one-line errors."""

    async def execute_all(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[tuple[list[dict[str, Any]], int]]:
        """Several statements like ``execute``'s in one transaction: every one applied, or (a StoreError) none."""

    async def claim_delivery(self, delivery_id: str) -> bool:
        """True the first time a Slack delivery id is seen, by any replica; False for a re-delivery."""

    async def forget_deliveries(self, older_than_s: float) -> int:
        """Drop delivery ids older than any Slack retry; how many were dropped."""

    async def requeue_failed(self, run: Run, *, owner: str, lease_s: float) -> bool:
        """A failed run queued again under its own id, held like ``create``; False when another trigger did it first."""

    # -- the queue ---------------------------------------------------------------------------
    async def claim_next(self, owner: str, *, capacity: int, lease_s: float, sink: SinkFactory[S]) -> Claimed[S] | None:
        """The oldest run no live worker holds, when fewer than ``capacity`` runs are being worked on by all replicas.
        None also when another replica is claiming at this instant: it never waits on another replica's lock."""

    async def heartbeat(self, run_id: int, owner: str, lease_s: float) -> bool:
        """Extend a lease (and the owner's LLM request slots); False when ``owner`` no longer holds it (it expired and
        another replica took the run)."""

    async def take_llm_slot(self, owner: str, servers: list[str], *, per_server: int, lease_s: float) -> tuple[int, str] | None:
        """A request slot on the one of ``servers`` (healthy, in the caller's order of preference) with the fewest
        requests in progress on all replicas, fewer than ``per_server``; None when every one is full (or another
        replica is taking one at this instant: ask again). Renewed by ``heartbeat`` with the owner's runs."""

    async def give_back_llm_slot(self, slot_id: int) -> None: ...

    async def release(self, run_id: int, owner: str) -> None:
        """Give a run back: after its trigger announced it, when it ended, or at shutdown (another replica resumes it)."""

    async def adopt_orphans(self) -> None:
        """At start-up: leases no live process can hold any more are dropped (SQLite: every lease; PostgreSQL: none,
        they expire on their own because other replicas may be alive)."""

    # -- reads: one query each, whatever the number of runs ----------------------------------
    async def get(self, run_id: int) -> RunRecord | None: ...

    async def recent(self, limit: int = 20) -> list[RunRecord]:
        """The newest runs first, each with its posted items."""

    async def latest_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None: ...

    async def digest_posted(self, channel: str, thread_ts: str) -> bool:
        """Some run already put the rule-based digest into this thread, whatever became of that run."""

    async def ahead(self, run_id: int) -> int:
        """How many unfinished runs, on every replica, were accepted before this one."""
