"""Slack-side faults end to end: every accepted trigger ends in a full postmortem or a clear message to the user.

Faults come from the emulator (`fail_next`, missing membership, unknown threads, socket disconnects and
re-deliveries); the bot, the LLM client and the narrator are the real ones.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, mp3_in_thread, wait_done
from tests.fakes.fake_llm import gate_passing_report, text


def bot_texts(stack: Stack, channel: str, root: str) -> list[str]:
    """Every text the bot wrote into a thread (plain text and markdown blocks)."""
    out = []
    for m in stack.slack.thread(channel, root):
        if m.get("user") == stack.slack.bot_user_id:
            out.append(m.get("text", ""))
            out += [b.get("text", "") for b in m.get("blocks", []) or [] if b.get("type") == "markdown"]
    return out


async def told(stack: Stack, user: str, words: str) -> str:
    """Wait until `user` got a private message (response_url, ephemeral or DM) containing `words`."""
    def find(s):  # type: ignore[no-untyped-def]
        private = ([r["text"] for r in s.responses if r["user"] == user] + [e["text"] for e in s.ephemerals if e["user"] == user]
                   + s.workspace.dms(user))
        return next((t for t in private if words in t), None)
    return await stack.slack.wait_for(find, timeout=15)


# -- rate limits and server errors ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["chat.postMessage", "conversations.replies"])
async def test_rate_limit_is_waited_out_and_the_run_completes(stack: Stack, method: str) -> None:
    root, _ = incident_thread(stack)
    stack.slack.fail_next(method, "ratelimited", retry_after=0)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    statuses = [c.status for c in stack.slack.calls_to(method)]
    assert 429 in statuses and statuses.index(429) < len(statuses) - 1  # retried after the 429
    assert stack.sections_in(root) == ALL_TITLES
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)


@pytest.mark.parametrize(("method", "status"), [("conversations.replies", 500), ("chat.postMessage", 503)])
async def test_server_error_is_retried_and_the_run_completes(stack: Stack, method: str, status: int) -> None:
    root, _ = incident_thread(stack)
    stack.slack.fail_next(method, "internal_error", status=status)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert status in [c.status for c in stack.slack.calls_to(method)]
    assert stack.sections_in(root) == ALL_TITLES
    mp3_in_thread(stack, root)


async def test_server_errors_past_the_retries_fail_with_a_message(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    stack.slack.fail_next("conversations.replies", "internal_error", status=500, times=3)  # 1 try + 2 retries
    stack.slack.slash_command(stack.alice, stack.channel, text=stack.slack.permalink(stack.channel, root))
    await wait_done(stack, root)
    assert "x" in stack.slack.reactions_on(stack.channel, root)
    assert any("postmortem failed" in t and "Try again" in t for t in bot_texts(stack, stack.channel, root))
    assert stack.llm.chat_requests == []


# -- where the bot cannot read or post ----------------------------------------------------------------


async def test_public_channel_without_the_bot_asks_for_an_invite(stack: Stack) -> None:
    other = stack.slack.add_channel("inc-payments", members=[stack.alice], bot_member=False)
    root = stack.slack.post(other, stack.alice, "payments are failing")
    stack.slack.slash_command(stack.alice, stack.channel, text=stack.slack.permalink(other, root))
    # The bot cannot post in that channel, so the response_url carries the news.
    assert "/invite @postmortem-bot" in await told(stack, stack.alice, "not in that channel")
    assert stack.llm.chat_requests == []


async def test_private_channel_without_the_bot_says_it_cannot_see_it(stack: Stack) -> None:
    secret = stack.slack.add_channel("inc-private", private=True, members=[stack.alice], bot_member=False)
    root = stack.slack.post(secret, stack.alice, "db is down")
    stack.slack.slash_command(stack.alice, stack.channel, text=stack.slack.permalink(secret, root))
    assert "/invite" in await told(stack, stack.alice, "cannot see that channel")
    read = [c.method for c in stack.slack.calls if c.args.get("channel") == secret and c.method.startswith("conversations.")]
    assert set(read) <= {"conversations.info"}


async def test_link_to_a_missing_thread_tells_the_user(stack: Stack) -> None:
    incident_thread(stack)
    link = f"https://acme.slack.com/archives/{stack.channel}/p1600000000000100"
    stack.slack.slash_command(stack.alice, stack.channel, text=link)
    await told(stack, stack.alice, "no longer exists")
    assert stack.llm.chat_requests == []
    # Nothing visible was left in the channel: no top-level message, and no failure note posted to nowhere.
    bot = [m for m in stack.slack.workspace.channel(stack.channel).messages.values() if m.get("user") == stack.slack.bot_user_id]
    assert not [m for m in bot if "thread_ts" not in m]
    assert not [m for m in bot if "failed" in m.get("text", "")]


async def test_thread_of_only_the_bots_own_messages_has_nothing_to_analyse(stack: Stack) -> None:
    s = stack.slack
    root = s.post(stack.channel, s.bot_user_id, ":test_tube: Testing postmortem for #inc-checkout")
    s.post(stack.channel, s.bot_user_id, "## Incident Timeline\n\nan earlier report", thread_ts=root)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await s.wait_for(lambda _: any("Nothing to analyse" in t for t in bot_texts(stack, stack.channel, root)))
    await s.wait_for(lambda _: "eyes" not in s.reactions_on(stack.channel, root))
    assert stack.llm.chat_requests == []


async def test_empty_thread_then_real_messages_can_still_be_analysed(stack: Stack) -> None:
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "")  # e.g. an image-only post: no text to analyse
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await s.wait_for(lambda _: any("Nothing to analyse" in t for t in bot_texts(stack, stack.channel, root)))
    # People then write the incident up; a new trigger must run, not claim a postmortem already exists.
    s.post(stack.channel, stack.bob, "checkout 5xx since 09:00, rolling back v2.31", thread_ts=root)
    s.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    assert not [e for e in s.ephemerals if "already has" in e["text"]]


async def test_empty_channel_history_tells_the_user(stack: Stack) -> None:
    quiet = stack.slack.add_channel("inc-quiet", members=[stack.alice])
    stack.slack.slash_command(stack.alice, quiet)
    await told(stack, stack.alice, "has no messages")
    assert stack.llm.chat_requests == []


# -- message size limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["msg_too_long", "msg_blocks_too_long", "invalid_blocks"])
async def test_refused_section_is_split_and_still_arrives(stack: Stack, error: str) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Testing Gap Analysis"))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    # The fault waits for the Timeline's own post: whatever else the bot posts first (under load the order of its
    # other messages is not the test's business) goes through.
    stack.slack.fail_next("chat.postMessage", error, when=lambda args: "Incident Timeline" in str(args.get("text", "")))
    gate.set()
    await wait_done(stack, root)
    assert error in [c.response.get("error") for c in stack.slack.calls_to("chat.postMessage")]
    texts = "\n".join(bot_texts(stack, stack.channel, root))
    assert "Incident Timeline & Blast Radius" in texts and "a release raises the database pool size" in texts
    assert stack.sections_in(root) == ALL_TITLES[1:]  # the rest still as markdown
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)


async def test_a_section_longer_than_a_message_is_posted_in_parts(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    # ~31k chars of prose that is not a loop (the gate holds back repeated phrases, and lines that differ only in
    # their numbers): every word distinct, spelt in letters.
    def word(n: int) -> str:
        return "pool" + "".join(chr(ord("a") + int(d)) for d in str(n))
    paragraphs = [f"Paragraph {word(i)}: " + " ".join(word((i * 7919 + j * 104729) % 99991) for j in range(60)) for i in range(60)]
    long_gaps = "\n\n".join(paragraphs)
    report = gate_passing_report().replace("## Testing Gap Analysis\n", f"## Testing Gap Analysis\n\n{long_gaps}\n\n", 1)
    stack.llm.script(text(report, chunk_chars=2000))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    parts = [t for t in stack.sections_in(root) if t.startswith("Testing Gap Analysis (")]
    assert len(parts) == 4, stack.sections_in(root)
    posted = "\n".join(bot_texts(stack, stack.channel, root))
    assert all(p.split(":")[0] + ":" in posted for p in paragraphs)
    assert stack.slack.calls_to("chat.postMessage") and all(c.status == 200 and c.response["ok"] for c in stack.slack.calls_to("chat.postMessage"))


# -- Socket Mode --------------------------------------------------------------------------------------


async def test_disconnect_mid_run_reconnects_and_completes(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    await stack.slack.disconnect()
    await stack.slack.wait_connected(2)
    gate.set()
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    # A trigger after the reconnect is delivered and handled on the new connection.
    other, _ = incident_thread(stack)
    eid = stack.slack.reaction_added(stack.bob, stack.channel, other, "test_tube")
    assert (await stack.slack.wait_ack(eid)).connection == 2
    await wait_done(stack, other)
    assert stack.sections_in(other) == ALL_TITLES


async def test_redelivered_reaction_never_starts_a_second_run(stack: Stack) -> None:
    s = stack.slack
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"))
    eid = s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    s.redeliver(eid)  # Slack thought the first ack was late
    await s.wait_for(lambda _: any(a.envelope_id == eid and a.retry_attempt == 1 for a in s.acks))
    gate.set()
    await wait_done(stack, root)
    s.redeliver(eid)  # and once more after the run finished
    await s.wait_for(lambda _: any(a.envelope_id == eid and a.retry_attempt == 2 for a in s.acks))
    # A later trigger is a barrier: once it is answered, the re-deliveries have been handled.
    s.app_mention(stack.bob, stack.channel, "<@bot> hi")
    await s.wait_for(lambda _: any("inside an incident thread" in e["text"] for e in s.ephemerals))
    assert len(stack.llm.chat_requests) == 1
    assert stack.sections_in(root) == ALL_TITLES
    assert not [e for e in s.ephemerals if e["user"] == stack.alice]  # no "busy"/"already exists" noise


async def test_redelivered_command_never_starts_a_second_run(stack: Stack) -> None:
    s = stack.slack
    root, _ = incident_thread(stack)
    eid = s.slash_command(stack.alice, stack.channel, text=s.permalink(stack.channel, root))
    await s.wait_ack(eid)
    assert "On it" in await told(stack, stack.alice, "On it")
    s.redeliver(eid)
    second = await s.wait_for(lambda _: next((a for a in s.acks if a.envelope_id == eid and a.retry_attempt == 1), None))
    assert not (second.payload or {}).get("text")
    await wait_done(stack, root)
    assert len(stack.llm.chat_requests) == 1
    assert stack.sections_in(root) == ALL_TITLES


# -- idempotency ----------------------------------------------------------------------------------------


async def test_two_people_reacting_at_once_get_one_run(stack: Stack) -> None:
    s = stack.slack
    root, reply = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    s.reaction_added(stack.bob, stack.channel, reply, "test_tube")
    await wait_done(stack, root)
    await s.wait_for(lambda _: any("already queued or running" in e["text"] for e in s.ephemerals))
    assert len(stack.llm.chat_requests) == 1
    assert stack.sections_in(root) == ALL_TITLES


async def test_again_regenerates_and_a_plain_retrigger_points_at_the_existing_one(stack: Stack) -> None:
    s = stack.slack
    root, _ = incident_thread(stack)
    link = s.permalink(stack.channel, root)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    await s.wait_ack(s.slash_command(stack.bob, stack.channel, text=link))
    assert "again" in await told(stack, stack.bob, "already has a testing postmortem")
    s.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await s.wait_for(lambda _: any("already has a testing postmortem" in e["text"] and e["user"] == stack.bob for e in s.ephemerals))
    assert len(stack.llm.chat_requests) == 1

    await s.wait_ack(s.slash_command(stack.bob, stack.channel, text=f"{link} again"))
    assert "On it" in await told(stack, stack.bob, "On it")
    await s.wait_for(
        lambda _: stack.sections_in(root) == ALL_TITLES * 2 and len([f for f in s.uploaded_files if f["name"].endswith(".mp3")]) == 2, timeout=30
    )
    assert len(stack.llm.chat_requests) == 2
