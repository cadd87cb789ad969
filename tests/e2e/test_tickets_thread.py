"""One ticket per test of a thread, end to end: the real BotApp, the Slack emulator and the GitHub or Jira emulator.
Create ticket on the checklist of a regenerated run gives the ticket the first run made (no second issue), and a
test neither run filed yet gets one new ticket, found again from the first run's checklist."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.blocks.closing import REGENERATE_ACTION
from bot.slack.blocks.tickets import ACTION_ID
from tests.e2e.conftest import Stack
from tests.e2e.test_ai_conventions import closings
from tests.e2e.test_tickets import backend, created, line, outcomes, run_postmortem
from tests.fakes.fake_llm import text
from tests.fakes.sample_reports import sample_report


def checklist_of(stack: Stack, root: str, run_id: int) -> str:
    """The ts of the checklist whose buttons belong to ``run_id``."""
    for msg in stack.slack.thread(stack.channel, root):
        for block in msg.get("blocks") or []:
            if str((block.get("accessory") or {}).get("value", "")).startswith(f"{run_id}:"):
                return str(msg["ts"])
    raise AssertionError(f"no checklist of run {run_id}")


@pytest.mark.parametrize("kind", ["github", "jira"])
async def test_create_ticket_on_a_regenerated_runs_checklist_gives_the_existing_ticket(stack_factory: Any, kind: str) -> None:
    async with backend(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        slack, store = stack.slack, stack.bot.store
        first_id, root, first_list = await run_postmortem(stack)

        async def click(checklist: str, run_id: int, index: int) -> None:
            before = outcomes(stack, checklist)
            eid = slack.click(stack.alice, stack.channel, checklist, ACTION_ID, f"{run_id}:{index}")
            assert (await slack.wait_ack(eid)).latency < 3
            await slack.wait_for(lambda s: outcomes(stack, checklist) > before)

        await click(first_list, first_id, 0)
        [ticket] = created(fake)
        first_link = line(stack, first_list, 0)["text"]["text"].split(":ticket:")[1]

        # Regenerate: a second run of the same thread, with its own checklist and buttons.
        stack.llm.script(text(sample_report()))
        slack.click(stack.alice, stack.channel, closings(stack, root)[-1]["ts"], REGENERATE_ACTION)

        # The second run's closing line (with its own Regenerate button) ends it in the thread.
        await slack.wait_for(lambda s: len(closings(stack, root)) >= 2, timeout=30)
        second = await store.latest_for_thread(stack.channel, root)
        assert second is not None and second.id != first_id
        second_list = checklist_of(stack, root, second.id)
        assert second_list != first_list

        await click(second_list, second.id, 0)  # the same test: the existing ticket, no second issue
        assert created(fake) == [ticket]
        assert line(stack, second_list, 0)["text"]["text"].split(":ticket:")[1] == first_link
        assert not slack.ephemerals or "No ticket" not in slack.ephemerals[-1]["text"]

        await click(second_list, second.id, 1)  # a test no run filed yet: one new ticket
        assert len(created(fake)) == 2
        await click(first_list, first_id, 1)  # …which the first run's checklist finds too
        assert len(created(fake)) == 2
        assert line(stack, first_list, 1)["text"]["text"].split(":ticket:")[1] == line(stack, second_list, 1)["text"]["text"].split(":ticket:")[1]
