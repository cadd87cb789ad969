"""The embedded run store: SQLite in DATA_DIR/runs.db. Standard library only, no server, one replica.

Calls are short local transactions, but a disk can stall (a full or network file system, another process holding the
write lock), so every call runs on one worker thread of the store's own, never on the event loop, and statements from
concurrent coroutines never interleave inside a transaction. The run's RunFacts is stored whole as JSON (``info``), so
a resumed run keeps redaction counts, omissions and warnings.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.runs.migrations import SQLITE, Rows, Tx
from bot.runs.sql import SqlRunStore

log = logging.getLogger(__name__)
T = TypeVar("T")


def _move_aside(path: Path) -> Path:
    """A corrupt store is kept for inspection, never deleted: runs.db → runs.db.corrupt-20261123T104500Z."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


class _Thread:
    """The store's one connection, used only from its one worker thread."""

    def __init__(self, db: sqlite3.Connection, pool: ThreadPoolExecutor) -> None:
        self.db, self.pool = db, pool

    async def call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        return await self.call(partial(self._execute, sql, params))

    def _execute(self, sql: str, params: tuple[Any, ...]) -> Rows:
        cur = self.db.execute(sql, params)
        rows = [dict(r) for r in cur.fetchall()] if cur.description else []
        return rows, cur.rowcount


class SqliteRunStore(SqlRunStore):
    # julianday has sub-second precision on every SQLite this runs on (unixepoch('subsec') needs 3.42).
    NOW = "((julianday('now') - 2440587.5) * 86400.0)"
    POSTED = "(SELECT json_group_object(item, ts) FROM posted WHERE posted.run_id = runs.id)"
    fix = "make DATA_DIR a writable folder with free space (or set DATA_DIR elsewhere); a corrupt file is moved aside automatically"

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        super().__init__(timeout_s)
        self.path = path
        self.moved_aside: Path | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="run-store")
        self._conn: _Thread | None = None
        # One transaction (or statement) at a time on the one connection.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, *, timeout_s: float = 5.0) -> SqliteRunStore:
        store = cls(path, timeout_s=timeout_s)
        try:
            await store._open_or_move_aside()
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def where(self) -> str:
        return str(self.path)

    async def _open_or_move_aside(self) -> None:
        try:
            await self._open()
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc) and "malformed" not in str(exc):
                raise self._error("open", exc) from None
            self.moved_aside = _move_aside(self.path)
            log.warning("run store %s was corrupt: moved aside to %s; starting a new one", self.path, self.moved_aside)
            try:
                await self._open()
            except sqlite3.Error as again:
                raise self._error("open", again) from None
        except OSError as exc:
            raise self._error("open", exc) from None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The busy timeout bounds a wait for another process's write lock (`python -m bot runs` reading meanwhile).
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.timeout_s)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            # A kill -9 between statements must never leave a half-written run behind.
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    async def _open(self) -> None:
        conn = _Thread(await asyncio.get_running_loop().run_in_executor(self._pool, self._connect), self._pool)
        self._conn = conn
        try:
            # Also catches a store that opens but cannot be written (read-only file or folder) now, not mid-run.
            # Unbounded and unconverted: a corrupt file's error must reach _open_or_move_aside as sqlite raised it.
            await self._run_transaction(lambda tx: self._apply_migrations(tx, SQLITE))
        except BaseException:
            self._conn = None
            await conn.call(conn.db.close)
            raise

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            async with self._lock:
                await conn.call(conn.db.close)
        self._pool.shutdown(wait=False)

    def _connection(self) -> _Thread:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the run store is closed")
        return self._conn

    async def _run(self, sql: str, params: tuple[Any, ...]) -> Rows:
        async with self._lock:
            return await self._connection().execute(sql, params)

    async def _run_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        async with self._lock:
            conn = self._connection()
            # IMMEDIATE takes the write lock up front, so two claims never interleave.
            await conn.execute("BEGIN IMMEDIATE")
            try:
                result = await work(conn)
            except BaseException:
                await asyncio.shield(conn.execute("ROLLBACK"))
                raise
            await conn.execute("COMMIT")
            return result

    async def _lock_queue(self, tx: Tx, *, wait: bool = False) -> bool:
        """BEGIN IMMEDIATE already holds the database's only write lock."""
        return True

    def _is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    async def adopt_orphans(self) -> None:
        """One bot per DATA_DIR: at its start-up no lease in the file can belong to a live worker."""
        await self._q("UPDATE runs SET owner = NULL, lease_until = NULL, claimed = 0 WHERE owner IS NOT NULL")
        await self._q("DELETE FROM llm_calls")
