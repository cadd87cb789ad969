"""Answers to a button click, for the clicker's eyes only."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.mentions import neutralise_mentions
from bot.core.redact import redact_text
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)


async def tell_clicker(client: AsyncWebClient, user: str, channel: str, thread_ts: str | None, response_url: str | None,
                       text: str) -> None:
    """An ephemeral in the thread; through the click's response_url when Slack refuses that (a non-member cannot
    receive ephemerals in the channel)."""
    text = neutralise_mentions(redact_text(text))  # causes quote servers, which may echo a token
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        return
    except SlackApiError as exc:
        log.info("ephemeral to %s in %s refused (%s); using the response_url", user, channel, slack_error(exc))
    if response_url:
        payload = {"response_type": "ephemeral", "replace_original": False, "text": text}
        try:
            async with aiohttp.ClientSession() as session, session.post(response_url, json=payload) as resp:
                resp.raise_for_status()
        except aiohttp.ClientError as exc:
            log.error("could not tell %s: %s (%s)", user, text, exc)


@dataclass(frozen=True)
class Click:
    """Who clicked, where: from a block_actions payload."""

    user: str
    channel: str
    message_ts: str
    thread_ts: str | None
    response_url: str | None
    trigger_id: str

    @classmethod
    def of(cls, body: dict[str, Any]) -> Click:
        container = body.get("container") or {}
        return cls(body["user"]["id"], container.get("channel_id", ""), container.get("message_ts", ""),
                   container.get("thread_ts"), body.get("response_url"), str(body.get("trigger_id") or ""))

    async def tell(self, client: AsyncWebClient, text: str) -> None:
        await tell_clicker(client, self.user, self.channel, self.thread_ts, self.response_url, text)


async def answer_click(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, work: Callable[[Click], Awaitable[str | None]],
                       explain: Callable[[Exception], str | None], failed: str) -> None:
    """Every button handler's frame: ack at once, do ``work``, and never leave a click silent. ``work`` returns what to
    tell the clicker (None: the message itself shows the result); ``explain`` words a known failure (None: unexpected,
    logged and told as "``failed`` (unexpected error)")."""
    await ack()
    click = Click.of(body)
    try:
        text = await work(click)
    except Exception as exc:
        text = explain(exc)
        if text is None:
            log.exception("click failed for %s in %s", click.user, click.channel)
            text = f":x: {failed} (unexpected error). The bot's logs have the details."
    if text:
        await click.tell(client, text)
