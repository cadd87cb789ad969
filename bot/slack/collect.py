"""Collect an incident from Slack: every message of a thread (or a channel's recent history), names resolved,
text files read. Lookups run concurrently; message order is kept."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.incident import Incident, Message
from bot.core.slack_json import mentioned_user_ids, message_from_slack
from bot.settings import Settings

log = logging.getLogger(__name__)

_TEXT_TYPES = {"text", "log", "txt", "json", "yaml", "yml", "csv", "xml", "md", "markdown", "shell", "python", "javascript", "go", "java", "sql", "diff"}
# Marks the bot's own postmortem messages so a later run does not analyse an earlier postmortem.
BOT_MARKER = "postmortem-bot"


def is_text_file(f: Mapping[str, Any]) -> bool:
    mimetype = str(f.get("mimetype", ""))
    return mimetype.startswith("text/") or f.get("mode") == "snippet" or str(f.get("filetype", "")).lower() in _TEXT_TYPES


class Collector:
    def __init__(self, client: AsyncWebClient, settings: Settings, bot_user_id: str | None, bot_id: str | None) -> None:
        self.client = client
        self.settings = settings
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._names: dict[str, str] = {}

    async def thread_root(self, channel: str, ts: str) -> str:
        """The root of the thread a message belongs to (reactions carry no thread_ts)."""
        resp = await self.client.conversations_replies(channel=channel, ts=ts, limit=1)
        first = resp["messages"][0]
        return str(first.get("thread_ts") or first["ts"])

    async def thread(self, channel: str, root_ts: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        async for page in await self.client.conversations_replies(channel=channel, ts=root_ts, limit=200):
            messages.extend(page["messages"])
        return messages

    async def channel_history(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages within POSTMORTEM_LOOKBACK, threads expanded, capped at POSTMORTEM_MAX_MESSAGES."""
        cap = self.settings.postmortem_max_messages
        oldest = f"{time.time() - self.settings.lookback.total_seconds():.6f}"
        top: list[dict[str, Any]] = []
        async for page in await self.client.conversations_history(channel=channel, oldest=oldest, limit=200):
            top.extend(page["messages"])
            if len(top) >= cap:
                break
        top = [m for m in top if not self._is_own(m)][:cap]
        roots = [m for m in top if int(m.get("reply_count", 0) or 0) > 0]
        threads = await asyncio.gather(*(self.thread(channel, m["ts"]) for m in roots))
        by_ts: dict[str, dict[str, Any]] = {m["ts"]: m for m in top}
        for replies in threads:
            by_ts.update({m["ts"]: m for m in replies})
        ordered = sorted(by_ts.values(), key=lambda m: float(m["ts"]))
        return ordered[-cap:]

    async def incident(self, raw: list[dict[str, Any]], *, title: str, source: str) -> Incident:
        raw = [m for m in raw if not self._is_own(m)]
        await self._resolve_names(raw)
        file_texts = await self._download_files(f for m in raw for f in m.get("files", []) or [])
        messages: list[Message] = [message_from_slack(m, self._name_of, file_texts) for m in raw]
        return Incident(messages=[m for m in messages if m.text or m.attachments], title=title, source=source)

    def _is_own(self, m: Mapping[str, Any]) -> bool:
        own = (self.bot_id and m.get("bot_id") == self.bot_id) or (self.bot_user_id and m.get("user") == self.bot_user_id)
        return bool(own)

    def _name_of(self, user_id: str) -> str:
        return self._names.get(user_id, user_id)

    async def _resolve_names(self, raw: Iterable[Mapping[str, Any]]) -> None:
        ids: set[str] = set()
        for m in raw:
            if m.get("user"):
                ids.add(str(m["user"]))
            ids.update(mentioned_user_ids(str(m.get("text", ""))))
        missing = [uid for uid in ids if uid not in self._names]
        names = await asyncio.gather(*(self._lookup(uid) for uid in missing))
        self._names.update(zip(missing, names))

    async def _lookup(self, user_id: str) -> str:
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except Exception:  # a deleted or foreign user keeps its id; the run goes on
            log.info("users.info failed for %s", user_id)
            return user_id
        profile = user.get("profile", {})
        return profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id

    async def _download_files(self, files: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        wanted = [f for f in files if is_text_file(f) and f.get("url_private")]
        if not wanted:
            return {}
        headers = {"Authorization": f"Bearer {self.client.token}"}
        async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as session:
            texts = await asyncio.gather(*(self._download(session, f) for f in wanted))
        return {str(f["id"]): t for f, t in zip(wanted, texts) if t is not None}

    async def _download(self, session: aiohttp.ClientSession, f: Mapping[str, Any]) -> str | None:
        cap = self.settings.max_file_bytes
        try:
            async with session.get(str(f["url_private"])) as resp:
                resp.raise_for_status()
                # read(n) returns only what is buffered (often 64 KiB), so read chunks until cap + 1 or EOF.
                data = bytearray()
                async for chunk in resp.content.iter_chunked(1 << 16):
                    data += chunk
                    if len(data) > cap:
                        break
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.info("could not download %s: %s", f.get("name"), exc)
            return None
        text = data[:cap].decode("utf-8", errors="replace")
        if len(data) > cap:
            text += f"\n[… file cut at {cap} bytes]"
        return text
