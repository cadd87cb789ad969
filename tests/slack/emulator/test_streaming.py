"""The emulator's streaming methods (chat.startStream/appendStream/stopStream) and chat.delete answer like Slack's
documentation says, through slack_sdk's own chat_stream helper and the raw methods."""

from __future__ import annotations

import json

from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator

from .conftest import Incident
from .test_web_api import api_error


async def test_chat_stream_helper_and_raw_stream_methods(slack: SlackEmulator, incident: Incident,
                                                          client: AsyncWebClient) -> None:
    ch, team = incident.channel, slack.workspace.team["id"]
    slack.workspace.thread_status[(ch, incident.root)] = "is thinking…"
    streamer = await client.chat_stream(channel=ch, thread_ts=incident.root, recipient_team_id=team,
                                        recipient_user_id=incident.alice, buffer_size=1)
    await streamer.append(markdown_text="## Timeline\n")
    assert streamer.ts and slack.message(ch, streamer.ts)["text"] == "## Timeline\n"
    assert (ch, incident.root) not in slack.workspace.thread_status  # the reply cleared the native status
    (session,) = slack.streamed(ch)
    assert session.open and session.pieces == ["## Timeline\n"] and session.recipient_user_id == incident.alice
    await streamer.append(markdown_text="14:02 500s")
    await streamer.stop(markdown_text=" <!channel>", metadata={"event_type": "pm", "event_payload": {"n": 1}})
    assert session.pieces == ["## Timeline\n", "14:02 500s", " <!channel>"] and session.stopped
    final = slack.message(ch, streamer.ts)
    assert final["text"] == "## Timeline\n14:02 500s <!channel>" and final["metadata"]["event_type"] == "pm"
    assert "streaming" not in json.dumps(final) and final["thread_ts"] == incident.root
    assert [m["ts"] for m in slack.thread(ch, incident.root)][-1] == streamer.ts
    assert ("chat.stopStream", "<!channel>") in slack.live_mentions()
    ended = await api_error(client.chat_appendStream(channel=ch, ts=streamer.ts, markdown_text="x"))
    assert ended.response["error"] == "message_not_in_streaming_state"

    # Raw methods with markdown_text, and chunks JSON-encoded as a form post would send them.
    start = await client.chat_startStream(channel=ch, thread_ts=incident.root, markdown_text="a",
                                          recipient_team_id=team, recipient_user_id=incident.bob)
    ts = start["ts"]
    await client.api_call("chat.appendStream", data={
        "channel": ch, "ts": ts, "chunks": json.dumps([{"type": "markdown_text", "text": "b "}, {"type": "markdown_text", "text": "@here"}])})
    await client.chat_appendStream(channel=ch, ts=ts, markdown_text="c")
    assert slack.message(ch, ts)["text"] == "ab @herec" and slack.streamed()[1].pieces == ["a", "b ", "@here", "c"]
    assert ("chat.appendStream", "@here") in slack.live_mentions()
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "by postmortem-bot"}]}]
    stopped = await client.chat_stopStream(channel=ch, ts=ts, blocks=blocks)
    assert stopped["message"]["blocks"] == blocks and stopped["message"]["text"] == "ab @herec"

    # chat.update ends a stream; expire_streams ends every open one.
    ts = (await client.chat_startStream(channel=ch, thread_ts=incident.root, recipient_team_id=team,
                                        recipient_user_id=incident.bob))["ts"]
    await client.chat_update(channel=ch, ts=ts, text="final")
    assert slack.streamed()[2].ended == "updated" and slack.message(ch, ts)["text"] == "final"
    assert (await api_error(client.chat_stopStream(channel=ch, ts=ts))).response["error"] \
        == "message_not_in_streaming_state"
    ts = (await client.chat_startStream(channel=ch, thread_ts=incident.root, recipient_team_id=team,
                                        recipient_user_id=incident.bob, markdown_text="x"))["ts"]
    assert slack.expire_streams() == 1 and slack.streamed()[3].ended == "expired"
    assert (await api_error(client.chat_appendStream(channel=ch, ts=ts, markdown_text="y"))).response["error"] \
        == "message_not_in_streaming_state"

    # chat.delete removes the message from its thread; a root with replies leaves a tombstone.
    assert (await client.chat_delete(channel=ch, ts=ts))["ts"] == ts
    replies = await client.conversations_replies(channel=ch, ts=incident.root)
    assert ts not in [m["ts"] for m in replies["messages"]] and len(replies["messages"]) == 8
    root = (await client.chat_postMessage(channel=ch, text="root"))["ts"]
    await client.chat_postMessage(channel=ch, text="reply", thread_ts=root)
    await client.chat_delete(channel=ch, ts=root)
    assert [m.get("subtype") for m in slack.thread(ch, root)] == ["tombstone", None]


async def test_stream_errors(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    ch, team, alice = incident.channel, slack.workspace.team["id"], incident.alice

    async def start_error(**kwargs: object) -> str:
        args = {"channel": ch, "thread_ts": incident.root, "recipient_team_id": team, "recipient_user_id": alice,
                **kwargs}
        return str((await api_error(client.api_call("chat.startStream", json=args))).response["error"])

    assert await start_error(thread_ts="1.000001") == "invalid_thread_ts"
    assert await start_error(recipient_user_id=None) == "missing_recipient_user_id"
    assert await start_error(recipient_user_id=None, recipient_team_id=None) == "missing_recipient_user_id"
    assert await start_error(recipient_team_id=None) == "missing_recipient_team_id"
    assert await start_error(recipient_team_id="T999") == "team_not_found"
    assert await start_error(recipient_user_id="U999") == "user_not_found"
    assert await start_error(markdown_text="x" * 12_001) == "msg_too_long"
    assert await start_error(chunks=[{"type": "plan_update", "title": "p"}]) == "invalid_chunks"
    assert await start_error(chunks="not json") == "invalid_chunks"
    assert await start_error(chunks=[{"type": "markdown_text"}]) == "invalid_chunks"
    assert await start_error(channel=slack.add_channel("elsewhere", bot_member=False)) == "not_in_channel"
    assert slack.streamed() == [] and len(slack.thread(ch, incident.root)) == 5  # nothing was posted
    assert (await client.chat_startStream(channel=ch, thread_ts=incident.root, markdown_text="x" * 12_000,
                                          recipient_team_id=team, recipient_user_id=alice))["ok"]
    dm = slack.workspace.direct_channel(alice).id  # in a DM no recipient is needed
    dm_root = slack.post(dm, alice, "summarise")
    ts = (await client.chat_startStream(channel=dm, thread_ts=dm_root))["ts"]

    async def error(method: str, **kwargs: object) -> str:
        return str((await api_error(client.api_call(method, json={"channel": dm, "ts": ts, **kwargs})))
                   .response["error"])

    assert await error("chat.appendStream") == "invalid_arguments"
    assert await error("chat.appendStream", chunks=[]) == "invalid_arguments"
    assert await error("chat.appendStream", markdown_text="x" * 12_001) == "msg_too_long"
    assert await error("chat.appendStream", chunks=[{"type": "task_update"}]) == "invalid_chunks"
    assert await error("chat.appendStream", ts="1.000001", markdown_text="x") == "message_not_found"
    assert await error("chat.stopStream", ts="1.000001") == "message_not_found"
    assert await error("chat.appendStream", ts=dm_root, markdown_text="x") == "message_not_owned_by_app"
    assert await error("chat.stopStream", ts=dm_root) == "message_not_owned_by_app"
    assert await error("chat.stopStream", metadata={"event_type": ""}) == "invalid_metadata_schema"
    assert await error("chat.stopStream", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]) \
        == "invalid_blocks"
    assert slack.streamed(dm)[0].open and slack.message(dm, ts)["text"] == ""  # failed calls changed nothing
    posted = (await client.chat_postMessage(channel=dm, text="not streamed"))["ts"]
    assert await error("chat.appendStream", ts=posted, markdown_text="x") == "message_not_in_streaming_state"
    assert await error("chat.delete", ts=dm_root) == "cant_delete_message"
    assert await error("chat.delete", ts="1.000001") == "message_not_found"
