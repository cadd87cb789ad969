"""Faults in the run itself, end to end: the run store failing, the invoker leaving while queued, uploads failing
after every section was posted, a failed run triggered again. Each must end with a complete postmortem or a clear
message, never a thread left at 👀/"Queued", and never a section posted twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.runs.sqlite import SqliteRunStore
from bot.runs.store import StoreError
from tests.e2e.conftest import Stack
from tests.e2e.test_failures_slack import bot_texts, told
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, mp3_in_thread, wait_done
from tests.fakes.fake_llm import Reply, gate_passing_report, text


def not_stuck(stack: Stack, root: str) -> None:
    """The thread shows an outcome: no 👀 left, and the status line no longer says Queued or in progress."""
    assert "eyes" not in stack.slack.reactions_on(stack.channel, root)
    statuses = [t for t in bot_texts(stack, stack.channel, root) if t.startswith(":hourglass_flowing_sand:")]
    assert all("Queued" not in t and "Analysing" not in t for t in statuses), statuses


@pytest.mark.parametrize("fault", [
    "PRAGMA query_only = 1",  # the database became read-only (remounted, permissions changed)
    "PRAGMA max_page_count = 1",  # disk full: SQLite answers SQLITE_FULL on the next page it needs
])
async def test_run_store_failing_mid_run_still_delivers_and_warns(stack: Stack, fault: str) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    await stack.bot.store.execute(fault)
    gate.set()
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    closing = next(t for t in bot_texts(stack, stack.channel, root) if "Postmortem done" in t)
    assert "run store could not be written" in closing and "runs.db" in closing
    mp3_in_thread(stack, root)
    not_stuck(stack, root)


@pytest.mark.parametrize("trigger", ["reaction", "command", "mention", "shortcut"])
async def test_run_store_unwritable_when_a_trigger_arrives_tells_the_user(stack: Stack, trigger: str) -> None:
    """Each trigger has its own payload shape; Bolt's context names who asked and where (a command answers through
    its response_url, the other three through the trigger guard)."""
    root, _ = incident_thread(stack)
    await stack.bot.store.execute("PRAGMA query_only = 1")
    slack, alice, channel = stack.slack, stack.alice, stack.channel
    {"reaction": lambda: slack.reaction_added(alice, channel, root, "test_tube"),
     "command": lambda: slack.slash_command(alice, channel, text=slack.permalink(channel, root)),
     "mention": lambda: slack.app_mention(alice, channel, "postmortem please", thread_ts=root),
     "shortcut": lambda: slack.message_shortcut(alice, channel, root, "testing_postmortem")}[trigger]()
    text_ = await told(stack, stack.alice, "run store")
    assert "runs.db" in text_ and "DATA_DIR" in text_
    not_stuck(stack, root)


async def test_corrupt_store_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"this is not a database, it is a half-written file" * 100)
    store = await SqliteRunStore.open(db)
    assert store.moved_aside is not None and store.moved_aside.read_bytes().startswith(b"this is not a database")
    run = await store.create(trigger="reaction", channel="C1", thread_ts="1.2", invoker="U1")
    assert await store.get(run) is not None
    await store.close()


@pytest.mark.parametrize("make_bad", [
    lambda d: d.write_text("a file where the data folder should be"),  # DATA_DIR is a file
    lambda d: (d.mkdir(), (d / "runs.db").mkdir()),  # runs.db is a folder
])
async def test_unusable_store_at_start_up_names_the_file_and_the_fix(tmp_path: Path, make_bad) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    make_bad(data)
    with pytest.raises(StoreError) as err:
        await SqliteRunStore.open(data / "runs.db")
    assert str(data / "runs.db") in str(err.value) and "DATA_DIR" in str(err.value)
    assert err.value.exit_code == 2


async def test_invoker_who_leaves_while_queued_gets_told_and_the_thread_is_released(stack_factory) -> None:  # type: ignore[no-untyped-def]
    stack: Stack = await stack_factory(llm_concurrency=1)
    first, _ = incident_thread(stack)
    second, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"), text(gate_passing_report()))
    stack.slack.reaction_added(stack.alice, stack.channel, first, "test_tube")
    await stack.llm.at_gate.wait()
    stack.slack.reaction_added(stack.bob, stack.channel, second, "test_tube")
    await stack.slack.wait_for(lambda s: any("Queued" in t for t in bot_texts(stack, stack.channel, second)))
    stack.slack.workspace.channel(stack.channel).members.remove(stack.bob)
    gate.set()
    await told(stack, stack.bob, "member")
    await wait_done(stack, first)
    await stack.slack.wait_for(lambda s: "x" in s.reactions_on(stack.channel, second))
    not_stuck(stack, second)
    assert stack.sections_in(second) == []  # nothing was read or analysed for someone no longer allowed


@pytest.mark.parametrize("method", ["files.completeUploadExternal", "files.getUploadURLExternal"])
async def test_upload_failing_after_the_sections_keeps_the_run_done_and_says_so(stack: Stack, method: str) -> None:
    root, _ = incident_thread(stack)
    stack.slack.fail_next(method, "internal_error", status=200, times=2)  # both the report and the MP3
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    closing = next(t for t in bot_texts(stack, stack.channel, root) if "Postmortem done" in t)
    assert "could not be uploaded" in closing and "internal_error" in closing
    assert Counter(stack.sections_in(root)) == Counter(ALL_TITLES)
    not_stuck(stack, root)


async def test_failed_run_triggered_again_resumes_without_posting_sections_twice(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    # The closing line is the last post: failing it fails the run after every section is in the thread.
    hold = stack.slack.hold_next("files.completeUploadExternal")
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.slack.wait_for(lambda s: len(stack.sections_in(root)) == len(ALL_TITLES))
    # The canvas link is posted meanwhile (the held upload does not wait for it): the closing line comes after it.
    await stack.slack.wait_for(lambda s: any("The full report is in" in t for t in bot_texts(stack, stack.channel, root)))
    stack.slack.fail_next("chat.postMessage", "fatal_error", status=200, times=2)  # closing line, then the ❌ note
    hold.set()
    await stack.slack.wait_for(lambda s: "x" in s.reactions_on(stack.channel, root), timeout=30)
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await stack.slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(stack.channel, root), timeout=30)
    assert Counter(stack.sections_in(root)) == Counter(ALL_TITLES)
    assert sum("Postmortem done" in t for t in bot_texts(stack, stack.channel, root)) == 1
    mp3_in_thread(stack, root)
    assert len(stack.llm.chat_requests) == 1  # the saved report was reused: the model was not asked again


@pytest.mark.parametrize("replies", [
    [":fire:", ":eyes: :eyes:", "+1"],
    ["https://status.example.com/incidents/123", "<https://grafana.example.com/d/abc|dashboard>"],
])
async def test_thread_without_incident_content_is_refused_before_the_model(stack: Stack, replies: list[str]) -> None:
    root = stack.slack.post(stack.channel, stack.alice, ":rotating_light:")
    for reply in replies:
        stack.slack.post(stack.channel, stack.bob, reply, thread_ts=root)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.slack.wait_for(lambda s: "x" in s.reactions_on(stack.channel, root))
    assert any("no incident content" in t for t in bot_texts(stack, stack.channel, root))
    assert stack.llm.chat_requests == [] and stack.sections_in(root) == []
    not_stuck(stack, root)


async def test_connection_dropped_mid_stream_then_retried_posts_each_section_once(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    report = gate_passing_report()
    before = report[: report.index("## Prevention")]
    # The drop waits at a gate until the first sections are in the thread: a reset discards what the client
    # had not read yet, and the test must not depend on how much that is.
    gate = asyncio.Event()
    stack.llm.script(Reply("reset", before, gate=gate, gate_at=len(before)), text(report))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    await stack.slack.wait_for(lambda s: stack.sections_in(root) == ALL_TITLES[:2])
    gate.set()
    await stack.slack.wait_for(lambda s: "x" in s.reactions_on(stack.channel, root), timeout=30)
    failure = next(t for t in bot_texts(stack, stack.channel, root) if "The postmortem failed" in t)
    assert "dropped the connection after" in failure and "cannot reach" not in failure and "retry" in failure
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await stack.slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(stack.channel, root), timeout=30)
    assert Counter(stack.sections_in(root)) == Counter(ALL_TITLES)  # the first two were not posted again
    assert "x" not in stack.slack.reactions_on(stack.channel, root)
    mp3_in_thread(stack, root)


@pytest.mark.parametrize("method", ["chat.update", "chat.postMessage", "reactions.add", "conversations.replies",
                                    "files.completeUploadExternal"])
async def test_slack_outage_pages_instead_of_json_end_with_a_clear_outcome(stack: Stack, method: str) -> None:
    root, _ = incident_thread(stack)
    # Past slack_sdk's retries: every answer is the edge's HTML 502 page, not Slack's JSON.
    stack.slack.fail_next(method, "Bad Gateway", status=502, html=True, times=6)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")

    def settled(s) -> bool:  # type: ignore[no-untyped-def]
        reactions, texts = s.reactions_on(stack.channel, root), bot_texts(stack, stack.channel, root)
        return bool({"x", "white_check_mark"} & reactions) or any("Postmortem done" in t or "failed" in t for t in texts)

    await stack.slack.wait_for(settled, timeout=30)
    texts = bot_texts(stack, stack.channel, root)
    assert all("AttributeError" not in t and "Unexpected error" not in t for t in texts)
    if any("The postmortem failed" in t for t in texts):
        assert any("HTTP 502" in t for t in texts)


async def test_a_section_stored_by_slack_but_answered_with_an_error_is_not_posted_twice(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Testing Gap"))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    # The next post (the Timeline section) is stored, but Slack answers 500: the client cannot tell it worked.
    stack.slack.fail_next("chat.postMessage", "internal_error", status=500, applied=True)
    gate.set()
    await wait_done(stack, root)
    assert Counter(stack.sections_in(root)) == Counter(ALL_TITLES)
