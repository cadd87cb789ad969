"""The run store's contract, on SQLite and on a real PostgreSQL: records, posted items, delivery de-duplication,
one unfinished run per thread, retrying a failed run, and the schema migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli.doctor import check_store
from bot.core.report import RunInfo
from bot.core.run import UNFINISHED, RunState
from bot.core.sections import Section, SectionId
from bot.errors import ConfigError
from bot.runs import StoreError, ThreadBusy
from bot.runs.migrations import POSTGRES, SQLITE
from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.postgres import PostgresServer
from tests.runs.conftest import OpenStore


def unfinished(store: SqlRunStore) -> list[int]:
    return sorted(r.id for r in store.recent() if r.status in UNFINISHED)


def new_run(store: SqlRunStore, thread_ts: str | None = "1.1", channel: str = "C1") -> int:
    return store.create(trigger="reaction", channel=channel, thread_ts=thread_ts, invoker="U1")


def test_a_run_round_trips_with_its_info_sections_and_posted_items(store: SqlRunStore) -> None:
    run = store.create(trigger="command", channel="C1", thread_ts="1.1", invoker="U1", response_url="http://r")
    info = RunInfo(prompt_version="v1", model="m", redactions={"email": 2}, warnings=["w"])
    info.advance(RunState.COLLECTING)
    sections = [Section(SectionId.ROOT_CAUSE, "Root cause", "body ✓"), Section(None, "Raw", "x")]
    store.update(run, info=info, sections=sections, report="# r", summary="s", status_ts="9.9")
    store.mark_posted(run, "section:root_cause#1/0", "2.2")
    store.mark_posted(run, "section:root_cause#1/0", "2.3")  # re-recording an item keeps one row, the newest ts
    record = store.get(run)
    assert record is not None
    assert (record.status, record.trigger, record.response_url, record.status_ts) == (RunState.COLLECTING, "command", "http://r", "9.9")
    assert record.info is not None and record.info.redactions == {"email": 2} and record.info.warnings == ["w"]
    assert record.sections == sections and (record.report, record.summary) == ("# r", "s")
    assert record.posted == {"section:root_cause#1/0": "2.3"}
    assert store.get(run + 1000) is None
    assert [r.id for r in store.recent()] == [run]
    assert store.latest_for_thread("C1", "1.1") == record


def test_a_delivery_is_claimed_once_across_stores(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    assert first.claim_delivery("event:Ev1") is True
    assert second.claim_delivery("event:Ev1") is False
    assert first.claim_delivery("event:Ev1") is False
    assert second.claim_delivery("event:Ev2") is True


def test_old_delivery_ids_are_forgotten_and_recent_ones_kept(store: SqlRunStore) -> None:
    assert store.claim_delivery("event:old")
    store._q("UPDATE deliveries SET seen_at = seen_at - 8 * 24 * 3600 WHERE delivery_id = 'event:old'")
    assert store.claim_delivery("event:new")
    assert store.forget_deliveries(7 * 24 * 3600) == 1
    assert store.claim_delivery("event:new") is False  # still known: a retry is still ignored


def test_one_unfinished_run_per_thread(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    run = new_run(first)
    with pytest.raises(ThreadBusy):
        new_run(second)  # another replica, same thread
    new_run(second, thread_ts="2.2")  # another thread is fine
    new_run(second, thread_ts=None)  # and a channel-history run
    with pytest.raises(ThreadBusy):
        new_run(first, thread_ts=None)
    info = RunInfo(prompt_version="v1", model="m")
    info.advance(RunState.COLLECTING)
    info.advance(RunState.ANALYSING)
    info.advance(RunState.POSTING)
    info.advance(RunState.DONE)
    first.update(run, info=info)
    again = new_run(second)  # `again` after a finished run
    assert again != run and first.latest_for_thread("C1", "1.1").id == again  # type: ignore[union-attr]


def test_a_failed_run_is_queued_again_by_one_trigger_only(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    run = new_run(first)
    info = RunInfo(prompt_version="v1", model="m")
    info.advance(RunState.FAILED, error="boom")
    first.update(run, info=info)
    assert unfinished(first) == []
    info.advance(RunState.QUEUED)
    assert first.requeue_failed(run, info, owner="a", lease_s=30) is True
    assert second.requeue_failed(run, info, owner="b", lease_s=30) is False  # already queued by the first
    assert unfinished(second) == [run]
    with pytest.raises(ThreadBusy):
        new_run(second)


def test_migrations_record_the_version_and_run_once(open_store: OpenStore) -> None:
    first = open_store()
    second = open_store()  # opening again finds nothing to apply
    assert first.schema_version == second.schema_version == len(SQLITE) == len(POSTGRES)
    assert first._rows("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == 1


def test_a_store_newer_than_the_bot_is_refused(open_store: OpenStore) -> None:
    first = open_store()
    first._q("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99, newer than this bot knows") as err:
        open_store()
    assert "upgrade this replica" in (err.value.fix or "")


def test_a_0_1_sqlite_store_is_upgraded_in_place(tmp_path: Path) -> None:
    """A store written before the migrations existed: old columns, no info/queue columns, two unfinished runs of one
    thread. It opens, keeps its runs, and the older duplicate is marked failed so the unique index holds."""
    path = tmp_path / "runs.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            trigger TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT, invoker TEXT NOT NULL, response_url TEXT,
            status TEXT NOT NULL, error TEXT, status_ts TEXT, sections TEXT, summary TEXT, report TEXT);
        CREATE TABLE posted (run_id INTEGER NOT NULL, item TEXT NOT NULL, ts TEXT, PRIMARY KEY (run_id, item));
        CREATE TABLE deliveries (delivery_id TEXT PRIMARY KEY, run_id INTEGER, seen_at REAL NOT NULL);
        INSERT INTO runs (created_at, updated_at, trigger, channel, thread_ts, invoker, status) VALUES
            (1, 1, 'reaction', 'C1', '1.1', 'U1', 'narrating'), (2, 2, 'reaction', 'C1', '1.1', 'U1', 'queued'),
            (3, 3, 'reaction', 'C1', '2.2', 'U1', 'done');
    """)
    db.close()
    store = SqliteRunStore(path)
    try:
        assert [(r.id, r.status) for r in store.recent()] == [(3, RunState.DONE), (2, RunState.QUEUED), (1, RunState.FAILED)]
        assert unfinished(store) == [2]
        with pytest.raises(ThreadBusy):
            new_run(store)
    finally:
        store.close()


def test_an_unreachable_postgres_names_the_server_and_the_fix_but_never_the_password(postgres: PostgresServer) -> None:
    url = f"postgresql://bot:hunter2@127.0.0.1:{postgres.port + 1}/runs"  # nothing listens on the next port
    with pytest.raises(StoreError) as err:
        PostgresRunStore(url)
    text = f"{err.value.message} {err.value.fix}"
    assert "hunter2" not in text and f"127.0.0.1:{postgres.port + 1}/runs" in text and "DATABASE_URL" in text


def test_a_lost_postgres_connection_is_replaced_on_the_next_call(postgres: PostgresServer) -> None:
    store = PostgresRunStore(postgres.new_database())
    try:
        run = new_run(store)
        store.db.close()  # what a server restart leaves behind
        assert store.get(run) is not None
    finally:
        store.close()


def test_doctor_opens_the_shared_store_or_says_why_not(postgres: PostgresServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres.new_database()
    assert check_store(load_settings(database_url=url))
    assert check_store(load_settings(database_url=f"postgresql://bot:hunter2@127.0.0.1:{postgres.port + 1}/runs")) is False
    out = capsys.readouterr().out
    assert f"[ok] run store: PostgreSQL at postgresql://127.0.0.1:{postgres.port}/" in out
    assert "[FAIL] run store: cannot connect to the run store" in out and "DATABASE_URL" in out and "hunter2" not in out


def test_a_database_url_that_is_not_postgresql_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as err:
        load_settings(database_url="mysql://db/runs")
    assert "postgresql://" in err.value.message
