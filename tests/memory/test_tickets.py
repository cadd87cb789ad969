"""Live ticket states for "Seen before", against the GitHub emulator: read once a minute at most, all at once; a
ticket the backend cannot read is shown with why and asked again soon; another backend's ticket is not asked."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.memory import PastIncident, PastTest, Signals, TicketState
from bot.memory.tickets import TicketStates
from bot.tickets.github import GitHubIssues
from tests.fakes.github_api import FakeGitHub
from tests.tickets.conftest import CONTENT


def past(*tests: PastTest) -> PastIncident:
    return PastIncident(1, "INC-1", "link", "link", datetime.now(UTC), "C1", "cause", Signals(), tests)


def pool_test(key: str, url: str) -> PastTest:
    return PastTest("Pool saturation", "load", url, key)


async def test_states_are_cached_for_a_minute_and_unknowns_explained() -> None:
    async with FakeGitHub(repos=["acme/shop"]) as gh:
        backend = GitHubIssues("acme/shop", gh.token, gh.api_url, timeout_s=5)
        ticket = await backend.create(CONTENT, "pmb-1")
        states = TicketStates(backend)
        elsewhere = pool_test("#7", "https://github.com/other/repo/issues/7")
        (read,) = await states.read([past(pool_test(ticket.key, ticket.url), elsewhere)])
        assert [t.state for t in read.tests] == [TicketState.OPEN, TicketState.UNKNOWN]
        assert read.tests[1].state_note == "not in the ticket backend configured now"
        gh.close("acme/shop", 1)
        asked = len(gh.requests)
        (cached,) = await states.read([past(pool_test(ticket.key, ticket.url))])
        assert cached.tests[0].state is TicketState.OPEN and len(gh.requests) == asked  # within the minute: no call
        states.cache_s = 0
        (fresh,) = await states.read([past(pool_test(ticket.key, ticket.url))])
        assert fresh.tests[0].state is TicketState.DONE
        gh.fail_next("get", 502)
        (failed,) = await states.read([past(pool_test(ticket.key, ticket.url))])
        assert failed.tests[0].state is TicketState.UNKNOWN and "502" in failed.tests[0].state_note
        await backend.aclose()


async def test_a_stalled_backend_does_not_hold_the_digest() -> None:
    async with FakeGitHub(repos=["acme/shop"]) as gh:
        backend = GitHubIssues("acme/shop", gh.token, gh.api_url, timeout_s=5)
        ticket = await backend.create(CONTENT, "pmb-1")
        states = TicketStates(backend, timeout_s=0.2)
        held = gh.hold_next("get")
        (read,) = await states.read([past(pool_test(ticket.key, ticket.url))])
        assert read.tests[0].state is TicketState.UNKNOWN and "did not answer in time" in read.tests[0].state_note
        held.release.set()
        await backend.aclose()


async def test_without_a_backend_tickets_show_unknown() -> None:
    (read,) = await TicketStates(None).read([past(pool_test("OPS-1", "https://acme.atlassian.net/browse/OPS-1"))])
    assert read.tests[0].state is TicketState.UNKNOWN
