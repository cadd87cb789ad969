"""`analyze --tickets`' filing step in process: stable keys (a rerun makes no duplicates), and a refused token
stops after the first test instead of failing every one the same way."""

from __future__ import annotations

import pytest

from bot.cli.tickets import file_tickets
from bot.core.prompt import PROMPT_VERSION
from bot.core.run import RunFacts
from bot.tickets import TicketError, TicketErrorKind
from bot.tickets.github import GitHubIssues
from tests.fakes.github_api import FakeGitHub
from tests.tickets.conftest import SPEC

TESTS = [SPEC, SPEC.model_copy(update={"name": "Gateway timeout meets the SLO", "type": "contract"})]


def info() -> RunFacts:
    return RunFacts(prompt_version=PROMPT_VERSION, model="m", input_hash="abc123")


async def test_a_rerun_on_the_same_input_finds_its_tickets() -> None:
    async with FakeGitHub() as gh:
        first, again = info(), info()
        await file_tickets(GitHubIssues("acme/shop", gh.token, gh.api_url), first, TESTS)
        await file_tickets(GitHubIssues("acme/shop", gh.token, gh.api_url), again, TESTS)
    assert len(gh.all_issues()) == 2
    assert first.tickets == again.tickets and [t["key"] for t in first.tickets] == ["#1", "#2"]
    assert "k6" in gh.all_issues()[0]["body"] or "thresholds" in gh.all_issues()[0]["body"]  # the load skeleton


async def test_a_rerun_listing_the_tests_in_another_order_finds_them_by_test() -> None:
    async with FakeGitHub() as gh:
        first, again = info(), info()
        await file_tickets(GitHubIssues("acme/shop", gh.token, gh.api_url), first, TESTS)
        await file_tickets(GitHubIssues("acme/shop", gh.token, gh.api_url), again, list(reversed(TESTS)))
    assert len(gh.all_issues()) == 2
    assert sorted(t["key"] for t in again.tickets) == ["#1", "#2"] and again.tickets == list(reversed(first.tickets))


async def test_a_refused_token_stops_at_the_first_test(capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeGitHub() as gh:
        record = info()
        with pytest.raises(TicketError) as caught:
            await file_tickets(GitHubIssues("acme/shop", "wrong", gh.api_url), record, TESTS)
    assert caught.value.kind is TicketErrorKind.REFUSED and caught.value.exit_code == 5
    assert caught.value.message.startswith("2 of 2 tickets were not created (github: the token was refused")
    assert len(record.tickets) == 1 and "error" in record.tickets[0]
    assert len(gh.requests) == 1  # the second test was not tried against the same wall
    assert "not created: the token was refused" in capsys.readouterr().err
