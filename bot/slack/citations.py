"""Evidence ids → links to the cited messages in Slack (`chat.getPermalink`, once per message per run).

The core leaves ``[m12]`` in sections, the digest and the report, and records in ``RunFacts.citations`` the Slack ts
of every message cited. Here each citation becomes ``[10:42:05](permalink)``: the message's time, linked to it.
Only Slack's own answer goes into the link, and only for an id the record names: the model's text never makes a URL.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.citations import Source, ids_in, recorded_sources, render
from bot.core.run import RunFacts
from bot.core.sections import Section
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

# chat.getPermalink is Tier 4 (100+ a minute): eight at a time keeps a long digest quick without bursting past it.
_CONCURRENT_LOOKUPS = 8


class SlackCitations:
    def __init__(self, client: AsyncWebClient, channel: str, info: RunFacts) -> None:
        self.client = client
        self.channel = channel
        self.info = info  # read at each render: the pipeline records sources as sections arrive
        self._links: dict[str, str | None] = {}  # Slack ts → permalink (None: Slack had none to give)
        self._limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)

    async def render(self, markdown: str) -> str:
        """``markdown`` with every citation a link to its message (plain time when Slack gives no link)."""
        cited = set(ids_in(markdown))
        if not cited:
            return markdown
        sources = recorded_sources(self.info.citations)
        refs = {s.ref for cid, s in sources.items() if cid in cited and s.ref and s.ref not in self._links}
        await asyncio.gather(*(self._lookup(ref) for ref in refs))
        return render(markdown, lambda cid: self._label(cid, sources.get(cid)))

    async def section(self, section: Section) -> Section:
        body = await self.render(section.body)
        return section if body == section.body else Section(section.id, section.title, body)

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
