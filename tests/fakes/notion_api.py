"""A Notion API emulator on 127.0.0.1 (version 2025-09-03): exactly the calls the exporter makes, with Notion's
own limits and error shapes.

    async with FakeNotion() as notion:
        exporter = NotionExporter(notion.token, notion.database_id, notion.url)

- ``GET /v1/databases/{id}`` → its data source; ``GET /v1/data_sources/{id}`` → its properties (title "Name", renamed by setting
  ``title_property``, as a person can in Notion between runs);
  ``POST /v1/data_sources/{id}/query`` understanding only a title ``contains`` filter; ``POST /v1/pages`` (parent
  data_source_id, the title property, ≤ 100 children); ``GET``/``PATCH /v1/blocks/{id}/children`` (≤ 100 a request);
  ``DELETE /v1/blocks/{id}``; ``PATCH /v1/pages/{id}`` (title, in_trash).
- Blocks are validated as Notion does: known types, rich text ≤ 2,000 characters an item and ≤ 100 items, children
  nested at most two levels in one request, http(s) links only, known code languages, table rows as wide as the table.
- Auth: ``Authorization: Bearer <token>`` and a ``Notion-Version`` header; else 401 / 400.
- Faults: ``fail_next("create" | "append" | "delete" | "query" | "update", status, *, applied=False, drop=False,
  headers=None)``; ``hold_next(operation)``.
- Inspection: ``pages`` (id → {title, in_trash, blocks}), ``requests``.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from aiohttp import web

from bot.export.notion_blocks import MAX_ITEMS, MAX_TEXT
from tests.fakes.rest_faults import LoopbackREST

_TYPES = {"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "quote",
          "code", "divider", "table", "table_row"}
_LANGUAGES = {"bash", "c", "c++", "c#", "css", "diff", "docker", "go", "graphql", "html", "java", "javascript", "json",
              "kotlin", "makefile", "markdown", "plain text", "python", "ruby", "rust", "shell", "sql", "swift",
              "typescript", "xml", "yaml"}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"object": "error", "status": status, "code": code, "message": message}, status=status)


def _problem(block: Any, depth: int) -> str | None:
    """Notion's validation of one block (and its children) in a request, as a message; None when valid."""
    if not isinstance(block, dict) or block.get("type") not in _TYPES:
        return "body failed validation: block type is not supported"
    kind = block["type"]
    body = block.get(kind)
    if not isinstance(body, dict):
        return f"body.{kind} should be defined"
    texts = body.get("rich_text", [])
    if len(texts) > MAX_ITEMS:
        return f"body.{kind}.rich_text.length should be ≤ {MAX_ITEMS}"
    for text in texts:
        content = (text.get("text") or {}).get("content")
        if not isinstance(content, str) or len(content) > MAX_TEXT:
            return f"body.{kind}.rich_text.text.content.length should be ≤ {MAX_TEXT}"
        link = (text.get("text") or {}).get("link")
        if link is not None and not str(link.get("url", "")).startswith(("http://", "https://")):
            return "Invalid URL for link."
    if kind == "code" and body.get("language") not in _LANGUAGES:
        return "body.code.language should be a known language"
    children = body.get("children") or []
    if kind == "table":
        width = body.get("table_width")
        if any(len(row["table_row"]["cells"]) != width for row in children):
            return "Number of cells in table row must match the table width of the parent table"
    if children and depth >= 2 and kind != "table":
        return "body.children should be not present: nesting is limited to two levels in one request"
    for child in children:
        if (problem := _problem(child, depth + 1)) is not None:
            return problem
    return None


class FakeNotion(LoopbackREST):
    def __init__(self) -> None:
        super().__init__()
        self.token = f"ntn_{secrets.token_hex(16)}"
        self.database_id = str(uuid.uuid4())
        self.data_source_id = str(uuid.uuid4())
        self.title_property = "Name"
        self.pages: dict[str, dict[str, Any]] = {}
        self._parent: dict[str, str] = {}  # block id → page id

    @property
    def url(self) -> str:
        return self.base_url

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/databases/{id}", self._database)
        app.router.add_get("/v1/data_sources/{id}", self._data_source)
        app.router.add_post("/v1/data_sources/{id}/query", self._query)
        app.router.add_post("/v1/pages", self._create)
        app.router.add_patch("/v1/pages/{id}", self._update)
        app.router.add_get("/v1/blocks/{id}/children", self._children)
        app.router.add_patch("/v1/blocks/{id}/children", self._append)
        app.router.add_delete("/v1/blocks/{id}", self._delete)

    def _error_body(self, status: int) -> Any:
        return {"object": "error", "status": status, "code": "rate_limited" if status == 429 else "internal_server_error",
                "message": f"emulated HTTP {status}"}

    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "API token is invalid.")
        if not request.headers.get("Notion-Version"):
            return _error(400, "missing_version", "Notion-Version header failed validation.")
        response: web.StreamResponse = await handler(request)
        return response

    def live_pages(self) -> list[dict[str, Any]]:
        return [p for p in self.pages.values() if not p["in_trash"]]

    def _page_view(self, page: dict[str, Any]) -> dict[str, Any]:
        return {"object": "page", "id": page["id"], "in_trash": page["in_trash"],
                "url": f"https://www.notion.so/{page['id'].replace('-', '')}",
                "properties": {self.title_property: {"type": "title", "title": [{"plain_text": page["title"]}]}}}

    async def _database(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self.database_id:
            return _error(404, "object_not_found", f"Could not find database with ID: {request.match_info['id']}. "
                          "Make sure the relevant pages and databases are shared with your integration.")
        return web.json_response({"object": "database", "id": self.database_id,
                                  "data_sources": [{"id": self.data_source_id, "name": "Postmortems"}]})

    async def _data_source(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self.data_source_id:
            return _error(404, "object_not_found", "Could not find data source.")
        return web.json_response({"object": "data_source", "id": self.data_source_id, "properties": {
            self.title_property: {"id": "title", "type": "title", "title": {}}, "Status": {"id": "s1", "type": "status", "status": {}}}})

    async def _query(self, request: web.Request) -> web.Response:
        query = await request.json()

        async def handle() -> web.Response:
            flt = query.get("filter") or {}
            if flt.get("property") != self.title_property or "contains" not in (flt.get("title") or {}):
                return _error(400, "validation_error", "Could not find property with name or id: " + str(flt.get("property")))
            part = flt["title"]["contains"]
            found = [self._page_view(p) for p in self.pages.values() if part in p["title"] and not p["in_trash"]]
            return web.json_response({"object": "list", "results": found[: query.get("page_size", 100)], "has_more": False})
        return await self.faults.serve("query", request, handle)

    def _store(self, page_id: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        made = []
        for block in blocks:
            block_id = str(uuid.uuid4())
            self._parent[block_id] = page_id
            stored = {**block, "id": block_id}
            self.pages[page_id]["blocks"].append(stored)
            made.append(stored)
        return made

    async def _create(self, request: web.Request) -> web.Response:
        page = await request.json()

        async def handle() -> web.Response:
            parent = page.get("parent") or {}
            if parent.get("data_source_id") != self.data_source_id:
                return _error(404, "object_not_found", "Could not find data source. Make sure it is shared with your integration.")
            title = ((page.get("properties") or {}).get(self.title_property) or {}).get("title")
            if not title:
                return _error(400, "validation_error", f"body.properties.{self.title_property} should be defined")
            children = page.get("children") or []
            if len(children) > 100:
                return _error(400, "validation_error", "body.children.length should be ≤ 100")
            if (problem := next(filter(None, (_problem(b, 1) for b in children)), None)) is not None:
                return _error(400, "validation_error", problem)
            page_id = str(uuid.uuid4())
            self.pages[page_id] = {"id": page_id, "title": "".join(t["text"]["content"] for t in title),
                                   "in_trash": False, "blocks": []}
            self._store(page_id, children)
            return web.json_response(self._page_view(self.pages[page_id]))
        return await self.faults.serve("create", request, handle)

    async def _update(self, request: web.Request) -> web.Response:
        update = await request.json()

        async def handle() -> web.Response:
            page = self.pages.get(request.match_info["id"])
            if page is None:
                return _error(404, "object_not_found", "Could not find page.")
            if unknown := set(update.get("properties") or {}) - {self.title_property}:
                return _error(400, "validation_error", f"{sorted(unknown)[0]} is not a property that exists.")
            if "in_trash" in update:
                page["in_trash"] = bool(update["in_trash"])
            if title := ((update.get("properties") or {}).get(self.title_property) or {}).get("title"):
                page["title"] = "".join(t["text"]["content"] for t in title)
            return web.json_response(self._page_view(page))
        return await self.faults.serve("update", request, handle)

    async def _children(self, request: web.Request) -> web.Response:
        page = self.pages.get(request.match_info["id"])
        if page is None:
            return _error(404, "object_not_found", "Could not find block.")
        start = int(request.query.get("start_cursor") or 0)
        size = min(int(request.query.get("page_size", 100)), 100)
        chunk = page["blocks"][start:start + size]
        more = start + size < len(page["blocks"])
        return web.json_response({"object": "list", "results": chunk, "has_more": more,
                                  "next_cursor": str(start + size) if more else None})

    async def _append(self, request: web.Request) -> web.Response:
        body = await request.json()

        async def handle() -> web.Response:
            page = self.pages.get(request.match_info["id"])
            if page is None:
                return _error(404, "object_not_found", "Could not find block.")
            children = body.get("children") or []
            if len(children) > 100:
                return _error(400, "validation_error", "body.children.length should be ≤ 100")
            if (problem := next(filter(None, (_problem(b, 1) for b in children)), None)) is not None:
                return _error(400, "validation_error", problem)
            return web.json_response({"object": "list", "results": self._store(page["id"], children)})
        return await self.faults.serve("append", request, handle)

    async def _delete(self, request: web.Request) -> web.Response:
        async def handle() -> web.Response:
            block_id = request.match_info["id"]
            page_id = self._parent.pop(block_id, None)
            if page_id is None:
                return _error(404, "object_not_found", "Could not find block.")
            self.pages[page_id]["blocks"] = [b for b in self.pages[page_id]["blocks"] if b["id"] != block_id]
            return web.json_response({"object": "block", "id": block_id, "in_trash": True})
        return await self.faults.serve("delete", request, handle)
