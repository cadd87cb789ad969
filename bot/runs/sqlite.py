"""The embedded run store: SQLite in DATA_DIR/runs.db. Standard library only, no server, one replica.

Calls are short local transactions (well under a millisecond), so they run inline on the event loop. The run's
RunInfo is stored whole as JSON (``info``), so a resumed run keeps redaction counts, omissions and warnings.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.runs.migrations import SQLITE
from bot.runs.sql import SqlRunStore

log = logging.getLogger(__name__)


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


class SqliteRunStore(SqlRunStore):
    # julianday has sub-second precision on every SQLite this runs on (unixepoch('subsec') needs 3.42).
    NOW = "((julianday('now') - 2440587.5) * 86400.0)"
    fix = "make DATA_DIR a writable folder with free space (or set DATA_DIR elsewhere); a corrupt file is moved aside automatically"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.moved_aside: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc) and "malformed" not in str(exc):
                raise self._error("open", exc) from None
            self.moved_aside = _move_aside(path)
            log.warning("run store %s was corrupt: moved aside to %s; starting a new one", path, self.moved_aside)
            try:
                self.db = self._open()
            except sqlite3.Error as again:
                raise self._error("open", again) from None
        except OSError as exc:
            raise self._error("open", exc) from None

    @classmethod
    def in_dir(cls, data_dir: Path) -> SqliteRunStore:
        return cls(data_dir / "runs.db")

    @property
    def where(self) -> str:
        return str(self.path)

    def _open(self) -> sqlite3.Connection:
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # A kill -9 between statements must never leave a half-written run behind.
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Also catches a store that opens but cannot be written (read-only file or folder) now, not mid-run.
            self._migrate(SQLITE)
        except BaseException:
            self.db.close()
            raise
        return self.db

    def close(self) -> None:
        self.db.close()

    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[list[dict[str, Any]], int]:
        cur = self.db.execute(sql, params)
        rows = [dict(r) for r in cur.fetchall()] if cur.description else []
        return rows, cur.rowcount

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so two claims in one process never interleave.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _lock_queue(self) -> None:
        """BEGIN IMMEDIATE already holds the database's only write lock."""

    def _is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def adopt_orphans(self) -> None:
        """One bot per DATA_DIR: at its start-up no lease in the file can belong to a live worker."""
        self._q("UPDATE runs SET owner = NULL, lease_until = NULL, claimed = 0 WHERE owner IS NOT NULL")
        self._q("DELETE FROM llm_calls")
