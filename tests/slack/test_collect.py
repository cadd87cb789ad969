"""The collector against the emulator through the bot's real Web API client: files that cannot be read are
reported with a reason (never passed off as text), and rate-limited reads raise SlackRateLimited."""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.mentions import neutralise_mentions
from bot.settings import load_settings
from bot.slack.client import make_web_client
from bot.slack.collect import Collector, SlackRateLimited
from tests.fakes.slack_emulator import SlackEmulator

LOG = b"2025-11-17T08:52:00Z ERROR pool: timeout acquiring connection\n"


@dataclass
class World:
    slack: SlackEmulator
    collector: Collector
    channel: str
    alice: str


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with SlackEmulator() as slack:
        settings = load_settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token,
                                 slack_api_url=slack.api_url, max_file_bytes=64)
        client = make_web_client(settings)
        alice = slack.add_user("alice")
        channel = slack.add_channel("inc-db", members=[alice])
        yield World(slack, Collector(client, settings, slack.bot_user_id, slack.workspace.bot_id), channel, alice)


async def collect_with_file(w: World, name: str, content: bytes, mimetype: str | None = None,
                            fault: int | str | None = None, mode: str | None = None) -> tuple[str, list[str]]:
    """Post a thread whose reply carries one file; returns (what the model would read, unread_files)."""
    f = w.slack.add_file(name, content, mimetype)
    if fault is not None:
        w.slack.fail_download(f["id"], fault)  # type: ignore[arg-type]
    if mode is not None:
        w.slack.workspace.files[f["id"]]["mode"] = mode
    root = w.slack.post(w.channel, w.alice, "checkout is down")
    w.slack.post(w.channel, w.alice, "attached", thread_ts=root, files=[f])
    incident = await w.collector.incident(await w.collector.thread(w.channel, root), title="t", source="slack-thread")
    return "\n".join(m.full_text() for m in incident.messages), incident.unread_files


@pytest.mark.parametrize(("fault", "reason"), [
    (404, "pool.log (HTTP 404: not found, deleted?)"),
    (403, "pool.log (HTTP 403: access denied)"),
    (401, "pool.log (HTTP 401: access denied)"),
    (500, "pool.log (HTTP 500: Slack server error)"),
    (503, "pool.log (HTTP 503: Slack server error)"),
    (429, "pool.log (HTTP 429: rate limited)"),
    (410, "pool.log (HTTP 410: download refused)"),
    ("sign_in", "pool.log (Slack sent a sign-in page; the bot token needs the files:read scope)"),
])
async def test_a_failed_download_is_reported_never_read_as_text(world: World, fault: int | str, reason: str) -> None:
    text, unread = await collect_with_file(world, "pool.log", LOG, "text/plain", fault=fault)
    assert unread == [reason]
    assert "Sign in" not in text and "error" not in text.lower().replace("pool.log", "")


async def test_a_stalled_download_times_out_with_a_reason(world: World) -> None:
    world.collector.download_timeout_s = 0.2
    text, unread = await collect_with_file(world, "pool.log", LOG, "text/plain", fault="stall")
    assert unread == ["pool.log (download timed out after 0.2 s)"]
    assert "checkout is down" in text


@pytest.mark.parametrize(("name", "content", "mimetype", "reason"), [
    ("core.log", b"ELF\x00\x01\x02" + bytes(range(256)), "text/plain", "binary, not text"),
    ("latin.log", "é".encode("latin-1") * 40, "text/plain", "not UTF-8 text"),
    ("shot.png", b"\x89PNG\r\n\x1a\n", "image/png", "not a text file"),
])
async def test_bytes_that_are_not_text_are_reported(world: World, name: str, content: bytes, mimetype: str, reason: str) -> None:
    text, unread = await collect_with_file(world, name, content, mimetype)
    assert unread == [f"{name} ({reason})"]
    assert "\ufffd" not in text and "PNG" not in text


@pytest.mark.parametrize(("mode", "reason"), [("tombstone", "deleted"), ("hidden_by_limit", "hidden by the workspace's plan limit")])
async def test_files_slack_withholds_are_reported(world: World, mode: str, reason: str) -> None:
    _, unread = await collect_with_file(world, "old.log", LOG, "text/plain", mode=mode)
    assert unread == [f"old.log ({reason})"]
    assert world.slack.workspace.downloads == []


@pytest.mark.parametrize(("content", "expected"), [
    (LOG, LOG.decode()),
    (codecs.BOM_UTF8 + "état: ok\n".encode(), "état: ok\n"),
    (codecs.BOM_UTF16_LE + "pool ok\n".encode("utf-16-le"), "pool ok\n"),
    # One stray byte in otherwise valid UTF-8 is a mangled line, not a binary file.
    (b"ok line\n" * 7 + b"\xff\n", "ok line\n" * 7 + "\ufffd\n"),
])
async def test_text_files_are_read(world: World, content: bytes, expected: str) -> None:
    text, unread = await collect_with_file(world, "pool.log", content, "text/plain")
    assert unread == [] and expected in text


async def test_a_cut_inside_a_multibyte_character_is_not_undecodable(world: World) -> None:
    content = ("x" * 63 + "é").encode()  # the 64-byte cap falls inside "é"
    text, unread = await collect_with_file(world, "pool.log", content, "text/plain")
    assert unread == [] and "x" * 63 + "\n[… file cut at 64 bytes]" in text


@pytest.mark.parametrize("method", ["conversations.replies", "conversations.history"])
async def test_reads_rate_limited_past_the_retries_raise_slack_rate_limited(world: World, method: str) -> None:
    root = world.slack.post(world.channel, world.alice, "checkout is down")
    world.slack.fail_next(method, "ratelimited", retry_after=0, times=4)  # 1 try + the client's 3 retries
    with pytest.raises(SlackRateLimited) as info:
        if method == "conversations.replies":
            await world.collector.thread(world.channel, root)
        else:
            await world.collector.channel_history(world.channel)
    assert str(info.value) == "Slack is rate-limiting reads — fix: try again in a minute"
    assert [c.status for c in world.slack.calls_to(method)] == [429] * 4


async def test_a_rate_limit_the_retries_absorb_is_invisible(world: World) -> None:
    root = world.slack.post(world.channel, world.alice, "checkout is down")
    world.slack.fail_next("conversations.replies", "ratelimited", retry_after=0, times=2)
    assert len(await world.collector.thread(world.channel, root)) == 1


async def test_thread_root_of_a_root_a_reply_and_a_missing_message(world: World) -> None:
    root = world.slack.post(world.channel, world.alice, "checkout is down")
    reply = world.slack.post(world.channel, world.alice, "rolled back", thread_ts=root)
    lone = world.slack.post(world.channel, world.alice, "unrelated")
    assert await world.collector.thread_root(world.channel, root) == root
    assert await world.collector.thread_root(world.channel, reply) == root
    assert await world.collector.thread_root(world.channel, lone) == lone
    with pytest.raises(SlackApiError) as info:
        await world.collector.thread_root(world.channel, "1600000000.000100")
    assert info.value.response["error"] == "thread_not_found"
    world.slack.fail_next("conversations.history", "ratelimited", retry_after=0, times=4)
    with pytest.raises(SlackRateLimited):
        await world.collector.thread_root(world.channel, root)


async def test_names_seen_while_collecting_feed_the_mention_neutraliser(world: World) -> None:
    root = world.slack.post(world.channel, world.alice, "checkout is down")
    await world.collector.incident(await world.collector.thread(world.channel, root), title="t", source="slack-thread")
    assert neutralise_mentions(f"ask <@{world.alice}>", world.collector.names) == "ask @\u2060alice"


@pytest.mark.parametrize(("retry_after", "fix"), [(120, "try again in about 120 s"), (30, "try again in a minute")])
async def test_a_long_retry_after_is_passed_on(world: World, retry_after: int, fix: str) -> None:
    # A client without retry handlers: the first 429 is final, so a long Retry-After costs no waiting here.
    impatient = Collector(AsyncWebClient(base_url=world.slack.api_url, token=world.slack.bot_token), world.collector.settings,
                          world.slack.bot_user_id, world.slack.workspace.bot_id)
    root = world.slack.post(world.channel, world.alice, "checkout is down")
    world.slack.fail_next("conversations.replies", "ratelimited", retry_after=retry_after)
    with pytest.raises(SlackRateLimited) as info:
        await impatient.thread(world.channel, root)
    assert info.value.retry_after_s == retry_after and info.value.fix == fix
