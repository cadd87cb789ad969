"""Evidence ids → links to the cited messages in Slack (`chat.getPermalink`, once per message per run).

The core leaves ``[m12]`` in sections, the digest and the report, and each event with text carries the sources (the
Slack ts) of every message cited so far. Here each citation becomes ``[10:42:05](permalink)``: the message's time,
linked to it. Only Slack's own answer goes into the link, and only for an id the sources name: the model's text
never makes a URL.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.citations import Source, ids_in, render
from bot.core.events import Sources
from bot.core.sections import Section
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

# chat.getPermalink is Tier 4 (100+ a minute): eight at a time keeps a long digest quick without bursting past it.
_CONCURRENT_LOOKUPS = 8


class SlackCitations:
    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        self._links: dict[str, str | None] = {}  # Slack ts → permalink (None: Slack had none to give)
        self._limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)

    async def render(self, markdown: str, sources: Sources) -> str:
        """``markdown`` with every citation a link to its message (plain time when Slack gives no link)."""
        cited = set(ids_in(markdown))
        if not cited:
            return markdown
        refs = {s.ref for cid, s in sources.items() if cid in cited and s.ref and s.ref not in self._links}
        await asyncio.gather(*(self._lookup(ref) for ref in refs))
        return render(markdown, lambda cid: self._label(cid, sources.get(cid)))

    async def section(self, section: Section, sources: Sources) -> Section:
        body = await self.render(section.body, sources)
        return section if body == section.body else Section(section.id, section.title, body)

    async def permalink(self, ts: str) -> str | None:
        """The link to one message of the channel (the thread's root, for memory), looked up once per run."""
        if ts not in self._links:
            await self._lookup(ts)
        return self._links[ts]

    def _label(self, cid: str, source: Source | None) -> str:
        text = (source.clock if source else None) or f"message {cid[1:]}"
        link = self._links.get(source.ref) if source and source.ref else None
        return f"[{text}]({link})" if link else f"[{text}]"

    async def _lookup(self, ref: str) -> None:
        async with self._limit:
            try:
                resp = await self.client.chat_getPermalink(channel=self.channel, message_ts=ref)
                link = resp.get("permalink")
                self._links[ref] = link if isinstance(link, str) and link.startswith("https://") else None
            except SlackApiError as exc:  # the message was deleted since: its citation stays as a plain time
                log.info("no permalink for %s: %s", ref, slack_error(exc))
                self._links[ref] = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.info("no permalink for %s: %s", ref, type(exc).__name__)
                self._links[ref] = None
