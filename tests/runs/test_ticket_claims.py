"""The local claim in the run store: one creator per (run, test); a failure leaves no claim; a claim whose
creator died goes stale so the next click can try (the backend's dedup search then finds any ticket it made).
On both stores: replicas sharing PostgreSQL claim through the same table."""

from __future__ import annotations

from bot.runs.tickets import STALE_AFTER_S, ClaimState, TicketClaims
from tests.runs.conftest import OpenStore


async def test_claim_lifecycle(open_store: OpenStore) -> None:
    store = await open_store()
    claims = TicketClaims(store)
    assert (await claims.claim(1, 0, "github", now=100)).state is ClaimState.NEW
    assert (await claims.claim(1, 0, "github", now=101)).state is ClaimState.BUSY  # a double click
    assert (await claims.claim(1, 1, "github", now=101)).state is ClaimState.NEW  # another test is its own claim
    await claims.release(1, 1)  # its creation failed: nothing stays behind
    assert (await claims.claim(1, 1, "github", now=102)).state is ClaimState.NEW
    await claims.done(1, 0, "https://github.com/acme/shop/issues/1", "#1")
    await claims.release(1, 0)  # releasing never removes a ticket that exists
    done = await claims.claim(1, 0, "github", now=103)
    assert (done.state, done.url, done.key) == (ClaimState.DONE, "https://github.com/acme/shop/issues/1", "#1")
    assert await claims.made(1) == {0: ("https://github.com/acme/shop/issues/1", "#1")}
    # The creator of test 1 died mid-call: after a while the claim can be taken over.
    assert (await claims.claim(1, 1, "github", now=102 + STALE_AFTER_S / 2)).state is ClaimState.BUSY
    assert (await claims.claim(1, 1, "github", now=103 + STALE_AFTER_S)).state is ClaimState.NEW


async def test_claims_survive_a_restart_and_are_shared_by_replicas(open_store: OpenStore) -> None:
    store = await open_store()
    await TicketClaims(store).claim(7, 2, "jira")
    other = TicketClaims(await open_store())  # another replica (or this one after a restart): its own connection
    assert (await other.claim(7, 2, "jira")).state is ClaimState.BUSY
    await TicketClaims(store).done(7, 2, "https://acme.atlassian.net/browse/OPS-3", "OPS-3")
    assert (await other.claim(7, 2, "jira")).state is ClaimState.DONE
