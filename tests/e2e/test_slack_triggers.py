"""From a Slack trigger to the MP3 in the thread: the real BotApp over Socket Mode against the emulator."""

from __future__ import annotations

import asyncio
import io

import mutagen.mp3

from bot.core.sections import SECTION_TITLES
from tests.e2e.conftest import Stack
from tests.fakes.fake_llm import gate_passing_report, text

ALL_TITLES = list(SECTION_TITLES.values())


def incident_thread(stack: Stack) -> tuple[str, str]:
    """An alert-bot root and a few replies; returns (root ts, a reply ts)."""
    s = stack.slack
    pager = s.add_user("pagerduty", is_bot=True)
    root = s.post(stack.channel, pager, "[FIRING] checkout-api p99 latency > 2s")
    s.post(stack.channel, stack.alice, "Deploy v2.31.0 went out at 08:52", thread_ts=root)
    reply = s.post(stack.channel, stack.bob, f"<@{stack.alice}> pool timeouts everywhere, rolling back", thread_ts=root)
    s.post(stack.channel, stack.alice, "Rollback done, p99 back to 300ms", thread_ts=root)
    return root, reply


async def wait_done(stack: Stack, root: str, channel: str | None = None) -> None:
    """Until the run ends: ✅ done, ⚠️ degraded (the digest stood in for the model) or ❌ failed."""
    await stack.slack.wait_for(lambda s: {"white_check_mark", "warning", "x"} & s.reactions_on(channel or stack.channel, root), timeout=30)


def mp3_in_thread(stack: Stack, root: str, channel: str | None = None) -> bytes:
    files = [f for f in stack.slack.uploaded_files if f["thread_ts"] == root and f["channel"] == (channel or stack.channel)]
    mp3s = [f for f in files if f["name"].endswith(".mp3")]
    assert len(mp3s) == 1, files
    return mp3s[0]["content"]


async def test_reaction_on_a_reply_gives_progressive_sections_mp3_and_reactions(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Recommended Test Suite"))
    eid = stack.slack.reaction_added(stack.bob, stack.channel, reply, "test_tube")
    assert (await stack.slack.wait_ack(eid)).latency < 3

    # 👀 at once, then sections appear while the model is still paused mid-report.
    await stack.slack.wait_for(lambda s: "eyes" in s.reactions_on(stack.channel, root))
    await stack.llm.at_gate.wait()
    await stack.slack.wait_for(lambda s: len(stack.sections_in(root)) >= 3)
    assert not stack.llm.finished.is_set()
    gate.set()
    await wait_done(stack, root)

    assert stack.sections_in(root) == ALL_TITLES
    reactions = stack.slack.reactions_on(stack.channel, root)
    assert "white_check_mark" in reactions and "eyes" not in reactions
    audio = mp3_in_thread(stack, root)
    assert mutagen.mp3.MP3(io.BytesIO(audio)).info.length > 30
    names = [f["name"] for f in stack.slack.uploaded_files if f["thread_ts"] == root]
    assert "postmortem-report.md" in names
    # The closing message carries the AI disclaimer, naming the model, in a context block.
    contexts = [e["text"] for m in stack.slack.thread(stack.channel, root) for b in m.get("blocks", []) or []
                if b.get("type") == "context" for e in b["elements"]]
    assert any("AI-generated" in t and "llama3.1:8b" in t for t in contexts)
    # Names were resolved and the alert bot's root was part of the incident.
    sent = str(stack.llm.chat_requests[0]["messages"])
    assert "@Alice" in sent and "[FIRING] checkout-api" in sent and stack.alice not in sent


async def test_other_emoji_is_ignored(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    other_root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.bob, stack.channel, reply, "thumbsup")
    # A real trigger afterwards; once it is done, the first thread must still have no bot reply.
    stack.slack.reaction_added(stack.bob, stack.channel, other_root, "test_tube")
    await wait_done(stack, other_root)
    bot = stack.slack.bot_user_id
    assert not [m for m in stack.slack.thread(stack.channel, root) if m.get("user") == bot]
    assert len(stack.llm.chat_requests) == 1


async def test_slash_command_with_a_reply_permalink(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    link = stack.slack.permalink(stack.channel, reply, thread_ts=root)
    eid = stack.slack.slash_command(stack.alice, stack.channel, text=link)
    ack = await stack.slack.wait_ack(eid)
    # Acked at once, before the run store is asked; the outcome reaches the invoker through the response_url.
    assert ack.latency < 3 and not (ack.payload or {}).get("text")
    await stack.slack.wait_for(lambda s: any("On it" in r["text"] and r["user"] == stack.alice for r in s.responses))
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    mp3_in_thread(stack, root)


async def test_slash_command_without_argument_analyses_the_channel(stack: Stack) -> None:
    incident_thread(stack)
    eid = stack.slack.slash_command(stack.alice, stack.channel)
    await stack.slack.wait_ack(eid)
    bot = stack.slack.bot_user_id
    root_msg = await stack.slack.wait_for(lambda s: next(
        (m for m in s.workspace.channel(stack.channel).messages.values()
         if m.get("user") == bot and "Testing postmortem for #inc-checkout" in m.get("text", "")),
        None,
    ))
    assert "4 messages" in root_msg["text"]
    await wait_done(stack, root_msg["ts"])
    assert stack.sections_in(root_msg["ts"]) == ALL_TITLES
    mp3_in_thread(stack, root_msg["ts"])


async def test_message_shortcut_on_a_reply(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    eid = stack.slack.message_shortcut(stack.alice, stack.channel, reply, "testing_postmortem")
    assert (await stack.slack.wait_ack(eid)).latency < 3
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES


async def test_mention_in_a_thread_and_help_outside(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    stack.slack.app_mention(stack.bob, stack.channel, "<@bot> what should we test?")
    await stack.slack.wait_for(lambda s: any("inside an incident thread" in e["text"] for e in s.ephemerals))
    stack.slack.app_mention(stack.bob, stack.channel, "<@bot> postmortem please", thread_ts=root)
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES


async def test_duplicate_trigger_on_a_running_thread_gives_one_run(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Testing Gap Analysis"))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    stack.slack.reaction_added(stack.bob, stack.channel, reply, "test_tube")
    eid = stack.slack.slash_command(stack.bob, stack.channel, text=stack.slack.permalink(stack.channel, root))
    await stack.slack.wait_ack(eid)
    # The command's note arrives through its response_url, once bob is known to be allowed to read the thread.
    await stack.slack.wait_for(lambda s: any("already queued or running" in r["text"] and r["user"] == stack.bob for r in s.responses))
    await stack.slack.wait_for(lambda s: any("already queued or running" in e["text"] and e["user"] == stack.bob for e in s.ephemerals))
    gate.set()
    await wait_done(stack, root)
    assert len(stack.llm.chat_requests) == 1
    assert stack.sections_in(root) == ALL_TITLES


async def test_bad_arguments_get_an_ephemeral_usage(stack: Stack) -> None:
    cases: dict[str, str] = {
        "hello": "not a Slack message link",
        "https://other.slack.com/archives/C1/p1700000000123456": "`other` workspace",
        "https://acme.slack.com/archives/C1": "does not point at a message",
        "help": "Usage",
        "one two three": "Usage",
    }
    for arg, words in cases.items():
        eid = stack.slack.slash_command(stack.alice, stack.channel, text=arg)
        ack = await stack.slack.wait_ack(eid)
        assert words in ack.payload["text"], (arg, ack.payload)
        assert ack.payload.get("response_type") == "ephemeral"
    assert stack.llm.chat_requests == []


async def test_large_thread_with_a_log_snippet(stack: Stack) -> None:
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "Incident: checkout 5xx")
    for i in range(298):
        s.post(stack.channel, stack.bob if i % 2 else stack.alice, f"update {i}: still seeing errors on pod-{i % 12}", thread_ts=root)
    log = "\n".join(f"2025-11-17T08:{50 + i // 60:02d}:{i % 60:02d}Z ERROR pool: timeout acquiring connection id={i}" for i in range(600))
    log += "\n2025-11-17T09:05:00Z FATAL payments: circuit breaker open for payments-gateway\n"
    f = s.add_file("checkout.log", log.encode(), "text/plain")
    s.post(stack.channel, stack.bob, "log attached", thread_ts=root, files=[f])
    assert len(s.thread(stack.channel, root)) == 300
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in s.reactions_on(stack.channel, root)
    sent = "\n".join(m["content"] for m in stack.llm.chat_requests[0]["messages"])
    assert "circuit breaker open" in sent  # the file was downloaded and its distinct error kept
    assert sent.count("timeout acquiring connection") < 10  # repeated lines were folded
    assert "Incident: checkout 5xx" in sent


async def test_piper_narrates_when_edge_tts_is_refused(stack: Stack) -> None:
    stack.edge.mode = "forbidden"
    # A 120-word summary (the shortest the quality gate passes): piper's CPU time grows with the words, and the
    # full-length summary is narrated by the fake edge-tts elsewhere.
    stack.llm.script(text(gate_passing_report(words_in_summary=120)))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    audio = mp3_in_thread(stack, root)
    assert mutagen.mp3.MP3(io.BytesIO(audio)).info.length > 15  # 65 words at ~150 a minute: ~26 s
    comment = next(f["initial_comment"] for f in stack.slack.uploaded_files if f["name"].endswith(".mp3"))
    assert "piper" in comment and "403" in comment



async def test_a_queued_run_shows_eyes_and_its_position_at_once(stack: Stack) -> None:
    first, _ = incident_thread(stack)
    second, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Testing Gap Analysis"))
    stack.slack.reaction_added(stack.alice, stack.channel, first, "test_tube")
    await stack.llm.at_gate.wait()
    stack.slack.reaction_added(stack.bob, stack.channel, second, "test_tube")  # LLM_CONCURRENCY=1: it waits
    await stack.slack.wait_for(lambda s: "eyes" in s.reactions_on(stack.channel, second)
                               and any("Queued behind 1 other postmortem" in m.get("text", "") for m in s.thread(stack.channel, second)))
    assert len(stack.llm.chat_requests) == 1
    gate.set()
    await wait_done(stack, first)
    await wait_done(stack, second)
    assert stack.sections_in(second) == ALL_TITLES
    # One status line per thread, edited in place through the stages.
    bot = stack.slack.bot_user_id
    statuses = [m for m in stack.slack.thread(stack.channel, second) if m.get("user") == bot and ":hourglass" in m.get("text", "")]
    assert len(statuses) == 1 and "Done" in statuses[0]["text"]
