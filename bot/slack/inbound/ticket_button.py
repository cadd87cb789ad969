"""The Create ticket button: ack at once, check the clicker is in the channel, make the ticket once per (thread,
test), then edit the checklist so that line shows the link. Every refusal or failure is told to the clicker
alone; the button stays for another try."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.plan import TestSpec
from bot.errors import PostmortemError
from bot.runs import RunStore
from bot.settings import Settings
from bot.slack.access import is_member
from bot.slack.blocks.tickets import ACTION_ID, link_text, parse_value, with_ticket_links
from bot.slack.errors import slack_error
from bot.slack.inbound.reply import answer_click
from bot.tickets import TicketBackend, TicketContent, TicketError, make_backend
from bot.tickets.claims import TicketClaims
from bot.tickets.content import skeletons
from bot.tickets.model import tests_of
from bot.tickets.service import TicketService, where_of

log = logging.getLogger(__name__)

NOT_MEMBER = "Only members of this channel can create tickets from its postmortem. Join the channel first."
NOT_SET_UP = "Tickets are not set up for this bot: its admin sets TICKETS=github or TICKETS=jira (see the README)."
STALE = "That test plan is no longer known to me (its run was removed); run the postmortem again for a new one."
BUSY = ":hourglass_flowing_sand: That ticket is being created already; its link will replace the button."


def _explain(exc: Exception) -> str | None:
    if isinstance(exc, TicketError):
        return f":x: No ticket was created: {exc.message}." + (f" Fix: {exc.fix}." if exc.fix else "")
    if isinstance(exc, PostmortemError):  # the run store could not be read or written
        return f":x: No ticket was created: {exc}."
    if isinstance(exc, SlackApiError):
        return f":x: The ticket step failed on Slack's side ({slack_error(exc)}). Try again in a minute."
    return None


class TicketActions:
    def __init__(self, client: AsyncWebClient, store: RunStore, settings: Settings,
                 backend: TicketBackend | None = None) -> None:
        self.client = client
        self.store = store
        # A bad TICKETS setting stops the bot at start-up with its one-line error, not at the first click.
        self.backend = backend or make_backend(settings)
        self.service = TicketService(self.backend, TicketClaims(store)) if self.backend is not None else None
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def register(self, app: AsyncApp) -> None:
        app.action(ACTION_ID)(self.on_click)

    async def on_click(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await answer_click(ack, body, self.client, lambda click: self._handle(click.user, click.channel, click.message_ts, body, action),
                           _explain, "No ticket was created")

    async def _handle(self, user: str, channel: str, message_ts: str, body: dict[str, Any],
                      action: dict[str, Any]) -> str | None:
        """The ticket flow; returns what to tell the clicker, or None when the message itself shows the result."""
        if self.service is None:
            return NOT_SET_UP
        if not await is_member(self.client, channel, user):
            return NOT_MEMBER
        where = parse_value(str(action.get("value", "")))
        record = await self.store.get(where[0]) if where else None
        # The run must be this channel's: a value copied onto another message cannot reach another run.
        if where is None or record is None or record.channel != channel or record.facts is None:
            return STALE
        run_id, index = where
        tests = tests_of(record.facts)
        if index >= len(tests):
            return STALE
        thread = record.thread_ts or message_ts
        link = await self._thread_link(channel, thread)
        content = TicketContent(tests[index], str(run_id), link, skeletons(tests)[index])
        # Keyed by thread and test: a regenerated run's checklist finds the ticket an earlier run of the thread made.
        ticket = await self.service.create_once(where_of(channel, thread, tests[index]), content)
        if ticket is None:
            return BUSY
        log.info("ticket %s for test %d of run %d (clicked by %s)", ticket.key, index, run_id, user)
        try:
            await self._show_links(channel, message_ts, thread, tests, body.get("message") or {})
        except SlackApiError as exc:  # the ticket exists: the clicker gets its link another way
            return f":ticket: Created {link_text(ticket)}, but the checklist could not be updated ({slack_error(exc)})."
        return None

    async def _thread_link(self, channel: str, thread_ts: str) -> str | None:
        try:
            return str((await self.client.chat_getPermalink(channel=channel, message_ts=thread_ts))["permalink"])
        except SlackApiError as exc:  # the ticket is still worth making without the link
            log.warning("no permalink for %s/%s: %s", channel, thread_ts, slack_error(exc))
            return None

    async def _show_links(self, channel: str, ts: str, thread: str, tests: list[TestSpec], message: dict[str, Any]) -> None:
        """Edit the checklist: every test of the run with a ticket in the thread shows its link. One edit at a time
        per message, each from the store's full list, so two clicks finishing together cannot undo each other's link."""
        assert self.service is not None
        lock = self._locks.setdefault((channel, ts), asyncio.Lock())
        async with lock:
            blocks = with_ticket_links(message.get("blocks") or [], await self.service.made(channel, thread, tests))
            await self.client.chat_update(channel=channel, ts=ts, blocks=blocks, text=message.get("text") or "Test plan")
