"""Fixtures: a running emulator, a seeded incident thread, and real slack_sdk/Bolt clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
async def client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    # AsyncWebClient only creates an aiohttp session per request when given none,
    # so nothing needs closing here.
    yield AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)


@dataclass
class Incident:
    channel: str
    alice: str
    bob: str
    root: str
    replies: list[str]


@pytest.fixture
def incident(slack: SlackEmulator) -> Incident:
    alice = slack.add_user("alice", real_name="Alice Doe")
    bob = slack.add_user("bob", display_name="Bobby")
    channel = slack.add_channel("inc-db-outage", members=[alice, bob])
    root = slack.post(channel, alice, "Checkout returns 500s since 14:02")
    replies = [slack.post(channel, who, text, thread_ts=root) for who, text in [
        (bob, "DB connection pool exhausted"), (alice, "Rolling back deploy 4711"),
        (bob, "Error rate back to normal"), (alice, "No test covered pool size under load")]]
    return Incident(channel, alice, bob, root, replies)
