"""The Regenerate button on the closing message: the same as `/postmortem <link> again`, for members of the channel
only. The new run goes through the triggers' own path, so it skips the digest already in the thread and is
refused while another run of the thread is queued or running. Refusals reach the clicker alone."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.run import Target
from bot.runs import RunStore
from bot.runs.store import StoreError
from bot.slack.access import is_member
from bot.slack.blocks.closing import REGENERATE_ACTION
from bot.slack.errors import slack_error
from bot.slack.inbound.reply import Click, answer_click
from bot.slack.inbound.triggers import Triggers, store_down_text

log = logging.getLogger(__name__)

NOT_MEMBER = "Only members of this channel can regenerate its postmortems. Join the channel first."
STALE = "That postmortem is no longer known to me (its run was removed); run `/postmortem <link to the thread> again`."


def _explain(exc: Exception) -> str | None:
    if isinstance(exc, StoreError):
        return store_down_text(exc)
    if isinstance(exc, SlackApiError):
        return f":x: Nothing was started: Slack refused the membership check ({slack_error(exc)}). Try again in a minute."
    return None


class RegenerateAction:
    def __init__(self, client: AsyncWebClient, store: RunStore, triggers: Triggers) -> None:
        self.client = client
        self.store = store
        self.triggers = triggers

    def register(self, app: AsyncApp) -> None:
        app.action(REGENERATE_ACTION)(self.on_click)

    async def on_click(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        value = str(action.get("value", ""))
        await answer_click(ack, body, self.client, lambda click: self._regenerate(click, value), _explain, "Nothing was started")

    async def _regenerate(self, click: Click, value: str) -> str | None:
        # A Socket Mode redelivery of the same click must not start a second run.
        if not await self.store.claim_delivery(f"regenerate:{click.trigger_id}"):
            return None
        if not await is_member(self.client, click.channel, click.user):
            return NOT_MEMBER
        record = await self.store.get(int(value)) if value.isdigit() else None
        if record is None or record.channel != click.channel or record.thread_ts is None:
            return STALE
        log.info("regenerate run %d for %s", record.id, click.user)
        return await self.triggers.submit(Target("regenerate", record.channel, record.thread_ts, click.user), regenerate=True)
