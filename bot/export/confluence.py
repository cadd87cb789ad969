"""Confluence Cloud over REST v2 (pages) with basic auth (email + API token).

One page per thread, found again by a label carrying the thread's key (v1 CQL search: v2 has no search, and labels
are added through v1), or by its title, which is unique within a space and carries the key too. Regenerate
updates the page with the next version number; a version conflict (someone edited meanwhile) is retried once."""

from __future__ import annotations

import base64
from typing import Any

from bot.export.errors import check, lost, reason
from bot.export.model import ExportedPage, ExportError, page_title
from bot.export.storage import storage_xhtml
from bot.rest import Http, HttpReply, HttpReplyLost

SERVICE = "Confluence"
_REFUSED_FIX = ("check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN (id.atlassian.com/manage-profile/security/api-tokens) "
                "and that this account may add pages to the space")


class ConfluenceExporter:
    name = SERVICE

    def __init__(self, wiki_url: str, space_key: str, email: str, token: str, parent_id: str | None = None, *,
                 timeout_s: float = 20.0) -> None:
        self.wiki = wiki_url.rstrip("/")
        self.space_key = space_key
        self.parent_id = parent_id or None
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        self.http = Http(SERVICE, self.wiki, {"Authorization": f"Basic {basic}"}, timeout_s=timeout_s,
                         unreachable=ExportError)
        self._space_id: str | None = None

    async def publish(self, key: str, title: str, markdown: str) -> ExportedPage:
        full_title = page_title(title, key)
        body = {"representation": "storage", "value": storage_xhtml(markdown)}
        try:
            space_id = await self._space()
            found = await self._find_by_label(key) or await self._find_by_title(space_id, full_title)
            if found is not None:
                return await self._update(found, full_title, body)
            return await self._create(space_id, key, full_title, body)
        except HttpReplyLost as exc:
            raise lost(SERVICE, exc) from None

    async def probe(self) -> str:
        try:
            await self._space()
            await self._find_by_label("pmb-doctor-probe")
        except HttpReplyLost as exc:
            raise lost(SERVICE, exc) from None
        return f"space {self.space_key} at {self.wiki}"

    async def _request(self, method: str, path: str, *, missing: str, missing_fix: str,
                       params: dict[str, str] | None = None, body: Any = None, ok: tuple[int, ...] = ()) -> HttpReply:
        answer = await self.http.request(method, path, params=params, body=body)
        if answer.status not in ok:
            check(SERVICE, answer, refused_fix=_REFUSED_FIX, missing=missing, missing_fix=missing_fix)
        return answer

    async def _space(self) -> str:
        if self._space_id is None:
            answer = await self._request("GET", "/api/v2/spaces", params={"keys": self.space_key, "limit": "1"},
                                         missing="the spaces API is not here", missing_fix=self._url_fix())
            results = answer.body.get("results") if isinstance(answer.body, dict) else None
            if not results:
                raise ExportError(f"Confluence has no space with key {self.space_key} that this account can see",
                                  "set CONFLUENCE_SPACE to the space key shown in the space's URL (/spaces/KEY/…)")
            self._space_id = str(results[0]["id"])
        return self._space_id

    def _url_fix(self) -> str:
        return "set CONFLUENCE_URL to your site's wiki base, such as https://your-site.atlassian.net/wiki"

    async def _find_by_label(self, key: str) -> str | None:
        cql = f'type = page AND space = "{self.space_key}" AND label = "{key}"'
        answer = await self._request("GET", "/rest/api/content/search", params={"cql": cql, "limit": "1"},
                                     missing="the search API is not here", missing_fix=self._url_fix())
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        return str(results[0]["id"]) if results else None

    async def _find_by_title(self, space_id: str, title: str) -> str | None:
        answer = await self._request("GET", "/api/v2/pages", params={"space-id": space_id, "title": title, "limit": "1"},
                                     missing="the pages API is not here", missing_fix=self._url_fix())
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        return str(results[0]["id"]) if results else None

    async def _create(self, space_id: str, key: str, title: str, body: dict[str, str]) -> ExportedPage:
        page: dict[str, Any] = {"spaceId": space_id, "status": "current", "title": title, "body": body}
        if self.parent_id:
            page["parentId"] = self.parent_id
        try:
            answer = await self._request("POST", "/api/v2/pages", body=page, missing=f"the parent page {self.parent_id} does not exist",
                                         missing_fix="set CONFLUENCE_PARENT_ID to the id in the parent page's URL, or unset it",
                                         ok=(400,))
        except HttpReplyLost:
            # The page may have been made: its title is unique, so look before reporting a failure.
            if (page_id := await self._find_by_title(space_id, title)) is None:
                raise
            await self._label(page_id, key)
            return await self._update(page_id, title, body, created=True)
        if answer.status == 400:
            self._title_taken(answer, title)
        page_id = str(answer.body["id"])
        try:
            await self._label(page_id, key)
        except (ExportError, HttpReplyLost):
            # Unlabelled, the page could be made twice by the next attempt: take it back rather than leave it.
            await self.http.request("DELETE", f"/api/v2/pages/{page_id}")
            raise
        return ExportedPage(self._link(answer.body, page_id), page_id, created=True)

    def _title_taken(self, answer: HttpReply, title: str) -> None:
        """Raise for a refused creation. Neither search finds a page in the trash or the archive, but its title stays
        taken: a person deleted the exported page, and only a person can restore or purge it."""
        if "already exists" in reason(answer).lower():
            raise ExportError(f"Confluence keeps a deleted or archived page titled \"{title}\" in space {self.space_key}, "
                              "so the report cannot be made again under that title",
                              "restore the page from the space's trash (Space settings → Trash) or archive and press "
                              "Regenerate to update it, or purge it from the trash to have a new page made")
        check(SERVICE, answer, refused_fix=_REFUSED_FIX, missing="", missing_fix="")

    async def _label(self, page_id: str, key: str) -> None:
        await self._request("POST", f"/rest/api/content/{page_id}/label", body=[{"prefix": "global", "name": key}],
                            missing=f"page {page_id} is gone", missing_fix="press Regenerate to make it again")

    async def _update(self, page_id: str, title: str, body: dict[str, str], *, created: bool = False) -> ExportedPage:
        answer = await self._put(page_id, title, body, conflict_ok=True)
        if answer.status == 409:  # someone saved a version meanwhile: read it and go again, once
            answer = await self._put(page_id, title, body, conflict_ok=False)
        return ExportedPage(self._link(answer.body, page_id), page_id, created=created)

    async def _put(self, page_id: str, title: str, body: dict[str, str], *, conflict_ok: bool) -> HttpReply:
        gone, fix = f"page {page_id} is gone", "press Regenerate to make it again"
        current = await self._request("GET", f"/api/v2/pages/{page_id}", missing=gone, missing_fix=fix)
        version = int(current.body["version"]["number"])
        page = {"id": page_id, "status": "current", "title": title, "body": body,
                "version": {"number": version + 1, "message": "Updated by postmortem-bot"}}
        return await self._request("PUT", f"/api/v2/pages/{page_id}", body=page, ok=(409,) if conflict_ok else (),
                                   missing=gone, missing_fix=fix)

    def _link(self, page: Any, page_id: str) -> str:
        webui = page.get("_links", {}).get("webui") if isinstance(page, dict) else None
        return f"{self.wiki}{webui}" if webui else f"{self.wiki}/pages/viewpage.action?pageId={page_id}"

    async def aclose(self) -> None:
        await self.http.aclose()
