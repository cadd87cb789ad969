"""How long the bot's Web API client waits before retrying: Slack's Retry-After after a 429, a backoff after a 5xx.

The rest of the suite runs with slack_sdk's jitter and backoff shrunk (tests/conftest.py::_fast_slack_retries);
this test is marked so it keeps slack_sdk's real timing."""

from __future__ import annotations

import asyncio

import pytest

from bot.settings import load_settings
from bot.slack.client import make_web_client
from tests.fakes.slack_emulator import SlackEmulator


def gap_before_retry(slack: SlackEmulator, method: str) -> float:
    first, retry = slack.calls_to(method)
    return retry.time - first.time


@pytest.mark.slack_retry_waits
async def test_retry_after_is_honoured_and_server_errors_back_off() -> None:
    async with SlackEmulator() as slack:
        settings = load_settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url)
        client = make_web_client(settings)
        channel = slack.add_channel("inc-db")
        root = slack.post(channel, slack.add_user("alice"), "checkout is down")
        slack.fail_next("conversations.replies", "ratelimited", retry_after=1)
        slack.fail_next("conversations.history", "internal_error", status=500)
        # Both waits run at once, so the test costs one wait, not two.
        replies, history = await asyncio.gather(client.conversations_replies(channel=channel, ts=root),
                                                client.conversations_history(channel=channel))
        assert replies["ok"] and history["ok"]
        assert [c.status for c in slack.calls_to("conversations.replies")] == [429, 200]
        assert [c.status for c in slack.calls_to("conversations.history")] == [500, 200]
        assert gap_before_retry(slack, "conversations.replies") >= 1.0  # Retry-After: 1
        assert gap_before_retry(slack, "conversations.history") >= 0.5  # slack_sdk's first backoff step, 0.5 s
