"""A postmortem never pings anyone: mentions copied from the thread by the model arrive in Slack as inert text.

The incident thread and the fake model's answer are full of mentions in every form; the emulator judges
everything the bot sent (messages, edits, ephemerals, upload comments, response_url posts)."""

from __future__ import annotations

import re

import pytest

from tests.core.gate.reports import SUMMARY
from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, wait_done
from tests.fakes.fake_llm import text
from tests.fakes.sample_reports import sample_report, summary_prose
from tests.fakes.slack_emulator.mentions import live_mentions
from tests.fakes.slack_emulator.web_api import block_texts

MENTIONS = (
    "<!channel> <!here|here> <!everyone> <!subteam^S0ONCALL|@oncall> <!subteam^S0DBA> <@U0ALICE> <@U0BOB|bob> "
    "&lt;!here&gt; @channel @Here @everyone <https://status.example.com|<!here>> `<!channel>`"
)


def mention_thread(stack: Stack) -> str:
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "<!channel> checkout is down, <!subteam^S0ONCALL|@oncall> please look")
    s.post(stack.channel, stack.bob, f"<@{stack.alice}> @here rolling back v2.31.0", thread_ts=root)
    s.post(stack.channel, stack.alice, "@everyone rollback done, p99 back to 300ms", thread_ts=root)
    return root


def report_full_of_mentions() -> str:
    """The sample report with a line of mentions opening every section and one inside a heading."""
    report = re.sub(r"(## [^\n]+\n\n)", lambda m: f"{m.group(1)}{MENTIONS}\n\n", sample_report())
    return report.replace("## Root Cause Determination", "## Root Cause Determination <!here>")


async def test_sections_full_of_mentions_ping_nobody(stack: Stack) -> None:
    root = mention_thread(stack)
    stack.llm.script(text(report_full_of_mentions()))
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    assert len(stack.sections_in(root)) == len(ALL_TITLES)
    # The model's answer is full of live mentions, so the check below is not vacuous.
    assert len(live_mentions(report_full_of_mentions())) > 6 * 8
    assert stack.slack.live_mentions() == []
    posted = "\n".join(t for m in stack.slack.thread(stack.channel, root) for t in block_texts(m.get("blocks") or []))
    # Still readable: who was meant is visible as plain text.
    assert all(f"@\u2060{who}" in posted for who in ("channel", "here", "oncall", "S0DBA", "U0ALICE", "bob"))


@pytest.mark.parametrize("trigger", ["slash_command", "mention"])
async def test_unstructured_output_with_mentions_pings_nobody(stack: Stack, trigger: str) -> None:
    root = mention_thread(stack)
    prose = f"The deploy lowered the pool size. {MENTIONS} {SUMMARY}"
    # The second answer is the repair call's (asked for the missing root cause and tests): more mentions, no analysis.
    stack.llm.script(text(prose), text(summary_prose(80) + " @channel"))
    if trigger == "slash_command":
        stack.slack.slash_command(stack.alice, stack.channel, text=stack.slack.permalink(stack.channel, root))
    else:
        stack.slack.app_mention(stack.bob, stack.channel, "<!here> postmortem please", thread_ts=root)
    await wait_done(stack, root)
    assert stack.sections_in(root) == ["Postmortem (unstructured model output)"]
    assert stack.slack.live_mentions() == []
