"""Reading the incident end to end: attached files that cannot be read, and Slack rate-limiting the reads.

A file Slack will not serve (404, 403, 5xx, its HTML sign-in page, a stalled download) or that is not text
never reaches the model as content, and the run still completes. Reads Slack keeps rate-limiting end with
"try again in a minute", never with advice to invite the bot."""

from __future__ import annotations

import pytest

from bot.slack.blocks.wording import RATE_LIMITED
from tests.e2e.conftest import Stack
from tests.e2e.test_failures_slack import bot_texts, told
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, wait_done

GOOD_LOG = b"2025-11-17T09:05:00Z FATAL payments: circuit breaker open for payments-gateway\n"
UNREADABLE = [  # name, content, mimetype, download fault
    ("gone.log", b"MISSING-404 content\n", "text/plain", 404),
    ("forbidden.log", b"MISSING-403 content\n", "text/plain", 403),
    ("flaky.log", b"MISSING-502 content\n", "text/plain", 502),
    ("scoped.log", b"MISSING-SIGNIN content\n", "text/plain", "sign_in"),
    ("stuck.log", b"MISSING-STALL content\n", "text/plain", "stall"),
    ("core.log", b"\x7fELF\x00\x00MISSING-BINARY", "text/plain", None),
]


def sent_to_llm(stack: Stack) -> str:
    return "\n".join(m["content"] for r in stack.llm.chat_requests for m in r["messages"])


async def test_unreadable_files_never_reach_the_model_and_the_run_completes(stack: Stack) -> None:
    s = stack.slack
    stack.bot.collector.download_timeout_s = 0.5  # the stalled download must not hold the run for 30 s
    root, _ = incident_thread(stack)
    good = s.add_file("payments.log", GOOD_LOG, "text/plain")
    s.post(stack.channel, stack.bob, "payments log", thread_ts=root, files=[good])
    for name, content, mimetype, fault in UNREADABLE:
        f = s.add_file(name, content, mimetype)
        if fault is not None:
            s.fail_download(f["id"], fault)
        s.post(stack.channel, stack.bob, f"attaching {name}", thread_ts=root, files=[f])
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in s.reactions_on(stack.channel, root)
    assert stack.sections_in(root) == ALL_TITLES
    sent = sent_to_llm(stack)
    assert "circuit breaker open for payments-gateway" in sent
    assert "MISSING-" not in sent and "Sign in to Slack" not in sent and "DOCTYPE" not in sent and "error 404" not in sent
    assert all(f"attaching {name}" in sent for name, *_ in UNREADABLE)  # the messages themselves were kept
    assert {d["fault"] for d in s.workspace.downloads} >= {404, 403, 502, "sign_in", "stall"}


async def test_thread_reads_rate_limited_past_the_retries_fail_with_try_again(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    stack.slack.fail_next("conversations.replies", "ratelimited", retry_after=0, times=4)  # 1 try + 3 retries
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "x" in stack.slack.reactions_on(stack.channel, root)
    failure = next(t for t in bot_texts(stack, stack.channel, root) if "postmortem failed" in t)
    assert "rate-limiting reads" in failure and "try again in a minute" in failure
    assert "invite" not in failure.lower()
    assert stack.llm.chat_requests == []


async def test_channel_history_rate_limited_tells_the_user_to_wait(stack: Stack) -> None:
    incident_thread(stack)
    stack.slack.fail_next("conversations.history", "ratelimited", retry_after=0, times=4)
    stack.slack.slash_command(stack.alice, stack.channel)
    note = await told(stack, stack.alice, "rate-limiting reads")
    assert "invite" not in note.lower()
    assert stack.llm.chat_requests == []


@pytest.mark.parametrize("trigger", ["reaction", "link"])
async def test_root_lookup_rate_limited_says_wait_not_invite(stack: Stack, trigger: str) -> None:
    s = stack.slack
    root, reply = incident_thread(stack)
    s.fail_next("conversations.history", "ratelimited", retry_after=0, times=4)
    if trigger == "reaction":
        s.reaction_added(stack.alice, stack.channel, reply, "test_tube")
    else:
        s.slash_command(stack.alice, stack.channel, text=s.permalink(stack.channel, root))
    assert await told(stack, stack.alice, "rate-limiting") == RATE_LIMITED
    assert stack.llm.chat_requests == [] and not s.calls_to("conversations.replies")
