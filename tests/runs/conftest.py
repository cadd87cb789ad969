"""Every store test runs on both backends: SQLite in a temporary folder, and a fresh database on the session's real
PostgreSQL. ``open_store`` opens another store on the same database, as another replica would (its own connection)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore

OpenStore = Callable[[], SqlRunStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    opened: list[SqlRunStore] = []
    if request.param == "postgres":
        url = request.getfixturevalue("postgres").new_database()

        def make() -> SqlRunStore:
            opened.append(PostgresRunStore(url))
            return opened[-1]
    else:
        def make() -> SqlRunStore:
            opened.append(SqliteRunStore(tmp_path / "runs.db"))
            return opened[-1]
    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> SqlRunStore:
    return open_store()
