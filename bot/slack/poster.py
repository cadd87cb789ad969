"""Everything the bot writes into the incident thread: reactions, the status line, sections, files, the close."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.narrate import Audio
from bot.core.observer import Stage
from bot.core.sections import Section
from bot.slack.record import Recorder
from bot.slack.render import SlackMessage, section_messages, split_paragraphs

log = logging.getLogger(__name__)

WORKING, DONE, FAILED = "eyes", "white_check_mark", "x"
# Status edits are throttled by token count (chat.update is Tier 3), not by a clock.
_TOKENS_PER_STATUS_EDIT = 250


class ThreadPoster:
    """Posts into one thread. Implements the core's RunObserver so the pipeline drives it directly."""

    def __init__(self, client: AsyncWebClient, channel: str, root_ts: str, model: str, record: Recorder | None = None) -> None:
        self.client = client
        self.channel = channel
        self.root_ts = root_ts
        self.model = model
        self.record = record or Recorder()
        self.status_ts: str | None = self.record.status_ts
        self._last_tokens = 0
        self._seen: dict[str, int] = {}
        self._uploads: list[asyncio.Task[None]] = []

    # -- reactions --------------------------------------------------------------------------
    async def react(self, name: str) -> None:
        await self._quiet(self.client.reactions_add(channel=self.channel, timestamp=self.root_ts, name=name), "already_reacted")

    async def unreact(self, name: str) -> None:
        await self._quiet(self.client.reactions_remove(channel=self.channel, timestamp=self.root_ts, name=name), "no_reaction")

    async def _quiet(self, call, *tolerated: str) -> None:  # type: ignore[no-untyped-def]
        """Reactions are decoration: a failure is logged, never fatal to the run."""
        try:
            await call
        except SlackApiError as exc:
            if exc.response.get("error") not in tolerated:
                log.warning("reaction call failed: %s", exc.response.get("error"))

    # -- status line ------------------------------------------------------------------------
    async def status(self, text: str) -> None:
        line = f":hourglass_flowing_sand: {text}"
        if self.status_ts is None:
            resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.root_ts, text=line)
            self.status_ts = str(resp["ts"])
            self.record.status_posted(self.status_ts)
        else:
            await self.client.chat_update(channel=self.channel, ts=self.status_ts, text=line)

    async def on_stage(self, stage: Stage, detail: str) -> None:
        await self.status(f"{stage.value.capitalize()}: {detail}")

    async def on_tokens(self, tokens: int) -> None:
        if tokens - self._last_tokens >= _TOKENS_PER_STATUS_EDIT:
            self._last_tokens = tokens
            await self.status(f"Analysing with {self.model}: {tokens} tokens so far")

    # -- content ----------------------------------------------------------------------------
    async def on_section(self, section: Section) -> None:
        key = section.id.value if section.id else "raw"
        self._seen[key] = self._seen.get(key, 0) + 1
        item = f"section:{key}#{self._seen[key]}"
        self.record.section_ready(section)
        # A resumed run skips what the first attempt already posted, so nothing appears twice.
        if self.record.was_posted(item):
            return
        ts = ""
        for message in section_messages(section, block_id=self._block_id(item)):
            posted = await self.post(message)  # every part is posted; the first part's ts is recorded
            ts = ts or posted
        self.record.posted(item, ts)

    def _block_id(self, item: str) -> str | None:
        return f"pm{self.record.run_id}-{item}" if self.record.run_id is not None else None

    async def reconcile(self) -> None:
        """After a crash, a section may be in the thread without being marked posted (killed between the
        two). Our block ids in the thread are the truth, so nothing is posted twice."""
        prefix = f"pm{self.record.run_id}-"
        async for page in await self.client.conversations_replies(channel=self.channel, ts=self.root_ts, limit=200):
            for message in page["messages"]:
                for block in message.get("blocks", []) or []:
                    block_id = str(block.get("block_id", ""))
                    item = block_id[len(prefix):].rsplit(".", 1)[0]
                    if block_id.startswith(prefix) and not self.record.was_posted(item):
                        self.record.posted(item, str(message["ts"]))

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        self.record.report_ready(report_markdown, summary)
        # Upload the full report while narration runs; awaited in finish_uploads().
        if not self.record.was_posted("report"):
            self._uploads.append(asyncio.create_task(self._upload_report(report_markdown)))

    async def post(self, message: SlackMessage) -> str:
        try:
            resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.root_ts, text=message.text, blocks=message.blocks)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("msg_too_long", "msg_blocks_too_long", "invalid_blocks"):
                raise
            return await self._post_smaller(message)
        return str(resp["ts"])

    async def _post_smaller(self, message: SlackMessage) -> str:
        """Slack refused the size: resend as plain-text parts of 3,000 characters (section block size)."""
        body = message.blocks[0]["text"] if message.blocks else message.text
        ts = ""
        for part in split_paragraphs(body, 3000):
            resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.root_ts, text=part)
            ts = ts or str(resp["ts"])
        return ts

    async def say(self, text: str) -> str:
        resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.root_ts, text=text)
        return str(resp["ts"])

    async def _upload_report(self, report_markdown: str) -> None:
        await self.client.files_upload_v2(
            channel=self.channel, thread_ts=self.root_ts, content=report_markdown,
            filename="postmortem-report.md", title="Testing postmortem (full report)",
        )
        self.record.posted("report", None)

    async def upload_audio(self, audio: Audio) -> None:
        comment = f":headphones: Narrated summary ({audio.engine}, voice {audio.voice}, {audio.duration_s:.0f} s)"
        if audio.fallback_reason:
            comment += f". Fallback voice used because {audio.fallback_reason}"
        await self.client.files_upload_v2(
            channel=self.channel, thread_ts=self.root_ts, file=audio.mp3,
            filename="postmortem-summary.mp3", title="Postmortem summary (audio)", initial_comment=comment,
        )
        self.record.posted("audio", None)

    async def finish_uploads(self) -> None:
        await asyncio.gather(*self._uploads)
