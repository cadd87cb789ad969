"""A plain writer for one Slack thread: reactions, messages tagged with our metadata, files. It knows nothing of
runs, the store or the pipeline; `delivery.py` decides what to post and records it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.mentions import neutralise_mentions
from bot.slack.blocks.sections import OutboundMessage, split_paragraphs
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

WORKING, DONE, FAILED = "eyes", "white_check_mark", "x"
# A degraded run (no usable model answer; the digest stood in): neither done nor failed.
DEGRADED = "warning"
# Slack keeps message metadata (it drops the block_id of markdown blocks), so it is how a resumed run recognises
# what it already posted. Read back with conversations.replies(include_all_metadata=True).
EVENT_TYPE = "postmortem_item"
_TOO_BIG = ("msg_too_long", "msg_blocks_too_long", "invalid_blocks")


def _run_of(message: dict[str, Any]) -> Any:
    """The run id in a message's metadata, when the bot tagged it."""
    meta = message.get("metadata") or {}
    return (meta.get("event_payload") or {}).get("run_id") if meta.get("event_type") == EVENT_TYPE else None


def _block_text(block: dict[str, Any]) -> str:
    """A block's words: a markdown block's text, a section's text object, a context's elements."""
    text = block.get("text")
    if isinstance(text, dict):
        text = text.get("text")
    if isinstance(text, str):
        return text
    return "\n".join(str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict))


def tag(run_id: int | None, item: str) -> dict[str, Any] | None:
    return {"event_type": EVENT_TYPE, "event_payload": {"run_id": run_id, "item": item}} if run_id is not None else None


class SlackThread:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts

    # -- reactions: decoration, so a failure is logged and never fatal ------------------------------
    async def react(self, name: str) -> None:
        await self._quiet(self.client.reactions_add(channel=self.channel, timestamp=self.thread_ts, name=name), "already_reacted")

    async def unreact(self, name: str) -> None:
        await self._quiet(self.client.reactions_remove(channel=self.channel, timestamp=self.thread_ts, name=name), "no_reaction")

    @staticmethod
    async def _quiet(call: Awaitable[Any], *tolerated: str) -> None:
        try:
            await call
        except SlackApiError as exc:
            if slack_error(exc) not in tolerated:
                log.warning("reaction call failed: %s", slack_error(exc))

    # -- messages -----------------------------------------------------------------------------------
    # Every free text goes out inert: errors and file names can carry text from the thread or the model.
    async def say(self, text: str, metadata: dict[str, Any] | None = None) -> str:
        resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                                  text=neutralise_mentions(text), metadata=metadata)
        return str(resp["ts"])

    async def edit(self, ts: str, text: str) -> None:
        await self.client.chat_update(channel=self.channel, ts=ts, text=neutralise_mentions(text))

    async def replace(self, ts: str, message: OutboundMessage, metadata: dict[str, Any] | None = None) -> None:
        """Edit a posted message in place, blocks and all (a repaired section, a streamed one completed)."""
        await self.client.chat_update(channel=self.channel, ts=ts, text=message.text, blocks=message.blocks,
                                      metadata=metadata)

    async def post(self, message: OutboundMessage, metadata: dict[str, Any] | None = None) -> str:
        try:
            resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=message.text,
                                                      blocks=message.blocks, metadata=metadata)
        except SlackApiError as exc:
            if slack_error(exc) not in _TOO_BIG:
                raise
            return await self._post_smaller(message, metadata)
        return str(resp["ts"])

    async def _post_smaller(self, message: OutboundMessage, metadata: dict[str, Any] | None) -> str:
        """Slack refused the size. Several blocks (the checklist: a block a test, its button with it) go as two
        messages of half the blocks each, halved again while Slack still refuses; a single block's text goes as
        plain-text parts of 3,000 characters (a section block's size). Only the first message carries the tag: it is
        the one a resume looks for."""
        if len(message.blocks) > 1:
            half = len(message.blocks) // 2
            first = await self.post(OutboundMessage(message.text, message.blocks[:half]), metadata)
            await self.post(OutboundMessage(message.text, message.blocks[half:]))
            return first
        body = _block_text(message.blocks[0]) if message.blocks else message.text
        ts = ""
        for part in split_paragraphs(body or message.text, 3000):
            posted = await self.say(part, None if ts else metadata)
            ts = ts or posted
        return ts

    async def upload(self, **kwargs: Any) -> None:
        if "initial_comment" in kwargs:
            kwargs["initial_comment"] = neutralise_mentions(kwargs["initial_comment"])
        await self.client.files_upload_v2(channel=self.channel, thread_ts=self.thread_ts, **kwargs)

    async def untagged(self, run_id: int, prefixes: tuple[str, ...]) -> list[str]:
        """Replies by the bot of run ``run_id`` (the author of its tagged items) that start with one of ``prefixes``
        and carry no metadata: a streamed message Slack started though the bot never learned of it."""
        messages: list[dict[str, Any]] = []
        pages = await self.client.conversations_replies(channel=self.channel, ts=self.thread_ts, limit=200, include_all_metadata=True)
        async for page in pages:
            messages += page.get("messages", []) or []
        ours = {m.get("user") for m in messages if _run_of(m) == run_id} - {None}
        return [str(m["ts"]) for m in messages
                if not m.get("metadata") and m.get("user") in ours and str(m.get("text", "")).startswith(prefixes)]

    async def tagged(self, run_id: int) -> dict[str, str]:
        """Items of run ``run_id`` already in the thread (item → ts), from the metadata Slack kept."""
        found: dict[str, str] = {}
        pages = await self.client.conversations_replies(channel=self.channel, ts=self.thread_ts, limit=200, include_all_metadata=True)
        async for page in pages:
            for message in page.get("messages", []) or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if _run_of(message) == run_id and payload.get("item"):
                    found.setdefault(str(payload["item"]), str(message["ts"]))
        return found
