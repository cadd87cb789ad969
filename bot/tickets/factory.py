"""The configured backend, or a one-line ConfigError naming the setting that is missing."""

from __future__ import annotations

from bot.settings import Settings, require_settings, setting_text
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


def make_backend(settings: Settings) -> TicketBackend | None:
    """None when TICKETS=none. Raises ConfigError when the chosen backend lacks a setting."""
    if settings.tickets == "none":
        return None
    require_settings(settings, "TICKETS", _NEEDS[settings.tickets])
    s = settings
    if s.tickets == "github":
        return GitHubIssues(setting_text(s, "GITHUB_REPO"), setting_text(s, "GITHUB_TOKEN"), setting_text(s, "GITHUB_API_URL"))
    return JiraCloud(setting_text(s, "JIRA_URL"), setting_text(s, "JIRA_PROJECT"), setting_text(s, "JIRA_EMAIL"),
                     setting_text(s, "JIRA_API_TOKEN"), setting_text(s, "JIRA_ISSUE_TYPE"))
