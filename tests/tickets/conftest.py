"""Each ticket backend against its emulator, through the real aiohttp client: one fixture, both backends."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.core.plan import TestSpec
from bot.tickets import Skeleton, TicketBackend, TicketContent
from bot.tickets.github import GitHubIssues
from bot.tickets.jira import JiraCloud
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira

SPEC = TestSpec(name="Checkout survives a 3x traffic spike", type="load", scope="checkout-api",
                fault_injection="ramp to 3x peak RPS for 10 minutes",
                success_criteria="p99 latency < 2s and error rate < 1%", catches="CheckoutLatencyHigh", priority=1)
CONTENT = TicketContent(SPEC, run_id="12", thread_link="https://acme.slack.com/archives/C1/p1700000000000100",
                        skeleton=Skeleton("test_checkout_load.js", "export const options = {thresholds: {}};\n",
                                          "javascript"))


@dataclass
class Backend:
    """One backend under test with its emulator: ``make(**wrong)`` builds it, ``created()`` lists what exists."""

    kind: str
    emulator: FakeGitHub | FakeJira
    make: Callable[..., TicketBackend]
    created: Callable[[], list[dict[str, Any]]]
    text_of: Callable[[dict[str, Any]], str]  # everything a created ticket says, as one string

    def fail_next(self, operation: str, status: int = 500, **kwargs: Any) -> None:
        """``operation``: "find" or "create", whatever the backend calls them."""
        name = {"find": "list" if self.kind == "github" else "search"}.get(operation, operation)
        self.emulator.fail_next(name, status, **kwargs)


def _github(gh: FakeGitHub) -> Backend:
    def make(*, token: str | None = None, repo: str = "acme/shop", url: str | None = None) -> TicketBackend:
        return GitHubIssues(repo, token or gh.token, url or gh.api_url, timeout_s=5)
    # As GitHub shows it: the entities the body escapes model text with read as the characters.
    return Backend("github", gh, make, gh.all_issues, lambda issue: html.unescape(f"{issue['title']}\n{issue['body']}"))


def _jira(jira: FakeJira) -> Backend:
    def make(*, token: str | None = None, project: str = "OPS", issue_type: str = "Task",
             url: str | None = None) -> TicketBackend:
        return JiraCloud(url or jira.url, project, jira.email, token or jira.api_token, issue_type, timeout_s=5)
    return Backend("jira", jira, make, lambda: jira.issues, lambda issue: f"{issue['fields']['summary']}\n{issue['fields']}")


@pytest.fixture(params=["github", "jira"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "github":
        async with FakeGitHub(repos=["acme/shop"]) as gh:
            yield _github(gh)
    else:
        async with FakeJira(projects={"OPS": ["Task", "Bug"]}) as jira:
            yield _jira(jira)
