"""Through the real bot and the Slack emulator: re-triggers after a run that already posted the digest (issue 13
review): the thread has one digest however its runs ended, and a repair reaches it even when Slack refuses the
in-place edit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.core.gate.repair import REPAIR_SYSTEM
from bot.core.prompt import FENCE_CLOSE, FENCE_OPEN
from bot.core.sections import SECTION_TITLES, SectionId
from bot.slack.blocks.sections import MARKDOWN_LIMIT
from tests.core.gate.reports import GOOD, as_markdown, good_sections, section
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_degraded import thread_texts, wait_reaction
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread
from tests.fakes.fake_llm import Reply, stall, text
from tests.fakes.fake_llm.gated_report import gate_passing_report


async def test_again_after_a_failed_run_that_posted_the_digest_posts_no_second_digest(stack_factory) -> None:  # type: ignore[no-untyped-def]
    stack: Stack = await stack_factory(llm_timeout_s=0.5)
    s = stack.slack
    # The model stops answering in the second section: the first stays in the thread and the run fails (❌).
    report = gate_passing_report()
    stack.llm.script(stall(report[: report.index("## Root Cause")]))
    root, _ = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "x", "warning", "white_check_mark") == "x"
    assert sum(t.startswith(DIGEST_TITLE) for t in stack.replies_in(root)) == 1 and stack.sections_in(root) == ALL_TITLES[:1]
    # `again` writes a whole new postmortem, but the thread's digest is already there.
    await s.wait_ack(s.slash_command(stack.bob, stack.channel, text=f"{s.permalink(stack.channel, root)} again"))
    assert await wait_reaction(stack, root, "white_check_mark", "warning") == "white_check_mark"
    assert stack.sections_in(root)[1:] == ALL_TITLES
    assert sum(t.startswith(DIGEST_TITLE) for t in stack.replies_in(root)) == 1


async def test_a_revision_slack_will_not_apply_in_place_is_posted_as_a_new_message(stack: Stack) -> None:
    """Someone deleted the weak section (or Slack refuses the edit): the repair's text still reaches the thread and
    the run ends ✅, instead of failing the whole postmortem over one chat.update."""
    s = stack.slack
    weak = "The pool, probably, or maybe the retries; hard to say which mattered more."
    gate = asyncio.Event()
    stack.llm.script(text(as_markdown(good_sections(root_cause=weak))),
                     text(as_markdown([section(SectionId.ROOT_CAUSE)]), gate=gate, gate_at=0))
    root, _ = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()  # the repair call is under way; the weak section is in the thread
    s.fail_next("chat.update", "message_not_found")
    gate.set()
    assert await wait_reaction(stack, root, "white_check_mark", "x", "warning") == "white_check_mark"
    texts = thread_texts(stack, root)
    assert any(GOOD[SectionId.ROOT_CAUSE] in t for t in texts)
    assert sum(t.startswith("## Root Cause") for t in texts) == 2  # the old message stays; the fix follows it


_HOSTS = ("alpha", "bravo", "cedar", "delta", "ember", "fjord", "gamma", "harbor", "iris", "juniper", "kilo", "lumen",
          "maple", "nova", "onyx", "pine")
_STAGES = ("ingest", "parse", "route", "queue", "batch", "merge", "score", "cache", "index", "fanout", "persist",
           "notify", "audit", "bill", "ship", "archive", "replay")


async def test_a_section_of_several_parts_revised_to_one_points_its_other_messages_at_the_revision(stack: Stack) -> None:
    """A long weak section was posted as several messages (Slack's size limit); the repair is short: the first
    message becomes the revision and the others point at it, nothing is posted anew and no stale part remains."""
    # Each line its own words: lines that differ only in their numbers would be a loop, refused rather than posted.
    causes = "\n".join(f"{i}. Retry path r{i:03d} through {_HOSTS[i % 16]} {_STAGES[i // 16]} amplified load by {i} percent."
                       for i in range(1, 260))
    weak = f"**Primary root cause:** probably the pool, maybe the retries.\n\n**Secondary causes (ranked):**\n{causes}"
    assert len(weak) > MARKDOWN_LIMIT
    stack.llm.script(text(as_markdown(good_sections(root_cause=weak))), text(as_markdown([section(SectionId.ROOT_CAUSE)])))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "x", "warning") == "white_check_mark"
    cause_msgs = [t for t in thread_texts(stack, root) if t.startswith("## Root Cause")]
    assert len(cause_msgs) >= 2 and GOOD[SectionId.ROOT_CAUSE] in cause_msgs[0]
    assert all("Revised: see the part above" in t for t in cause_msgs[1:])
    assert all("r001" not in t for t in thread_texts(stack, root))


def _fenced_data(body: Any) -> str:
    """The incident as the prompt gave it: what a model pasting it back would write."""
    prompt = "\n".join(str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user")
    return prompt.split(FENCE_OPEN, 1)[1].split(FENCE_CLOSE, 1)[0].strip()


_LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
          "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.")
# Garbage of each class the hostile review found passing, in the section it spoils, and a string none of the
# good report's text has (so its absence proves the garbage never reached the thread).
SPOILED: dict[str, tuple[SectionId, Callable[[Any], str], str]] = {
    "a counter ticking over one line": (
        SectionId.PREVENTION, lambda _: "\n".join(f"Step {i}: Review the checkout deployment settings." for i in range(1, 13)),
        "Review the checkout deployment"),
    "the incident pasted back": (SectionId.TIMELINE, _fenced_data, "went out at 08:52"),
    "lorem ipsum and one cause phrase": (
        SectionId.ROOT_CAUSE, lambda _: f"**Primary root cause:** the connection pool was exhausted.\n\n{_LOREM}", "Lorem ipsum"),
    "look-alike template tokens": (
        SectionId.TIMELINE, lambda _: GOOD[SectionId.TIMELINE] + "\n＜|im_end|＞\n<|іm_start|>assistant", "im_end"),
}


@pytest.mark.parametrize("name", list(SPOILED))
async def test_garbage_the_gate_used_to_pass_is_repaired_and_never_shown(stack: Stack, name: str) -> None:
    sid, spoil, marker = SPOILED[name]

    def answer(body: Any) -> str:
        return as_markdown(good_sections(**{sid.value: spoil(body)}))

    stack.llm.script(Reply("text", render=answer), text(as_markdown([section(sid)])))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "x", "warning") == "white_check_mark"
    repairs = [r for r in stack.llm.chat_requests if r["messages"][0]["content"] == REPAIR_SYSTEM]
    assert len(repairs) == 1 and SECTION_TITLES[sid] in repairs[0]["messages"][1]["content"]
    texts = thread_texts(stack, root)
    assert sorted(stack.sections_in(root)) == sorted(ALL_TITLES) and GOOD[sid] in "\n".join(texts)  # the repaired one comes last
    assert [t for t in texts if t.startswith(tuple(f"## {title}" for title in ALL_TITLES)) and marker in t] == []
