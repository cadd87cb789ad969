"""The shared run store: PostgreSQL (``DATABASE_URL=postgresql://…``), for several replicas of the bot.

psycopg 3, synchronous, one connection per store, autocommit: every call is one statement or one short transaction,
a round trip to a nearby server. A statement timeout bounds how long a stalled server can hold the event loop, and
a broken connection (the server restarted) is replaced on the next call. Queue claims are serialised by a
transaction-scoped advisory lock, so "fewer than N runs in progress" holds across replicas; the row itself is taken
with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from bot.runs.migrations import POSTGRES
from bot.runs.sql import SqlRunStore

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for queue claims and migrations: "pmbot" in ASCII.
_LOCK_KEY = 0x706D626F74
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 5000


def describe_url(url: str) -> str:
    """postgresql://user:secret@db:5432/bot → postgresql://db:5432/bot: what a message may show."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "DATABASE_URL (unparseable)"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{host}{port}/{parts.get('dbname') or ''}"


class PostgresRunStore(SqlRunStore):
    NOW = "extract(epoch from clock_timestamp())::double precision"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    # No user:password@ example here: the log redaction would (rightly) mask it.
    fix = ("check DATABASE_URL (postgresql://host:5432/dbname, with the user and password the server needs) and that the "
           "PostgreSQL server is up and reachable")

    def __init__(self, url: str) -> None:
        self.url = url
        self.moved_aside = None
        self._where = describe_url(url)
        # psycopg connections are not meant for concurrent use; the CLI or a to_thread caller must not interleave.
        self._lock = threading.RLock()
        self.db = self._connect()
        try:
            self._migrate(POSTGRES)
        except psycopg.Error as exc:
            self.db.close()
            raise self._error("prepare", exc) from None

    @property
    def where(self) -> str:
        return self._where

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S,
                                   options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}", application_name="postmortem-bot")
        except psycopg.Error as exc:
            raise self._error("connect to", exc) from None

    def _ensure_connected(self) -> None:
        if self.db.broken or self.db.closed:
            log.warning("run store %s: connection lost; reconnecting", self._where)
            self.db = self._connect()

    def close(self) -> None:
        self.db.close()

    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._ensure_connected()
            cur = self.db.execute(sql.replace("?", "%s"), params)
            rows = cur.fetchall() if cur.description else []
            return rows, cur.rowcount

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._ensure_connected()
            with self.db.transaction():
                yield

    def _lock_queue(self) -> None:
        self._execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})", ())

    def _is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, errors.UniqueViolation)

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.Error)

    def adopt_orphans(self) -> None:
        """Other replicas may be alive and holding leases: an orphaned run is taken over when its lease expires."""
