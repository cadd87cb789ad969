"""GitHub Issues and Jira Cloud against their emulators: create, dedup, refused token, unknown repository or
project, 5xx, and an answer lost after the ticket was made. Every case runs on both backends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.tickets import TicketError, TicketErrorKind, idempotency_key
from bot.tickets.github import GitHubIssues
from bot.tickets.jira import JiraCloud
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.tickets.conftest import CONTENT, SPEC, Backend

KEY = idempotency_key("C1", "1700000000.000100", 12, 0)


async def test_create_holds_the_spec_skeleton_link_and_run(backend: Backend) -> None:
    client = backend.make()
    try:
        ticket = await client.create(CONTENT, KEY)
    finally:
        await client.aclose()
    [issue] = backend.created()
    text = backend.text_of(issue)
    for part in (SPEC.name, SPEC.scope, SPEC.fault_injection, SPEC.success_criteria, SPEC.catches, "P1",
                 "test_checkout_load.js", "thresholds", CONTENT.thread_link, "run 12"):
        assert part in text, part
    assert KEY in text  # the marker (GitHub) or the label (Jira) the dedup search looks for
    assert ticket.url.endswith("/issues/1") if backend.kind == "github" else ticket.url.endswith("/browse/OPS-1")


async def test_the_same_key_makes_one_ticket_and_another_key_a_second(backend: Backend) -> None:
    client = backend.make()
    try:
        first = await client.create(CONTENT, KEY)
        again = await client.create(CONTENT, KEY)
        other = await client.create(CONTENT, idempotency_key("C1", "1700000000.000100", 12, 1))
    finally:
        await client.aclose()
    assert first == again != other
    assert len(backend.created()) == 2


@pytest.mark.parametrize("fault, kind, words", [
    ("token", TicketErrorKind.REFUSED, "was refused"),
    ("place", TicketErrorKind.NOT_FOUND, "was not found"),
    ("find-500", TicketErrorKind.UNAVAILABLE, "HTTP 500"),
    ("create-500", TicketErrorKind.UNAVAILABLE, "HTTP 500"),
    ("find-lost", TicketErrorKind.UNAVAILABLE, "connection"),
    ("create-lost-not-made", TicketErrorKind.UNAVAILABLE, "no ticket was found"),
    ("unreachable", TicketErrorKind.UNAVAILABLE, "cannot reach"),
])
async def test_a_failure_is_one_clear_error_and_creates_nothing(backend: Backend, fault: str, kind: TicketErrorKind,
                                                                words: str) -> None:
    wrong: dict[str, str] = {}
    if fault == "token":
        wrong["token"] = "not-the-token"
    elif fault == "place":
        wrong["repo" if backend.kind == "github" else "project"] = "acme/gone" if backend.kind == "github" else "GONE"
    elif fault == "unreachable":
        wrong["url"] = "http://127.0.0.1:9"
    elif fault == "find-500":
        backend.fail_next("find", 500)
    elif fault == "create-500":
        backend.fail_next("create", 500)
    elif fault == "find-lost":
        backend.fail_next("find", drop=True, times=2)  # aiohttp sends an idempotent GET again once by itself
    elif fault == "create-lost-not-made":
        backend.fail_next("create", drop=True)  # lost before the server acted on it
    client = backend.make(**wrong)
    try:
        with pytest.raises(TicketError) as caught:
            await client.create(CONTENT, KEY)
    finally:
        await client.aclose()
    assert caught.value.kind is kind
    assert words in str(caught.value), str(caught.value)
    assert caught.value.fix, "every failure says how to fix it"
    assert backend.created() == []
    if fault == "place":
        assert ("acme/gone" if backend.kind == "github" else "GONE") in caught.value.message


@pytest.mark.parametrize("fault", ["drop", "applied-502"])
async def test_an_answer_lost_after_creation_is_found_not_repeated(backend: Backend, fault: str) -> None:
    if fault == "drop":
        backend.fail_next("create", drop=True, applied=True)
    else:
        backend.fail_next("create", 502, applied=True)
    client = backend.make()
    try:
        ticket = await client.create(CONTENT, KEY)
        again = await client.create(CONTENT, KEY)  # the user clicks again: still that ticket
    finally:
        await client.aclose()
    assert len(backend.created()) == 1
    assert ticket == again


async def test_secrets_never_reach_the_backend(backend: Backend) -> None:
    leaky = CONTENT.spec.model_copy(update={"fault_injection": "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
    client = backend.make()
    try:
        await client.create(replace(CONTENT, spec=leaky), KEY)
    finally:
        await client.aclose()
    [issue] = backend.created()
    assert "wJalrXUtnFEMI" not in backend.text_of(issue)
    assert "[REDACTED" in backend.text_of(issue)


async def test_sparse_content_is_still_a_valid_ticket(backend: Backend) -> None:
    """No thread link, no catches, an empty skeleton, a name spread over lines: Jira refuses empty ADF text nodes
    and multi-line summaries, so each must be left out or folded."""
    sparse = replace(CONTENT, spec=SPEC.model_copy(update={"catches": "", "name": "Checkout\nunder   load"}),
                     thread_link=None, skeleton=replace(CONTENT.skeleton, text=""))  # type: ignore[arg-type]
    client = backend.make()
    try:
        await client.create(sparse, KEY)
    finally:
        await client.aclose()
    [issue] = backend.created()
    assert "Add load test: Checkout under load" in backend.text_of(issue)


async def refused(client: GitHubIssues | JiraCloud) -> TicketError:
    """The error ``client.create`` raises; the client is closed either way."""
    try:
        with pytest.raises(TicketError) as caught:
            await client.create(CONTENT, KEY)
    finally:
        await client.aclose()
    return caught.value


@pytest.mark.parametrize("status, headers, kind, words", [
    (403, None, TicketErrorKind.REFUSED, "token was refused"),
    (403, {"X-RateLimit-Remaining": "0"}, TicketErrorKind.UNAVAILABLE, "rate limit"),
    (410, None, TicketErrorKind.NOT_FOUND, "issues are turned off"),
    (422, None, TicketErrorKind.REJECTED, "refused the issue (HTTP 422"),
    (429, {"Retry-After": "30"}, TicketErrorKind.UNAVAILABLE, "try again in 30 s"),
    (503, None, TicketErrorKind.UNAVAILABLE, "HTTP 503"),
])
async def test_github_statuses(status: int, headers: dict[str, str] | None, kind: TicketErrorKind, words: str) -> None:
    async with FakeGitHub() as gh:
        gh.fail_next("create", status, headers=headers)
        error = await refused(GitHubIssues("acme/shop", gh.token, gh.api_url))
    assert error.kind is kind and words in str(error) and error.fix
    assert gh.all_issues() == []


@pytest.mark.parametrize("status, kind, words", [
    (403, TicketErrorKind.REFUSED, "may not create issues in OPS"),
    (404, TicketErrorKind.NOT_FOUND, "project OPS was not found"),
    (400, TicketErrorKind.REJECTED, "refused the issue (HTTP 400"),
])
async def test_jira_statuses(status: int, kind: TicketErrorKind, words: str) -> None:
    async with FakeJira() as jira:
        jira.fail_next("create", status)
        error = await refused(JiraCloud(jira.url, "OPS", jira.email, jira.api_token))
    assert error.kind is kind and words in str(error) and error.fix
    assert jira.issues == []


async def test_model_text_cannot_ping_hide_or_break_out_on_github() -> None:
    hostile = SPEC.model_copy(update={"name": "Ping @alice and @acme/oncall", "scope": "<!-- hidden --> x\n\n# Heading",
                                      "catches": "a@b.example"})
    skeleton = replace(CONTENT.skeleton, text="x = 1\n~~~~~\n@alice in code\n")  # type: ignore[arg-type]
    async with FakeGitHub() as gh:
        client = GitHubIssues("acme/shop", gh.token, gh.api_url)
        try:
            await client.create(replace(CONTENT, spec=hostile, skeleton=skeleton), KEY)
        finally:
            await client.aclose()
    body = gh.all_issues()[0]["body"]
    assert "@alice and" not in body and "@acme/oncall" not in body and "@\u2060alice" in body
    assert "<!-- hidden" not in body and "&lt;!-- hidden --&gt; x # Heading" in body
    assert "~~~~~~javascript\nx = 1\n~~~~~\n@alice in code\n~~~~~~" in body  # code is fenced past its own tildes
    assert body.count("<!--") == 1  # only the dedup marker
