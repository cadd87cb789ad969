"""A Jira Cloud REST v3 emulator on 127.0.0.1: exactly the calls the bot makes for tickets.

    async with FakeJira(projects={"OPS": ["Task", "Bug"]}) as jira:
        backend = JiraCloud(jira.url, "OPS", jira.email, jira.api_token)

- ``POST /rest/api/3/issue``: project, summary (one line, ≤ 255), issuetype, an ADF ``description`` and labels
  without spaces are checked and answered with Jira's 400 bodies (``errors`` by field); 201 ``{id, key, self}``.
- ``GET /rest/api/3/search/jql``: only ``project = "KEY" AND labels = "LABEL" [ORDER BY …]`` is understood (anything
  else is a 400, so a change in the bot's query fails the tests); an unknown project is Jira's 400.
- ``GET /rest/api/3/issue/{key}``: the issue with ``fields.status`` (its ``statusCategory``) and ``fields.resolution``;
  ``close(key, resolution)`` moves one to Done with a resolution ("Done", "Won't Do"…), ``reopen`` back to To Do.
- Auth: basic, the account's email and API token; else 401.
- Faults: ``fail_next("search" | "create" | "get", status, *, applied=False, drop=False)``: answer
  with ``status``; ``applied``: carry the request out first; ``drop``: close the connection with no answer.
  ``hold_next(operation)`` parks the next request until the test releases it (a click still in flight).
- Inspection: ``issues`` (what was created: key, project, fields), ``requests``.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from tests.fakes.rest_faults import LoopbackREST, basic_auth_is

_JQL = re.compile(r'^project = "([^"]+)" AND labels = "([^"]+)"(?: ORDER BY \w+ (?:ASC|DESC))?$')


_TO_DO = {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}}
_ADF_NODES = {"doc", "paragraph", "text", "bulletList", "listItem", "codeBlock", "heading"}


def _adf_ok(node: Any) -> bool:
    """Jira refuses unknown node types and empty text nodes anywhere in the document."""
    if not isinstance(node, dict) or node.get("type") not in _ADF_NODES:
        return False
    if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        return False
    return all(_adf_ok(child) for child in node.get("content") or [])


def _bad(errors: dict[str, str] | None = None, messages: list[str] | None = None, status: int = 400) -> web.Response:
    return web.json_response({"errorMessages": messages or [], "errors": errors or {}}, status=status)


class FakeJira(LoopbackREST):
    def __init__(self, projects: dict[str, list[str]] | None = None, email: str = "bot@acme.test") -> None:
        super().__init__()
        self.projects = projects or {"OPS": ["Task", "Bug"]}
        self.email = email
        self.api_token = f"ATATT{secrets.token_hex(16)}"
        self.issues: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return self.base_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/rest/api/3/issue", self._create)
        app.router.add_get("/rest/api/3/search/jql", self._search)
        app.router.add_get("/rest/api/3/issue/{key}", self._get)

    def _error_body(self, status: int) -> Any:
        return {"errorMessages": [f"emulated HTTP {status}"], "errors": {}}

    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if not basic_auth_is(request, self.email, self.api_token):
            return web.Response(status=401, text="Client must be authenticated to access this resource.")
        response: web.StreamResponse = await handler(request)
        return response

    def close(self, key: str, resolution: str = "Done") -> None:
        issue = next(i for i in self.issues if i["key"] == key)
        issue["status"] = {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
        issue["resolution"] = {"name": resolution}

    def reopen(self, key: str) -> None:
        issue = next(i for i in self.issues if i["key"] == key)
        issue["status"], issue["resolution"] = _TO_DO, None

    async def _get(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            found = [i for i in self.issues if i["key"] == request.match_info["key"]]
            if not found:
                return _bad(messages=["Issue does not exist or you do not have permission to see it."], status=404)
            issue = found[0]
            fields = {"summary": issue["fields"]["summary"], "status": issue["status"], "resolution": issue["resolution"]}
            return web.json_response({"id": issue["id"], "key": issue["key"], "self": issue["self"], "fields": fields})
        return await self.faults.serve("get", request, handle)

    async def _search(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            match = _JQL.match(request.query.get("jql", ""))
            if match is None:
                return _bad(messages=[f"Error in the JQL Query: {request.query.get('jql', '')!r}"])
            project, label = match.groups()
            if project not in self.projects:
                return _bad(messages=[f"The value '{project}' does not exist for the field 'project'."])
            found = [i for i in self.issues if i["project"] == project and label in i["fields"]["labels"]]
            limit = int(request.query.get("maxResults", 50))
            return web.json_response({"issues": [{"id": i["id"], "key": i["key"], "self": i["self"],
                                                  "fields": {"summary": i["fields"]["summary"]}} for i in found[:limit]],
                                      "isLast": len(found) <= limit})
        return await self.faults.serve("search", request, handle)

    async def _create(self, request: web.Request) -> web.Response:
        fields = (await request.json()).get("fields") or {}

        async def handle() -> web.Response:
            project = (fields.get("project") or {}).get("key")
            if project not in self.projects:
                return _bad({"project": "valid project is required"})
            problems = self._problems(fields, self.projects[project])
            if problems:
                return _bad(problems)
            number = sum(1 for i in self.issues if i["project"] == project) + 1
            issue_id = str(10000 + len(self.issues) + 1)
            issue = {"id": issue_id, "key": f"{project}-{number}", "self": f"{self.url}/rest/api/3/issue/{issue_id}",
                     "project": project, "fields": fields, "status": _TO_DO, "resolution": None}
            self.issues.append(issue)
            return web.json_response({k: issue[k] for k in ("id", "key", "self")}, status=201)
        return await self.faults.serve("create", request, handle)

    @staticmethod
    def _problems(fields: dict[str, Any], issue_types: list[str]) -> dict[str, str]:
        problems = {}
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            problems["summary"] = "Summary must be less than 255 characters and contain no line breaks."
        if (fields.get("issuetype") or {}).get("name") not in issue_types:
            problems["issuetype"] = "The issue type selected is invalid."
        description = fields.get("description")
        if description is not None and not (isinstance(description, dict) and description.get("type") == "doc"
                                            and description.get("version") == 1 and _adf_ok(description)):
            problems["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
        if any(not isinstance(label, str) or " " in label for label in fields.get("labels") or []):
            problems["labels"] = "The label must not contain spaces."
        return problems
