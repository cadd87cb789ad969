"""Sections stream into the thread as the model types them (issue 10 part 2), end to end: the real BotApp over
Socket Mode against the emulator's chat.startStream / appendStream / stopStream, the fake LLM paused mid-section.
The finished section replaces the streamed text (blocks and metadata as a posted one); a section the gate holds back
is taken back; a refused stream falls back to posting each section whole; a stream Slack closes is still finished."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bot.core.sections import SECTION_TITLES, SectionId
from bot.slack.outbound.thread import EVENT_TYPE
from tests.core.gate.reports import LOOP_LINES, as_markdown, good_sections
from tests.e2e.conftest import Stack
from tests.fakes.fake_llm import Reply, reset, text
from tests.fakes.slack_emulator.workspace import Stream

TITLES = list(SECTION_TITLES.values())
ROOT_CAUSE = f"## {SECTION_TITLES[SectionId.ROOT_CAUSE]}"
SUITE = f"## {SECTION_TITLES[SectionId.TEST_SUITE]}"
GAPS_WITH_PING = ("<!channel> nobody load-tested the pool. @here the canary saw 4 % errors and passed.\n"
                  "No test covered the retry policy under a saturated pool.\n")


def incident(stack: Stack) -> str:
    root = stack.slack.post(stack.channel, stack.alice, "checkout-api p99 > 2s, payments failing")
    stack.slack.post(stack.channel, stack.bob, "db-primary at 100/100 connections since the 14:02 deploy", thread_ts=root)
    return root


async def finished(stack: Stack, root: str, emoji: str = "white_check_mark") -> None:
    await stack.slack.wait_for(lambda s: emoji in s.reactions_on(stack.channel, root), timeout=30)


def message(stack: Stack, ts: str) -> dict[str, Any] | None:
    return stack.slack.workspace.channel(stack.channel).messages.get(ts)


async def streaming_root_cause(stack: Stack, report: str | None = None) -> tuple[str, asyncio.Event, Stream]:
    """Bob's reaction starts a run; the model pauses inside the root cause once its first lines are streamed.
    Returns the thread root, the model's gate and the root cause's stream."""
    gate = asyncio.Event()
    stack.llm.script(text(report or as_markdown(good_sections()), gate=gate, gate_at="2. The pool size"))
    root = incident(stack)
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    live = await stack.slack.wait_for(lambda s: next((st for st in s.streamed(stack.channel)
                                                      if "".join(st.pieces).startswith(ROOT_CAUSE)), None))
    return root, gate, live


def no_stale_stream_text(stack: Stack) -> None:
    """Every streamed message became its finished section (markdown blocks, our metadata) or was taken back."""
    for stream in stack.slack.streamed(stack.channel):
        msg = message(stack, stream.ts)
        assert msg is None or (msg.get("blocks") and msg["metadata"]["event_type"] == EVENT_TYPE), msg


async def test_each_section_streams_while_typed_and_becomes_the_finished_section(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    root, gate, live = await streaming_root_cause(stack, as_markdown(good_sections(gaps=GAPS_WITH_PING)))

    # The model is in the middle of the root cause: what it wrote so far is in the thread, as one streamed reply.
    await slack.wait_for(lambda s: "Secondary causes" in "".join(live.pieces))
    assert live.open and live.thread_ts == root
    assert (live.recipient_user_id, live.recipient_team_id) == (stack.bob, slack.workspace.team["id"])
    assert "1. The new retry policy" not in "".join(live.pieces)  # the line being written waits for the next
    assert stack.sections_in(root) == TITLES[:2]  # the timeline and gaps are finished; the root cause is not

    gate.set()
    await finished(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(TITLES)  # each section once: the streamed one was replaced
    # Sections the model finished before their first append (it is fast once released) are simply posted whole.
    streams = slack.streamed(stack.channel)
    assert ROOT_CAUSE in {"".join(s.pieces).partition("\n")[0] for s in streams} <= {f"## {t}" for t in TITLES}
    assert all(s.stopped for s in streams)
    no_stale_stream_text(stack)
    finished_root_cause = message(stack, live.ts)
    assert finished_root_cause is not None
    assert finished_root_cause["blocks"][0]["text"].startswith(ROOT_CAUSE)
    assert finished_root_cause["metadata"]["event_payload"]["item"] == "section:root_cause#1/0"
    assert slack.live_mentions() == []  # the model's <!channel> and @here never ping, streamed or not
    assert len(slack.calls_to("chat.startStream")) == len(streams)


async def paused_at(stack: Stack, gate: asyncio.Event, started: Any) -> None:
    """Wait until the model is paused at ``gate`` and the emulator saw ``started``, then let the model go on."""
    await stack.llm.at_gate.wait()
    await stack.slack.wait_for(started)
    gate.set()


async def test_a_held_back_section_is_taken_back_and_a_refused_stream_falls_back_to_whole_posts(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    # The gate holds the looping test suite back and the repair rewrites it: its streamed text must go.
    report, gate = as_markdown(good_sections(test_suite=LOOP_LINES)), asyncio.Event()
    third_round = report.index(LOOP_LINES) + 2 * (LOOP_LINES.index("\n") + 1)
    stack.llm.script(text(report, gate=gate, gate_at=third_round), text(as_markdown(good_sections())))
    root = incident(stack)
    slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await paused_at(stack, gate, lambda s: [st for st in s.streamed(stack.channel) if "".join(st.pieces).startswith(SUITE)])
    await finished(stack, root)
    suite = [s for s in slack.streamed(stack.channel) if "".join(s.pieces).startswith(SUITE)]
    assert suite and all(s.ended == "deleted" and message(stack, s.ts) is None for s in suite)
    assert Counter(stack.sections_in(root)) == Counter(TITLES)
    no_stale_stream_text(stack)

    # Slack refuses to start a stream (a workspace without AI features): every section is posted whole, and the
    # run asks only once.
    second, gate = incident(stack), asyncio.Event()
    stack.llm.script(text(as_markdown(good_sections()), gate=gate, gate_at="2. The pool size"))
    slack.fail_next("chat.startStream", "missing_recipient_team_id")
    before = len(slack.calls_to("chat.startStream"))
    slack.reaction_added(stack.bob, stack.channel, second, "test_tube")
    await paused_at(stack, gate, lambda s: len(s.calls_to("chat.startStream")) > before)
    await finished(stack, second)
    assert Counter(stack.sections_in(second)) == Counter(TITLES)
    assert len(slack.calls_to("chat.startStream")) == before + 1


async def test_a_stream_slack_closes_is_still_finished_and_a_failed_run_takes_its_stream_back(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    root, gate, live = await streaming_root_cause(stack)
    assert slack.expire_streams() == 1  # Slack ends streams by itself after a few minutes
    gate.set()
    await finished(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(TITLES)
    finished_root_cause = message(stack, live.ts)
    assert finished_root_cause is not None and finished_root_cause["blocks"][0]["text"].startswith(ROOT_CAUSE)
    no_stale_stream_text(stack)

    # The model's connection drops in the middle of the root cause, after two sections were posted: the run fails,
    # and the half-written root cause does not stay in the thread.
    cut = as_markdown(good_sections()).split("2. The pool size")[0]
    paused = asyncio.Event()
    stack.llm.script(Reply("reset", cut, gate=paused, gate_at="1. The new retry"), reset(cut), reset(cut))
    second = incident(stack)
    slack.reaction_added(stack.bob, stack.channel, second, "test_tube")
    await stack.llm.at_gate.wait()
    await slack.wait_for(lambda s: any(st.thread_ts == second and "".join(st.pieces).startswith(ROOT_CAUSE)
                                       for st in s.streamed(stack.channel)))
    paused.set()
    await finished(stack, second, "x")
    streamed = [s for s in slack.streamed(stack.channel) if s.thread_ts == second]
    assert streamed and all(s.ended == "deleted" for s in streamed)
    no_stale_stream_text(stack)
    assert stack.sections_in(second) == TITLES[:2]


async def test_streaming_can_be_turned_off(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none", slack_stream_sections=False)
    root = incident(stack)
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await finished(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(TITLES) and stack.slack.calls_to("chat.startStream") == []
