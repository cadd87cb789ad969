"""GitHub Issues over REST: ``POST /repos/{owner}/{repo}/issues``; dedup by listing the bot's labelled issues
(``GET /repos/{owner}/{repo}/issues?labels=postmortem-bot&state=all``, newest first) for a hidden marker carrying
the idempotency key. The list endpoint is read from the database, unlike the search API whose index lags, so an
issue created a moment ago whose answer was lost is found at once."""

from __future__ import annotations

import re

from bot.rest import HttpReply, HttpReplyLost
from bot.tickets.content import markdown_body, redacted, title
from bot.tickets.http import post_or_find, ticket_http, transient
from bot.tickets.model import LABEL, Ticket, TicketContent, TicketError, TicketErrorKind

SERVICE = "GitHub"
_PAGE = 100
_MAX_PAGES = 10  # the 1,000 newest bot tickets; an older one is covered by the bot's own claim record
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_TOKEN_FIX = ("create a token (github.com/settings/personal-access-tokens) with Issues: read and write "
              "on {repo} and set GITHUB_TOKEN")


def marker(key: str) -> str:
    return f"<!-- postmortem-bot:{key} -->"


class GitHubIssues:
    name = "github"

    def __init__(self, repo: str, token: str, api_url: str = "https://api.github.com", *,
                 timeout_s: float = 20.0) -> None:
        self.repo = repo
        self.http = ticket_http(SERVICE, api_url, {"Authorization": f"Bearer {token}",
                                                   "Accept": "application/vnd.github+json",
                                                   "X-GitHub-Api-Version": "2022-11-28"}, timeout_s=timeout_s)

    async def find(self, idempotency_key: str) -> Ticket | None:
        wanted = marker(idempotency_key)
        url = f"/repos/{self.repo}/issues"
        params: dict[str, str] | None = {"labels": LABEL, "state": "all", "sort": "created", "direction": "desc",
                                          "per_page": str(_PAGE)}
        for _ in range(_MAX_PAGES):
            try:
                answer = await self.http.request("GET", url, params=params)
            except HttpReplyLost as lost:
                raise TicketError(TicketErrorKind.UNAVAILABLE, lost.why, "try again in a minute") from None
            self._check(answer)
            for issue in answer.body if isinstance(answer.body, list) else []:
                if wanted in str(issue.get("body") or ""):
                    return Ticket(str(issue["html_url"]), f"#{issue['number']}")
            following = _NEXT.search(answer.headers.get("Link", ""))
            if following is None:
                return None
            url, params = following.group(1), None  # the next link carries the query
        return None

    async def create(self, content: TicketContent, idempotency_key: str) -> Ticket:
        content = redacted(content)  # a ticket leaves the machine: no secret from the thread goes with it
        found = await self.find(idempotency_key)
        if found is not None:
            return found
        payload = {"title": title(content), "body": markdown_body(content, marker(idempotency_key)), "labels": [LABEL]}
        answer = await post_or_find(self.http, f"/repos/{self.repo}/issues", payload, lambda: self.find(idempotency_key), SERVICE)
        if isinstance(answer, Ticket):
            return answer
        self._check(answer)
        if not isinstance(answer.body, dict) or "html_url" not in answer.body:
            raise TicketError(TicketErrorKind.REJECTED, f"GitHub answered HTTP {answer.status} without the new issue",
                              "check GITHUB_API_URL points at the GitHub API (…/api/v3 on GitHub Enterprise)")
        return Ticket(str(answer.body["html_url"]), f"#{answer.body['number']}")

    def owns(self, url: str) -> bool:
        """The ticket at ``url`` is an issue of this repository (tickets of an earlier GITHUB_REPO are not)."""
        return re.search(rf"/{re.escape(self.repo)}/issues/\d+$", url) is not None

    async def state(self, key: str) -> str:
        """"open", "done" or "not_planned", read now (``GET /repos/{repo}/issues/{number}``); raises TicketError."""
        number = key.lstrip("#")
        if not number.isdigit():
            raise TicketError(TicketErrorKind.NOT_FOUND, f"{key} is not a GitHub issue number", "tickets are named #123")
        try:
            answer = await self.http.request("GET", f"/repos/{self.repo}/issues/{number}")
        except HttpReplyLost as lost:
            raise TicketError(TicketErrorKind.UNAVAILABLE, lost.why, "try again in a minute") from None
        if answer.status == 404:
            raise TicketError(TicketErrorKind.NOT_FOUND, f"the GitHub issue {key} was not found in {self.repo}",
                              "it may have been deleted or transferred, or the token cannot see it")
        self._check(answer)
        issue = answer.body if isinstance(answer.body, dict) else {}
        if issue.get("state") != "closed":
            return "open"
        return "not_planned" if issue.get("state_reason") in ("not_planned", "duplicate") else "done"

    def _check(self, answer: HttpReply) -> None:
        if answer.status < 300:
            return
        repo = self.repo
        if answer.status == 403 and answer.headers.get("X-RateLimit-Remaining") == "0":
            raise TicketError(TicketErrorKind.UNAVAILABLE, "GitHub's rate limit for this token is used up",
                              "try again in an hour, or use another GITHUB_TOKEN")
        if (error := transient(SERVICE, answer)) is not None:
            raise error
        if answer.status == 401:
            raise TicketError(TicketErrorKind.REFUSED, f"the token was refused by GitHub ({answer.message()})",
                              _TOKEN_FIX.format(repo=repo))
        if answer.status == 403:
            raise TicketError(TicketErrorKind.REFUSED, f"the token was refused by GitHub: it may not create issues in {repo} "
                              f"({answer.message()})", _TOKEN_FIX.format(repo=repo))
        if answer.status == 404:
            raise TicketError(TicketErrorKind.NOT_FOUND, f"the GitHub repository {repo} was not found, or the token cannot see it",
                              "check GITHUB_REPO (owner/name) and that the token has access to that repository")
        if answer.status == 410:
            raise TicketError(TicketErrorKind.NOT_FOUND, f"issues are turned off in the GitHub repository {repo}",
                              "turn Issues on in the repository's settings, or set GITHUB_REPO to another repository")
        raise TicketError(TicketErrorKind.REJECTED, f"GitHub refused the issue (HTTP {answer.status}: {answer.message()})",
                          "check GITHUB_REPO and the token's permissions; report it if it persists")

    async def aclose(self) -> None:
        await self.http.aclose()
