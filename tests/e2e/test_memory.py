"""Memory across incidents, end to end: the real BotApp over Socket Mode, the Slack emulator, the fake model and the
GitHub or Jira emulator. A connection-pool exhaustion thread is remembered; a similar one in another public channel
gets "Seen before" in its digest with the first thread's link, its tests and the ticket's live state (open, closed
as not planned, closed as done and recurred); an unrelated incident gets none; a private channel's incident is never
shown, linked or given to the model for a run in another channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.memory.index import Entry
from bot.slack.blocks.tickets import ACTION_ID
from bot.slack.memory import thread_source
from tests.e2e.conftest import Stack
from tests.fakes.fake_llm import text
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.fakes.sample_reports import sample_report

POOL = ["INC-4711 payments-api: checkout failing with ERROR pool: timeout acquiring connection after 30000ms",
        "[FIRING] PaymentsPoolExhausted payments-api db connections 100/100",
        "restarted payments-api pods, back to normal"]
POOL_AGAIN = ["INC-4720 payments-api is down again: FATAL: remaining connection slots are reserved",
              "[FIRING] PaymentsPoolExhausted payments-api db connections 100/100 since 09:12",
              "scaled out payments-api, resolved"]
UNRELATED = ["INC-4730 static site broken: x509: certificate has expired or is not yet valid for static.acme.test",
             "renewed the cert on the cdn, resolved"]
SECRET_POOL = ["INC-4799 ledger-db: ERROR pool: timeout acquiring connection after 30000ms in ledger-api",
               "[FIRING] LedgerPoolExhausted ledger-api", "resolved by raising max_connections"]


def _day() -> str:
    return datetime.now(UTC).strftime("%d %b %Y")


@asynccontextmanager
async def backend(kind: str) -> AsyncIterator[tuple[FakeGitHub | FakeJira, dict[str, Any]]]:
    if kind == "github":
        async with FakeGitHub(repos=["acme/shop"]) as gh:
            yield gh, {"tickets": "github", "github_repo": "acme/shop", "github_token": gh.token, "github_api_url": gh.api_url}
    else:
        async with FakeJira(projects={"OPS": ["Task"]}) as jira:
            yield jira, {"tickets": "jira", "jira_url": jira.url, "jira_project": "OPS", "jira_email": jira.email,
                         "jira_api_token": jira.api_token}


async def postmortem(stack: Stack, channel: str, lines: list[str]) -> str:
    """A finished run of a thread of ``lines`` (the model writes the sample report, three tests); its root ts."""
    slack = stack.slack
    root = slack.post(channel, stack.alice, lines[0])
    for line in lines[1:]:
        slack.post(channel, stack.bob, line, thread_ts=root)
    stack.llm.script(text(sample_report()))
    # Remembering follows the ✅ (it must never hold the run back), through the async store: wait for it too.
    memory = stack.bot.memory
    assert memory is not None
    remembered, remember = asyncio.Event(), memory.remember

    async def remember_then_tell(entry: Entry) -> bool:
        try:
            return await remember(entry)
        finally:
            if entry.source == thread_source(channel, root):
                remembered.set()

    memory.remember = remember_then_tell  # type: ignore[method-assign]
    try:
        slack.reaction_added(stack.bob, channel, root, "test_tube")
        await slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(channel, root), timeout=30)
        async with asyncio.timeout(30):
            await remembered.wait()
    finally:
        del memory.remember  # the instance attribute: the method again
    return root


async def digest_of(stack: Stack, channel: str, root: str) -> str:
    """The digest reply as posted (all its parts), read back from Slack."""
    record = await stack.bot.store.latest_for_thread(channel, root)
    assert record is not None
    parts = sorted((item, ts) for item, ts in record.posted.items() if item.startswith("digest/"))
    assert parts, "no digest was posted"
    texts = []
    for _, ts in parts:
        blocks = stack.slack.message(channel, ts).get("blocks") or []
        texts += [b["text"] for b in blocks if b.get("type") == "markdown"]
    return "\n".join(texts)


def analysis_prompt(stack: Stack, since: int) -> str:
    """The user turn of the run's analysis request (not the repair or test-plan calls), sent after request ``since``."""
    asked = [r for r in stack.llm.chat_requests[since:] if "principal reliability engineer" in str(r["messages"][0]["content"])]
    assert len(asked) == 1
    return str(asked[0]["messages"][-1]["content"])


async def click_first_ticket(stack: Stack, channel: str, root: str) -> None:
    checklist = next(m for m in stack.slack.thread(channel, root)
                     if any(b.get("block_id") == "testplan.0" for b in m.get("blocks") or []))
    record = await stack.bot.store.latest_for_thread(channel, root)
    assert record is not None
    stack.slack.click(stack.alice, channel, checklist["ts"], ACTION_ID, f"{record.id}:0")


@pytest.mark.parametrize("kind", ["github", "jira"])
async def test_seen_before_with_live_ticket_states(stack_factory: Any, kind: str) -> None:
    async with backend(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        stack.bot.memory.tickets.cache_s = 0  # each digest below must read the ticket's state anew
        slack = stack.slack
        other = slack.add_channel("inc-payments", members=[stack.alice, stack.bob])

        first = await postmortem(stack, stack.channel, POOL)
        assert "Seen before" not in await digest_of(stack, stack.channel, first)  # memory starts empty
        await click_first_ticket(stack, stack.channel, first)
        await slack.wait_for(lambda s: len(fake.all_issues() if isinstance(fake, FakeGitHub) else fake.issues) == 1, timeout=10)
        key = "#1" if kind == "github" else "OPS-1"
        link = slack.workspace.permalink(stack.channel, first)

        second_asked = len(stack.llm.chat_requests)
        second = await postmortem(stack, other, POOL_AGAIN)
        seen = await digest_of(stack, other, second)
        assert "### Seen before" in seen
        assert f"]({link})" in seen  # the first thread, linked
        assert "INC-4711" in seen and "connection-pool-exhaustion" in seen and "payments-api" in seen
        record = await stack.bot.store.latest_for_thread(stack.channel, first)
        assert record is not None and record.facts is not None and record.facts.tests
        assert all(test["name"] in seen for test in record.facts.tests)  # the tests recommended then
        assert f"{key}]" in seen and "(open)" in seen
        assert f"recommended on {_day()} for INC-4711 is still open ({key})" in seen
        assert "2nd connection-pool exhaustion on payments-api in 90 days" in seen
        canvas = [c for c in slack.workspace.canvases.values() if c.get("channel") == other]
        assert canvas and "Seen before" in str(canvas[-1]) and link in str(canvas[-1])  # the canvas carries it too
        prompt = analysis_prompt(stack, second_asked)
        assert "INC-4711" in prompt and link in prompt and "recurrence" in prompt  # grounding for the model

        if isinstance(fake, FakeGitHub):
            fake.close("acme/shop", 1, "not_planned")
        else:
            fake.close("OPS-1", "Won't Do")
        third = await postmortem(stack, other, POOL_AGAIN)
        seen = await digest_of(stack, other, third)
        assert "(closed as not planned)" in seen and f"was closed as not planned ({key}), and the failure recurred" in seen

        if isinstance(fake, FakeGitHub):
            fake.reopen("acme/shop", 1)
            fake.close("acme/shop", 1, "completed")
        else:
            fake.close("OPS-1", "Done")
        fourth = await postmortem(stack, other, POOL_AGAIN)
        seen = await digest_of(stack, other, fourth)
        assert "(closed as done)" in seen
        assert f"was marked done ({key}), yet the same failure recurred: check the test really covers it" in seen

        unrelated = await postmortem(stack, other, UNRELATED)
        assert "Seen before" not in await digest_of(stack, other, unrelated)


async def test_private_incident_stays_in_its_channel(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    secret = slack.add_channel("sec-ledger", private=True, members=[stack.alice, stack.bob])
    private_root = await postmortem(stack, secret, SECRET_POOL)
    private_link = slack.workspace.permalink(secret, private_root)
    asked = len(stack.llm.chat_requests)

    public = await postmortem(stack, stack.channel, POOL)
    digest = await digest_of(stack, stack.channel, public)
    assert "INC-4799" not in digest and private_link not in digest and "Seen before" not in digest
    prompt = analysis_prompt(stack, asked)
    assert "INC-4711" in prompt  # the prompt read is this run's
    for request in stack.llm.chat_requests[asked:]:
        assert "INC-4799" not in str(request) and secret not in str(request) and private_link not in str(request)

    # In its own channel the private incident is remembered like any other.
    again = await postmortem(stack, secret, SECRET_POOL)
    assert f"]({private_link})" in await digest_of(stack, secret, again)


async def test_history_answers_privately_with_what_the_viewer_can_read(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack = stack.slack
    secret = slack.add_channel("sec-ledger", private=True, members=[stack.alice, stack.bob])
    carol = slack.add_user("carol", display_name="Carol")
    slack.workspace.channel(stack.channel).members.append(slack.workspace.user(carol)["id"])
    await postmortem(stack, secret, SECRET_POOL)
    public = await postmortem(stack, stack.channel, POOL)

    async def history(user: str, text: str) -> str:
        before = len(slack.responses)
        slack.slash_command(user, stack.channel, text=text)
        await slack.wait_for(lambda s: len(s.responses) > before, timeout=10)
        answer = slack.responses[-1]
        assert answer["response_type"] == "ephemeral" and answer["user"] == slack.workspace.user(user)["id"]
        return str(answer["text"])

    seen = await history(carol, "history pool")
    assert slack.workspace.permalink(stack.channel, public) in seen and "INC-4711" in seen
    assert "INC-4799" not in seen  # carol is not in the private channel
    assert "INC-4799" in await history(stack.alice, "history ledger")  # alice is
    assert "No past postmortems matching “dns”" in await history(carol, "history dns")
    assert not [m for m in slack.workspace.channel(stack.channel).messages.values() if "Past postmortems" in str(m.get("text"))]


async def test_a_channel_made_private_stops_being_recalled_elsewhere(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    stack.bot.privacy.cache_s = 0  # the change below is seen at once, not within the cache's minute
    slack = stack.slack
    other = slack.add_channel("inc-payments", members=[stack.alice, stack.bob])
    first = await postmortem(stack, stack.channel, POOL)
    link = slack.workspace.permalink(stack.channel, first)
    second = await postmortem(stack, other, POOL_AGAIN)
    assert f"]({link})" in await digest_of(stack, other, second)  # public when remembered, and still: recalled

    slack.workspace.channel(stack.channel).is_private = True
    asked = len(stack.llm.chat_requests)
    third = await postmortem(stack, other, POOL_AGAIN)
    digest = await digest_of(stack, other, third)
    assert "INC-4711" not in digest and link not in digest
    assert "INC-4720" in digest  # the other channel's own incident still is
    for request in stack.llm.chat_requests[asked:]:
        assert "INC-4711" not in str(request) and link not in str(request)
    rows, _ = await stack.bot.store.execute("SELECT private FROM memory WHERE channel = ?", (stack.channel,))
    assert [r["private"] for r in rows] == [1]  # flagged: every later query leaves it out
