"""Who may have what analysed: the invoker must be in the channel, and the channel must be allowed."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

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
