"""The shared run store: PostgreSQL (``DATABASE_URL=postgresql://…``), for several replicas of the bot.

psycopg 3's async connection pool (psycopg_pool): no call blocks the event loop, and concurrent triggers and workers
use separate connections instead of queueing behind one. Every call is bounded on the client
(DATABASE_STATEMENT_TIMEOUT_S, see sql.py), so a stalled network cannot hold a caller longer than that; the server
enforces the same statement timeout. A replica that dies or stalls mid-transaction lets go: the server ends a session
idle in a transaction after the same time, and TCP keepalives (both ends) notice a peer that vanished.

After a restart or a failover, the pool's connections are dead. Each is checked when it is taken, without a round
trip: an idle connection has nothing to read, so a readable socket is the server's goodbye (or EOF); a dead one is
closed (the pool replaces it) and the next taken. The first call after the database is back therefore works,
instead of failing once per dead connection.

Queue claims are serialised by a transaction-scoped advisory lock taken with ``pg_try_advisory_xact_lock``: a replica
never waits for another (a claim that finds it taken is skipped and tried again at the next poke or poll); the row
itself is taken with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import math
import select
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bot.runs.migrations import POSTGRES, Rows, Tx
from bot.runs.sql import SqlRunStore
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# pg_advisory_xact_lock key for queue claims and migrations: "pmbot" in ASCII.
QUEUE_LOCK_KEY = 0x706D626F74
Connection = psycopg.AsyncConnection[dict[str, Any]]


def describe_url(url: str) -> str:
    """postgresql://user:secret@db:5432/bot → postgresql://db:5432/bot: what a message may show."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "DATABASE_URL (unparseable)"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{host}{port}/{parts.get('dbname') or ''}"


def _pg(sql: str) -> str:
    """The store's SQL for psycopg: ``?`` placeholders become ``%s``, and a literal ``%`` (``LIKE 'a%'``) is escaped,
    because psycopg reads every ``%`` of a query with parameters as a placeholder."""
    return sql.replace("%", "%%").replace("?", "%s")


def connection_kwargs(settings: Settings) -> dict[str, Any]:
    """Session settings for every connection: bounded statements and idle transactions, keepalives both ways."""
    statement_ms = int(settings.database_statement_timeout_s * 1000)
    keepalive = max(1, int(settings.database_statement_timeout_s))
    server = (f"-c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={statement_ms}"
              f" -c tcp_keepalives_idle={keepalive} -c tcp_keepalives_interval={keepalive} -c tcp_keepalives_count=3")
    return {
        "autocommit": True, "row_factory": dict_row, "application_name": "postmortem-bot", "options": server,
        "connect_timeout": max(2, math.ceil(settings.database_connect_timeout_s)),  # libpq's minimum is 2 s
        "keepalives": 1, "keepalives_idle": keepalive, "keepalives_interval": keepalive, "keepalives_count": 3,
        "tcp_user_timeout": statement_ms,  # unacknowledged data for this long: the connection is dead
    }


def _dead(conn: Connection) -> bool:
    """No round trip: an idle connection has nothing to read, so anything readable is an error the server sent before
    closing (restart, failover, terminated session) or the end of the stream."""
    if conn.closed or conn.broken:
        return True
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return bool(readable)


class _PgTx:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        cur = await self.conn.execute(_pg(sql), params)
        rows = await cur.fetchall() if cur.description else []
        return rows, cur.rowcount


class PostgresRunStore(SqlRunStore):
    NOW = "extract(epoch from clock_timestamp())::double precision"
    POSTED = "(SELECT json_object_agg(item, ts) FROM posted WHERE posted.run_id = runs.id)"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    # No user:password@ example here: the log redaction would (rightly) mask it.
    fix = ("check DATABASE_URL (postgresql://host:5432/dbname, with the user and password the server needs) and that the "
           "PostgreSQL server is up and reachable")

    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__(settings.database_statement_timeout_s)
        self.url = url
        self._where = describe_url(url)
        self._kwargs = connection_kwargs(settings)
        self._connect_timeout_s = settings.database_connect_timeout_s
        self.pool = AsyncConnectionPool[Connection](url, connection_class=Connection, kwargs=self._kwargs, min_size=1,
                                                    max_size=settings.database_pool_size, open=False, timeout=self.timeout_s,
                                                    name="run-store")

    @classmethod
    async def open(cls, url: str, settings: Settings) -> PostgresRunStore:
        """Connect once to say precisely why not (the pool would only time out), migrate, then start the pool."""
        store = cls(url, settings)
        first = await store._bounded("connect to", psycopg.AsyncConnection.connect(url, **store._kwargs))
        try:
            await store._migrate(POSTGRES, lambda work: store._transaction_on(first, work))
        finally:
            await first.close()
        await store.pool.open(wait=False)
        return store

    @property
    def where(self) -> str:
        return self._where

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A live connection from the pool. Dead ones (the server restarted) are closed, which makes the pool replace
        them, and the next is taken at once: the pool's own check would back off a second per dead connection."""
        while _dead(conn := await self.pool.getconn()):
            await conn.close()
            await self.pool.putconn(conn)
        try:
            yield conn
        finally:
            await self.pool.putconn(conn)  # a connection left mid-query or mid-transaction is discarded, not reused

    async def _run(self, sql: str, params: tuple[Any, ...]) -> Rows:
        async with self._connection() as conn:
            return await _PgTx(conn).execute(sql, params)

    async def _run_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        async with self._connection() as conn:
            return await self._transaction_on(conn, work)

    @staticmethod
    async def _transaction_on(conn: Connection, work: Callable[[Tx], Awaitable[T]]) -> T:
        async with conn.transaction():
            return await work(_PgTx(conn))

    async def _lock_queue(self, tx: Tx, *, wait: bool = False) -> bool:
        if wait:
            await tx.execute(f"SELECT pg_advisory_xact_lock({QUEUE_LOCK_KEY})")
            return True
        rows, _ = await tx.execute(f"SELECT pg_try_advisory_xact_lock({QUEUE_LOCK_KEY}) AS taken")
        return bool(rows[0]["taken"])

    def _is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, errors.UniqueViolation)

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.Error)

    async def adopt_orphans(self) -> None:
        """Other replicas may be alive and holding leases: an orphaned run is taken over when its lease expires."""
