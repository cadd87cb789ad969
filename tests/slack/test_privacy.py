"""A channel's privacy now, from conversations.info on the Slack emulator: cached for a minute; a channel the bot
cannot find (private without it, or deleted) counts as private, and an error as "cannot tell", which nobody else is
shown either."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.privacy import CACHE_S, ChannelPrivacy
from tests.fakes.slack_emulator import SlackEmulator


async def test_privacy_now_cached_and_unknown_when_it_cannot_be_read() -> None:
    async with SlackEmulator() as slack:
        client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)
        public, secret = slack.add_channel("inc-public"), slack.add_channel("sec-ledger", private=True)
        hidden = slack.add_channel("sec-hr", private=True, bot_member=False)
        now = [0.0]
        privacy = ChannelPrivacy(client, clock=lambda: now[0])
        assert [await privacy.private_now(c) for c in (public, secret, hidden)] == [False, True, True]
        slack.workspace.channel(public).is_private = True
        asked = len(slack.calls_to("conversations.info"))
        assert await privacy.private_now(public) is False and len(slack.calls_to("conversations.info")) == asked  # cached
        now[0] = CACHE_S
        assert await privacy.private_now(public) is True
        now[0] = 2 * CACHE_S
        slack.fail_next("conversations.info", "internal_error", status=500)
        assert await privacy.private_now(public) is None
