"""The weekly summary of follow-ups still open (issue 22), posted to FOLLOWUP_REMINDER_CHANNEL once per ISO week,
at or after FOLLOWUP_REMINDER_WEEKDAY and FOLLOWUP_REMINDER_HOUR (UTC), across every replica sharing the run store
(the lease in bot/runs/reminders.py). Follow-ups of a private channel are listed only when the reminder channel is
that channel. A bad channel is logged once a week with its fix and never stops the bot."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.memory.followups import FollowUp, open_followups
from bot.memory.privacy import PrivacyCheck
from bot.memory.recall import Memory
from bot.runs.reminders import Lease, Outcome, ReminderLeases
from bot.runs.store import RunStore, StoreError
from bot.settings import Settings
from bot.slack.blocks.home import followup_line
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

EVENT_TYPE = "postmortem_followups_reminder"  # the post's metadata: how a replica taking over finds it
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A holder that has not finished within this long is taken for dead; the next replica checks the channel for its
# post before posting. Posting takes seconds; a slow Slack call must not look dead.
LEASE_S = 600.0
RETRY_S = 300.0  # after a failure that may pass, or while another replica holds the week
LINES_SHOWN = 40
HISTORY_READ = 200  # messages a replica taking over reads back for the post of a holder that died  # chat.postMessage takes 50 blocks
# Slack errors that may pass: tried again. Any other is a setting or the app to fix, logged once for the week.
_TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_FIXES = {
    "channel_not_found": ("the channel does not exist, or it is private and the bot is not in it: "
                          "invite the bot (/invite @postmortem-bot) or fix the ID"),
    "not_in_channel": "invite the bot to the channel (/invite @postmortem-bot)",
    "is_archived": "the channel is archived: pick another one",
    "restricted_action": "the channel only lets some people post: let the bot post there, or pick another channel",
    "missing_scope": "the app lacks chat:write: reinstall it with the manifest's scopes",
}


class Clock(Protocol):
    """The time, and waiting for a time: tests step it instead of sleeping."""

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))


def iso_week(when: datetime) -> str:
    year, week, _ = when.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def due_in_week(when: datetime, weekday: str, hour: int) -> datetime:
    """The moment of ``when``'s ISO week at which its reminder is due."""
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    return monday + timedelta(days=WEEKDAYS.index(weekday), hours=hour)


class Reminder:
    def __init__(self, client: AsyncWebClient, settings: Settings, memory: Memory, store: RunStore, privacy: PrivacyCheck,
                 owner: str, clock: Clock | None = None) -> None:
        assert settings.followup_reminder_channel is not None
        self.client = client
        self.channel = settings.followup_reminder_channel
        self.after_days = settings.followup_reminder_after_days
        self.weekday = settings.followup_reminder_weekday
        self.hour = settings.followup_reminder_hour
        self.memory = memory
        self.privacy = privacy
        self.leases = ReminderLeases(store, owner, LEASE_S)
        self.clock = clock or SystemClock()

    async def run(self) -> None:
        """Forever: wait for this week's due time, settle the week (post, or find it settled), wait for the next."""
        while True:
            now = self.clock.now()
            due = due_in_week(now, self.weekday, self.hour)
            if now < due:
                await self.clock.sleep_until(due)
                continue
            try:
                settled = await self.tick(now)
            except Exception:  # a bug here must not end the reminders (nor the bot): logged, tried again later
                log.exception("the weekly follow-up reminder failed; trying again in %d s", RETRY_S)
                settled = False
            await self.clock.sleep_until(due + timedelta(days=7) if settled else now + timedelta(seconds=RETRY_S))

    async def tick(self, now: datetime) -> bool:
        """Settle ``now``'s week if this replica may; whether the week is settled (by any replica)."""
        week = iso_week(now)
        try:
            lease = await self.leases.claim(week, now.timestamp())
        except StoreError as exc:
            log.warning("weekly follow-up reminder: the run store is unreachable (%s); trying again in %d s", exc, RETRY_S)
            return False
        if lease is Lease.DONE:
            return True
        if lease is Lease.HELD:
            return False
        if lease is Lease.TAKEN_OVER:
            # Its holder died: after posting (then the post is in the channel), or before.
            posted = await self._posted(week)
            if posted is None:
                return False  # the channel cannot be read now: the lease is ours for a while, then checked again
            if posted:
                await self.leases.settle(week, Outcome.POSTED, posted_ts=posted)
                return True
        try:
            followups = await self._due(now)
        except StoreError as exc:
            log.warning("weekly follow-up reminder: memory cannot be read (%s); trying again in %d s", exc, RETRY_S)
            await self.leases.release(week)  # nothing was posted: the week is free again
            return False
        if not followups:
            await self.leases.settle(week, Outcome.NOTHING)
            return True
        return await self._post(week, followups, now)

    async def _due(self, now: datetime) -> list[FollowUp]:
        """Follow-ups older than FOLLOWUP_REMINDER_AFTER_DAYS the reminder channel may see: public channels (as
        they are now), CLI runs, and the reminder channel's own."""
        found = await open_followups(self.memory, older_than_days=self.after_days, now=now.timestamp())
        shown = []
        for followup in found:
            channel = followup.past.channel
            if channel is None or channel == self.channel or await self.privacy.private_now(channel) is False:
                shown.append(followup)
        return shown

    async def _post(self, week: str, followups: list[FollowUp], now: datetime) -> bool:
        title = (f"*{len(followups)} follow-up{'' if len(followups) == 1 else 's'} still open after "
                 f"{self.after_days} days* (oldest first): tests recommended by past postmortems whose ticket is open, or that never got one.")
        lines = [followup_line(f, now.timestamp()) for f in followups]
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": title}}]
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines[:LINES_SHOWN]]
        if len(lines) > LINES_SHOWN:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"and {len(lines) - LINES_SHOWN} more: the bot's Home tab lists every one.")}]})
        try:
            answer = await self.client.chat_postMessage(
                channel=self.channel, text=title, blocks=blocks, unfurl_links=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"week": week}})
        except SlackApiError as exc:
            code = slack_error(exc)
            if code not in _TRANSIENT and not code.startswith("HTTP"):
                fix = _FIXES.get(code, "see Slack's documentation of chat.postMessage for this error")
                log.error("FOLLOWUP_REMINDER_CHANNEL=%s: Slack refused the weekly follow-up reminder (%s): %s. "
                          "No reminder this week.", self.channel, code, fix)
                await self.leases.settle(week, Outcome.FAILED, note=code)
                return True
            # It may have been posted (a 5xx after the fact): the lease expires, and whoever takes it over looks first.
            log.warning("weekly follow-up reminder: Slack answered %s; trying again once the lease expires (%d s)", code, LEASE_S)
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("weekly follow-up reminder: Slack unreachable (%s); trying again once the lease expires (%d s)", exc, LEASE_S)
            return False
        await self.leases.settle(week, Outcome.POSTED, posted_ts=str(answer["ts"]))
        return True

    async def _posted(self, week: str) -> str | Literal[False] | None:
        """The ts of this week's post if a holder that died made it, False if it did not, None if unknown now. Read
        among the channel's latest messages by the post's metadata, not by time: the replica's clock and Slack's may
        differ, and a holder's lease expires within minutes of its post."""
        try:
            history = await self.client.conversations_history(channel=self.channel, include_all_metadata=True, limit=HISTORY_READ)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            reason = slack_error(exc) if isinstance(exc, SlackApiError) else str(exc)
            log.warning("weekly follow-up reminder: cannot read %s to see whether this week's was posted (%s)", self.channel, reason)
            return None
        for message in history["messages"]:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE and (metadata.get("event_payload") or {}).get("week") == week:
                return str(message["ts"])
        return False
