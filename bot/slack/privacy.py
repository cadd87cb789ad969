"""How a channel is now (public or private), from conversations.info, cached briefly: memory stored the flag a
channel had when its incidents were remembered, and a channel made private since must stop being shown elsewhere."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.access import channel_info
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

CACHE_S = 60.0


class ChannelPrivacy:
    """Implements bot.memory.privacy.PrivacyCheck for the Slack app."""

    def __init__(self, client: AsyncWebClient, *, cache_s: float = CACHE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.cache_s = cache_s
        self.clock = clock
        self._cache: dict[str, tuple[float, bool | None]] = {}

    async def private_now(self, channel: str) -> bool | None:
        cached = self._cache.get(channel)
        if cached is not None and self.clock() - cached[0] < self.cache_s:
            return cached[1]
        private: bool | None
        try:
            info = await channel_info(self.client, channel)
            private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            reason = slack_error(exc) if isinstance(exc, SlackApiError) else repr(exc)
            # A public channel is always found, even by a bot not in it: not found is private without the bot, or
            # deleted. Anything else (rate limit, 5xx, no answer) cannot tell. Either way nobody else is shown it.
            private = True if reason == "channel_not_found" else None
            log.info("cannot tell whether %s is public now (%s); its incidents are not shown elsewhere", channel, reason)
        self._cache[channel] = (self.clock(), private)  # an unknown too: asked again within the minute, not per recall
        return private
