"""Notion over its REST API (version 2025-09-03: a database holds data sources; pages are made in a data source).

One page per thread in the configured database, found again by the thread's key in its title (a ``contains``
filter on the title property). Notion cannot swap a page's content in one call, so an update appends the new
blocks first and only then deletes the old ones: a failure part-way removes what it added and leaves the page as
it was. A creation whose later batches fail is moved to the trash: nothing half-made stays."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.export.errors import check, lost
from bot.export.model import ExportedPage, ExportError, page_title
from bot.export.notion_blocks import Block, notion_blocks
from bot.rest import Http, HttpReply, HttpReplyLost

SERVICE = "Notion"
VERSION = "2025-09-03"
BATCH = 100  # children per request (Notion's limit)
# Notion averages 3 requests/s per integration and answers 429 with Retry-After: waits up to this are taken.
MAX_WAIT_S = 10.0
RETRIES = 3
_REFUSED_FIX = "check NOTION_TOKEN (the integration's internal secret, notion.so/my-integrations)"
_SHARE_FIX = "open the database in Notion, ··· → Connections, and add your integration; check NOTION_DATABASE_ID"


class NotionExporter:
    name = SERVICE

    def __init__(self, token: str, database_id: str, api_url: str = "https://api.notion.com", *,
                 timeout_s: float = 20.0) -> None:
        self.database_id = database_id
        self.http = Http(SERVICE, api_url, {"Authorization": f"Bearer {token}", "Notion-Version": VERSION},
                         timeout_s=timeout_s, unreachable=ExportError)

    async def publish(self, key: str, title: str, markdown: str) -> ExportedPage:
        blocks = notion_blocks(markdown)
        full_title = page_title(title, key)
        try:
            source, title_property = await self._data_source()
            found = await self._find(source, title_property, key)
            if found is not None:
                return await self._update(found, title_property, full_title, blocks, created=False)
            return await self._create(source, title_property, key, full_title, blocks)
        except HttpReplyLost as exc:
            raise lost(SERVICE, exc) from None

    async def probe(self) -> str:
        try:
            source, title_property = await self._data_source()
            await self._find(source, title_property, "pmb-doctor-probe")
        except HttpReplyLost as exc:
            raise lost(SERVICE, exc) from None
        return f"database {self.database_id} (title property {title_property!r})"

    async def _request(self, method: str, path: str, body: Any = None, *, missing: str = "the database is not shared "
                       "with the integration", params: dict[str, str] | None = None) -> HttpReply:
        for attempt in range(RETRIES + 1):
            answer = await self.http.request(method, path, params=params, body=body)
            wait = answer.headers.get("Retry-After", "")
            if answer.status != 429 or attempt == RETRIES or not wait.isdigit() or float(wait) > MAX_WAIT_S:
                break
            await asyncio.sleep(float(wait))  # Notion's own pacing: the wait it asked for
        check(SERVICE, answer, refused_fix=_REFUSED_FIX, missing=missing, missing_fix=_SHARE_FIX)
        return answer

    async def _data_source(self) -> tuple[str, str]:
        """(data source id, its title property's name), read at every publish: the bot runs for weeks, and a person
        may rename the title column or replace the data source meanwhile."""
        database = (await self._request("GET", f"/v1/databases/{self.database_id}")).body
        sources = database.get("data_sources") if isinstance(database, dict) else None
        if not sources:
            raise ExportError(f"the Notion database {self.database_id} has no data source",
                              "set NOTION_DATABASE_ID to a database (not a page or a linked view)")
        source_id = str(sources[0]["id"])
        schema = (await self._request("GET", f"/v1/data_sources/{source_id}")).body
        titles = [name for name, prop in (schema.get("properties") or {}).items() if prop.get("type") == "title"]
        if not titles:  # every Notion data source has one; an answer without it is not Notion
            raise ExportError("the Notion data source has no title property", "check NOTION_API_URL")
        return source_id, titles[0]

    async def _find(self, source: str, title_property: str, key: str) -> str | None:
        query = {"filter": {"property": title_property, "title": {"contains": key}}, "page_size": 5}
        results = (await self._request("POST", f"/v1/data_sources/{source}/query", query)).body.get("results") or []
        live = [page for page in results if not page.get("in_trash") and not page.get("archived")]
        return str(live[0]["id"]) if live else None

    async def _create(self, source: str, title_property: str, key: str, title: str, blocks: list[Block]) -> ExportedPage:
        page = {"parent": {"type": "data_source_id", "data_source_id": source},
                "properties": {title_property: {"title": [{"type": "text", "text": {"content": title}}]}},
                "children": blocks[:BATCH]}
        try:
            made = (await self._request("POST", "/v1/pages", page)).body
        except HttpReplyLost:
            # It may have been made: the key in its title finds it; then make its content whole.
            if (found := await self._find(source, title_property, key)) is None:
                raise
            return await self._update(found, title_property, title, blocks, created=True)
        page_id = str(made["id"])
        try:
            await self._append(page_id, blocks[BATCH:])
        except (ExportError, HttpReplyLost):
            await self.http.request("PATCH", f"/v1/pages/{page_id}", body={"in_trash": True})
            raise
        return ExportedPage(str(made.get("url") or ""), page_id, created=True)

    async def _update(self, page_id: str, title_property: str, title: str, blocks: list[Block], *,
                      created: bool) -> ExportedPage:
        old = await self._children(page_id)
        await self._append(page_id, blocks)
        for block_id in old:
            await self._request("DELETE", f"/v1/blocks/{block_id}", missing="a block was already deleted")
        answer = await self._request("PATCH", f"/v1/pages/{page_id}",
                                     {"properties": {title_property: {"title": [{"type": "text", "text": {"content": title}}]}}})
        return ExportedPage(str(answer.body.get("url") or ""), page_id, created=created)

    async def _children(self, page_id: str) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            params = {"page_size": str(BATCH), **({"start_cursor": cursor} if cursor else {})}
            body = (await self._request("GET", f"/v1/blocks/{page_id}/children", params=params)).body
            ids += [str(block["id"]) for block in body.get("results") or []]
            cursor = body.get("next_cursor") if body.get("has_more") else None
            if not cursor:
                return ids

    async def _append(self, page_id: str, blocks: list[Block]) -> None:
        """Append in batches; on a failure, delete what this call added and re-raise (the page is as it was)."""
        added: list[str] = []
        try:
            for start in range(0, len(blocks), BATCH):
                body = (await self._request("PATCH", f"/v1/blocks/{page_id}/children",
                                            {"children": blocks[start:start + BATCH]})).body
                added += [str(block["id"]) for block in body.get("results") or []]
        except (ExportError, HttpReplyLost):
            for block_id in added:
                await self.http.request("DELETE", f"/v1/blocks/{block_id}")
            raise

    async def aclose(self) -> None:
        await self.http.aclose()
