"""The emulator's AI-app and App Home methods through slack_sdk, with their documented errors, and a refused native
status turning NativeStatus off for the rest of its run."""

from __future__ import annotations

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.native_status import THINKING, NativeStatus
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


SEARCH = {"type": "input", "block_id": "find", "dispatch_action": True, "label": {"type": "plain_text", "text": "Search"},
          "element": {"type": "plain_text_input", "action_id": "find", "max_length": 20,
                      "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]}}}


async def test_home_input_blocks_are_checked_and_enter_sends_block_actions(slack: SlackEmulator, incident: Incident,
                                                                           client: AsyncWebClient) -> None:
    for bad in ({**SEARCH, "label": None}, {**SEARCH, "element": {"type": "button", "action_id": "find"}}):
        assert await error_of(client.views_publish(user_id=incident.alice, view={"type": "home", "blocks": [bad]})) == "invalid_blocks"
    assert await error_of(client.views_publish(user_id=incident.alice, view={"type": "home", "blocks": [SEARCH, SEARCH]})) == "invalid_blocks"
    with pytest.raises(LookupError):  # nothing published yet: nothing to type in
        slack.home_input(incident.alice, "find", "pool")
    quiet = {**SEARCH, "block_id": "quiet", "dispatch_action": False, "element": {**SEARCH["element"], "action_id": "quiet"}}
    await client.views_publish(user_id=incident.alice, view={"type": "home", "blocks": [SEARCH, quiet]})
    with pytest.raises(LookupError):  # without dispatch_action, Enter sends nothing
        slack.home_input(incident.alice, "quiet", "pool")
    with pytest.raises(ValueError):
        slack.home_input(incident.alice, "find", "x" * 21)

    app = AsyncApp(client=client)
    got: list[dict] = []  # type: ignore[type-arg]

    @app.action("find")
    async def on_find(ack, body) -> None:  # type: ignore[no-untyped-def]
        got.append(body)
        await ack()

    handler = AsyncSocketModeHandler(app, slack.app_token, web_client=client)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await slack.wait_ack(slack.home_input(incident.alice, "find", "pool exhaustion"))
        body = got[0]
        assert body["container"] == {"type": "view", "view_id": f"V{incident.alice}"}
        assert body["actions"][0] | {"action_ts": "-"} == {"type": "plain_text_input", "block_id": "find", "action_id": "find",
                                                           "value": "pool exhaustion", "action_ts": "-"}
        assert body["view"]["state"]["values"]["find"]["find"]["value"] == "pool exhaustion"
        assert body["view"]["type"] == "home" and "response_url" not in body and "channel" not in body
        # Published again with the same input: what was typed stays in the view's state.
        await client.views_publish(user_id=incident.alice, view={"type": "home", "blocks": [SEARCH]})
        assert slack.workspace.home_views[incident.alice]["state"]["values"]["find"]["find"]["value"] == "pool exhaustion"
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
