"""A GitHub REST emulator on 127.0.0.1: exactly the calls the bot makes for tickets.

    async with FakeGitHub(repos=["acme/shop"]) as gh:
        backend = GitHubIssues("acme/shop", gh.token, gh.api_url)

- ``GET /repos/{owner}/{repo}/issues`` (labels, state, sort=created, direction, per_page, page; a ``Link`` header
  with rel="next" when more pages follow), ``POST /repos/{owner}/{repo}/issues`` (title required, else 422).
- ``GET /repos/{owner}/{repo}/issues/{number}``: one issue, with ``state`` and ``state_reason``; ``close(repo, number,
  reason)`` closes one as GitHub's UI does ("completed" or "not_planned"), ``reopen`` opens it again.
- Auth: ``Authorization: Bearer <token>`` (or ``token <token>``), else 401 "Bad credentials". An unknown
  repository answers 404 "Not Found", as GitHub does for one the token cannot see.
- Faults: ``fail_next("list" | "create" | "get", status, *, applied=False, drop=False)``: answer with ``status``;
  ``applied``: carry the request out first; ``drop``: close the connection with no answer.
  ``hold_next(operation)`` parks the next request until the test releases it (a click still in flight).
- Inspection: ``issues[repo]`` (what was created, in order), ``requests`` ((method, path) in order).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes.rest_faults import LoopbackREST

_MESSAGES = {401: "Bad credentials", 403: "Resource not accessible by personal access token", 404: "Not Found",
             410: "Issues are disabled for this repo", 500: "Server Error", 502: "Server Error"}


class FakeGitHub(LoopbackREST):
    def __init__(self, repos: list[str] | tuple[str, ...] = ("acme/shop",)) -> None:
        super().__init__()
        self.token = f"github_pat_{secrets.token_hex(20)}"
        self.issues: dict[str, list[dict[str, Any]]] = {repo: [] for repo in repos}

    @property
    def api_url(self) -> str:
        return self.base_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/repos/{owner}/{repo}/issues", self._list)
        app.router.add_post("/repos/{owner}/{repo}/issues", self._create)
        app.router.add_get("/repos/{owner}/{repo}/issues/{number}", self._get)

    def _error_body(self, status: int) -> Any:
        return {"message": _MESSAGES.get(status, "Error"), "documentation_url": "https://docs.github.com/rest"}

    def all_issues(self) -> list[dict[str, Any]]:
        return [issue for issues in self.issues.values() for issue in issues]

    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or token != self.token:
            return web.json_response({"message": "Bad credentials", "status": "401"}, status=401)
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if repo not in self.issues:
            return web.json_response({"message": "Not Found", "status": "404"}, status=404)
        response: web.StreamResponse = await handler(request)
        return response

    def issue(self, repo: str, number: int) -> dict[str, Any]:
        return next(i for i in self.issues[repo] if i["number"] == number)

    def close(self, repo: str, number: int, reason: str = "completed") -> None:
        self.issue(repo, number).update(state="closed", state_reason=reason)

    def reopen(self, repo: str, number: int) -> None:
        self.issue(repo, number).update(state="open", state_reason="reopened")

    async def _get(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
            found = [i for i in self.issues[repo] if str(i["number"]) == request.match_info["number"]]
            if not found:
                return web.json_response({"message": "Not Found", "status": "404"}, status=404)
            return web.json_response(found[0])
        return await self.faults.serve("get", request, handle)

    async def _list(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
            q = request.query
            wanted = {name for name in q.get("labels", "").split(",") if name}
            state = q.get("state", "open")
            found = [i for i in self.issues[repo] if wanted <= {label["name"] for label in i["labels"]}
                     and (state == "all" or i["state"] == state)]
            if q.get("direction", "desc") == "desc":
                found.reverse()
            per_page, page = min(int(q.get("per_page", 30)), 100), int(q.get("page", 1))
            chunk = found[(page - 1) * per_page: page * per_page]
            headers = {}
            if len(found) > page * per_page:
                following = request.url.update_query(page=str(page + 1))
                headers["Link"] = f'<{following}>; rel="next"'
            return web.json_response(chunk, headers=headers)
        return await self.faults.serve("list", request, handle)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()

        async def handle() -> web.Response:
            repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
            if not isinstance(body.get("title"), str) or not body["title"].strip():
                return web.json_response({"message": "Validation Failed", "errors": [
                    {"resource": "Issue", "code": "missing_field", "field": "title"}]}, status=422)
            number = sum(len(i) for i in self.issues.values()) + 1
            issue = {"number": number, "title": body["title"], "body": body.get("body") or "", "state": "open", "state_reason": None,
                     "labels": [{"name": str(name)} for name in body.get("labels") or []],
                     "html_url": f"https://github.com/{repo}/issues/{number}",
                     "url": f"{self.api_url}/repos/{repo}/issues/{number}"}
            self.issues[repo].append(issue)
            return web.json_response(issue, status=201)
        return await self.faults.serve("create", request, handle)
