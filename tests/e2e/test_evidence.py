"""Evidence links and the canvas, through the emulator: citations become links to the cited messages (one
chat.getPermalink per message per run), a citation of no message is dropped and counted, the report goes into one
canvas per run, and a free plan falls back to the channel's canvas tab, then to the markdown file."""

from __future__ import annotations

import asyncio
import re

from bot.core.pipeline import Pipeline
from bot.runs import open_store
from bot.slack.app import BotApp
from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, wait_done

CANVAS_LINK = "The full report is in"
NO_CANVAS = "no canvas was made"


def bot_texts(stack: Stack, root: str) -> list[str]:
    """Every text the bot put in the thread: message text and markdown blocks."""
    out = []
    for m in stack.slack.thread(stack.channel, root):
        if m.get("user") == stack.slack.bot_user_id:
            out += [m.get("text", "")] + [b["text"] for b in m.get("blocks", []) or [] if b.get("type") == "markdown"]
    return out


def block_of(stack: Stack, root: str, title: str) -> str:
    return next(t for t in bot_texts(stack, root) if t.startswith(f"## {title}"))


async def run_info(stack: Stack) -> dict:  # type: ignore[type-arg]
    store = await open_store(stack.settings)
    try:
        info = (await store.recent())[0].facts
    finally:
        await store.close()
    assert info is not None
    return info.to_dict()


async def test_citations_link_to_their_messages_and_the_report_lands_in_one_canvas(stack: Stack) -> None:
    s = stack.slack
    root, _ = incident_thread(stack)
    incident = [m["ts"] for m in s.thread(stack.channel, root)]  # m1 … m4, before the bot writes anything
    links = {f"m{i}": s.permalink(stack.channel, ts) for i, ts in enumerate(incident, start=1)}
    eid = s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES

    # The answer cites "[m2]" in the timeline and "[m2, m3]" in the root cause: each became its message's time,
    # linked to that message.
    timeline = block_of(stack, root, "Incident Timeline")
    assert re.search(rf"completes \[\d\d:\d\d:\d\d\]\({re.escape(links['m2'])}\)\.", timeline), timeline
    assert "exhaustion [" in timeline and f"]({links['m1']})." in timeline  # "[m1] [m99]": the invented one gone
    root_cause = block_of(stack, root, "Root Cause")
    assert f"]({links['m2']}) [" in root_cause and f"]({links['m3']})" in root_cause
    # The digest cites its evidence lines the same way (the first report is the root message).
    assert f"]({links['m1']})" in block_of(stack, root, "What the thread shows")
    everything = "\n".join(bot_texts(stack, root))
    assert not re.search(r"\[m\d+", everything) and "m99" not in everything  # no raw id, the dangling one gone
    # Each cited message was looked up once for the whole run (digest, sections, report file and canvas).
    asked = [c.args["message_ts"] for c in s.calls_to("chat.getPermalink")]
    assert sorted(asked) == sorted(incident)
    citations = (await run_info(stack))["citations"]
    assert citations["dangling_removed"] == 1 and citations["dangling"] == ["m99"] and citations["cited"] == 7
    assert set(citations["sources"]) == set(links)

    report = next(f for f in s.uploaded_files if f["name"] == "postmortem-report.md")["content"].decode()
    assert f"]({links['m4']})" in report and "Citations removed: 1" in report

    # One canvas, tabbed in the incident channel, holding the whole report with the same links, linked once.
    (canvas,) = s.workspace.canvases.values()
    assert canvas["kind"] == "standalone" and canvas["channel"] == stack.channel
    assert canvas["title"] == "Testing postmortem: #inc-checkout thread"
    assert all(f"## {title}" in canvas["markdown"] for title in ALL_TITLES) and f"]({links['m3']})" in canvas["markdown"]
    plan = canvas["markdown"].partition("## Test plan (checklist)\n")[2]
    assert plan.count("- [ ] **") == 3, plan  # the test plan as a checklist, one box a test
    (link,) = [t for t in bot_texts(stack, root) if CANVAS_LINK in t]
    assert f"https://acme.slack.com/docs/{s.workspace.team['id']}/{canvas['id']}|" in link and "a canvas" in link

    # Slack delivers the trigger again after the run: no second canvas, no second link.
    s.redeliver(eid)
    await s.wait_for(lambda _: any(a.envelope_id == eid and a.retry_attempt == 1 for a in s.acks))
    s.app_mention(stack.bob, stack.channel, "<@bot> hi")  # a barrier: answered after the redelivery was handled
    await s.wait_for(lambda _: any("inside an incident thread" in e["text"] for e in s.ephemerals))
    assert len(s.workspace.canvases) == 1 and len(s.calls_to("canvases.create")) == 1
    assert sum(CANVAS_LINK in t for t in bot_texts(stack, root)) == 1


async def test_a_free_plan_gets_the_channel_canvas_then_the_markdown_file_said_once(stack: Stack) -> None:
    s = stack.slack
    s.workspace.plan = "free"
    root, _ = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    (canvas,) = s.workspace.canvases.values()
    assert canvas["kind"] == "channel" and canvas["channel"] == stack.channel
    assert "## Root Cause Determination" in canvas["markdown"]
    assert [c.response["error"] for c in s.calls_to("canvases.create")] == ["free_teams_cannot_create_non_tabbed_canvases"]
    assert sum("the channel's canvas tab" in t for t in bot_texts(stack, root)) == 1
    assert not [t for t in bot_texts(stack, root) if NO_CANVAS in t.lower()]

    # A second postmortem of the thread: the channel has its canvas already, so the file is the report.
    s.slash_command(stack.alice, stack.channel, text=f"{s.permalink(stack.channel, root)} again")
    await s.wait_for(lambda _: len(s.calls_to("conversations.canvases.create")) == 2, timeout=30)
    await s.wait_for(lambda _: sum("Postmortem done" in t for t in bot_texts(stack, root)) == 2, timeout=30)
    assert s.calls_to("conversations.canvases.create")[1].response["error"] == "channel_canvas_already_exists"
    notes = [t for t in bot_texts(stack, root) if NO_CANVAS in t.lower()]
    assert len(notes) == 1 and "Postmortem done" in notes[0]  # in the closing line, once
    assert "the channel already has one): the full report is the markdown file above" in notes[0]
    assert len([f for f in s.uploaded_files if f["name"] == "postmortem-report.md"]) == 2
    assert len(s.workspace.canvases) == 1


async def test_a_run_stopped_between_making_the_canvas_and_linking_it_links_that_canvas_on_resume(stack: Stack) -> None:
    s = stack.slack
    root, _ = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    # Bolt's own auth.test runs when the event arrives; the next one is the canvas link's, after the canvas is recorded.
    await s.wait_for(lambda _: stack.sections_in(root), timeout=15)
    release = s.hold_next("auth.test")
    await s.wait_for(lambda _: s.held and s.workspace.canvases, timeout=15)
    await stack.bot.stop()  # the worker is cancelled where it stands, as in a crash: the run stays unfinished
    for task in asyncio.all_tasks():  # and, as a crash would, its canvas task (parked on the held call) ends too
        if "_publish_canvas" in repr(task.get_coro()):
            task.cancel()
    release.set()
    asked = len(stack.llm.chat_requests)

    restarted = BotApp(stack.settings, Pipeline(stack.settings))  # same run store: resumes the run at start
    await restarted.start()
    try:
        await wait_done(stack, root)
    finally:
        await restarted.stop()
    assert len(s.calls_to("canvases.create")) == 1 and len(s.workspace.canvases) == 1
    (canvas_id,) = s.workspace.canvases
    links = [t for t in bot_texts(stack, root) if CANVAS_LINK in t]
    assert len(links) == 1 and f"/{canvas_id}|" in links[0]
    assert len(stack.llm.chat_requests) == asked  # resumed from the saved report, the model not asked again
