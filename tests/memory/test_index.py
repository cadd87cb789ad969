"""Memory's index on SQLite and on a real PostgreSQL: ranking by shared signals with the threshold, privacy by
channel, replacing and forgetting, retention, tickets filed later, votes, history search and recurrence counts."""

from __future__ import annotations

import time

import pytest

from bot.core.memory import Signals
from bot.memory.index import Entry, MemoryIndex, Scope
from bot.runs import StoreError
from bot.runs.migrations import POSTGRES, SQLITE
from bot.runs.sql import SqlRunStore
from bot.tickets.claims import spec_identity
from tests.runs.conftest import OpenStore

POOL = Signals(("connection-pool-exhaustion",), ("payments-api",), ("PaymentsPoolExhausted",), (), "INC-1 payments pool exhausted")


def entry(source: str, signals: Signals, *, channel: str | None = "C1", private: bool = False, body: str = "",
          run_id: int | None = None, tests: list[dict[str, str]] | None = None, started_at: float | None = None) -> Entry:
    return Entry(source=source, title=signals.headline, signals=signals, status="done", primary_cause=f"cause of {signals.headline}",
                 tests=tests or [], body=body or signals.headline, run_id=run_id, channel=channel, thread_ts=source[-3:],
                 private=private, link=f"https://acme.slack.com/archives/{channel}/p{source[-3:]}", started_at=started_at)


ELSEWHERE = Scope("C9")


async def titles(index: MemoryIndex, signals: Signals, scope: Scope = ELSEWHERE) -> list[str]:
    return [past.title for past, *_ in await index.similar(signals, scope)]


async def test_shared_signals_rank_and_explain(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL))
    await index.remember(entry("slack:C1/2.2", Signals(("connection-pool-exhaustion",), ("ledger-api",), (), (), "INC-2 ledger pool")))
    await index.remember(entry("slack:C1/3.3", Signals((), ("payments-api",), (), (), "INC-3 payments slow")))  # a service alone
    await index.remember(entry("slack:C1/4.4", Signals(("dns-failure",), ("edge",), (), (), "INC-4 payments pool dns")))  # words only
    query = Signals(("connection-pool-exhaustion",), ("payments-api",), ("PaymentsPoolExhausted",), (), "payments pool exhausted")
    found = await index.similar(query, Scope("C9"))
    assert [p.title for p, *_ in found] == ["INC-1 payments pool exhausted", "INC-2 ledger pool"]
    past, score, shared, _ = found[0]
    assert shared == (("class", "connection-pool-exhaustion"), ("alert", "PaymentsPoolExhausted"), ("service", "payments-api"))
    assert score > found[1][1] and past.link and past.primary_cause == "cause of INC-1 payments pool exhausted"


async def test_at_most_three_newest_first_among_equals(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    for n in range(5):
        await index.remember(entry(f"slack:C1/{n}.{n}{n}", Signals(("disk-full",), (), (), (), f"INC-{n} disk full")))
    assert await titles(index, Signals(("disk-full",), (), (), (), "disk")) == ["INC-4 disk full", "INC-3 disk full", "INC-2 disk full"]


async def test_private_incidents_stay_in_their_channel(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:G1/1.1", POOL, channel="G1", private=True))
    assert await titles(index, POOL, Scope("C2")) == []
    assert await titles(index, POOL, Scope(None)) == []  # the CLI is no channel: public incidents only
    assert await titles(index, POOL, Scope("G1")) == [POOL.headline]
    assert await titles(index, POOL, Scope("G1", exclude="slack:G1/1.1")) == []  # a run never recalls itself
    assert await index.recurrences(POOL, Scope("C2")) == [] and await index.search(["pool"], Scope("C2")) == []
    assert [p.title for p, private in await index.search(["pool"], None) if private] == [POOL.headline]  # the operator's view


async def test_remember_replaces_forget_and_retention(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL))
    await index.remember(entry("slack:C1/1.1", Signals(("disk-full",), (), (), (), "INC-1 disk full after all")))
    assert await index.count() == 1 and await titles(index, POOL) == []
    assert await titles(index, Signals(("disk-full",), (), (), (), "")) == ["INC-1 disk full after all"]
    assert await index.forget_thread("C1", "1.1") == 1 and await index.count() == 0
    assert (await store.execute("SELECT COUNT(*) AS n FROM memory_signals"))[0][0]["n"] == 0
    await index.remember(entry("slack:C1/2.2", POOL))
    await store.execute("UPDATE memory SET remembered_at = ?", (time.time() - 400 * 86400,))
    await index.remember(entry("slack:C1/3.3", POOL))
    assert await index.prune(365 * 86400) == 1 and [p.title for p, _ in await index.search([], None)] == [POOL.headline]
    assert await index.search(["exhausted"], None)  # the full-text index forgot the pruned row, not the kept one


async def test_tickets_filed_later_and_votes_are_read_live(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    run = await store.create(trigger="reaction", channel="C1", thread_ts="1.1", invoker="U1")
    await index.remember(entry("slack:C1/1.1", POOL, run_id=run, tests=[{"name": "Pool saturation", "type": "load"},
                                                                   {"name": "Alert on waits", "type": "canary"}]))
    (past, *_), = await index.similar(POOL, Scope("C9"))
    assert [t.ticket_key for t in past.tests] == [None, None]
    await store.execute("INSERT INTO thread_tickets (channel, thread, test, backend, claimed_at, idem, url, key)"
                  " VALUES ('C1', '1.1', ?, 'jira', 0, 'pmb-x', ?, 'OPS-9')",
                  (spec_identity("Alert on waits", "canary"), "https://acme.atlassian.net/browse/OPS-9"))
    await store.execute("INSERT INTO feedback (run_id, voter, vote, voted_at) VALUES (?, 'U1', 'up', 0), (?, 'U2', 'down', 0), (?, 'U3', 'up', 0)",
                  (run, run, run))
    (past, *_), = await index.similar(POOL, Scope("C9"))
    assert [t.ticket_key for t in past.tests] == [None, "OPS-9"] and past.votes == (2, 1)


async def test_history_search_needs_every_word(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL, body="the payments pool was exhausted by a batch job"))
    await index.remember(entry("slack:C1/2.2", Signals(("dns-failure",), (), (), (), "INC-2 dns"), body="resolver timeouts for payments"))
    assert [p.title for p, _ in await index.search(["payments", "batch"], None)] == [POOL.headline]
    assert [p.title for p, _ in await index.search(["payments"], None)] == ["INC-2 dns", POOL.headline]
    assert await index.search(["nothing-like-it"], None) == []


@pytest.mark.parametrize("words", [['"pool'], ["NEAR(pool"], ["pool*", "OR", "-x"], ["'; DROP TABLE memory; --"], ["ünïcode", "池"]])
async def test_hostile_words_never_break_a_query(store: SqlRunStore, words: list[str]) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL, body="pool exhausted"))
    await index.search(words, None)
    odd = Signals(("x'); DROP TABLE memory; --",), ('"quoted"',), (), ("% _ \\",), " ".join(words))
    await index.similar(odd, Scope("C1"))
    assert await index.count() == 1


async def test_recurrences_count_this_incident_in(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    now = time.time()
    await index.remember(entry("slack:C1/1.1", POOL, started_at=now - 10 * 86400))
    await index.remember(entry("slack:C1/2.2", POOL, started_at=now - 20 * 86400))
    await index.remember(entry("slack:C1/3.3", POOL, started_at=now - 200 * 86400))  # outside 90 days
    await index.remember(entry("slack:C1/4.4", Signals(("connection-pool-exhaustion",), ("ledger-api",), (), (), "x"), started_at=now))
    (recurrence,) = await index.recurrences(POOL, Scope("C9"))
    assert (recurrence.count, recurrence.service, recurrence.days) == (3, "payments-api", 90)
    (elsewhere,) = await index.recurrences(Signals(("connection-pool-exhaustion",), ("search-api",), (), (), ""), Scope("C9"))
    assert (elsewhere.count, elsewhere.service) == (4, None)


async def test_an_existing_store_gains_memory(open_store: OpenStore) -> None:
    first = await open_store()
    migrations = SQLITE if first.NOW.startswith("((julianday") else POSTGRES
    # The store as it was before memory's migration; the later ones (IF NOT EXISTS) apply again harmlessly.
    before = next(n for n, steps in enumerate(migrations) if any("CREATE TABLE memory " in str(step) for step in steps))
    for table in ("memory_terms", "memory_fts", "memory_signals", "memory"):
        if first.NOW.startswith("((julianday") or table != "memory_fts":
            await first.execute(f"DROP TABLE {table}")
    await first.execute(f"UPDATE schema_version SET version = {before}")
    await first.close()
    second = await open_store()
    assert await second.schema_version() == len(migrations)
    await MemoryIndex(second).remember(entry("slack:C1/1.1", POOL))
    assert await titles(MemoryIndex(second), POOL) == [POOL.headline]


async def test_a_store_that_remembered_before_migration_10_recalls_alike(open_store: OpenStore) -> None:
    """Migration 10 keeps each incident's words for recall: incidents remembered before it get theirs at start-up,
    so recall ranks them as it did (the words decide between two incidents sharing the same signals)."""
    first = await open_store()
    index = MemoryIndex(first)
    await index.remember(entry("slack:C1/1.1", POOL, body="x"))
    await index.remember(entry("slack:C1/2.2", Signals(POOL.classes, POOL.services, POOL.alerts, (), "INC-2 ledger batch")))
    query = Signals(POOL.classes, POOL.services, POOL.alerts, (), "payments pool exhausted")
    before = [(p.title, score, shared, text) for p, score, shared, text in await index.similar(query, ELSEWHERE)]
    assert before[0][3] > before[1][3] > 0  # the words count
    await first.execute("DROP TABLE memory_terms")
    await first.execute("DROP INDEX memory_visible")
    await first.execute(f"UPDATE schema_version SET version = {len(SQLITE) - 1}")
    await first.close()
    second = await open_store()
    assert (await second.execute("SELECT COUNT(*) AS n FROM memory_terms"))[0][0]["n"] == 2
    assert [(p.title, score, shared, text) for p, score, shared, text in await MemoryIndex(second).similar(query, ELSEWHERE)] == before


async def fail_on(store: SqlRunStore, table: str, event: str) -> None:
    """A fault in the database between memory's statements: every ``event`` on ``table`` is refused."""
    if store.NOW.startswith("((julianday"):
        await store.execute(f"CREATE TRIGGER fault BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
    else:
        await store.execute("CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$")
        await store.execute(f"CREATE TRIGGER fault BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION fault()")


async def kept_rows(store: SqlRunStore) -> list[int]:
    return [int((await store.execute(f"SELECT COUNT(*) AS n FROM {table}"))[0][0]["n"]) for table in ("memory", "memory_terms", "memory_signals")]


async def test_remembering_is_all_or_nothing(store: SqlRunStore) -> None:
    """Replacing an incident is forget + insert + words + signals: a fault at the last statement leaves the old one
    whole (still recalled, with its words and signals), and a new one not half there."""
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL))
    before = await kept_rows(store)
    await fail_on(store, "memory_signals", "INSERT")
    with pytest.raises(StoreError, match="injected fault"):
        await index.remember(entry("slack:C1/1.1", Signals(("disk-full",), (), (), (), "INC-1 disk full after all")))
    with pytest.raises(StoreError, match="injected fault"):
        await index.remember(entry("slack:C1/2.2", POOL))
    assert await kept_rows(store) == before and await titles(index, POOL) == [POOL.headline]


async def test_forgetting_is_all_or_nothing(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    await index.remember(entry("slack:C1/1.1", POOL))
    before = await kept_rows(store)
    await fail_on(store, "memory", "DELETE")
    with pytest.raises(StoreError, match="injected fault"):
        await index.forget_thread("C1", "1.1")
    assert await kept_rows(store) == before and await titles(index, POOL) == [POOL.headline]


async def test_every_shared_signal_is_named_however_many(store: SqlRunStore) -> None:
    """Recall names what a candidate shares as bits of 30-signal integer columns: 40 signals take two."""
    index = MemoryIndex(store)
    many = Signals(("connection-pool-exhaustion", "disk-full", "dns-failure", "bad-rollout"), tuple(f"svc-{n:02d}" for n in range(12)),
                   tuple(f"Alert{n:02d}" for n in range(12)), tuple(f"error {n:02d} after # ms" for n in range(12)), "INC-1 many")
    await index.remember(entry("slack:C1/1.1", many))
    query = Signals(many.classes[1:], many.services, many.alerts[:6], many.templates, "many")  # 3 + 12 + 6 + 12 = 33 shared
    asked = Signals(query.classes, query.services, query.alerts, (*query.templates, "not in it"), "many")
    (_, score, shared, _), = await index.similar(asked, ELSEWHERE)
    assert len(shared) == 33 and set(shared) == set(query.pairs()) and score >= 3 * 3 + 12 + 6 * 2 + 12 * 2
