"""Flaky Slack against sections streamed while typed (review of issue 10's streaming), end to end through the
emulator: faults the client cannot tell from a refusal must not leave half-written sections in the thread."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.core.gate.reports import as_markdown, good_sections
from tests.e2e.conftest import Stack
from tests.e2e.test_streaming import TITLES, finished, incident, message, no_stale_stream_text, paused_at, streaming_root_cause
from tests.fakes.fake_llm import text


async def test_a_stream_started_but_answered_with_a_server_error_leaves_no_half_section(stack_factory: Any) -> None:
    """chat.startStream is not retried on 5xx (it may have worked): when it did, Slack holds a streamed message the
    bot has no ts for. It must not stay in the thread beside the finished section."""
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    gate = asyncio.Event()
    stack.llm.script(text(as_markdown(good_sections()), gate=gate, gate_at="2. The pool size"))
    slack.fail_next("chat.startStream", "internal_error", status=500, applied=True)
    root = incident(stack)
    slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await paused_at(stack, gate, lambda s: s.calls_to("chat.startStream"))
    await finished(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(TITLES)
    streams = slack.streamed(stack.channel)
    assert streams, "Slack did start the stream"
    no_stale_stream_text(stack)


async def test_a_refused_edit_of_the_streamed_message_still_posts_the_section_once(stack_factory: Any) -> None:
    """chat.update of the streamed message is refused: the section is posted anew and the streamed text removed."""
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    root, gate, live = await streaming_root_cause(stack)
    slack.fail_next("chat.update", "msg_too_long")
    slack.fail_next("chat.appendStream", "ratelimited", status=429, retry_after=0)
    gate.set()
    await finished(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(TITLES)
    assert message(stack, live.ts) is None
    no_stale_stream_text(stack)
