"""Slack's AI-app conventions end to end (issue 10 part 4): the real BotApp over Socket Mode against the emulator.
One stack walks through a real run and its closing message: the disclaimer, the native thinking status, 👍/👎
(members only, one vote per person, changeable, listed by `python -m bot runs`), and Regenerate (members only, a
new run without a second digest, a redelivered click starting nothing, a refused native status falling back)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cli.runs import list_runs
from bot.core.run import RunState
from bot.runs.feedback import FeedbackVotes
from bot.slack.blocks.closing import FEEDBACK_ACTION, REGENERATE_ACTION
from bot.slack.outbound.native_status import THINKING
from tests.e2e.conftest import DIGEST_TITLE, Stack, finished_short_thread


def closings(stack: Stack, root: str) -> list[dict[str, Any]]:
    return [m for m in stack.slack.thread(stack.channel, root)
            if any(b.get("type") == "context_actions" for b in m.get("blocks") or [])]


def heard_since(stack: Stack, mark: tuple[int, int]) -> list[tuple[str, str]]:
    """(user, text) said to one person alone since ``mark``: ephemerals, and response_url posts (the way to reach
    a non-member, whom Slack refuses ephemerals in the channel)."""
    s = stack.slack
    return ([(e["user"], e["text"]) for e in s.ephemerals[mark[0]:]] +
            [(r["user"], r["text"]) for r in s.responses[mark[1]:]])


def mark(stack: Stack) -> tuple[int, int]:
    return len(stack.slack.ephemerals), len(stack.slack.responses)


async def click_and_hear(stack: Stack, user: str, ts: str, action_id: str, value: str | None = None) -> str:
    """Click, and return what the clicker alone was told about it."""
    since = mark(stack)
    eid = stack.slack.click(user, stack.channel, ts, action_id, value)
    assert (await stack.slack.wait_ack(eid)).latency < 3
    await stack.slack.wait_for(lambda s: heard_since(stack, since))
    [(to, text)] = heard_since(stack, since)
    assert to == user
    return text


async def test_closing_message_feedback_regenerate_and_status(stack_factory: Any, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack, store = stack.slack, stack.bot.store
    root = await finished_short_thread(stack)
    first = await store.latest_for_thread(stack.channel, root)
    assert first is not None and first.status is RunState.DONE

    # The closing message: its line as the notification text, the disclaimer naming the model, then the controls.
    [closing] = closings(stack, root)
    assert "Postmortem done" in closing["text"]
    types = [b["type"] for b in closing["blocks"]]
    assert types[-3:] == ["context", "context_actions", "actions"]
    disclaimer = closing["blocks"][-3]["elements"][0]["text"]
    assert "AI-generated" in disclaimer and "llama3.1:8b" in disclaimer and "can be wrong" in disclaimer

    # The native "is thinking…" status was shown while the model worked and cleared once done; the status line stays.
    statuses = [h for h in slack.workspace.status_history if h["thread_ts"] == root]
    assert statuses[0]["status"] == THINKING and statuses[-1]["status"] == ""
    assert (stack.channel, root) not in slack.workspace.thread_status
    assert any(m.get("text", "").endswith("Done") for m in slack.thread(stack.channel, root))

    # 👍/👎: one vote per person, a second click changes it; a non-member is refused privately.
    votes = FeedbackVotes(store)
    up, down = f"up:{first.id}", f"down:{first.id}"
    assert "recorded" in await click_and_hear(stack, stack.alice, closing["ts"], FEEDBACK_ACTION, up)
    assert "changed from 👍" in await click_and_hear(stack, stack.alice, closing["ts"], FEEDBACK_ACTION, down)
    assert "already recorded" in await click_and_hear(stack, stack.alice, closing["ts"], FEEDBACK_ACTION, down)
    await click_and_hear(stack, stack.bob, closing["ts"], FEEDBACK_ACTION, up)
    carol = slack.add_user("carol")
    assert "Only members" in await click_and_hear(stack, carol, closing["ts"], FEEDBACK_ACTION, up)
    assert await votes.tally(first.id) == {"up": 1, "down": 1}
    monkeypatch.setenv("DATA_DIR", str(stack.settings.data_dir))
    await list_runs(10)
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.split()[0] == str(first.id)]
    assert "+1/-1" in row

    # Regenerate: a non-member is refused privately and nothing starts.
    runs_before = len(await store.recent(50))
    assert "Only members" in await click_and_hear(stack, carol, closing["ts"], REGENERATE_ACTION)
    assert len(await store.recent(50)) == runs_before

    # The controls copied onto a message in another channel cannot reach this channel's run.
    other = slack.add_channel("inc-other", members=[stack.alice])
    copied = slack.post(other, slack.bot_user_id, "copied", blocks=closing["blocks"])
    for action_id, value in ((FEEDBACK_ACTION, up), (REGENERATE_ACTION, None)):
        since = mark(stack)
        slack.click(stack.alice, other, copied, action_id, value)
        await slack.wait_for(lambda s, since=since: heard_since(stack, since))
        [(_, text)] = heard_since(stack, since)
        assert "no longer known" in text
    assert await votes.tally(first.id) == {"up": 1, "down": 1} and len(await store.recent(50)) == runs_before

    # A member starts a new run the `again` way: no second digest; the native status is refused this time,
    # so it is tried once and the status line alone shows progress. A redelivered click starts nothing.
    slack.fail_next("assistant.threads.setStatus", "access_denied")
    calls_before = len(slack.calls_to("assistant.threads.setStatus"))
    since = mark(stack)
    eid = slack.click(stack.alice, stack.channel, closing["ts"], REGENERATE_ACTION)

    # The run is recorded done before its 👀 goes: a second closing line and no 👀 mean the store says done.
    await slack.wait_for(lambda s: len(closings(stack, root)) == 2 and "eyes" not in s.reactions_on(stack.channel, root), timeout=30)
    [(to, text)] = heard_since(stack, since)
    assert to == stack.alice and text.startswith(":test_tube: On it")
    second = await store.latest_for_thread(stack.channel, root)
    assert second is not None and second.id != first.id and second.status is RunState.DONE
    assert second.trigger == "regenerate" and second.invoker == stack.alice
    assert second.facts is not None and second.facts.skip_digest
    titles = stack.replies_in(root)
    assert sum(t.startswith(DIGEST_TITLE) for t in titles) == 1
    assert len(closings(stack, root)) == 2
    assert len(slack.calls_to("assistant.threads.setStatus")) == calls_before + 1
    slack.redeliver(eid)
    await slack.wait_ack(eid)
    # The redelivery was handled (claimed and dropped): the next click is answered, and no run was added.
    assert "recorded" in await click_and_hear(stack, stack.bob, closing["ts"], FEEDBACK_ACTION, down)
    assert len(await store.recent(50)) == runs_before + 1
