"""Opening the run store the settings name: SQLite in DATA_DIR, or PostgreSQL at DATABASE_URL."""

from __future__ import annotations

from bot.runs.store import RunStore
from bot.settings import Settings


async def open_store(settings: Settings) -> RunStore:
    """``DATABASE_URL`` unset: SQLite in DATA_DIR. ``postgresql://…``: the shared PostgreSQL store. Opened and
    migrated, or a StoreError naming the store and the fix."""
    # Imported here: psycopg loads only when PostgreSQL is used.
    if settings.database_url is None:
        from bot.runs.sqlite import SqliteRunStore

        return await SqliteRunStore.open(settings.data_dir / "runs.db", timeout_s=settings.database_statement_timeout_s)
    from bot.runs.postgres import PostgresRunStore

    return await PostgresRunStore.open(settings.database_url.get_secret_value(), settings)
