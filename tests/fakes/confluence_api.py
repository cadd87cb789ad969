"""A Confluence Cloud emulator on 127.0.0.1: exactly the REST calls the exporter makes (REST v2 pages and spaces,
v1 labels and CQL search), with Confluence's own checks and error shapes.

    async with FakeConfluence(spaces={"OPS": "98304"}) as wiki:
        exporter = ConfluenceExporter(wiki.url, "OPS", wiki.email, wiki.api_token)

- ``GET /wiki/api/v2/spaces?keys=K``; ``GET /wiki/api/v2/pages?space-id=&title=`` (exact title);
  ``POST /wiki/api/v2/pages`` (spaceId, title unique in the space → else 400, parentId must exist → else 404, body in
  storage format that must be well-formed XML → else 400); ``GET``/``PUT``/``DELETE /wiki/api/v2/pages/{id}`` (PUT
  needs the current version + 1 → else 409); ``POST /wiki/rest/api/content/{id}/label``;
  ``GET /wiki/rest/api/content/search?cql=`` understanding only the exporter's label query (else 400).
- Auth: basic, the account's email and API token; else 401.
- Faults: ``fail_next("create" | "update" | "label" | "search" | "spaces", status, *, applied=False, drop=False)``;
  ``hold_next(operation)``; ``edit_meanwhile(page_id)`` bumps a page's version as a person saving would; ``trash(page_id)`` deletes a page as a person
  does in Confluence: it leaves every listing and search but keeps its title taken (titles are unique in a space,
  the trash included) until it is purged.
- Inspection: ``pages`` (id → page), ``requests``.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from typing import Any

from aiohttp import web

from tests.fakes.rest_faults import LoopbackREST, basic_auth_is

_CQL = re.compile(r'^type = page AND space = "([^"]+)" AND label = "([^"]+)"$')


def _error(status: int, title: str) -> web.Response:
    return web.json_response({"errors": [{"status": status, "code": "INVALID_REQUEST_PARAMETER", "title": title}]},
                             status=status)


class FakeConfluence(LoopbackREST):
    def __init__(self, spaces: dict[str, str] | None = None, parents: tuple[str, ...] = (),
                 email: str = "bot@acme.test") -> None:
        super().__init__()
        self.spaces = spaces or {"OPS": "98304"}
        self.parents = set(parents)
        self.email = email
        self.api_token = f"ATATT{secrets.token_hex(16)}"
        self.pages: dict[str, dict[str, Any]] = {}
        self._next_id = 65537

    @property
    def url(self) -> str:
        return f"{self.base_url}/wiki"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/wiki/api/v2/spaces", self._spaces)
        app.router.add_get("/wiki/api/v2/pages", self._list)
        app.router.add_post("/wiki/api/v2/pages", self._create)
        app.router.add_get("/wiki/api/v2/pages/{id}", self._get)
        app.router.add_put("/wiki/api/v2/pages/{id}", self._update)
        app.router.add_delete("/wiki/api/v2/pages/{id}", self._delete)
        app.router.add_post("/wiki/rest/api/content/{id}/label", self._label)
        app.router.add_get("/wiki/rest/api/content/search", self._search)

    def _error_body(self, status: int) -> Any:
        return {"errors": [{"status": status, "code": "EMULATED", "title": f"emulated HTTP {status}"}]}

    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if not basic_auth_is(request, self.email, self.api_token):
            return _error(401, "Unauthorized; scope does not match")
        response: web.StreamResponse = await handler(request)
        return response

    def edit_meanwhile(self, page_id: str) -> None:
        self.pages[page_id]["version"]["number"] += 1

    def trash(self, page_id: str) -> None:
        self.pages[page_id]["status"] = "trashed"

    def _live(self) -> list[dict[str, Any]]:
        return [p for p in self.pages.values() if p.get("status") != "trashed"]

    def by_title(self, title_part: str) -> list[dict[str, Any]]:
        return [p for p in self.pages.values() if title_part in p["title"]]

    def _view(self, page: dict[str, Any]) -> dict[str, Any]:
        space_key = next(k for k, v in self.spaces.items() if v == page["spaceId"])
        return {**{k: v for k, v in page.items() if k != "labels"},
                "_links": {"webui": f"/spaces/{space_key}/pages/{page['id']}"}}

    async def _spaces(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            keys = request.query.get("keys", "").split(",")
            return web.json_response({"results": [{"id": self.spaces[k], "key": k} for k in keys if k in self.spaces]})
        return await self.faults.serve("spaces", request, handle)

    async def _list(self, request: web.Request) -> web.Response:
        space, title = request.query.get("space-id"), request.query.get("title")
        found = [self._view(p) for p in self._live() if p["spaceId"] == space and p["title"] == title]
        return web.json_response({"results": found})

    async def _create(self, request: web.Request) -> web.Response:
        page = await request.json()

        async def handle() -> web.Response:
            if page.get("spaceId") not in self.spaces.values():
                return _error(400, "Space not found")
            if (problem := self._body_problem(page)) is not None:
                return _error(400, problem)
            if any(p["spaceId"] == page["spaceId"] and p["title"] == page["title"] for p in self.pages.values()):
                return _error(400, "A page with this title already exists: A page already exists with the same TITLE in this space")
            if page.get("parentId") is not None and page["parentId"] not in self.parents:
                return _error(404, "Parent page not found")
            page_id = str(self._next_id)
            self._next_id += 1
            self.pages[page_id] = {"id": page_id, "spaceId": page["spaceId"], "title": page["title"],
                                   "parentId": page.get("parentId"), "body": page["body"]["value"],
                                   "version": {"number": 1}, "labels": []}
            return web.json_response(self._view(self.pages[page_id]))
        return await self.faults.serve("create", request, handle)

    @staticmethod
    def _body_problem(page: dict[str, Any]) -> str | None:
        body = page.get("body") or {}
        if body.get("representation") != "storage" or not isinstance(body.get("value"), str):
            return "body must be in the storage representation"
        if not isinstance(page.get("title"), str) or not page["title"].strip() or len(page["title"]) > 255:
            return "Title is required and must be under 255 characters"
        try:
            ET.fromstring(f"<root>{body['value']}</root>")
        except (ET.ParseError, UnicodeEncodeError) as exc:  # a lone surrogate is no XML character either
            return f"Error parsing xhtml: {exc}"
        return None

    async def _get(self, request: web.Request) -> web.Response:
        page = self.pages.get(request.match_info["id"])
        return web.json_response(self._view(page)) if page and page.get("status") != "trashed" else _error(404, "Page not found")

    async def _update(self, request: web.Request) -> web.Response:
        update = await request.json()

        async def handle() -> web.Response:
            page = self.pages.get(request.match_info["id"])
            if page is None:
                return _error(404, "Page not found")
            if (problem := self._body_problem({**update, "title": update.get("title")})) is not None:
                return _error(400, problem)
            if (update.get("version") or {}).get("number") != page["version"]["number"] + 1:
                return _error(409, "Version must be incremented on update")
            page.update(title=update["title"], body=update["body"]["value"], version={"number": update["version"]["number"]})
            return web.json_response(self._view(page))
        return await self.faults.serve("update", request, handle)

    async def _delete(self, request: web.Request) -> web.Response:
        if self.pages.pop(request.match_info["id"], None) is None:
            return _error(404, "Page not found")
        return web.Response(status=204)

    async def _label(self, request: web.Request) -> web.Response:
        labels = await request.json()

        async def handle() -> web.Response:
            page = self.pages.get(request.match_info["id"])
            if page is None:
                return _error(404, "Page not found")
            page["labels"] += [label["name"] for label in labels]
            return web.json_response({"results": [{"prefix": "global", "name": n} for n in page["labels"]]})
        return await self.faults.serve("label", request, handle)

    async def _search(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            match = _CQL.match(request.query.get("cql", ""))
            if match is None:
                return _error(400, f"Could not parse cql: {request.query.get('cql', '')}")
            space, label = match.groups()
            found = [self._view(p) for p in self._live()
                     if p["spaceId"] == self.spaces.get(space) and label in p["labels"]]
            return web.json_response({"results": found[: int(request.query.get("limit", 25))]})
        return await self.faults.serve("search", request, handle)
