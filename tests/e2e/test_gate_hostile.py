"""Through the real bot and the Slack emulator: re-triggers after a run that already posted the digest (issue 13
review). The thread has one digest however its runs ended."""

from __future__ import annotations

from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_degraded import wait_reaction
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread
from tests.fakes.fake_llm import stall
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
