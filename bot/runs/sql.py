"""The run store's logic, once, in SQL both SQLite (3.35+) and PostgreSQL speak: ``?`` placeholders (the PostgreSQL
store rewrites them), ``ON CONFLICT``, ``RETURNING``, partial unique indexes. A backend supplies the connections (off
the event loop), the clock expression, its lock for queue claims and its error classes.

Every call is bounded: it runs as a task of its own, and the caller gets a StoreError after ``timeout_s`` whatever the
database does; the abandoned task cleans up (cancels the query, drops the connection) in the background.

Lease times come from the database's clock, not each replica's, so replicas whose clocks drift still agree on
whether a lease has expired.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.core.run import UNFINISHED, Run, RunFacts, RunState
from bot.core.sections import Section, SectionId
from bot.runs.migrations import Rows, Step, Tx
from bot.runs.store import Claimed, RunRecord, S, SinkFactory, StoreError, ThreadBusy

log = logging.getLogger(__name__)

T = TypeVar("T")
MIGRATION_S = 60.0

# 0.1 recorded narration as its own status; it is part of posting now.
_ACTIVE_SQL = "(" + ", ".join(f"'{s}'" for s in sorted([*UNFINISHED, "narrating"])) + ")"
_LEGACY_STATUS = {"narrating": RunState.POSTING}
# A run row with its posted items as one JSON column: a record is one query, however many runs are read.
_RUN_ROW = "SELECT runs.*, {posted} AS posted_items FROM runs"


def _columns(run: Run) -> dict[str, Any]:
    """A run's state as stored: the status and error in their columns, once; the facts, mode and cause as JSON."""
    return {"status": run.status.value, "error": run.error,
            "info": json.dumps({**run.facts.to_dict(), "mode": run.mode, "cause": run.cause})}


def _status(value: str) -> RunState:
    return _LEGACY_STATUS.get(value) or RunState(value)


class _Expanding:
    """A transaction whose statements may use the store's ``{now}`` and ``{posted}`` placeholders."""

    def __init__(self, tx: Tx, store: SqlRunStore) -> None:
        self.tx, self.store = tx, store

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        return await self.tx.execute(self.store.expand(sql), params)


class SqlRunStore(ABC):
    """Implements bot.runs.store.RunStore; a backend's ``open`` makes the connections and calls ``_migrate``."""

    moved_aside: Path | None = None
    # SQL for "now" in seconds since the epoch, evaluated by the database.
    NOW: str
    # SQL for the JSON object {item: ts} of the run ``runs.id``'s posted items.
    POSTED: str
    SKIP_LOCKED: str = ""  # PostgreSQL: skip rows another transaction is writing rather than wait for them
    fix = "check the run store's settings"

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._abandoned: set[asyncio.Task[Any]] = set()

    # -- what a backend provides -----------------------------------------------------------------
    @property
    @abstractmethod
    def where(self) -> str: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _run(self, sql: str, params: tuple[Any, ...]) -> Rows:
        """Run one statement in a transaction of its own; its rows (empty when it returns none) and how many rows it changed."""

    @abstractmethod
    async def _run_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """``work``'s statements in one transaction that holds the write lock the backend needs for claims."""

    @abstractmethod
    async def _lock_queue(self, tx: Tx, *, wait: bool = False) -> bool:
        """Serialise queue claims across every process sharing the database (inside a transaction). Without
        ``wait``, False at once when another process holds it."""

    @abstractmethod
    def _is_conflict(self, exc: BaseException) -> bool:
        """A unique-constraint violation (as opposed to the database failing)."""

    @abstractmethod
    def _is_db_error(self, exc: BaseException) -> bool: ...

    @abstractmethod
    async def adopt_orphans(self) -> None: ...

    # -- plumbing ------------------------------------------------------------------------------
    def expand(self, sql: str) -> str:
        return sql.replace("{now}", self.NOW).replace("{posted}", self.POSTED)

    def _error(self, action: str, exc: BaseException | str) -> StoreError:
        if isinstance(exc, str):
            reason = exc
        else:
            text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
            reason = text.splitlines()[0] if text else type(exc).__name__
        return StoreError(f"cannot {action} the run store {self.where} ({reason})", self.fix)

    async def _bounded(self, action: str, work: Coroutine[Any, Any, T], *, timeout_s: float | None = None) -> T:
        """``work`` as a task of its own: the caller has its answer or a StoreError within ``timeout_s`` (the store's
        by default). A database error becomes a StoreError; a unique-constraint violation is raised as is, for the
        caller to interpret."""
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout_s)
        except asyncio.CancelledError:
            self._abandon(task)
            raise
        if not done:
            self._abandon(task)
            raise self._error(action, f"no answer within {timeout_s:g} s")
        exc = task.exception()
        if exc is None:
            return task.result()
        if self._is_db_error(exc) and not self._is_conflict(exc):
            raise self._error(action, exc) from None
        raise exc

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        """Cancelled, and kept until it has cleaned up (psycopg cancels the query; the pool drops the connection)."""
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._abandoned.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no "never retrieved" noise

    async def _q(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        action = "read" if sql.lstrip().upper().startswith("SELECT") else "write"
        return await self._bounded(action, self._run(self.expand(sql), params))

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return (await self._q(sql, params))[0]

    async def _tx(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        async def expanded(tx: Tx) -> T:
            return await work(_Expanding(tx, self))
        return await self._bounded("write", self._run_transaction(expanded))

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        return await self._q(sql, params)

    async def execute_all(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Rows]:
        async def work(tx: Tx) -> list[Rows]:
            return [await tx.execute(sql, params) for sql, params in statements]
        try:
            return await self._tx(work)
        except Exception as exc:
            if self._is_conflict(exc):  # a StoreError too: the caller asked for all or nothing, and got nothing
                raise self._error("write", exc) from None
            raise

    async def _migrate(self, migrations: list[list[Step]],
                       run_transaction: Callable[[Callable[[Tx], Awaitable[None]]], Coroutine[Any, Any, None]] | None = None) -> None:
        """At start-up (``run_transaction``: on a given connection), bounded by MIGRATION_S rather than the statement
        timeout: a fresh schema is a few dozen statements, which a busy server may take longer than one statement's
        time over (each is still bounded by the server)."""
        run = run_transaction or self._run_transaction
        await self._bounded("prepare", run(lambda tx: self._apply_migrations(tx, migrations)), timeout_s=max(self.timeout_s, MIGRATION_S))

    async def _apply_migrations(self, tx: Tx, migrations: list[list[Step]]) -> None:
        """Apply the missing migrations in ``tx``; a concurrent replica waits, then finds nothing to do."""
        tx = _Expanding(tx, self)
        await self._lock_queue(tx, wait=True)
        await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows, _ = await tx.execute("SELECT version FROM schema_version")
        current = int(rows[0]["version"]) if rows else 0
        if current > len(migrations):
            raise StoreError(
                f"the run store {self.where} has schema version {current}, newer than this bot knows ({len(migrations)})",
                "upgrade this replica to the version the others run (or point it at another database)",
            )
        for steps in migrations[current:]:
            for step in steps:
                if isinstance(step, str):
                    await tx.execute(step)
                else:
                    await step(tx)
        if current < len(migrations):
            await tx.execute("DELETE FROM schema_version")
            await tx.execute(f"INSERT INTO schema_version (version) VALUES ({len(migrations)})")

    async def schema_version(self) -> int:
        return int((await self._rows("SELECT version FROM schema_version"))[0]["version"])

    # -- runs ----------------------------------------------------------------------------------
    async def create(self, *, trigger: str, channel: str, thread_ts: str | None, invoker: str, response_url: str | None = None,
                     owner: str | None = None, lease_s: float = 0.0) -> int:
        now = time.time()
        try:
            rows = await self._rows(
                "INSERT INTO runs (created_at, updated_at, trigger, channel, thread_ts, thread_key, invoker, response_url, status,"
                " owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now} + ?)"
                " RETURNING id",
                (now, now, trigger, channel, thread_ts, thread_ts or "channel-history", invoker, response_url,
                 RunState.QUEUED.value, owner, lease_s),
            )
        except Exception as exc:
            if self._is_conflict(exc):
                raise ThreadBusy(f"{channel}/{thread_ts or 'channel-history'} already has an unfinished run") from None
            raise
        return int(rows[0]["id"])

    async def update(self, run_id: int, **values: Any) -> None:
        """Set columns; ``run`` takes a Run: its status and error columns and its facts (with mode and cause)."""
        if (run := values.pop("run", None)) is not None:
            values.update(_columns(run))
        if isinstance(values.get("status"), RunState):
            values["status"] = values["status"].value
        if "sections" in values:
            values["sections"] = json.dumps([[s.id.value if s.id else None, s.title, s.body] for s in values["sections"]])
        cols = ", ".join(f"{name} = ?" for name in values)
        await self._q(f"UPDATE runs SET {cols}, updated_at = ? WHERE id = ?", (*values.values(), time.time(), run_id))

    async def mark_posted(self, run_id: int, item: str, ts: str | None) -> None:
        await self._q("INSERT INTO posted (run_id, item, ts) VALUES (?, ?, ?) ON CONFLICT (run_id, item) DO UPDATE SET ts = excluded.ts",
                      (run_id, item, ts))

    async def claim_delivery(self, delivery_id: str) -> bool:
        _, changed = await self._q("INSERT INTO deliveries (delivery_id, seen_at) VALUES (?, ?) ON CONFLICT (delivery_id) DO NOTHING",
                                   (delivery_id, time.time()))
        return changed == 1

    async def forget_deliveries(self, older_than_s: float) -> int:
        return (await self._q("DELETE FROM deliveries WHERE seen_at < ?", (time.time() - older_than_s,)))[1]

    async def requeue_failed(self, run: Run, *, owner: str, lease_s: float) -> bool:
        columns = _columns(run)
        try:
            _, changed = await self._q(
                "UPDATE runs SET info = ?, status = ?, error = ?, owner = ?, lease_until = {now} + ?, claimed = 0, updated_at = ?"
                " WHERE id = ? AND status = ?",
                (columns["info"], columns["status"], columns["error"], owner, lease_s, time.time(), run.id, RunState.FAILED.value),
            )
        except Exception as exc:
            if self._is_conflict(exc):  # another run of the thread was accepted in between
                return False
            raise
        return changed == 1

    # -- the queue -----------------------------------------------------------------------------
    async def claim_next(self, owner: str, *, capacity: int, lease_s: float, sink: SinkFactory[S]) -> Claimed[S] | None:
        async def claim(tx: Tx) -> dict[str, Any] | None:
            if not await self._lock_queue(tx):
                return None  # another replica is claiming this instant; the caller looks again soon
            busy, _ = await tx.execute(f"SELECT COUNT(*) AS n FROM runs WHERE claimed = 1 AND lease_until > {{now}} AND status IN {_ACTIVE_SQL}")
            if int(busy[0]["n"]) >= capacity:
                return None
            rows, _ = await tx.execute(f"{_RUN_ROW} WHERE status IN {_ACTIVE_SQL} AND (owner IS NULL OR lease_until < {{now}})"
                                       f" ORDER BY id LIMIT 1{self.SKIP_LOCKED}")
            if not rows:
                return None
            await tx.execute("UPDATE runs SET owner = ?, lease_until = {now} + ?, claimed = 1, attempts = attempts + 1 WHERE id = ?",
                             (owner, lease_s, rows[0]["id"]))
            return rows[0]

        row = await self._tx(claim)
        if row is None:
            return None
        takeover = row["owner"] is not None or int(row["attempts"]) > 0 or row["status"] != RunState.QUEUED.value
        record = self._record(row)
        saver = sink(self, record.id, record.status_ts)
        return Claimed(record.run(saver), saver, takeover, record.attempts + 1, record.created_at)

    async def heartbeat(self, run_id: int, owner: str, lease_s: float) -> bool:
        async def renew(tx: Tx) -> bool:
            _, changed = await tx.execute("UPDATE runs SET lease_until = {now} + ? WHERE id = ? AND owner = ?", (lease_s, run_id, owner))
            await tx.execute("UPDATE llm_calls SET lease_until = {now} + ? WHERE owner = ?", (lease_s, owner))
            return changed == 1
        return await self._tx(renew)

    async def take_llm_slot(self, owner: str, servers: list[str], *, per_server: int, lease_s: float) -> tuple[int, str] | None:
        async def take(tx: Tx) -> tuple[int, str] | None:
            if not await self._lock_queue(tx):
                return None
            await tx.execute("DELETE FROM llm_calls WHERE lease_until < {now}")
            rows, _ = await tx.execute("SELECT server, COUNT(*) AS n FROM llm_calls GROUP BY server")
            busy = {r["server"]: int(r["n"]) for r in rows}
            free = [s for s in servers if busy.get(s, 0) < per_server]
            if not free:
                return None
            server = min(free, key=lambda s: busy.get(s, 0))  # min keeps the first of equals: the caller's preference
            rows, _ = await tx.execute("INSERT INTO llm_calls (server, owner, lease_until) VALUES (?, ?, {now} + ?) RETURNING id",
                                       (server, owner, lease_s))
            return int(rows[0]["id"]), server
        return await self._tx(take)

    async def give_back_llm_slot(self, slot_id: int) -> None:
        await self._q("DELETE FROM llm_calls WHERE id = ?", (slot_id,))

    async def release(self, run_id: int, owner: str) -> None:
        await self._q("UPDATE runs SET owner = NULL, lease_until = NULL, claimed = 0 WHERE id = ? AND owner = ?", (run_id, owner))

    # -- reads ---------------------------------------------------------------------------------
    async def get(self, run_id: int) -> RunRecord | None:
        rows = await self._rows(f"{_RUN_ROW} WHERE id = ?", (run_id,))
        return self._record(rows[0]) if rows else None

    async def recent(self, limit: int = 20) -> list[RunRecord]:
        return [self._record(r) for r in await self._rows(f"{_RUN_ROW} ORDER BY id DESC LIMIT ?", (limit,))]

    async def latest_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        rows = await self._rows(f"{_RUN_ROW} WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT 1", (channel, thread_ts))
        return self._record(rows[0]) if rows else None

    async def digest_posted(self, channel: str, thread_ts: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM posted JOIN runs ON runs.id = posted.run_id WHERE runs.channel = ?"
                                     " AND runs.thread_ts = ? AND posted.item LIKE ? LIMIT 1", (channel, thread_ts, "digest/%")))

    async def ahead(self, run_id: int) -> int:
        rows = await self._rows(f"SELECT COUNT(*) AS n FROM runs WHERE status IN {_ACTIVE_SQL} AND id < ?", (run_id,))
        return int(rows[0]["n"])

    def _record(self, row: dict[str, Any]) -> RunRecord:
        # The status and error are their columns'; a row written by an older bot keeps copies in the JSON: ignored.
        info: dict[str, Any] = json.loads(row["info"]) if row["info"] else {}
        posted = row["posted_items"]
        if isinstance(posted, str):
            posted = json.loads(posted)
        sections = None
        if row["sections"]:
            sections = [Section(SectionId(sid) if sid else None, title, body) for sid, title, body in json.loads(row["sections"])]
        return RunRecord(
            id=int(row["id"]), created_at=row["created_at"], trigger=row["trigger"], channel=row["channel"],
            thread_ts=row["thread_ts"], invoker=row["invoker"], status=_status(row["status"]),
            response_url=row["response_url"], error=row["error"], status_ts=row["status_ts"],
            facts=RunFacts.from_dict(info) if info else None, mode=str(info.get("mode") or "full"), cause=info.get("cause"),
            sections=sections, summary=row["summary"], report=row["report"], posted=dict(posted or {}), attempts=int(row["attempts"]),
        )
