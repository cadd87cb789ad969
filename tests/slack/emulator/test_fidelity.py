"""Emulator behaviour the bot relies on and real Slack has: markdown block ids dropped, message metadata,
single-message history lookups, url_private failures, and the live-mention judge."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator
from tests.fakes.slack_emulator.files import LOGIN_PAGE

from .conftest import Incident
from .test_web_api import api_error

META = {"event_type": "postmortem_part", "event_payload": {"run": 7, "item": "section:timeline#1"}}


async def test_markdown_block_ids_are_dropped_other_block_ids_kept(incident: Incident, client: AsyncWebClient) -> None:
    blocks = [{"type": "markdown", "text": "## Timeline", "block_id": "pm7-timeline.0"},
              {"type": "section", "block_id": "keep-me", "text": {"type": "mrkdwn", "text": "hi"}}]
    posted = await client.chat_postMessage(channel=incident.channel, thread_ts=incident.root, text="t", blocks=blocks)
    stored = (await client.conversations_replies(channel=incident.channel, ts=incident.root))["messages"][-1]
    for message in (posted["message"], stored):
        assert "block_id" not in message["blocks"][0] and message["blocks"][1]["block_id"] == "keep-me"
    await client.chat_update(channel=incident.channel, ts=posted["ts"], text="t2",
                             blocks=[{"type": "markdown", "text": "## Timeline (edited)", "block_id": "again"}])
    edited = (await client.conversations_replies(channel=incident.channel, ts=incident.root))["messages"][-1]
    assert edited["blocks"] == [{"type": "markdown", "text": "## Timeline (edited)"}]


@pytest.mark.parametrize("metadata", [META, Metadata(**META)])
async def test_metadata_is_returned_only_when_asked_for(incident: Incident, client: AsyncWebClient,
                                                        metadata: dict | Metadata) -> None:
    posted = await client.chat_postMessage(channel=incident.channel, thread_ts=incident.root, text="part", metadata=metadata)
    assert posted["message"]["metadata"] == META
    plain = (await client.conversations_replies(channel=incident.channel, ts=incident.root))["messages"]
    assert all("metadata" not in m for m in plain)
    full = (await client.conversations_replies(channel=incident.channel, ts=incident.root, include_all_metadata=True))["messages"]
    assert [m["metadata"] for m in full if "metadata" in m] == [META]

    top = await client.chat_postMessage(channel=incident.channel, text="root line", metadata=metadata)
    history = (await client.conversations_history(channel=incident.channel, include_all_metadata=True))["messages"]
    assert next(m for m in history if m["ts"] == top["ts"])["metadata"] == META
    assert "metadata" not in (await client.conversations_history(channel=incident.channel))["messages"][0]


async def test_update_replaces_metadata_or_keeps_it(incident: Incident, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=incident.channel, thread_ts=incident.root, text="status", metadata=META)
    await client.chat_update(channel=incident.channel, ts=posted["ts"], text="status 2")
    newer = {"event_type": "postmortem_status", "event_payload": {"run": 8}}
    thread = (await client.conversations_replies(channel=incident.channel, ts=incident.root, include_all_metadata="true"))
    assert thread["messages"][-1]["metadata"] == META
    await client.chat_update(channel=incident.channel, ts=posted["ts"], text="status 3", metadata=newer)
    thread = (await client.conversations_replies(channel=incident.channel, ts=incident.root, include_all_metadata="true"))
    assert thread["messages"][-1]["metadata"] == newer


@pytest.mark.parametrize(("metadata", "error"), [
    ({"event_type": "x"}, "invalid_metadata_schema"),
    ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
    ({"event_type": "x", "event_payload": "not an object"}, "invalid_metadata_schema"),
    ("{not json", "invalid_metadata_format"),
    (["event_type"], "invalid_metadata_format"),
])
async def test_bad_metadata_is_refused(incident: Incident, client: AsyncWebClient, metadata: object, error: str) -> None:
    err = await api_error(client.chat_postMessage(channel=incident.channel, text="x", metadata=metadata))
    assert err.response["error"] == error


async def test_history_at_one_ts_finds_a_top_level_message_only(incident: Incident, client: AsyncWebClient) -> None:
    async def at(ts: str) -> list[str]:
        resp = await client.conversations_history(channel=incident.channel, oldest=ts, latest=ts, inclusive=True, limit=1)
        return [m["ts"] for m in resp["messages"]]

    assert await at(incident.root) == [incident.root]
    assert await at(incident.replies[1]) == []  # replies live in conversations.replies only


@pytest.mark.parametrize(("fault", "status", "body"), [
    (404, 404, b"error 404"),
    (403, 403, b"error 403"),
    (502, 502, b"error 502"),
    ("sign_in", 200, LOGIN_PAGE.encode()),
])
async def test_download_faults(slack: SlackEmulator, fault: int | str, status: int, body: bytes) -> None:
    f = slack.add_file("pool.log", b"ERROR pool exhausted\n", "text/plain")
    headers = {"Authorization": f"Bearer {slack.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f["url_private"]) as ok:
            assert (ok.status, await ok.read()) == (200, b"ERROR pool exhausted\n")
        slack.fail_download(f["id"], fault)
        async with session.get(f["url_private_download"]) as resp:
            assert (resp.status, await resp.read()) == (status, body)
            assert resp.content_type == ("text/html" if fault == "sign_in" else "text/plain")
    assert [d["fault"] for d in slack.workspace.downloads] == [None, fault]


async def test_a_stalled_download_answers_nothing(slack: SlackEmulator) -> None:
    f = slack.add_file("huge.log", b"x", "text/plain")
    slack.fail_download(f["id"], "stall")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {slack.bot_token}"}) as session:
        with pytest.raises(TimeoutError):
            async with session.get(f["url_private"], timeout=aiohttp.ClientTimeout(total=0.2)):
                pass


async def test_live_mentions_in_what_the_bot_sent(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel=incident.channel, text="calm", blocks=[{"type": "markdown", "text": "@\u2060here"}])
    assert slack.live_mentions() == []
    await client.chat_postMessage(channel=incident.channel, text="x", blocks=[{"type": "markdown", "text": "hey <!here>"}])
    await client.chat_postEphemeral(channel=incident.channel, user=incident.bob, text="@channel look")
    assert slack.live_mentions() == [("chat.postMessage", "<!here>"), ("chat.postEphemeral", "@channel")]
