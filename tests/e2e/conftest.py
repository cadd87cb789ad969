"""The whole bot on loopback: Slack emulator + fake LLM + fake edge-tts, the real BotApp over Socket Mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.slack.app import BotApp
from tests.fakes.bot_stack import bot_on_loopback
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.slack_emulator import SlackEmulator

DIGEST_TITLE = "What the thread shows"


@dataclass
class Stack:
    slack: SlackEmulator
    llm: FakeLLM
    edge: FakeEdgeTTS
    bot: BotApp
    settings: Settings
    alice: str
    bob: str
    channel: str

    def replies_in(self, thread_ts: str, channel: str | None = None) -> list[str]:
        """Titles of every markdown reply in a thread (the digest included), in posting order."""
        titles = []
        for msg in self.slack.thread(channel or self.channel, thread_ts):
            for block in msg.get("blocks", []) or []:
                if block.get("type") == "markdown" and block["text"].startswith("## "):
                    titles.append(block["text"].splitlines()[0][3:])
        return titles

    def sections_in(self, thread_ts: str, channel: str | None = None) -> list[str]:
        """Titles of the model's section replies in a thread, in posting order (the rule-based digest left out)."""
        return [t for t in self.replies_in(thread_ts, channel) if not t.startswith(DIGEST_TITLE)]


async def finished_short_thread(stack: Stack) -> str:
    """A two-message incident thread, postmortem triggered by Bob's reaction and finished (✅); its root ts."""
    slack = stack.slack
    root = slack.post(stack.channel, stack.alice, "checkout-api p99 > 2s, payments failing")
    slack.post(stack.channel, stack.bob, "gateway timeouts since the 14:02 deploy", thread_ts=root)
    slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(stack.channel, root), timeout=30)
    return root


@pytest.fixture
async def stack_factory(tmp_path: Path) -> AsyncIterator:
    """Build a running stack; settings overrides per test. Everything is torn down afterwards."""
    async with AsyncExitStack() as running:
        count = 0

        async def build(**overrides: object) -> Stack:
            nonlocal count
            count += 1  # each stack gets its own run store
            loop = await running.enter_async_context(bot_on_loopback(tmp_path / f"data{count}", **overrides))
            alice = loop.slack.add_user("alice", display_name="Alice")
            bob = loop.slack.add_user("bob", display_name="Bob")
            channel = loop.slack.add_channel("inc-checkout", members=[alice, bob])
            return Stack(loop.slack, loop.llm, loop.edge, loop.bot, loop.settings, alice, bob, channel)

        yield build


@pytest.fixture
async def stack(stack_factory) -> Stack:  # type: ignore[no-untyped-def]
    return await stack_factory()
