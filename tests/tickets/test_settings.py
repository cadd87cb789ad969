"""TICKETS and its companions: each missing or malformed setting is one line naming the variable and the fix."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from bot.tickets import TicketError, TicketErrorKind, make_backend
from bot.tickets.github import GitHubIssues
from bot.tickets.jira import JiraCloud
from tests.fakes.jira_api import FakeJira
from tests.tickets.conftest import CONTENT

GITHUB = {"tickets": "github", "github_repo": "acme/shop", "github_token": "github_pat_x"}
JIRA = {"tickets": "jira", "jira_url": "https://acme.atlassian.net", "jira_project": "OPS",
        "jira_email": "bot@acme.test", "jira_api_token": "ATATTx"}


def test_none_is_the_default_and_makes_no_backend() -> None:
    assert make_backend(load_settings()) is None


def test_complete_settings_make_the_chosen_backend() -> None:
    assert isinstance(make_backend(load_settings(**GITHUB)), GitHubIssues)
    jira = make_backend(load_settings(**JIRA))
    assert isinstance(jira, JiraCloud) and jira.issue_type == "Task"


@pytest.mark.parametrize("base, missing", [(GITHUB, "github_repo"), (GITHUB, "github_token"), (JIRA, "jira_url"),
                                           (JIRA, "jira_project"), (JIRA, "jira_email"), (JIRA, "jira_api_token")])
def test_a_missing_setting_is_named(base: dict[str, str], missing: str) -> None:
    values = {k: v for k, v in base.items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        make_backend(load_settings(**values))
    assert missing.upper() in caught.value.message and "TICKETS=none" in str(caught.value.fix)


@pytest.mark.parametrize("name, value", [("tickets", "gitlab"), ("github_repo", "shop"), ("jira_project", "ops"),
                                         ("jira_url", "acme.atlassian.net"), ("github_api_url", "api.github.com")])
def test_a_malformed_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**{name: value})
    assert name.upper() in caught.value.message


async def test_an_issue_type_the_project_lacks_names_the_setting() -> None:
    async with FakeJira(projects={"OPS": ["Bug"]}) as jira:
        backend = JiraCloud(jira.url, "OPS", jira.email, jira.api_token, "Task", timeout_s=5)
        try:
            with pytest.raises(TicketError) as caught:
                await backend.create(CONTENT, "pmb-1")
        finally:
            await backend.aclose()
    assert caught.value.kind is TicketErrorKind.REJECTED and "JIRA_ISSUE_TYPE" in str(caught.value)
    assert jira.issues == []


async def test_doctor_checks_the_backend_with_the_same_search_a_click_makes(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli.doctor import check_tickets

    assert await check_tickets(load_settings()) is True
    assert await check_tickets(load_settings(**{**GITHUB, "github_token": ""})) is False
    async with FakeJira(projects={"OPS": ["Task"]}) as jira:
        good = {**JIRA, "jira_url": jira.url, "jira_email": jira.email, "jira_api_token": jira.api_token}
        assert await check_tickets(load_settings(**good)) is True
        assert await check_tickets(load_settings(**{**good, "jira_api_token": "expired"})) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[ok] tickets: off (TICKETS=none): the checklist has no Create ticket buttons"
    assert out[1].startswith("[FAIL] tickets: TICKETS=github needs GITHUB_TOKEN") and "fix:" in out[1]
    assert out[2].startswith("[ok] tickets: jira OPS at http://127.0.0.1")
    assert out[3].startswith("[FAIL] tickets: the token was refused by Jira") and "fix:" in out[3]
