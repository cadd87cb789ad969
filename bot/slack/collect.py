"""Collect an incident from Slack: every message of a thread (or a channel's recent history), names resolved,
text files read. Lookups run concurrently; message order is kept."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.incident.model import Incident, Message
from bot.core.incident.slack_json import mentioned_user_ids, message_from_slack
from bot.errors import PostmortemError
from bot.settings import Settings
from bot.slack.errors import slack_error
from bot.slack.files import FileReader

log = logging.getLogger(__name__)

# Per file; a stalled download must not hold the run (and its queue slot) for long.
DOWNLOAD_TIMEOUT_S = 30.0


class SlackRateLimited(PostmortemError):
    """Slack kept answering 429 to reads after the client's own retries. Not a permission problem: the
    user should wait, not invite the bot anywhere."""

    def __init__(self, retry_after_s: int | None = None) -> None:
        wait = f"about {retry_after_s} s" if retry_after_s and retry_after_s > 60 else "a minute"
        super().__init__("Slack is rate-limiting reads", f"try again in {wait}")
        self.retry_after_s = retry_after_s


@asynccontextmanager
async def _reads() -> AsyncIterator[None]:
    """Turn a read's exhausted 429 into SlackRateLimited; every other Slack error passes unchanged."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.status_code != 429 and slack_error(exc) != "ratelimited":
            raise
        retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        raise SlackRateLimited(int(retry_after) if str(retry_after or "").isdigit() else None) from exc


class Collector:
    def __init__(self, client: AsyncWebClient, settings: Settings, bot_user_id: str | None, bot_id: str | None) -> None:
        self.client = client
        self.settings = settings
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._names: dict[str, str] = {}
        self.download_timeout_s = DOWNLOAD_TIMEOUT_S

    async def thread_root(self, channel: str, ts: str) -> str:
        """The root of the thread a message belongs to (reactions and reply links without thread_ts need this).

        A top-level message shows up in the channel's history at exactly its ts and is its own root (or names it,
        for a reply also sent to the channel). Only a reply needs conversations.replies, which answers for any
        message of a thread with the thread, root first. Asking history first spares the replies budget (as low as
        1 request a minute for some apps) for the run's own read of the thread."""
        async with _reads():
            history = await self.client.conversations_history(channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1)
            top = [m for m in history.get("messages") or [] if m.get("ts") == ts]
            if top:
                return str(top[0].get("thread_ts") or ts)
            replies = await self.client.conversations_replies(channel=channel, ts=ts, limit=1)
        first = replies["messages"][0]
        return str(first.get("thread_ts") or first["ts"])

    async def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        async with _reads():
            async for page in await self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200):
                messages.extend(page["messages"])
        return messages

    async def channel_history(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages within POSTMORTEM_LOOKBACK, threads expanded, capped at POSTMORTEM_MAX_MESSAGES."""
        cap = self.settings.postmortem_max_messages
        oldest = f"{time.time() - self.settings.lookback.total_seconds():.6f}"
        top: list[dict[str, Any]] = []
        async with _reads():
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
        reader = FileReader(self.client.token or "", self.settings.max_file_bytes, self.download_timeout_s)
        files = await reader.read(f for m in raw for f in m.get("files", []) or [])
        messages: list[Message] = [message_from_slack(m, self._name_of, files.texts) for m in raw]
        return Incident(messages=[m for m in messages if m.text or m.attachments], title=title, source=source,
                        unread_files=files.unread)

    @property
    def names(self) -> Mapping[str, str]:
        """User id → display name for every user seen so far; for neutralise_mentions(text, names)."""
        return self._names

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
        self._names.update(zip(missing, names, strict=True))

    async def _lookup(self, user_id: str) -> str:
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except (SlackApiError, aiohttp.ClientError, TimeoutError):  # a deleted or foreign user keeps its id; the run goes on
            log.info("users.info failed for %s", user_id)
            return user_id
        profile = user.get("profile", {})
        return profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id
