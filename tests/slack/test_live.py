"""LiveSection against the emulator through the bot's real Slack client (retry handlers included): appends coalesce,
a held-up append never holds up the finished section, and only a refusal turns streaming off for the run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import load_settings
from bot.slack.client import make_web_client
from bot.slack.outbound.live import LiveSection, Recipient
from tests.fakes.slack_emulator import SlackEmulator
from tests.slack.emulator.conftest import Incident, incident, slack  # noqa: F401  (fixtures)


@pytest.fixture
async def bot_client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:  # noqa: F811
    yield make_web_client(load_settings(slack_bot_token=slack.bot_token, slack_api_url=slack.api_url))


def live_section(client: AsyncWebClient, slack: SlackEmulator, incident: Incident, started: list[str]) -> LiveSection:  # noqa: F811
    return LiveSection(client, incident.channel, incident.root, Recipient(incident.bob, slack.workspace.team["id"]),
                       "Root Cause Determination", started.append)


async def test_the_newest_text_wins_and_a_held_up_append_does_not_hold_up_the_stop(
        slack: SlackEmulator, incident: Incident, bot_client: AsyncWebClient) -> None:  # noqa: F811
    started: list[str] = []
    live = live_section(bot_client, slack, incident, started)
    live.show("The pool ran dry.")
    [stream] = await slack.wait_for(lambda s: s.streamed(incident.channel))
    assert stream.pieces == ["## Root Cause Determination\n\nThe pool ran dry."]
    release = slack.hold_next("chat.appendStream")
    for more in (" Retries", " Retries tripled the load.", " Retries tripled the load. <!channel>"):
        live.show("The pool ran dry." + more)
    await slack.wait_for(lambda s: s.held)  # the next append carries only the newest text, and Slack sits on it
    newest = slack.held[0].args["chunks"][0]["text"]
    assert newest.startswith(" Retries tripled the load. ") and "<!channel>" not in newest  # made inert
    async with asyncio.timeout(10):  # slack_sdk would give up on the parked call after 30 s
        assert await live.stop() == stream.ts  # without waiting for the parked append
    assert live.failed is None  # the append was dropped, not timed out
    assert started == [stream.ts]  # recorded, so a restart can take it back
    assert stream.stopped and [c.method for c in slack.calls][-1] == "chat.stopStream"
    release.set()


@pytest.mark.parametrize(("error", "refused"), [("missing_recipient_team_id", True), ("not_allowed_token_type", True),
                                                ("internal_error", False), ("ratelimited", False)])
async def test_only_a_refusal_turns_streaming_off(slack: SlackEmulator, incident: Incident,  # noqa: F811
                                                  bot_client: AsyncWebClient, error: str, refused: bool) -> None:
    slack.fail_next("chat.startStream", error, status=200)  # ok=false answers: slack_sdk does not retry them
    live = live_section(bot_client, slack, incident, [])
    live.show("The pool ran dry.")
    await slack.wait_for(lambda s: s.calls_to("chat.startStream"))
    assert await live.stop() is None and slack.streamed(incident.channel) == []
    assert (live.refused is not None, live.failed is not None) == (refused, not refused)
