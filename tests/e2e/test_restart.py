"""The bot killed with SIGKILL mid-run, then restarted: it resumes from the run store without duplicate posts.

The bot runs as a real `python -m bot` process against the emulator and fake LLM served from this test."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.sections import SECTION_TITLES
from bot.runs.sqlite import SqliteRunStore
from tests.e2e.conftest import DIGEST_TITLE
from tests.fakes.bot_process import BotProcess
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text
from tests.fakes.slack_emulator import SlackEmulator

ALL_TITLES = list(SECTION_TITLES.values())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[SlackEmulator, FakeLLM, dict[str, str]]]:
    async with SlackEmulator() as slack, FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url,
            "LLM_BASE_URL": llm.base_url, "LLM_MODEL": "llama3.1:8b", "TTS_ENGINE": "none",
            "DATA_DIR": str(tmp_path / "data"), "LLM_TIMEOUT_S": "30",
        }
        yield slack, llm, env


def thread_with_incident(slack: SlackEmulator) -> tuple[str, str]:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-db", members=[alice])
    root = slack.post(channel, alice, "db-primary at max connections, checkout failing")
    slack.post(channel, alice, "rolled back v2.31.0", thread_ts=root)
    return channel, root


async def restart_until_done(slack: SlackEmulator, env: dict[str, str], tmp_path: Path, channel: str, root: str) -> None:
    second = BotProcess(env, tmp_path / "bot2.log")
    await second.start()
    try:
        await slack.wait_for(lambda s: "white_check_mark" in s.reactions_on(channel, root), timeout=60)
    finally:
        await second.stop()


async def killed_at(slack: SlackEmulator, env: dict[str, str], tmp_path: Path, channel: str, root: str, method: str) -> None:
    """A bot process triggered in the thread dies while Slack holds its call of ``method``; Slack then carries the
    call out (nobody reads its answer)."""
    parked = slack.hold_next(method)
    first = BotProcess(env, tmp_path / "bot1.log")
    await first.start()
    await slack.wait_connected(1, timeout=30)
    slack.reaction_added(slack.workspace.user("alice")["id"], channel, root, "test_tube")
    await slack.wait_for(lambda s: s.held, timeout=30)
    await first.kill()
    parked.set()


async def recorded(data_dir: Path, item: str) -> None:
    """Wait until the bot process has recorded ``item`` as posted (it writes the store, which has no change signal)."""
    store = await SqliteRunStore.open(data_dir / "runs.db")
    try:
        async with asyncio.timeout(30):
            while not any(item in run.posted for run in await store.recent()):
                await asyncio.sleep(0.02)
    finally:
        await store.close()


def section_titles(slack: SlackEmulator, channel: str, root: str) -> list[str]:
    return [b["text"].splitlines()[0][3:] for m in slack.thread(channel, root) for b in m.get("blocks", []) or []
            if b.get("type") == "markdown" and b["text"].startswith("## ") and not b["text"].startswith(f"## {DIGEST_TITLE}")]


async def test_killed_while_the_model_streams_resumes_without_duplicates(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    slack, llm, env = world
    channel, root = thread_with_incident(slack)
    gate = asyncio.Event()  # never set: the first process dies while the model is paused
    llm.script(text(gate_passing_report(), gate=gate, gate_at="## Prevention"))
    first = BotProcess(env, tmp_path / "bot1.log")
    await first.start()
    await slack.wait_connected(1, timeout=30)
    slack.reaction_added(slack.workspace.user("alice")["id"], channel, root, "test_tube")
    await slack.wait_for(lambda s: len(section_titles(s, channel, root)) >= 2, timeout=30)
    await llm.at_gate.wait()
    # The root cause is being streamed into the thread when the bot dies.
    [streamed] = await slack.wait_for(lambda s: [st for st in s.streamed(channel) if "".join(st.pieces).startswith("## Root")])
    await recorded(Path(env["DATA_DIR"]), "preview:section:root_cause#1")  # Slack answered and the bot wrote it down
    await first.kill()

    await restart_until_done(slack, env, tmp_path, channel, root)
    titles = section_titles(slack, channel, root)
    assert Counter(titles) == Counter(ALL_TITLES), titles  # each section exactly once
    assert streamed.ts not in slack.workspace.channel(channel).messages  # its half-written text was taken back
    assert titles[:2] == ALL_TITLES[:2]
    assert len(llm.chat_requests) == 2  # the interrupted request, then the resumed run's
    texts = [m.get("text", "") for m in slack.thread(channel, root)]
    assert any("Resuming after a restart" in t for t in texts) or any("Resuming" in c.args.get("text", "") for c in slack.calls_to("chat.update"))
    store = await SqliteRunStore.open(Path(env["DATA_DIR"]) / "runs.db")
    runs = await store.recent()
    await store.close()
    assert [r.status for r in runs] == ["done"]


async def test_killed_after_the_report_was_saved_reposts_without_asking_the_model(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    slack, llm, env = world
    channel, root = thread_with_incident(slack)
    await killed_at(slack, env, tmp_path, channel, root, "files.getUploadURLExternal")  # the report upload parks

    await restart_until_done(slack, env, tmp_path, channel, root)
    assert Counter(section_titles(slack, channel, root)) == Counter(ALL_TITLES)
    assert len(llm.chat_requests) == 1  # the saved report was reposted; the model was not asked again
    reports = [f for f in slack.uploaded_files if f["name"] == "postmortem-report.md"]
    assert len(reports) == 1


async def test_killed_while_slack_starts_a_stream_leaves_no_half_section(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The bot dies while chat.startStream is on its way: Slack starts the stream, and the bot never learned its ts.
    The resumed run must find that half-written section in the thread and take it back."""
    slack, llm, env = world
    channel, root = thread_with_incident(slack)
    llm.script(text(gate_passing_report()))
    await killed_at(slack, env, tmp_path, channel, root, "chat.startStream")
    [orphan] = await slack.wait_for(lambda s: s.streamed(channel))

    await restart_until_done(slack, env, tmp_path, channel, root)
    assert Counter(section_titles(slack, channel, root)) == Counter(ALL_TITLES)
    assert orphan.ts not in slack.workspace.channel(channel).messages
