"""👍/👎 on the closing message: members of the channel vote once per run (a second click changes the vote);
the vote lands in the run store and `python -m bot runs` lists the tally. The voter alone hears back."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.errors import PostmortemError
from bot.runs import RunStore
from bot.runs.feedback import FeedbackVotes
from bot.slack.access import is_member
from bot.slack.blocks.closing import FEEDBACK_ACTION, VOTES, parse_vote
from bot.slack.errors import slack_error
from bot.slack.inbound.reply import Click, answer_click

log = logging.getLogger(__name__)

NOT_MEMBER = "Only members of this channel can rate its postmortems. Join the channel first."
STALE = "That postmortem is no longer known to me (its run was removed), so the vote was not recorded."


def _explain(exc: Exception) -> str | None:
    if isinstance(exc, PostmortemError):  # the run store could not be read or written
        return f":x: Your vote was not recorded: {exc}."
    if isinstance(exc, SlackApiError):
        return f":x: Your vote was not recorded: Slack refused the membership check ({slack_error(exc)}). Try again in a minute."
    return None


class FeedbackActions:
    def __init__(self, client: AsyncWebClient, store: RunStore) -> None:
        self.client = client
        self.store = store
        self.votes = FeedbackVotes(store)

    def register(self, app: AsyncApp) -> None:
        app.action(FEEDBACK_ACTION)(self.on_click)

    async def on_click(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        value = str(action.get("value", ""))
        await answer_click(ack, body, self.client, lambda click: self._vote(click, value), _explain, "Your vote was not recorded")

    async def _vote(self, click: Click, value: str) -> str:
        if not await is_member(self.client, click.channel, click.user):
            return NOT_MEMBER
        parsed = parse_vote(value)
        record = await self.store.get(parsed[1]) if parsed else None
        # The run must be this channel's: a value copied onto another message cannot reach another run.
        if parsed is None or record is None or record.channel != click.channel:
            return STALE
        vote, run_id = parsed
        before = await self.votes.vote(run_id, click.user, vote)
        if before != vote:
            metrics.voted(vote)
        log.info("feedback %s on run %d from %s (was %s)", vote, run_id, click.user, before)
        if before == vote:
            return f"Your {VOTES[vote]} on this postmortem was already recorded."
        changed = f" (changed from {VOTES[before]})" if before is not None else ""
        other = "down" if vote == "up" else "up"
        return f"Thanks: your {VOTES[vote]} on this postmortem is recorded{changed}. Click {VOTES[other]} to change it."
