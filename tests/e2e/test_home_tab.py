"""The Home tab end to end (issue 10 part 5): opening it publishes the recent postmortems the viewer may see, each
with status, model, quality and a link to its thread; runs in channels the viewer is not in never show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.run import Run
from bot.slack.blocks.home import SEARCH_ACTION
from tests.e2e.conftest import Stack, finished_short_thread


def home_lines(stack: Stack, user: str, part: str = "runs") -> list[str]:
    """The lines of one part of the viewer's Home tab: "runs", "followups" or "search"."""
    view = stack.slack.workspace.home_views[stack.slack.workspace.user(user)["id"]]
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and b.get("block_id", "").startswith(f"{part}.")]


async def published_after(stack: Stack, trigger: Callable[[], object]) -> None:
    published = len(stack.slack.calls_to("views.publish"))
    trigger()
    await stack.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > published)
    assert stack.slack.calls_to("views.publish")[-1].response["ok"], stack.slack.calls_to("views.publish")[-1].response


async def open_home(stack: Stack, user: str, part: str = "runs") -> list[str]:
    await published_after(stack, lambda: stack.slack.app_home_opened(user))
    return home_lines(stack, user, part)


async def search_home(stack: Stack, user: str, words: str) -> list[str]:
    """``user`` types ``words`` in the Home tab's search box and presses Enter; the results shown."""
    await published_after(stack, lambda: stack.slack.home_input(user, SEARCH_ACTION, words))
    return home_lines(stack, user, "search")


async def test_home_tab_lists_only_what_the_viewer_may_see(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(tts_engine="none")
    slack, store = stack.slack, stack.bot.store
    root = await finished_short_thread(stack)

    # Runs elsewhere, recorded as the bot records them: a failed one in a private channel only Bob is in, one in a
    # private channel the bot has since left (nobody is shown it: membership cannot be checked), one with no thread.
    secret = slack.add_channel("inc-secret", private=True, members=[stack.bob])
    left = slack.add_channel("inc-left", private=True, members=[stack.alice, stack.bob], bot_member=False)
    for channel in (secret, left):
        thread = slack.post(channel, stack.bob, "db failover")
        # Held by a made-up owner, so no worker of this bot picks the queued row up before it is marked failed.
        run_id = await store.create(trigger="reaction", channel=channel, thread_ts=thread, invoker=stack.bob, owner="test", lease_s=3600)
        run = Run(stack.bot.pipeline.new_facts(), id=run_id)
        run.fail("model unreachable")
        await store.update(run_id, run=run)
    await store.create(trigger="command", channel=stack.channel, thread_ts=None, invoker=stack.alice, owner="test", lease_s=3600)

    [alice_line] = await open_home(stack, stack.alice)
    for part in ("#inc-checkout", slack.permalink(stack.channel, root), "done", "llama3.1:8b", "quality checks passed"):
        assert part in alice_line, (part, alice_line)
    bob_lines = await open_home(stack, stack.bob)
    assert len(bob_lines) == 2 and "#inc-secret" in bob_lines[0] and "failed" in bob_lines[0]
    assert not any("inc-left" in line for line in bob_lines)
    carol = slack.add_user("carol")
    assert await open_home(stack, carol) == ["_No postmortems you can see yet._"]

    # The Messages tab is not the Home tab: nothing is published for it.
    published = len(slack.calls_to("views.publish"))
    eid = slack.app_home_opened(stack.alice, tab="messages")
    await slack.wait_ack(eid)
    await open_home(stack, carol)  # handled after the Messages-tab event, so that one is done by now
    assert len(slack.calls_to("views.publish")) == published + 1
