"""Jira Cloud over REST v3: ``POST /rest/api/3/issue`` with an ADF description, basic auth (email + API token).
Dedup: each ticket carries its idempotency key as a label, found with JQL
(``GET /rest/api/3/search/jql?jql=project = "KEY" AND labels = "pmb-…"``)."""

from __future__ import annotations

import base64

from bot.rest import HttpReply, HttpReplyLost
from bot.tickets.content import adf_body, redacted, title
from bot.tickets.http import post_or_find, ticket_http, transient
from bot.tickets.model import LABEL, Ticket, TicketContent, TicketError, TicketErrorKind

SERVICE = "Jira"
# Resolutions that close an issue without doing it (Jira Cloud's defaults).
NOT_DONE = frozenset({"won't do", "won't fix", "duplicate", "cannot reproduce", "declined", "obsolete"})
_TOKEN_FIX = "create an API token at id.atlassian.com/manage-profile/security/api-tokens for JIRA_EMAIL and set JIRA_API_TOKEN"


class JiraCloud:
    name = "jira"

    def __init__(self, url: str, project: str, email: str, token: str, issue_type: str = "Task", *,
                 timeout_s: float = 20.0) -> None:
        self.site = url.rstrip("/")
        self.project = project
        self.issue_type = issue_type
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        self.http = ticket_http(SERVICE, self.site, {"Authorization": f"Basic {basic}"}, timeout_s=timeout_s)

    def _ticket(self, key: str) -> Ticket:
        return Ticket(f"{self.site}/browse/{key}", key)

    async def find(self, idempotency_key: str) -> Ticket | None:
        jql = f'project = "{self.project}" AND labels = "{idempotency_key}" ORDER BY created ASC'
        try:
            answer = await self.http.request("GET", "/rest/api/3/search/jql",
                                             params={"jql": jql, "fields": "summary", "maxResults": "1"})
        except HttpReplyLost as lost:
            raise TicketError(TicketErrorKind.UNAVAILABLE, lost.why, "try again in a minute") from None
        self._check(answer)
        issues = answer.body.get("issues") if isinstance(answer.body, dict) else None
        return self._ticket(str(issues[0]["key"])) if issues else None

    async def create(self, content: TicketContent, idempotency_key: str) -> Ticket:
        content = redacted(content)  # a ticket leaves the machine: no secret from the thread goes with it
        found = await self.find(idempotency_key)
        if found is not None:
            return found
        fields = {"project": {"key": self.project}, "summary": title(content), "issuetype": {"name": self.issue_type},
                  "description": adf_body(content), "labels": [LABEL, idempotency_key]}
        answer = await post_or_find(self.http, "/rest/api/3/issue", {"fields": fields}, lambda: self.find(idempotency_key), SERVICE)
        if isinstance(answer, Ticket):
            return answer
        self._check(answer)
        if not isinstance(answer.body, dict) or "key" not in answer.body:
            raise TicketError(TicketErrorKind.REJECTED, f"Jira answered HTTP {answer.status} without the new issue",
                              "check JIRA_URL is your site's address (https://your-site.atlassian.net)")
        return self._ticket(str(answer.body["key"]))

    def owns(self, url: str) -> bool:
        """The ticket at ``url`` lives on this site (tickets of an earlier JIRA_URL are not)."""
        return url.startswith(f"{self.site}/browse/")

    async def state(self, key: str) -> str:
        """"open", "done" or "not_planned", read now (``GET /rest/api/3/issue/{key}``); raises TicketError."""
        try:
            answer = await self.http.request("GET", f"/rest/api/3/issue/{key}", params={"fields": "status,resolution"})
        except HttpReplyLost as lost:
            raise TicketError(TicketErrorKind.UNAVAILABLE, lost.why, "try again in a minute") from None
        if answer.status == 404:
            raise TicketError(TicketErrorKind.NOT_FOUND, f"the Jira issue {key} was not found", "it may have been deleted or moved")
        self._check(answer)
        fields = answer.body.get("fields") or {} if isinstance(answer.body, dict) else {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        if category != "done":
            return "open"
        resolution = str((fields.get("resolution") or {}).get("name") or "").lower()
        return "not_planned" if resolution in NOT_DONE else "done"

    def _check(self, answer: HttpReply) -> None:
        if answer.status < 300:
            return
        if (error := transient(SERVICE, answer)) is not None:
            raise error
        said = answer.message()
        if answer.status == 401:
            raise TicketError(TicketErrorKind.REFUSED, f"the token was refused by Jira: JIRA_EMAIL with JIRA_API_TOKEN ({said})", _TOKEN_FIX)
        if answer.status == 403:
            raise TicketError(TicketErrorKind.REFUSED, f"the token was refused by Jira: JIRA_EMAIL may not create issues in "
                              f"{self.project} ({said})", "ask a Jira admin for the Create issues permission in the "
                              "project, or use another account's token")
        if answer.status == 404 or (answer.status == 400 and "project" in said.lower()):
            # Jira answers 400 "valid project is required" (create) or "does not exist for the field 'project'" (JQL).
            raise TicketError(TicketErrorKind.NOT_FOUND, f"the Jira project {self.project} was not found at {self.site}, "
                              "or JIRA_EMAIL cannot see it", "check JIRA_PROJECT (the key, e.g. OPS) and JIRA_URL")
        if answer.status == 400 and "issuetype" in said.lower():
            raise TicketError(TicketErrorKind.REJECTED, f"Jira has no issue type {self.issue_type!r} in {self.project} ({said})",
                              "set JIRA_ISSUE_TYPE to one of the project's issue types (Task, Bug, Story…)")
        raise TicketError(TicketErrorKind.REJECTED, f"Jira refused the issue (HTTP {answer.status}: {said})",
                          "check the JIRA_* settings; report it if it persists")

    async def aclose(self) -> None:
        await self.http.aclose()
