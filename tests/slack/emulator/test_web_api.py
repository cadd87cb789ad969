"""The Web API as seen through slack_sdk's AsyncWebClient."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator

from .conftest import Incident


async def api_error(coro) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


async def test_auth(slack: SlackEmulator, client: AsyncWebClient) -> None:
    me = await client.auth_test()
    assert me["user_id"] == slack.bot_user_id and me["url"] == "https://acme.slack.com/"
    bad = AsyncWebClient(base_url=slack.api_url, token="xoxb-wrong")
    assert (await api_error(bad.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=slack.api_url)
    assert (await api_error(anonymous.auth_test())).response["error"] == "not_authed"
    assert (await api_error(client.api_call("nope.nope"))).response["error"] == "unknown_method"
    app_client = AsyncWebClient(base_url=slack.api_url, token=slack.app_token)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith(slack.base_url.replace("http", "ws"))
    denied = await api_error(client.apps_connections_open(app_token=slack.bot_token))
    assert denied.response["error"] == "not_allowed_token_type"


async def test_replies_paginate_and_resolve_reply_ts(incident: Incident, client: AsyncWebClient) -> None:
    resp = await client.conversations_replies(channel=incident.channel, ts=incident.root, limit=2)
    root = resp["messages"][0]  # read now: iterating replaces resp's data page by page
    assert root["reply_count"] == 4 and root["thread_ts"] == incident.root
    pages = [[m["ts"] for m in page["messages"]] async for page in resp]
    # continuation pages omit the parent, like Slack
    assert pages == [[incident.root, incident.replies[0]], incident.replies[1:3], incident.replies[3:]]
    # a reply's ts (what reaction_added gives) still finds the root
    via_reply = await client.conversations_replies(channel=incident.channel, ts=incident.replies[2], limit=1)
    assert via_reply["messages"][0]["ts"] == incident.root and via_reply["has_more"]


async def test_a_thread_seeded_at_past_times_reads_back_in_order(slack: SlackEmulator, client: AsyncWebClient) -> None:
    """Real incidents replayed at the times they happened (bench_real_incidents): ts as given, in thread order."""
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-2021", members=[alice])
    root = slack.post(channel, alice, "503 on every service", ts="1625211127.000100")
    reply = slack.post(channel, alice, "target group reattached, resolved", thread_ts=root, ts="1625211727.000200")
    resp = await client.conversations_replies(channel=channel, ts=root)
    assert [m["ts"] for m in resp["messages"]] == [root, reply] == ["1625211127.000100", "1625211727.000200"]
    with pytest.raises(ValueError, match="not newer than the messages already in"):
        slack.post(channel, alice, "out of order", thread_ts=root, ts="1625211200.000000")
    assert float(slack.post(channel, alice, "now")) > float(reply)  # generated ts values carry on from the clock


async def test_history_shows_roots_newest_first(slack: SlackEmulator, incident: Incident,
                                                client: AsyncWebClient) -> None:
    later = slack.post(incident.channel, incident.bob, "unrelated")
    resp = await client.conversations_history(channel=incident.channel, limit=1)
    assert [m["ts"] for m in resp["messages"]] == [later] and resp["has_more"]
    older = await client.conversations_history(channel=incident.channel,
                                               cursor=resp["response_metadata"]["next_cursor"])
    assert [(m["ts"], m["reply_count"]) for m in older["messages"]] == [(incident.root, 4)]
    window = await client.conversations_history(channel=incident.channel, oldest=incident.root,
                                                inclusive=True, latest=incident.replies[-1])
    assert [m["ts"] for m in window["messages"]] == [incident.root]


async def test_access_errors(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    public = slack.add_channel("outsider", bot_member=False)
    private = slack.add_channel("secret", private=True, bot_member=False)
    ts = slack.post(public, incident.alice, "hi")
    cases = [
        (client.conversations_replies(channel=public, ts=ts), "not_in_channel"),
        (client.conversations_replies(channel=private, ts=ts), "channel_not_found"),
        (client.conversations_replies(channel="C404", ts=ts), "channel_not_found"),
        (client.conversations_replies(channel=incident.channel, ts="1.000001"), "thread_not_found"),
        (client.chat_postMessage(channel=public, text="x"), "not_in_channel"),
        (client.conversations_info(channel=private), "channel_not_found"),
        (client.users_info(user="U404"), "user_not_found"),
    ]
    for call, error in cases:
        assert (await api_error(call)).response["error"] == error
    info = await client.conversations_info(channel=public)
    assert info["channel"]["is_member"] is False


async def test_post_update_permalink_reactions(slack: SlackEmulator, incident: Incident,
                                               client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=incident.channel, thread_ts=incident.root,
                                           text="Drafting postmortem…")
    assert posted["message"]["bot_id"] == slack.workspace.bot_id
    await client.chat_update(channel=incident.channel, ts=posted["ts"], text="Postmortem ready",
                             blocks=[{"type": "markdown", "text": "# Postmortem"}])
    last = slack.thread(incident.channel, incident.root)[-1]
    assert last["text"] == "Postmortem ready" and "edited" in last and last["blocks"][0]["type"] == "markdown"
    cant = await api_error(client.chat_update(channel=incident.channel, ts=incident.root, text="x"))
    assert cant.response["error"] == "cant_update_message"

    link = await client.chat_getPermalink(channel=incident.channel, message_ts=incident.replies[0])
    root_digits = incident.root.replace(".", "")
    assert slack.permalink(incident.channel, incident.root).endswith(f"/p{root_digits}")
    assert link["permalink"].endswith(f"?thread_ts={incident.root}&cid={incident.channel}")

    await client.reactions_add(channel=incident.channel, timestamp=incident.root, name="eyes")
    again = await api_error(client.reactions_add(channel=incident.channel, timestamp=incident.root, name="eyes"))
    assert again.response["error"] == "already_reacted"
    assert slack.reactions_on(incident.channel, incident.root) == {"eyes"}
    got = await client.reactions_get(channel=incident.channel, timestamp=incident.root)
    assert got["message"]["reactions"] == [{"name": "eyes", "users": [slack.bot_user_id], "count": 1}]
    await client.reactions_remove(channel=incident.channel, timestamp=incident.root, name="eyes")
    gone = await api_error(client.reactions_remove(channel=incident.channel, timestamp=incident.root, name="eyes"))
    assert gone.response["error"] == "no_reaction"

    await client.chat_postEphemeral(channel=incident.channel, user=incident.bob, text="only you")
    assert slack.ephemerals[-1]["user"] == incident.bob and slack.ephemerals[-1]["text"] == "only you"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(("kwargs", "error"), [
    ({"text": "x" * 40_001}, "msg_too_long"),
    ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ({"text": "x", "blocks": [{"type": "markdown", "text": "m" * 6_001}] * 2}, "invalid_blocks"),
    ({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3_001}}]},
     "invalid_blocks"),
    ({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 2_900}}] * 5},
     "msg_blocks_too_long"),
    ({}, "no_text"),
])
async def test_message_limits(incident: Incident, client: AsyncWebClient, kwargs: dict, error: str) -> None:
    err = await api_error(client.chat_postMessage(channel=incident.channel, **kwargs))
    assert err.response["error"] == error


async def test_files_upload_v2_lands_in_thread(slack: SlackEmulator, incident: Incident,
                                                client: AsyncWebClient) -> None:
    audio = b"ID3\x04" + bytes(range(256)) * 8
    resp = await client.files_upload_v2(channel=incident.channel, thread_ts=incident.root, file=audio,
                                        filename="postmortem.mp3", title="Postmortem",
                                        initial_comment="Narrated postmortem")
    assert resp["file"]["shares"] == {}  # sharing is asynchronous on Slack
    assert [c.method for c in slack.calls[-2:]] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    message = slack.thread(incident.channel, incident.root)[-1]
    shared = message["files"][0]
    assert message["text"] == "Narrated postmortem" and message["thread_ts"] == incident.root
    assert (shared["name"], shared["filetype"], shared["mimetype"], shared["size"]) == \
        ("postmortem.mp3", "mp3", "audio/mpeg", len(audio))
    assert slack.uploaded_files[-1]["content"] == audio
    info = await client.files_info(file=shared["id"])
    assert info["file"]["shares"]["public"][incident.channel][0]["thread_ts"] == incident.root
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {slack.bot_token}"}
        async with http.get(shared["url_private"], headers=headers) as r:
            assert await r.read() == audio
        async with http.get(shared["url_private"]) as r:  # no token: Slack's sign-in page
            assert r.content_type == "text/html"


async def test_upload_needs_membership(slack: SlackEmulator, client: AsyncWebClient) -> None:
    outsider = slack.add_channel("outsider", bot_member=False)
    err = await api_error(client.files_upload_v2(channel=outsider, file=b"x", filename="a.mp3"))
    assert err.response["error"] == "not_in_channel"


async def test_rate_limit_error_and_retry(slack: SlackEmulator, incident: Incident,
                                          client: AsyncWebClient) -> None:
    slack.fail_next("conversations.replies", retry_after=7)
    err = await api_error(client.conversations_replies(channel=incident.channel, ts=incident.root))
    assert (err.response.status_code, err.response["error"]) == (429, "ratelimited")
    assert err.response.headers["Retry-After"] == "7"

    patient = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token,
                             retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    slack.fail_next("conversations.replies", retry_after=0)  # slack_sdk sleeps Retry-After + rand(0..1)
    resp = await patient.conversations_replies(channel=incident.channel, ts=incident.root)
    assert resp["ok"] and [c.status for c in slack.calls_to("conversations.replies")] == [429, 429, 200]


async def test_server_error_retry_and_custom_error(slack: SlackEmulator, incident: Incident) -> None:
    client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token,
                            retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    slack.fail_next("chat.postMessage", "internal_error", status=500)
    await client.chat_postMessage(channel=incident.channel, text="after a 500")
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]
    slack.fail_next("chat.postMessage", "is_archived")
    err = await api_error(client.chat_postMessage(channel=incident.channel, text="x"))
    assert (err.response.status_code, err.response["error"]) == (200, "is_archived")


async def test_wait_for_times_out_with_recent_calls(slack: SlackEmulator, client: AsyncWebClient) -> None:
    await client.auth_test()
    with pytest.raises(TimeoutError, match=r"auth\.test"):
        await slack.wait_for(lambda s: False, timeout=0.05)


async def test_members_users_and_conversations(slack: SlackEmulator, incident: Incident,
                                              client: AsyncWebClient) -> None:
    first = await client.conversations_members(channel=incident.channel, limit=2)
    members = [m async for page in first for m in page["members"]]
    assert members == [incident.alice, incident.bob, slack.bot_user_id]
    bob = (await client.users_info(user=incident.bob))["user"]
    assert (bob["name"], bob["profile"]["display_name"], bob["is_bot"]) == ("bob", "Bobby", False)
    slack.add_channel("secret", private=True, members=[incident.bob])
    mine = await client.users_conversations(user=incident.bob, types="public_channel,private_channel")
    assert [c["name"] for c in mine["channels"]] == ["inc-db-outage", "secret"]


async def test_bot_and_integration_authors(slack: SlackEmulator, incident: Incident,
                                           client: AsyncWebClient) -> None:
    grafana = slack.add_user("grafana", is_bot=True)
    legacy_bot_id = slack.workspace.users[grafana]["profile"]["bot_id"]
    app_ts = slack.post(incident.channel, grafana, "alert firing", thread_ts=incident.root,
                        attachments=[{"color": "danger", "text": "p99 > 2s"}])
    hook_ts = slack.post(incident.channel, legacy_bot_id, "resolved", thread_ts=incident.root)
    resp = await client.conversations_replies(channel=incident.channel, ts=incident.root)
    by_ts = {m["ts"]: m for m in resp["messages"]}
    assert by_ts[app_ts]["bot_profile"]["name"] == "grafana" and by_ts[app_ts]["attachments"]
    assert by_ts[hook_ts]["subtype"] == "bot_message" and "user" not in by_ts[hook_ts]


async def test_page_cap_overrides_limit() -> None:
    async with SlackEmulator(page_cap=15) as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("big", members=[alice])
        root = slack.post(channel, alice, "root")
        for i in range(20):
            slack.post(channel, alice, f"reply {i}", thread_ts=root)
        client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)
        resp = await client.conversations_replies(channel=channel, ts=root, limit=200)
        sizes = [len(page["messages"]) async for page in resp]
        assert sizes == [15, 6]
