"""The local claim in the run store: one creator per (channel, thread, test); a failure leaves no claim; a claim whose
creator died goes stale so the next click can try (the backend's dedup search then finds any ticket it made); a
claim kept per (run, test index) by an older bot is found from its thread and moved over with its backend key.
On both stores: replicas sharing PostgreSQL claim through the same table."""

from __future__ import annotations

import time

from bot.core.run import Run, RunFacts
from bot.tickets.claims import STALE_AFTER_S, TicketClaims, TicketClaimState, Where, legacy_idem, spec_identity
from tests.runs.conftest import OpenStore

POOL = Where("C1", "1700000000.000100", "connection pool saturation")
RETRY = Where("C1", "1700000000.000100", "retry storm")


async def test_claim_lifecycle(open_store: OpenStore) -> None:
    store = await open_store()
    claims = TicketClaims(store)
    new = await claims.claim(POOL, "github", "pmb-a", now=100)
    assert (new.state, new.idem) == (TicketClaimState.NEW, "pmb-a")
    assert (await claims.claim(POOL, "github", "pmb-a", now=101)).state is TicketClaimState.BUSY  # a double click
    assert (await claims.claim(RETRY, "github", "pmb-b", now=101)).state is TicketClaimState.NEW  # another test is its own claim
    await claims.release(RETRY)  # its creation failed: nothing stays behind
    assert (await claims.claim(RETRY, "github", "pmb-b", now=102)).state is TicketClaimState.NEW
    await claims.done(POOL, "https://github.com/acme/shop/issues/1", "#1")
    await claims.release(POOL)  # releasing never removes a ticket that exists
    done = await claims.claim(POOL, "github", "pmb-other", now=103)
    assert (done.state, done.url, done.key, done.idem) == (TicketClaimState.DONE, "https://github.com/acme/shop/issues/1", "#1", "pmb-a")
    assert await claims.made("C1", POOL.thread) == {POOL.test: ("https://github.com/acme/shop/issues/1", "#1")}
    assert await claims.made("C1", "1700000000.999999") == {}  # another thread has its own tickets
    # The creator of the retry test died mid-call: after a while the claim can be taken over, under its own key.
    assert (await claims.claim(RETRY, "github", "pmb-b", now=102 + STALE_AFTER_S / 2)).state is TicketClaimState.BUSY
    taken = await claims.claim(RETRY, "github", "pmb-new", now=103 + STALE_AFTER_S)
    assert (taken.state, taken.idem) == (TicketClaimState.NEW, "pmb-b")


async def test_claims_survive_a_restart_and_are_shared_by_replicas(open_store: OpenStore) -> None:
    store = await open_store()
    await TicketClaims(store).claim(POOL, "jira", "pmb-a")
    other = TicketClaims(await open_store())  # another replica (or this one after a restart): its own connection
    assert (await other.claim(POOL, "jira", "pmb-a")).state is TicketClaimState.BUSY
    await TicketClaims(store).done(POOL, "https://acme.atlassian.net/browse/OPS-3", "OPS-3")
    assert (await other.claim(POOL, "jira", "pmb-a")).state is TicketClaimState.DONE


def test_a_test_is_the_same_whatever_its_case_spacing_or_punctuation() -> None:
    assert spec_identity("Connection-pool  saturation!") == spec_identity("connection pool saturation") == POOL.test
    assert spec_identity("", "load") == "unnamed load"


async def test_a_claim_kept_per_run_by_an_older_bot_is_found_from_its_thread(open_store: OpenStore) -> None:
    store = await open_store()
    run = await store.create(trigger="reaction", channel="C1", thread_ts=POOL.thread, invoker="U1")
    facts = RunFacts(prompt_version="p", model="m", tests=[{"name": "Retry storm"}, {"name": "Connection-pool saturation"}])
    await store.update(run, run=Run(facts, id=run))
    # What the store held before thread_tickets existed: the pool test's ticket, by run and position.
    await store.execute("INSERT INTO tickets (run_id, test_index, backend, claimed_at, url, key) VALUES (?, ?, ?, ?, ?, ?)",
                        (run, 1, "github", time.time(), "https://github.com/acme/shop/issues/7", "#7"))
    claims = TicketClaims(store)
    found = await claims.claim(POOL, "github", "pmb-new")  # a regenerated run's click, keyed by thread and test
    assert (found.state, found.url, found.key, found.idem) == (
        TicketClaimState.DONE, "https://github.com/acme/shop/issues/7", "#7", legacy_idem("C1", run, 1))
    assert (await store.execute("SELECT COUNT(*) AS n FROM tickets", ()))[0][0]["n"] == 0  # moved over, once
    assert (await claims.claim(RETRY, "github", "pmb-b")).state is TicketClaimState.NEW  # the other test had no ticket
