"""The emulator's AI-app and App Home methods through slack_sdk, with their documented errors, and a refused native
status turning NativeStatus off for the rest of its run."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.native_status import THINKING, NativeStatus
from tests.fakes.slack_emulator import SlackEmulator

from .conftest import Incident


async def error_of(coro) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as info:
        await coro
    return str(info.value.response["error"])


async def test_set_status_shows_clears_and_refuses(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    where = (incident.channel, incident.root)
    await client.assistant_threads_setStatus(channel_id=incident.channel, thread_ts=incident.root, status="is thinking…",
                                             loading_messages=["Reading the thread"])
    assert slack.workspace.thread_status[where] == "is thinking…"
    # A reply from the app clears it, as in Slack.
    await client.chat_postMessage(channel=incident.channel, thread_ts=incident.root, text="a section")
    assert where not in slack.workspace.thread_status
    outside = slack.add_channel("elsewhere", bot_member=False)
    secret = slack.add_channel("secret", private=True, bot_member=False)
    cases = [
        ({"channel_id": incident.channel, "thread_ts": "1.000001", "status": "x"}, "invalid_thread_ts"),
        ({"channel_id": outside, "thread_ts": incident.root, "status": "x"}, "not_in_channel"),
        ({"channel_id": secret, "thread_ts": incident.root, "status": "x"}, "channel_not_found"),
        ({"channel_id": incident.channel, "thread_ts": incident.root, "status": "x",
          "loading_messages": [str(i) for i in range(11)]}, "invalid_arguments"),
    ]
    for args, error in cases:
        assert await error_of(client.assistant_threads_setStatus(**args)) == error, args


async def test_native_status_throttles_clears_and_stops_when_refused(slack: SlackEmulator, incident: Incident,
                                                                     client: AsyncWebClient) -> None:
    status = NativeStatus(client, incident.channel, incident.root)
    await status.show("Analysing with m: 10 tokens")
    await status.show("Analysing with m: 20 tokens")  # same stage within REFRESH_S: no second call
    await status.show("Posting: sections")  # a new stage: at once
    await status.show("Done")
    history = [(h["status"], h["loading_messages"]) for h in slack.workspace.status_history]
    assert history == [(THINKING, ["Analysing with m: 10 tokens"]), (THINKING, ["Posting: sections"]), ("", [])]
    slack.fail_next("assistant.threads.setStatus", "access_denied")
    refused = NativeStatus(client, incident.channel, incident.root)
    await refused.show("Collecting the thread")
    await refused.show("Analysing: 1 token")
    assert not refused.enabled and len(slack.calls_to("assistant.threads.setStatus")) == 4


async def test_views_publish_and_its_errors(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    await client.views_publish(user_id=incident.alice, view={"type": "home", "blocks": blocks})
    assert slack.workspace.home_views[incident.alice]["blocks"] == blocks
    cases = [
        ({"user_id": "U0NOBODY", "view": {"type": "home", "blocks": blocks}}, "user_not_found"),
        ({"user_id": incident.alice, "view": {"type": "modal", "blocks": blocks}}, "invalid_arguments"),
        ({"user_id": incident.alice, "view": {"type": "home", "blocks": blocks * 101}}, "invalid_blocks"),
    ]
    for args, error in cases:
        assert await error_of(client.views_publish(**args)) == error, args
