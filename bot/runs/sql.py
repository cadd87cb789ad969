"""The run store's logic, once, in SQL both SQLite (3.35+) and PostgreSQL speak: ``?`` placeholders (the PostgreSQL
store rewrites them), ``ON CONFLICT``, ``RETURNING``, partial unique indexes. A backend supplies the connection, the
clock expression, its lock for queue claims and its error classes.

Lease times come from the database's clock, not each replica's, so replicas whose clocks drift still agree on
whether a lease has expired.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bot.core.report import RunInfo
from bot.core.run import UNFINISHED, RunState
from bot.core.sections import Section, SectionId
from bot.runs.migrations import Step
from bot.runs.store import Claim, RunRecord, StoreError, ThreadBusy

# 0.1 recorded narration as its own status; it is part of posting now.
_ACTIVE_SQL = "(" + ", ".join(f"'{s}'" for s in sorted([*UNFINISHED, "narrating"])) + ")"
_LEGACY_STATUS = {"narrating": RunState.POSTING}


def _status(value: str) -> RunState:
    return _LEGACY_STATUS.get(value) or RunState(value)


class SqlRunStore(ABC):
    """Implements bot.runs.store.RunStore; a subclass opens the database and calls ``_migrate`` with its steps."""

    moved_aside: Path | None = None
    # SQL for "now" in seconds since the epoch, evaluated by the database.
    NOW: str

    # -- what a backend provides -----------------------------------------------------------------
    @property
    @abstractmethod
    def where(self) -> str: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[list[dict[str, Any]], int]:
        """Run one statement; its rows (empty when it returns none) and how many rows it changed."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """Statements inside run in one transaction that holds the write lock the backend needs for claims."""

    @abstractmethod
    def _lock_queue(self) -> None:
        """Serialise queue claims across every process sharing the database (inside ``_transaction``)."""

    @abstractmethod
    def _is_conflict(self, exc: BaseException) -> bool:
        """A unique-constraint violation (as opposed to the database failing)."""

    @abstractmethod
    def _is_db_error(self, exc: BaseException) -> bool: ...

    SKIP_LOCKED: str = ""  # PostgreSQL: skip rows another transaction is writing rather than wait for them

    # -- plumbing ------------------------------------------------------------------------------
    def _error(self, action: str, exc: BaseException) -> StoreError:
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        return StoreError(f"cannot {action} the run store {self.where} ({reason})", self.fix)

    fix = "check the run store's settings"

    def _q(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        try:
            return self._execute(sql.replace("{now}", self.NOW), params)
        except Exception as exc:
            if self._is_conflict(exc):
                raise
            if self._is_db_error(exc):
                raise self._error("read" if sql.lstrip().upper().startswith("SELECT") else "write", exc) from None
            raise

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        return self._q(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return self._q(sql, params)[0]

    def _migrate(self, migrations: list[list[Step]]) -> None:
        """Apply the missing migrations in one transaction; a concurrent replica waits, then finds nothing to do."""
        def execute(sql: str) -> list[dict[str, Any]]:
            return self._execute(sql, ())[0]

        with self._transaction():
            self._lock_queue()
            execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            rows = execute("SELECT version FROM schema_version")
            current = int(rows[0]["version"]) if rows else 0
            if current > len(migrations):
                raise StoreError(
                    f"the run store {self.where} has schema version {current}, newer than this bot knows ({len(migrations)})",
                    "upgrade this replica to the version the others run (or point it at another database)",
                )
            for steps in migrations[current:]:
                for step in steps:
                    if isinstance(step, str):
                        execute(step)
                    else:
                        step(execute)
            if current < len(migrations):
                execute("DELETE FROM schema_version")
                execute(f"INSERT INTO schema_version (version) VALUES ({len(migrations)})")

    @property
    def schema_version(self) -> int:
        return int(self._rows("SELECT version FROM schema_version")[0]["version"])

    # -- runs ----------------------------------------------------------------------------------
    def create(self, *, trigger: str, channel: str, thread_ts: str | None, invoker: str, response_url: str | None = None,
               owner: str | None = None, lease_s: float = 0.0) -> int:
        now = time.time()
        try:
            rows = self._rows(
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

    def update(self, run_id: int, **values: Any) -> None:
        """Set columns; ``info`` takes a RunInfo (its status and error are mirrored into their columns)."""
        info = values.pop("info", None)
        if isinstance(info, RunInfo):
            values.update(info=json.dumps(info.to_dict()), status=info.status.value, error=info.error)
        if isinstance(values.get("status"), RunState):
            values["status"] = values["status"].value
        if "sections" in values:
            values["sections"] = json.dumps([[s.id.value if s.id else None, s.title, s.body] for s in values["sections"]])
        cols = ", ".join(f"{name} = ?" for name in values)
        self._q(f"UPDATE runs SET {cols}, updated_at = ? WHERE id = ?", (*values.values(), time.time(), run_id))

    def mark_posted(self, run_id: int, item: str, ts: str | None) -> None:
        self._q("INSERT INTO posted (run_id, item, ts) VALUES (?, ?, ?) ON CONFLICT (run_id, item) DO UPDATE SET ts = excluded.ts",
                (run_id, item, ts))

    def claim_delivery(self, delivery_id: str) -> bool:
        _, changed = self._q("INSERT INTO deliveries (delivery_id, seen_at) VALUES (?, ?) ON CONFLICT (delivery_id) DO NOTHING",
                             (delivery_id, time.time()))
        return changed == 1

    def forget_deliveries(self, older_than_s: float) -> int:
        return self._q("DELETE FROM deliveries WHERE seen_at < ?", (time.time() - older_than_s,))[1]

    def requeue_failed(self, run_id: int, info: RunInfo, *, owner: str, lease_s: float) -> bool:
        try:
            _, changed = self._q(
                "UPDATE runs SET info = ?, status = ?, error = ?, owner = ?, lease_until = {now} + ?, claimed = 0, updated_at = ?"
                " WHERE id = ? AND status = ?",
                (json.dumps(info.to_dict()), info.status.value, info.error, owner, lease_s, time.time(), run_id, RunState.FAILED.value),
            )
        except Exception as exc:
            if self._is_conflict(exc):  # another run of the thread was accepted in between
                return False
            raise
        return changed == 1

    # -- the queue -----------------------------------------------------------------------------
    def claim_next(self, owner: str, *, capacity: int, lease_s: float) -> Claim | None:
        try:
            with self._transaction():
                self._lock_queue()
                busy = self._rows(f"SELECT COUNT(*) AS n FROM runs WHERE claimed = 1 AND lease_until > {{now}} AND status IN {_ACTIVE_SQL}")
                if int(busy[0]["n"]) >= capacity:
                    return None
                rows = self._rows(
                    f"SELECT * FROM runs WHERE status IN {_ACTIVE_SQL} AND (owner IS NULL OR lease_until < {{now}})"
                    f" ORDER BY id LIMIT 1{self.SKIP_LOCKED}"
                )
                if not rows:
                    return None
                row = rows[0]
                self._q("UPDATE runs SET owner = ?, lease_until = {now} + ?, claimed = 1, attempts = attempts + 1 WHERE id = ?",
                        (owner, lease_s, row["id"]))
        except Exception as exc:
            if self._is_db_error(exc) and not isinstance(exc, StoreError):
                raise self._error("write", exc) from None
            raise
        takeover = row["owner"] is not None or int(row["attempts"]) > 0 or row["status"] != RunState.QUEUED.value
        record = self._record(row)
        record.attempts += 1
        return Claim(record, takeover)

    def heartbeat(self, run_id: int, owner: str, lease_s: float) -> bool:
        _, changed = self._q("UPDATE runs SET lease_until = {now} + ? WHERE id = ? AND owner = ?", (lease_s, run_id, owner))
        self._q("UPDATE llm_calls SET lease_until = {now} + ? WHERE owner = ?", (lease_s, owner))
        return changed == 1

    def take_llm_slot(self, owner: str, servers: list[str], *, per_server: int, lease_s: float) -> tuple[int, str] | None:
        try:
            with self._transaction():
                self._lock_queue()
                self._q("DELETE FROM llm_calls WHERE lease_until < {now}")
                busy = {r["server"]: int(r["n"]) for r in self._rows("SELECT server, COUNT(*) AS n FROM llm_calls GROUP BY server")}
                free = [s for s in servers if busy.get(s, 0) < per_server]
                if not free:
                    return None
                server = min(free, key=lambda s: busy.get(s, 0))  # min keeps the first of equals: the caller's preference
                rows = self._rows("INSERT INTO llm_calls (server, owner, lease_until) VALUES (?, ?, {now} + ?) RETURNING id",
                                  (server, owner, lease_s))
        except Exception as exc:
            if self._is_db_error(exc) and not isinstance(exc, StoreError):
                raise self._error("write", exc) from None
            raise
        return int(rows[0]["id"]), server

    def give_back_llm_slot(self, slot_id: int) -> None:
        self._q("DELETE FROM llm_calls WHERE id = ?", (slot_id,))

    def release(self, run_id: int, owner: str) -> None:
        self._q("UPDATE runs SET owner = NULL, lease_until = NULL, claimed = 0 WHERE id = ? AND owner = ?", (run_id, owner))

    # -- reads ---------------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord | None:
        rows = self._rows("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._record(rows[0]) if rows else None

    def recent(self, limit: int = 20) -> list[RunRecord]:
        return [self._record(r) for r in self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))]

    def latest_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        rows = self._rows("SELECT * FROM runs WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT 1", (channel, thread_ts))
        return self._record(rows[0]) if rows else None

    def digest_posted(self, channel: str, thread_ts: str) -> bool:
        return bool(self._rows("SELECT 1 FROM posted JOIN runs ON runs.id = posted.run_id WHERE runs.channel = ?"
                               " AND runs.thread_ts = ? AND posted.item LIKE 'digest/%' LIMIT 1", (channel, thread_ts)))

    def ahead(self, run_id: int) -> int:
        rows = self._rows(f"SELECT COUNT(*) AS n FROM runs WHERE status IN {_ACTIVE_SQL} AND id < ?", (run_id,))
        return int(rows[0]["n"])

    def _record(self, row: dict[str, Any]) -> RunRecord:
        posted = {r["item"]: r["ts"] for r in self._rows("SELECT item, ts FROM posted WHERE run_id = ?", (row["id"],))}
        sections = None
        if row["sections"]:
            sections = [Section(SectionId(sid) if sid else None, title, body) for sid, title, body in json.loads(row["sections"])]
        return RunRecord(
            id=int(row["id"]), created_at=row["created_at"], trigger=row["trigger"], channel=row["channel"],
            thread_ts=row["thread_ts"], invoker=row["invoker"], status=_status(row["status"]),
            response_url=row["response_url"], error=row["error"], status_ts=row["status_ts"],
            info=RunInfo.from_dict(json.loads(row["info"])) if row["info"] else None,
            sections=sections, summary=row["summary"], report=row["report"], posted=posted, attempts=int(row["attempts"]),
        )
