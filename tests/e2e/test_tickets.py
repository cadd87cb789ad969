"""Create ticket, end to end: the real BotApp over Socket Mode, the Slack emulator, and the GitHub or Jira emulator.
One stack per backend walks through every case: a click makes one ticket and the checklist shows its link;
a redelivered or double click still makes one; a non-member is refused; a refused token and a 5xx are told
to the clicker with their fix, the button stays, and nothing half-made remains; an answer lost after creation
finds the ticket instead of making a second; a checklist edit Slack refuses still gets the clicker the link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.slack.blocks.tickets import ACTION_ID
from tests.e2e.conftest import Stack
from tests.fakes.fake_llm import text
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.fakes.sample_reports import sample_report


@asynccontextmanager
async def backend(kind: str) -> AsyncIterator[tuple[FakeGitHub | FakeJira, dict[str, Any]]]:
    if kind == "github":
        async with FakeGitHub(repos=["acme/shop"]) as gh:
            yield gh, {"tickets": "github", "github_repo": "acme/shop", "github_token": gh.token,
                       "github_api_url": gh.api_url}
    else:
        async with FakeJira(projects={"OPS": ["Task"]}) as jira:
            yield jira, {"tickets": "jira", "jira_url": jira.url, "jira_project": "OPS", "jira_email": jira.email,
                         "jira_api_token": jira.api_token}


def created(fake: FakeGitHub | FakeJira) -> list[dict[str, Any]]:
    return fake.all_issues() if isinstance(fake, FakeGitHub) else fake.issues


async def run_postmortem(stack: Stack) -> tuple[int, str, str]:
    """A real run of an incident thread (the fake model writes the sample report, whose Recommended Test Suite
    holds three tests): (run id, thread root, checklist ts)."""
    slack = stack.slack
    root = slack.post(stack.channel, stack.alice, "checkout-api p99 > 2s, payments failing")
    slack.post(stack.channel, stack.bob, "gateway timeouts since the 14:02 deploy", thread_ts=root)
    stack.llm.script(text(sample_report()))
    slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(stack.channel, root), timeout=30)
    checklist = next(m for m in slack.thread(stack.channel, root)
                     if any(b.get("block_id") == "testplan.0" for b in m.get("blocks") or []))
    record = await stack.bot.store.latest_for_thread(stack.channel, root)
    assert record is not None
    return record.id, root, checklist["ts"]


def line(stack: Stack, ts: str, index: int) -> dict[str, Any]:
    blocks = stack.slack.message(stack.channel, ts)["blocks"]
    return next(b for b in blocks if b.get("block_id") == f"testplan.{index}")


def outcomes(stack: Stack, checklist: str) -> int:
    """Each handled click ends in exactly one of these: the checklist edited, or a note to the clicker."""
    s = stack.slack
    edits = [c for c in s.calls_to("chat.update") if c.args.get("ts") == checklist and c.response.get("ok")]
    return len(edits) + len(s.ephemerals) + len(s.responses)


@pytest.mark.parametrize("kind", ["github", "jira"])
async def test_create_ticket_from_the_checklist(stack_factory: Any, kind: str) -> None:
    async with backend(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        slack = stack.slack
        run_id, root, checklist = await run_postmortem(stack)
        assert outcomes(stack, checklist) == 0
        tests = (await stack.bot.store.get(run_id)).facts.tests  # type: ignore[union-attr]
        assert len(tests) == 3
        done = 0

        async def click(index: int, user: str | None = None, *, then: int = 1) -> str:
            nonlocal done
            eid = slack.click(user or stack.alice, stack.channel, checklist, ACTION_ID, f"{run_id}:{index}")
            assert (await slack.wait_ack(eid)).latency < 3
            done += then
            await slack.wait_for(lambda s: outcomes(stack, checklist) >= done)
            return eid

        # A click: one ticket, with the spec, the thread's link and the run; the line shows the link.
        first = await click(0)
        [ticket] = created(fake)
        said = str(ticket)
        for part in (tests[0]["name"], tests[0]["fault_injection"], f"run {run_id}", slack.permalink(stack.channel, root),
                     "integration/test_checkout_survives_a_slow_gateway.py", "def test_"):  # the spec, thread, run and skeleton
            assert part in said, part
        assert "accessory" not in line(stack, checklist, 0) and ":ticket:" in line(stack, checklist, 0)["text"]["text"]
        assert line(stack, checklist, 1)["accessory"]["action_id"] == ACTION_ID

        # Redelivered, and double-clicked: still one ticket each.
        slack.redeliver(first)
        done += 1
        await slack.wait_for(lambda s: outcomes(stack, checklist) >= done)
        hold = fake.hold_next("create")
        slack.click(stack.alice, stack.channel, checklist, ACTION_ID, f"{run_id}:1")
        await hold.arrived.wait()  # the first click is making the ticket right now
        await click(1)  # the second finds its claim and says so
        assert "being created already" in slack.ephemerals[-1]["text"]
        hold.release.set()
        done += 1
        await slack.wait_for(lambda s: outcomes(stack, checklist) >= done)
        assert len(created(fake)) == 2
        assert "accessory" not in line(stack, checklist, 1)

        # Not a member of the channel: refused, privately, and nothing is made.
        carol = slack.add_user("carol")
        await click(2, carol)
        assert "Only members" in slack.responses[-1]["text"] and slack.responses[-1]["user"] == carol
        assert len(created(fake)) == 2

        # The backend refuses the token, then fails with a 500: the clicker hears why and how to fix it,
        # the button stays, and the next click starts clean.
        fake.fail_next("list" if kind == "github" else "search", 401)
        await click(2)
        assert "token was refused" in slack.ephemerals[-1]["text"] and "Fix:" in slack.ephemerals[-1]["text"]
        fake.fail_next("create", 500)
        await click(2)
        assert "HTTP 500" in slack.ephemerals[-1]["text"] and "try again" in slack.ephemerals[-1]["text"]
        assert line(stack, checklist, 2)["accessory"]["action_id"] == ACTION_ID and len(created(fake)) == 2

        # The backend makes the ticket but its answer is lost: found by the dedup search, not made twice. Slack
        # then refuses the edit: the clicker gets the link privately, and the next click shows it on the line.
        fake.fail_next("create", drop=True, applied=True)
        slack.fail_next("chat.update", "internal_error")
        await click(2)
        assert len(created(fake)) == 3 and "Created <" in slack.ephemerals[-1]["text"]
        assert "accessory" in line(stack, checklist, 2)
        await click(2)
        assert len(created(fake)) == 3 and "accessory" not in line(stack, checklist, 2)
        assert slack.live_mentions() == []
