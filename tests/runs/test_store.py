"""The run store's contract, on SQLite and on a real PostgreSQL: records, posted items, delivery de-duplication,
one unfinished run per thread, retrying a failed run, and the schema migrations."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli.doctor import check_store
from bot.core.run import UNFINISHED, Run, RunFacts, RunState
from bot.core.sections import Section, SectionId
from bot.errors import ConfigError
from bot.runs import StoreError, ThreadBusy
from bot.runs.feedback import FeedbackVotes
from bot.runs.migrations import POSTGRES, SQLITE
from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.postgres import PostgresServer
from tests.runs.conftest import OpenStore


async def unfinished(store: SqlRunStore) -> list[int]:
    return sorted(r.id for r in await store.recent() if r.status in UNFINISHED)


async def new_run(store: SqlRunStore, thread_ts: str | None = "1.1", channel: str = "C1") -> int:
    return await store.create(trigger="reaction", channel=channel, thread_ts=thread_ts, invoker="U1")


async def test_a_run_round_trips_with_its_info_sections_and_posted_items(store: SqlRunStore) -> None:
    run = await store.create(trigger="command", channel="C1", thread_ts="1.1", invoker="U1", response_url="http://r")
    saved = Run(RunFacts(prompt_version="v1", model="m", redactions={"email": 2}, warnings=["w"]), id=run)
    saved.collecting()
    sections = [Section(SectionId.ROOT_CAUSE, "Root cause", "body ✓"), Section(None, "Raw", "x")]
    await store.update(run, run=saved, sections=sections, report="# r", summary="s", status_ts="9.9")
    await store.mark_posted(run, "section:root_cause#1/0", "2.2")
    await store.mark_posted(run, "section:root_cause#1/0", "2.3")  # re-recording an item keeps one row, the newest ts
    record = await store.get(run)
    assert record is not None
    assert (record.status, record.trigger, record.response_url, record.status_ts) == (RunState.COLLECTING, "command", "http://r", "9.9")
    assert record.facts is not None and record.facts.redactions == {"email": 2} and record.facts.warnings == ["w"]
    assert record.sections == sections and (record.report, record.summary) == ("# r", "s")
    assert record.posted == {"section:root_cause#1/0": "2.3"}
    assert await store.get(run + 1000) is None
    assert [r.id for r in await store.recent()] == [run]
    assert await store.latest_for_thread("C1", "1.1") == record


async def test_a_delivery_is_claimed_once_across_stores(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    assert await first.claim_delivery("event:Ev1") is True
    assert await second.claim_delivery("event:Ev1") is False
    assert await first.claim_delivery("event:Ev1") is False
    assert await second.claim_delivery("event:Ev2") is True


async def test_old_delivery_ids_are_forgotten_and_recent_ones_kept(store: SqlRunStore) -> None:
    assert await store.claim_delivery("event:old")
    await store._q("UPDATE deliveries SET seen_at = seen_at - 8 * 24 * 3600 WHERE delivery_id = 'event:old'")
    assert await store.claim_delivery("event:new")
    assert await store.forget_deliveries(7 * 24 * 3600) == 1
    assert await store.claim_delivery("event:new") is False  # still known: a retry is still ignored


async def test_one_unfinished_run_per_thread(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    run = await new_run(first)
    with pytest.raises(ThreadBusy):
        await new_run(second)  # another replica, same thread
    await new_run(second, thread_ts="2.2")  # another thread is fine
    await new_run(second, thread_ts=None)  # and a channel-history run
    with pytest.raises(ThreadBusy):
        await new_run(first, thread_ts=None)
    done = Run(RunFacts(prompt_version="v1", model="m"), id=run)
    done.collecting()
    done.analysing()
    done.posting()
    done.finish()
    await first.update(run, run=done)
    again = await new_run(second)  # `again` after a finished run
    assert again != run and (await first.latest_for_thread("C1", "1.1")).id == again  # type: ignore[union-attr]


async def test_a_failed_run_is_queued_again_by_one_trigger_only(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    run = await new_run(first)
    failed = Run(RunFacts(prompt_version="v1", model="m"), id=run)
    failed.fail("boom")
    await first.update(run, run=failed)
    assert await unfinished(first) == []
    failed.requeue()
    assert await first.requeue_failed(failed, owner="a", lease_s=30) is True
    assert await second.requeue_failed(failed, owner="b", lease_s=30) is False  # already queued by the first
    assert await unfinished(second) == [run]
    with pytest.raises(ThreadBusy):
        await new_run(second)


async def test_migrations_record_the_version_and_run_once(open_store: OpenStore) -> None:
    first = await open_store()
    second = await open_store()  # opening again finds nothing to apply
    assert await first.schema_version() == await second.schema_version() == len(SQLITE) == len(POSTGRES)
    assert (await first._rows("SELECT COUNT(*) AS n FROM schema_version"))[0]["n"] == 1


async def test_a_store_at_either_branchs_migration_6_is_upgraded(open_store: OpenStore) -> None:
    """Two branches each shipped a migration 6: thread_tickets, or the runs_by_thread index. A store at either
    numbering reaches the merged schema (memory's tables, thread_tickets and the index), and claims tickets."""
    first = await open_store()
    await first._q("DROP TABLE thread_tickets")  # what the store branch's 6 left: the index, no thread_tickets
    memory = ("memory_terms", "memory_fts", "memory_signals", "memory")
    for table in memory if first.NOW.startswith("((julianday") else [t for t in memory if t != "memory_fts"]:
        await first._q(f"DROP TABLE {table}")
    await first._q("UPDATE schema_version SET version = 6")
    await first.close()
    second = await open_store()
    assert await second.schema_version() == len(SQLITE)
    await second._q("INSERT INTO thread_tickets (channel, thread, test, backend, claimed_at, idem) VALUES ('C1', '1.1', 't', 'github', 0, 'k')")
    assert (await second._rows("SELECT COUNT(*) AS n FROM memory"))[0]["n"] == 0


async def test_a_store_newer_than_the_bot_is_refused(open_store: OpenStore) -> None:
    first = await open_store()
    await first._q("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99, newer than this bot knows") as err:
        await open_store()
    assert "upgrade this replica" in (err.value.fix or "")


async def test_a_0_1_sqlite_store_is_upgraded_in_place(tmp_path: Path) -> None:
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
    store = await SqliteRunStore.open(path)
    try:
        assert [(r.id, r.status) for r in await store.recent()] == [(3, RunState.DONE), (2, RunState.QUEUED), (1, RunState.FAILED)]
        assert await unfinished(store) == [2]
        with pytest.raises(ThreadBusy):
            await new_run(store)
    finally:
        await store.close()


async def test_an_unreachable_postgres_names_the_server_and_the_fix_but_never_the_password(postgres: PostgresServer) -> None:
    url = f"postgresql://bot:hunter2@127.0.0.1:{postgres.port + 1}/runs"  # nothing listens on the next port
    with pytest.raises(StoreError) as err:
        await PostgresRunStore.open(url, load_settings())
    text = f"{err.value.message} {err.value.fix}"
    assert "hunter2" not in text and f"127.0.0.1:{postgres.port + 1}/runs" in text and "DATABASE_URL" in text


async def test_doctor_opens_the_shared_store_or_says_why_not(postgres: PostgresServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres.new_database()
    assert await check_store(load_settings(database_url=url))
    assert await check_store(load_settings(database_url=f"postgresql://bot:hunter2@127.0.0.1:{postgres.port + 1}/runs")) is False
    out = capsys.readouterr().out
    assert f"[ok] run store: PostgreSQL at postgresql://127.0.0.1:{postgres.port}/" in out
    assert "[FAIL] run store: cannot connect to the run store" in out and "DATABASE_URL" in out and "hunter2" not in out


def test_a_database_url_that_is_not_postgresql_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as err:
        load_settings(database_url="mysql://db/runs")
    assert "postgresql://" in err.value.message


async def test_the_digest_is_found_in_a_thread_by_any_run_of_it(open_store: OpenStore) -> None:
    """The LIKE 'digest/%' query: psycopg read its % as a placeholder, the error was swallowed, and Regenerate on
    PostgreSQL posted a second digest."""
    first, other = await open_store(), await open_store()
    run = await new_run(first)
    assert await other.digest_posted("C1", "1.1") is False
    await first.mark_posted(run, "section:root_cause#1/0", "2.1")
    assert await other.digest_posted("C1", "1.1") is False  # only digest items count
    await first.mark_posted(run, "digest/0", "2.2")
    assert await other.digest_posted("C1", "1.1") is True
    assert await other.digest_posted("C1", "9.9") is False and await other.digest_posted("C2", "1.1") is False


async def test_a_literal_percent_reaches_the_database_as_written(store: SqlRunStore) -> None:
    """The class of that bug: any % in the store's SQL (a LIKE pattern, a format in SQL) is the database's, never a placeholder."""
    await new_run(store)
    rows, _ = await store.execute("SELECT COUNT(*) AS n FROM runs WHERE trigger LIKE 'reac%' AND channel = ?", ("C1",))
    assert rows[0]["n"] == 1
    rows, _ = await store.execute("SELECT '100%' AS text")
    assert rows[0]["text"] == "100%"


async def test_every_read_is_one_query_whatever_the_number_of_runs(store: SqlRunStore) -> None:
    """The Home tab reads 200 runs, the history 100, a status line counts the queue: one statement each (a query per
    run was 201 round trips, seconds at 20 ms of network latency)."""
    runs = [await new_run(store, thread_ts=f"{n}.0") for n in range(30)]
    for run in runs:
        await store.mark_posted(run, "status", f"{run}.5")
    statements: list[str] = []
    real = store._run

    async def counted(sql: str, params: tuple[object, ...]) -> tuple[list[dict[str, object]], int]:
        statements.append(sql)
        return await real(sql, params)

    store._run = counted  # type: ignore[method-assign]  # the real store, its statements counted
    recent = await store.recent(200)
    assert len(recent) == 30 and all(r.posted == {"status": f"{r.id}.5"} for r in recent) and len(statements) == 1
    assert await store.ahead(runs[-1]) == 29 and len(statements) == 2
    latest = await store.latest_for_thread("C1", "5.0")
    assert latest is not None and latest.posted == {"status": f"{latest.id}.5"} and len(statements) == 3
    record = await store.get(runs[0])
    assert record is not None and record.posted and len(statements) == 4
    tallies = await FeedbackVotes(store).tallies(runs)
    assert tallies[runs[0]] == {"up": 0, "down": 0} and len(statements) == 5


async def test_tallies_count_each_runs_votes(store: SqlRunStore) -> None:
    votes = FeedbackVotes(store)
    await votes.vote(1, "U1", "up")
    await votes.vote(1, "U2", "down")
    assert await votes.vote(1, "U1", "down") == "up"
    await votes.vote(2, "U1", "up")
    assert await votes.tallies([1, 2, 3]) == {1: {"up": 0, "down": 2}, 2: {"up": 1, "down": 0}, 3: {"up": 0, "down": 0}}
    assert await votes.tally(2) == {"up": 1, "down": 0}


async def test_the_status_is_stored_once_and_an_old_rows_copy_in_the_json_is_ignored(store: SqlRunStore) -> None:
    run = await new_run(store)
    saved = Run(RunFacts(prompt_version="v1", model="m"), id=run)
    saved.collecting()
    saved.fail("boom")
    await store.update(run, run=saved)
    [row] = (await store.execute("SELECT status, error, info FROM runs WHERE id = ?", (run,)))[0]
    stored = json.loads(row["info"])
    assert (row["status"], row["error"]) == ("failed", "boom") and "status" not in stored and "error" not in stored
    # A row an older bot wrote kept the status (and mode) inside the JSON too: the column is what counts.
    await store.execute("UPDATE runs SET info = ? WHERE id = ?", (json.dumps({**stored, "status": "done", "mode": "degraded",
                                                                              "cause": "model down"}), run))
    record = await store.get(run)
    assert record is not None and record.status is RunState.FAILED and (record.mode, record.cause) == ("degraded", "model down")
    assert record.run().status is RunState.FAILED
