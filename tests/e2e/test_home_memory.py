"""The Home tab's memory parts end to end (issue 22): the real BotApp, the Slack emulator, the fake model and the
GitHub or Jira emulator. The search box finds past postmortems the viewer may read (a private channel's only for
its members); "Open follow-ups" lists the tests whose ticket is still open (read live) or that never got one, oldest
first, each with its incident link, ticket and age, and drops a test once its ticket is closed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_home_tab import open_home, search_home
from tests.e2e.test_memory import POOL, SECRET_POOL, backend, click_first_ticket, postmortem
from tests.fakes.github_api import FakeGitHub

DAY_S = 86400


@pytest.mark.parametrize("kind", ["github", "jira"])
async def test_home_search_and_open_followups(stack_factory: Any, kind: str) -> None:
    async with backend(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        assert stack.bot.memory is not None and stack.bot.store is not None
        stack.bot.memory.tickets.cache_s = 0  # each view below reads the ticket's state anew
        slack = stack.slack
        secret = slack.add_channel("sec-ledger", private=True, members=[stack.alice, stack.bob])
        carol = slack.add_user("carol")
        slack.workspace.channel(stack.channel).members.append(carol)

        public = await postmortem(stack, stack.channel, POOL)
        await click_first_ticket(stack, stack.channel, public)
        await slack.wait_for(lambda s: len(fake.all_issues() if isinstance(fake, FakeGitHub) else fake.issues) == 1, timeout=10)
        await postmortem(stack, secret, SECRET_POOL)
        # The public incident happened three weeks ago: it comes first.
        await stack.bot.store.execute("UPDATE memory SET started_at = ? WHERE channel = ?", (time.time() - 21 * DAY_S, stack.channel))
        record = await stack.bot.store.latest_for_thread(stack.channel, public)
        assert record is not None and record.facts is not None
        tests = [str(t["name"]) for t in record.facts.tests]
        key = "#1" if kind == "github" else "OPS-1"
        link = slack.workspace.permalink(stack.channel, public)

        lines = await open_home(stack, stack.alice, "followups")
        assert len(lines) == 2 * len(tests)  # both incidents' tests: Alice is in both channels
        first = lines[0]
        assert tests[0] in first and f"|{key}> open" in first and "21 days old" in first and f"<{link}|INC-4711" in first
        assert all("INC-4711" in line and "no ticket" in line for line in lines[1:len(tests)])
        assert all("INC-4799" in line and "0 days old" in line for line in lines[len(tests):])
        carol_lines = await open_home(stack, carol, "followups")
        assert carol_lines == lines[:len(tests)]  # not a member of the private channel: none of its follow-ups

        assert any("INC-4799" in line for line in await search_home(stack, stack.alice, "ledger"))
        assert await search_home(stack, carol, "ledger") == ["_No past postmortems matching “ledger” in channels you are a member of._"]
        [found] = await search_home(stack, carol, "payments")
        assert f"<{link}|INC-4711" in found
        # The search box keeps what was typed, and the rest of the tab is still there.
        assert slack.workspace.home_views[carol]["state"]["values"]["memory.search"]["memory.search"]["value"] == "payments"
        assert await open_home(stack, carol, "followups") == carol_lines

        if isinstance(fake, FakeGitHub):
            fake.close("acme/shop", 1, "completed")
        else:
            fake.close("OPS-1", "Done")
        lines = await open_home(stack, stack.alice, "followups")
        assert len(lines) == 2 * len(tests) - 1 and not any(key in line for line in lines)
