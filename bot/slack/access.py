"""Who may have what analysed: the invoker must be in the channel, and the channel must be allowed."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

_DM_REFUSAL = "Postmortems are not run in direct messages. Run it in the incident channel."


class AccessDenied(Exception):
    """Refused before anything is read; the message goes to the invoker only."""


async def channel_info(client: AsyncWebClient, channel: str) -> dict[str, Any]:
    return dict((await client.conversations_info(channel=channel))["channel"])


async def is_member(client: AsyncWebClient, channel: str, user: str) -> bool:
    async for page in await client.conversations_members(channel=channel, limit=1000):
        if user in page["members"]:
            return True
    return False


class Membership:
    """One person's channel memberships, each asked of Slack once per request (the history answer, a Home view).
    A channel whose members cannot be read (the bot left it, it is gone) counts as not theirs: nothing of it shows."""

    def __init__(self, client: AsyncWebClient, user: str, purpose: str) -> None:
        self.client = client
        self.user = user
        self.purpose = purpose  # for the log: "history", "Home tab"
        self._known: dict[str, bool] = {}

    async def of(self, channel: str) -> bool:
        if channel not in self._known:
            try:
                self._known[channel] = await is_member(self.client, channel, self.user)
            except SlackApiError as exc:
                log.info("%s: cannot check membership of %s (%s); nothing of it is shown", self.purpose, channel, slack_error(exc))
                self._known[channel] = False
        return self._known[channel]


async def authorize(client: AsyncWebClient, settings: Settings, channel: str, user: str) -> dict[str, Any]:
    """Check the allowlist and membership; returns the channel's info. Raises AccessDenied."""
    # DM ids start with D; refusing them by id needs no im:read scope.
    if channel.startswith("D") and channel not in settings.postmortem_channels:
        raise AccessDenied(_DM_REFUSAL)
    info = await channel_info(client, channel)
    name = str(info.get("name") or channel)
    allowed = settings.postmortem_channels
    if (info.get("is_im") or info.get("is_mpim")) and channel not in allowed:
        raise AccessDenied(_DM_REFUSAL)
    elif allowed and channel not in allowed and name not in allowed:
        raise AccessDenied(f"#{name} is not in POSTMORTEM_CHANNELS; ask the bot's admin to add it.")
    if not await is_member(client, channel, user):
        # Same words whether or not the channel exists for the user, so nothing leaks about it.
        raise AccessDenied("You can only run a postmortem on a thread in a channel you are a member of.")
    return info
