"""The live view of the section being typed (SLACK_STREAM_SECTIONS): Slack's subscriber to the core's SectionPreview
and PreviewRetracted events, subscribed before delivery and unknown to it and to the runner.

Each previewed section streams into the thread (bot/slack/outbound/live.py). When the section is done, its stream stops and
the streamed message becomes the section's first part (the same blocks and metadata delivery would post), recorded
in the posted ledger, so delivery skips that part as it skips what an earlier attempt posted. A preview the core
takes back, or one left by another section, is deleted. A resumed run first takes back the previews a restart left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.events import Event, PreviewRetracted, SectionDone, SectionPreview, Sources
from bot.core.sections import SECTION_TITLES, Section, SectionId
from bot.slack.errors import slack_error
from bot.slack.outbound.delivery import ThreadDelivery, next_section_item, section_item
from bot.slack.outbound.live import LiveSection, Recipient, stream_heading

log = logging.getLogger(__name__)

# How a streamed section begins: the text of a stream the bot lost track of.
_HEADINGS = tuple(map(stream_heading, SECTION_TITLES.values()))


class LivePreviews:
    def __init__(self, delivery: ThreadDelivery, recipient: Recipient | None) -> None:
        self._delivery = delivery
        self._thread, self.run = delivery.thread, delivery.run
        # Slack streams to this person in channels; None: not known, or Slack refused to stream here (posted whole).
        self._recipient = recipient
        self._seen: dict[str, int] = {}  # as delivery counts them: the same section items
        self._live: tuple[str, LiveSection] | None = None  # the section item being streamed

    @classmethod
    async def open(cls, delivery: ThreadDelivery, recipient: Recipient | None, *, resumed: bool) -> LivePreviews:
        """``resumed``: the thread was reconciled after a restart or failure, and may hold its previews."""
        live = cls(delivery, recipient)
        if resumed:
            await live._remove_orphans()
        return live

    async def __call__(self, event: Event) -> None:
        match event:
            case SectionPreview(section_id, body, sources):
                await self._show(section_id, body, sources)
            case PreviewRetracted(section_id):
                if self._live is not None and self._live[0] == section_item(self._seen, section_id.value):
                    await self._drop()
            case SectionDone(section, sources):
                await self._done(section, sources)

    async def _show(self, section_id: SectionId, body: str, sources: Sources) -> None:
        if self._recipient is None:
            return
        item = section_item(self._seen, section_id.value)
        if self._live is None or self._live[0] != item:
            await self._drop()
            if self.run.was_posted(f"{item}/0"):
                return  # a resumed run: this section is in the thread already
            preview = f"preview:{item}"
            live = LiveSection(self._thread.client, self._thread.channel, self._thread.thread_ts, self._recipient,
                               SECTION_TITLES[section_id], lambda ts: self.run.mark_posted(preview, ts))
            if (run := asyncio.current_task()) is not None:  # no sender task outlives its run (the bot stops)
                run.add_done_callback(lambda _: live.cancel())
            self._live = (item, live)
        self._live[1].show(await self._delivery.citations.render(body, sources))

    async def _done(self, section: Section, sources: Sources) -> None:
        """The streamed message becomes the section's first part; where Slack refuses the edit, or an earlier attempt
        had posted that part already, it is taken back and delivery posts the part as usual."""
        item = next_section_item(self._seen, section)
        ts = await self._end(item)
        if ts is None:
            return
        await self.run.flush()  # saved before it stands in the thread as the finished section
        first = f"{item}/0"
        if not self.run.was_posted(first):
            message = (await self._delivery.section_messages(section, sources))[0]
            if await self._delivery.replace(ts, message, first):
                self.run.mark_posted(first, ts)
                return
        await self._take_back(ts)

    async def _end(self, item: str | None) -> str | None:
        """Stop streaming ``item``; the streamed message's ts, None when nothing was streamed. Another item's stream
        (left open by a section that never completed; None: any) is taken back."""
        if self._live is None:
            return None
        streamed, live = self._live
        self._live = None
        ts = await live.stop(end=streamed == item)  # a stream about to be deleted needs no end
        if live.refused is not None:
            # Streaming needs a recipient in channels and an AI-enabled workspace: without it, posts as before.
            log.warning("streaming sections refused in %s (%s): posting each section when complete",
                        self._thread.channel, live.refused)
            self._recipient = None
        if ts is None and live.maybe_started and self.run.id is not None:
            for orphan in await self._thread.untagged(self.run.id, (live.heading,)):
                await self._take_back(orphan)
        if ts is not None and streamed != item:
            await self._take_back(ts)
            return None
        return ts

    async def _drop(self) -> None:
        """Take back a streamed section that will not complete (the gate held it, the run ended or failed)."""
        if self._live is not None and (ts := await self._end(None)) is not None:
            await self._take_back(ts)

    async def _take_back(self, ts: str) -> None:
        """Delete a streamed message; where Slack refuses, blank it to a note. Never fatal: a stale preview must not
        fail a postmortem that is otherwise written."""
        try:
            await self._thread.client.chat_delete(channel=self._thread.channel, ts=ts)
            return
        except SlackApiError as exc:
            log.info("deleting the preview %s: %s", ts, slack_error(exc))
            if slack_error(exc) == "message_not_found":
                return
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("deleting the preview %s: %s", ts, type(exc).__name__)
        with contextlib.suppress(SlackApiError, aiohttp.ClientError, TimeoutError):
            await self._thread.edit(ts, "_(A preview of a section that was not finished; see the sections below.)_")

    async def _remove_orphans(self) -> None:
        """A restart mid-stream leaves the streamed text of a section that the resumed run delivers anew: recorded,
        or not when the bot died before chat.startStream answered (Slack started it all the same)."""
        ledger = self.run.items()
        orphans = [ts for item, ts in ledger.items()
                   if item.startswith("preview:") and ts and ledger.get(f"{item.removeprefix('preview:')}/0") != ts]
        if self._recipient is not None and self.run.id is not None:
            orphans += [ts for ts in await self._thread.untagged(self.run.id, _HEADINGS) if ts not in orphans]
        for ts in orphans:
            await self._take_back(ts)
