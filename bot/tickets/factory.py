"""The configured backend, or a one-line ConfigError naming the setting that is missing."""

from __future__ import annotations

from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import Settings
from bot.tickets.github import GitHubIssues
from bot.tickets.jira import JiraCloud
from bot.tickets.model import TicketBackend

_NEEDS = {
    "github": (("GITHUB_REPO", "the repository as owner/name"),
               ("GITHUB_TOKEN", "a token with Issues: read and write on it")),
    "jira": (("JIRA_URL", "your site, https://your-site.atlassian.net"), ("JIRA_PROJECT", "the project key, e.g. OPS"),
             ("JIRA_EMAIL", "the account the API token belongs to"),
             ("JIRA_API_TOKEN", "from id.atlassian.com/manage-profile/security/api-tokens")),
}


def _value(settings: Settings, name: str) -> str:
    value = getattr(settings, name.lower())
    return (value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")).strip()


def make_backend(settings: Settings) -> TicketBackend | None:
    """None when TICKETS=none. Raises ConfigError when the chosen backend lacks a setting."""
    if settings.tickets == "none":
        return None
    for name, meaning in _NEEDS[settings.tickets]:
        if not _value(settings, name):
            raise ConfigError(f"TICKETS={settings.tickets} needs {name} ({meaning})",
                              f"set {name} in the environment or .env, or set TICKETS=none")
    s = settings
    if s.tickets == "github":
        return GitHubIssues(_value(s, "GITHUB_REPO"), _value(s, "GITHUB_TOKEN"), _value(s, "GITHUB_API_URL"))
    return JiraCloud(_value(s, "JIRA_URL"), _value(s, "JIRA_PROJECT"), _value(s, "JIRA_EMAIL"),
                     _value(s, "JIRA_API_TOKEN"), _value(s, "JIRA_ISSUE_TYPE"))
