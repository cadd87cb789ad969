"""Private messages to the person who triggered a run."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.mentions import neutralise_mentions
from bot.core.redact import redact_text
from bot.core.run import Target

log = logging.getLogger(__name__)


async def notify_user(client: AsyncWebClient, asked: Target, text: str) -> None:
    """Reach the invoker privately: response_url when the trigger had one, else an ephemeral, else a DM."""
    text = neutralise_mentions(redact_text(text))
    try:
        if asked.response_url:
            payload = {"response_type": "ephemeral", "text": text}
            async with aiohttp.ClientSession() as session, session.post(asked.response_url, json=payload) as resp:
                resp.raise_for_status()
            return
        await client.chat_postEphemeral(channel=asked.channel, user=asked.invoker, text=text)
    except (SlackApiError, aiohttp.ClientError):
        try:
            await client.chat_postMessage(channel=asked.invoker, text=text)
        except SlackApiError:
            log.error("could not tell %s: %s", asked.invoker, text)
