"""Every store test runs on both backends: SQLite in a temporary folder, and a fresh database on the session's real
PostgreSQL. ``open_store`` opens another store on the same database, as another replica would (its own connections)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings

OpenStore = Callable[[], Awaitable[SqlRunStore]]


@pytest.fixture(params=["sqlite", "postgres"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenStore]:
    opened: list[SqlRunStore] = []
    if request.param == "postgres":
        url = request.getfixturevalue("postgres").new_database()

        async def make() -> SqlRunStore:
            opened.append(await PostgresRunStore.open(url, load_settings()))
            return opened[-1]
    else:
        async def make() -> SqlRunStore:
            opened.append(await SqliteRunStore.open(tmp_path / "runs.db"))
            return opened[-1]
    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> SqlRunStore:
    return await open_store()
