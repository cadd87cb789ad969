"""Socket Mode through a real Bolt AsyncApp + AsyncSocketModeHandler."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator

from .conftest import Incident


@dataclass
class Bot:
    handler: AsyncSocketModeHandler
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    async def connect(self, slack: SlackEmulator) -> None:
        await self.handler.connect_async()
        await slack.wait_connected(1)


@pytest.fixture
async def bot(slack: SlackEmulator) -> AsyncIterator[Bot]:
    """A minimal Bolt app whose handlers leave visible traces in the emulator, so
    tests can wait on emulator state instead of sleeping."""
    client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)
    app = AsyncApp(client=client)  # base_url on the client is enough, Socket Mode included
    bot = Bot(AsyncSocketModeHandler(app, slack.app_token, web_client=client))

    @app.command("/postmortem")
    async def command(ack, command, respond) -> None:
        await ack("Working on it…")
        bot.seen["command"].append(command)
        await respond(text=f"Postmortem for {command['text'] or 'this channel'}", response_type="in_channel")

    @app.event("reaction_added")
    async def reaction(body, event, client) -> None:
        bot.seen["reaction"].append(body)
        try:
            await client.reactions_add(channel=event["item"]["channel"], timestamp=event["item"]["ts"],
                                       name="white_check_mark")
        except SlackApiError as e:  # a redelivered event finds its own earlier reaction
            if e.response["error"] != "already_reacted":
                raise

    @app.event("app_mention")
    async def mention(event, say) -> None:
        bot.seen["mention"].append(event)
        await say(text="On it", thread_ts=event.get("thread_ts") or event["ts"])

    @app.message_shortcut("make_postmortem")
    async def shortcut(ack, shortcut, respond) -> None:
        await ack()
        bot.seen["shortcut"].append(shortcut)
        await respond(text="Building the postmortem")

    @app.action("vote")
    async def button(ack, body, action, respond, client) -> None:
        await ack()
        bot.seen["button"].append(body)
        await respond(text=f"Thanks for {action['value']}", response_type="ephemeral", replace_original=False)
        kept = [b for b in body["message"]["blocks"] if b.get("block_id") != action["block_id"]]
        await client.chat_update(channel=body["container"]["channel_id"], ts=body["container"]["message_ts"],
                                 text="voted", blocks=kept)

    yield bot
    await bot.handler.close_async()


async def test_hello_and_slash_command_respond(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    hello_url = slack.calls_to("apps.connections.open")[0].response["url"]
    assert hello_url.startswith("ws://127.0.0.1:")
    link = slack.permalink(incident.channel, incident.root)
    envelope_id = slack.slash_command(incident.alice, incident.channel, text=link)
    ack = await slack.wait_ack(envelope_id)
    assert ack.payload == {"text": "Working on it…"} and 0 <= ack.latency < 3
    response = await slack.wait_for(lambda s: s.responses and s.responses[-1])
    assert response["response_type"] == "in_channel" and response["text"] == f"Postmortem for {link}"
    command = bot.seen["command"][0]
    assert (command["command"], command["channel_id"], command["user_id"]) == \
        ("/postmortem", incident.channel, incident.alice)
    assert "thread_ts" not in command and command["response_url"].startswith(slack.base_url)
    # an in_channel response is a real channel message
    history = slack.workspace.channel(incident.channel).messages
    assert list(history.values())[-1]["text"] == f"Postmortem for {link}"


async def test_reaction_added_event(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    envelope_id = slack.reaction_added(incident.bob, incident.channel, incident.replies[1], "postmortem")
    await slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(incident.channel, incident.replies[1]))
    assert (await slack.wait_ack(envelope_id)).payload is None
    event = bot.seen["reaction"][0]["event"]
    assert event["item"] == {"type": "message", "channel": incident.channel, "ts": incident.replies[1]}
    assert event["reaction"] == "postmortem" and event["item_user"] == incident.alice
    assert "thread_ts" not in event["item"]  # the bot must look the root up itself


async def test_app_mention_in_thread(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    slack.app_mention(incident.bob, incident.channel, "write it up", thread_ts=incident.root)
    await slack.wait_for(lambda s: s.thread(incident.channel, incident.root)[-1]["text"] == "On it")
    event = bot.seen["mention"][0]
    assert event["thread_ts"] == incident.root and event["text"] == f"<@{slack.bot_user_id}> write it up"
    mention = slack.thread(incident.channel, incident.root)[-2]  # stored like a real message
    assert mention["ts"] == event["ts"] and mention["user"] == incident.bob


async def test_message_shortcut_on_reply(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    envelope_id = slack.message_shortcut(incident.alice, incident.channel, incident.replies[0], "make_postmortem")
    await slack.wait_ack(envelope_id)
    response = await slack.wait_for(lambda s: s.responses and s.responses[-1])
    assert response["response_type"] == "ephemeral" and response["user"] == incident.alice
    shortcut = bot.seen["shortcut"][0]
    assert shortcut["channel"]["id"] == incident.channel
    assert (shortcut["message"]["ts"], shortcut["message"]["thread_ts"]) == (incident.replies[0], incident.root)


async def test_envelopes_queue_until_connected(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    first = slack.slash_command(incident.alice, incident.channel)
    second = slack.reaction_added(incident.bob, incident.channel, incident.root, "fire")
    assert slack.socket.pending == 2 and not slack.acks
    await bot.connect(slack)
    assert {(await slack.wait_ack(e)).connection for e in (first, second)} == {1}


async def test_disconnect_then_reconnect_delivers_later_envelope(slack: SlackEmulator, incident: Incident,
                                                                 bot: Bot) -> None:
    await bot.connect(slack)
    await slack.disconnect(reason="refresh_requested")
    envelope_id = slack.slash_command(incident.alice, incident.channel)
    await slack.wait_connected(2)
    assert (await slack.wait_ack(envelope_id)).connection == 2
    assert len(slack.calls_to("apps.connections.open")) == 2


async def test_dropped_socket_reconnects(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    await slack.drop_connection()
    envelope_id = slack.slash_command(incident.alice, incident.channel)
    assert (await slack.wait_ack(envelope_id)).connection == 2


async def test_redelivery_carries_retry_fields(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    envelope_id = slack.reaction_added(incident.bob, incident.channel, incident.root, "eyes")
    await slack.wait_ack(envelope_id)
    slack.redeliver(envelope_id)
    acks = await slack.wait_for(lambda s: [a for a in s.acks if a.retry_attempt == 1])
    assert acks[0].envelope_id == envelope_id
    await slack.wait_for(lambda s: len(s.calls_to("reactions.add")) == 2)
    envelope = slack.socket.envelopes[envelope_id]
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (1, "timeout")
    # the same event_id both times, so a bot can deduplicate
    assert len({body["event_id"] for body in bot.seen["reaction"]}) == 1


async def test_button_click_on_a_thread_reply(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    button = {"type": "button", "action_id": "vote", "text": {"type": "plain_text", "text": "Up"}}
    blocks = [{"type": "section", "block_id": "line", "text": {"type": "mrkdwn", "text": "a line"},
               "accessory": {**button, "value": "up"}},
              {"type": "actions", "block_id": "row", "elements": [{**button, "value": "down"}]}]
    ts = slack.post(incident.channel, slack.bot_user_id, "vote", thread_ts=incident.root, blocks=blocks)
    with pytest.raises(LookupError):
        slack.click(incident.bob, incident.channel, ts, "vote", "sideways")  # not on the message: cannot be clicked
    envelope_id = slack.click(incident.bob, incident.channel, ts, "vote", "down")
    assert (await slack.wait_ack(envelope_id)).payload is None
    await slack.wait_for(lambda s: len(s.message(incident.channel, ts)["blocks"]) == 1)
    body = bot.seen["button"][0]
    assert body["type"] == "block_actions" and body["user"]["id"] == incident.bob
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": incident.channel,
                                 "is_ephemeral": False, "thread_ts": incident.root}
    assert [(a["action_id"], a["block_id"], a["value"]) for a in body["actions"]] == [("vote", "row", "down")]
    assert body["message"]["blocks"] == blocks and body["response_url"].startswith(slack.base_url)
    reply = await slack.wait_for(lambda s: s.responses and s.responses[-1])
    assert (reply["text"], reply["user"], reply["response_type"]) == ("Thanks for down", incident.bob, "ephemeral")
    with pytest.raises(LookupError):  # chat.update removed the row: the button is gone
        slack.click(incident.bob, incident.channel, ts, "vote", "down")
    slack.click(incident.bob, incident.channel, ts, "vote")  # the accessory is still there
    await slack.wait_for(lambda s: len(bot.seen["button"]) == 2)
    assert bot.seen["button"][1]["actions"][0]["block_id"] == "line"


async def test_an_outage_holds_reconnections_until_restored(slack: SlackEmulator, incident: Incident, bot: Bot) -> None:
    await bot.connect(slack)
    await slack.outage()
    await slack.wait_for(lambda s: s.socket.waiting == 1)  # slack_sdk tried again, and waits
    envelope_id = slack.slash_command(incident.alice, incident.channel)
    assert slack.socket.connections == 1 and not slack.acks
    slack.restore_connections()
    assert (await slack.wait_ack(envelope_id)).connection == 2
