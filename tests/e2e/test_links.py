"""`/postmortem <link>` where the link does not name the thread: a reply's link without `?thread_ts=` (as some
clients and copy paths give it) runs on the reply's thread, and a link to a message that is gone says so."""

from __future__ import annotations

import pytest

from bot.slack.blocks.wording import LINK_NOT_FOUND
from tests.e2e.conftest import Stack
from tests.e2e.test_failures_slack import told
from tests.e2e.test_slack_triggers import (
    ALL_TITLES,
    incident_thread,
    mp3_in_thread,
    wait_done,
)


def bare_link(stack: Stack, ts: str) -> str:
    """A message link with no query string, whatever the message is."""
    return stack.slack.permalink(stack.channel, ts).split("?", 1)[0]


@pytest.mark.parametrize("wrapped", [False, True])
async def test_a_reply_link_without_thread_ts_runs_on_the_whole_thread(stack: Stack, wrapped: bool) -> None:
    s = stack.slack
    root, reply = incident_thread(stack)
    link = bare_link(stack, reply)
    assert "thread_ts" not in link
    eid = s.slash_command(stack.alice, stack.channel, text=f"<{link}>" if wrapped else link)
    ack = await s.wait_ack(eid)
    assert ack.latency < 3 and not (ack.payload or {}).get("text")  # acked at once; the answer follows privately
    assert "On it" in await told(stack, stack.alice, "On it")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    mp3_in_thread(stack, root)
    # Nothing went into a new thread under the reply, where nobody would see it.
    assert not [m for m in s.workspace.channel(stack.channel).messages.values() if m.get("thread_ts") == reply]
    sent = "\n".join(m["content"] for m in stack.llm.chat_requests[0]["messages"])
    assert "[FIRING] checkout-api" in sent and "Rollback done" in sent  # root and later replies were read


async def test_a_link_to_a_top_level_message_without_replies_runs_on_it(stack: Stack) -> None:
    s = stack.slack
    lone = s.post(stack.channel, stack.alice, "checkout 5xx since 08:52, pool timeouts, rolled back at 09:10")
    s.slash_command(stack.alice, stack.channel, text=bare_link(stack, lone))
    await wait_done(stack, lone)
    assert stack.sections_in(lone) == ALL_TITLES


@pytest.mark.parametrize("gone", ["deleted reply", "deleted root", "never existed"])
async def test_a_link_to_a_message_that_is_gone_says_so_privately(stack: Stack, gone: str) -> None:
    s = stack.slack
    root, reply = incident_thread(stack)
    messages = s.workspace.channel(stack.channel).messages
    if gone == "deleted reply":
        target = reply
        del messages[reply]
    elif gone == "deleted root":
        target = s.post(stack.channel, stack.alice, "a message deleted a moment later")
        del messages[target]
    else:
        target = "1600000000.000100"
    link = f"https://acme.slack.com/archives/{stack.channel}/p{target.replace('.', '')}"
    s.slash_command(stack.alice, stack.channel, text=link)
    assert await told(stack, stack.alice, "no longer exists") == LINK_NOT_FOUND
    assert stack.llm.chat_requests == []
    bot = [m for m in messages.values() if m.get("user") == s.bot_user_id]
    assert bot == [] and s.reactions_on(stack.channel, root) == set()


async def test_a_root_lookup_slower_than_the_ack_window_answers_through_the_response_url(stack: Stack) -> None:
    s = stack.slack
    root, reply = incident_thread(stack)
    release = s.hold_next("conversations.history")  # Slack is slow to find the linked message
    eid = s.slash_command(stack.alice, stack.channel, text=bare_link(stack, reply))
    ack = await s.wait_ack(eid)
    assert ack.latency < 3 and not (ack.payload or {}).get("text")  # acked in time, with nothing to say yet
    release.set()
    assert "On it" in await told(stack, stack.alice, "On it")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
