"""The rule-based digest is the first reply, in the thread before the model's first token; the model sees its events."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, wait_done
from tests.fakes.fake_llm import gate_passing_report, text


async def test_digest_is_posted_first_before_the_model_writes_and_feeds_the_prompt(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at=0))  # the model holds its first token
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    await stack.slack.wait_for(lambda s: stack.replies_in(root) != [])
    [first] = stack.replies_in(root)
    assert first.startswith(DIGEST_TITLE) and "rule-based" in first
    gate.set()
    await wait_done(stack, root)
    assert stack.replies_in(root)[0].startswith(DIGEST_TITLE) and stack.sections_in(root) == ALL_TITLES
    digest = next(b["text"] for m in stack.slack.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert "Rollback" in digest or "rollback" in digest  # the thread's rollback is one of its events
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert "Pre-computed from the data by rules" in prompt  # the model gets the digest's events as context
    report = next(f["content"].decode() for f in stack.slack.uploaded_files if f["name"].endswith(".md"))
    assert DIGEST_TITLE in report
