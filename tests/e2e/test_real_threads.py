"""A real incident rewritten as a Slack thread, replayed at the times it happened (2022), through the bot's collect
path: every message is collected and the digest in the thread shows the incident's own times."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.real_corpus import THREADS, load_thread, seed_thread
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_slack_triggers import wait_done


async def test_a_real_thread_at_its_past_times_is_collected_whole_and_its_times_shown(stack: Stack) -> None:
    thread = load_thread(THREADS / "dfds-pm2022-007.json")
    channel, root, human = seed_thread(stack.slack, thread)
    stack.slack.reaction_added(human, channel, root, "test_tube")
    await wait_done(stack, root, channel)
    digest = next(b["text"] for m in stack.slack.thread(channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    first, last = (datetime.fromtimestamp(float(m.ts), tz=UTC).strftime("%H:%M") for m in (thread.messages[0], thread.messages[-1]))
    assert (first, last) == ("08:58", "13:40") and first in digest and last in digest
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert all(m.text.split(":")[0][:30] in prompt for m in thread.messages)  # all 13 messages reached the model
