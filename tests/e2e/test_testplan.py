"""The test plan in Slack, end to end: after the sections, a checklist message (one line a test) and the skeletons
as one zip in the thread, the plan in the run record, and nothing posted twice when the run is delivered again."""

from __future__ import annotations

import ast
import io
import json
import zipfile
from typing import Any

import pytest

from bot.core.plan import TestPlan
from bot.core.plan.build import plan_from_record
from bot.runs.sink import StoreSink
from bot.slack.blocks.checklist import ARCHIVE_NAME
from bot.slack.outbound.delivery import DeliveryOptions, ThreadDelivery
from bot.slack.outbound.thread import SlackThread
from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import incident_thread, wait_done


async def test_checklist_and_archive_follow_the_sections_once_and_the_record_holds_the_plan(stack: Stack) -> None:
    root, reply = incident_thread(stack)
    stack.slack.reaction_added(stack.bob, stack.channel, reply, "test_tube")
    await wait_done(stack, root)

    # The fake's default answer lists complete tests: the plan comes from the markdown, no JSON call.
    assert len(stack.llm.chat_requests) == 1 and stack.llm.json_requests == []
    thread = stack.slack.thread(stack.channel, root)
    checklists = [m for m in thread if (m.get("metadata") or {}).get("event_payload", {}).get("item") == "testplan"]
    assert len(checklists) == 1
    blocks = checklists[0]["blocks"]
    lines = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("testplan.") and b["block_id"][9:].isdigit()]
    assert lines == [
        ":white_square: `load` *Connection-pool saturation* — catches checkout-api p99 latency &gt; 2s",
        ":white_square: `load` *Resource headroom*",
        ":white_square: `chaos` *Retry storm*",
    ]
    # Under the Recommended Test Suite: after every section, before the closing line.
    order = [m["ts"] for m in thread]
    suite = next(m for m in thread if any("## Recommended Test Suite" in b.get("text", "") for b in m.get("blocks") or []))
    closing = next(m for m in thread if "Postmortem done" in m.get("text", ""))
    assert order.index(suite["ts"]) < order.index(checklists[0]["ts"]) < order.index(closing["ts"])

    zips = [f for f in stack.slack.uploaded_files if f["thread_ts"] == root and f["name"] == ARCHIVE_NAME]
    assert len(zips) == 1
    archive = zipfile.ZipFile(io.BytesIO(zips[0]["content"]))
    names = sorted(archive.namelist())
    assert names == ["tests.json", "tests/chaos/test_retry_storm.py", "tests/load/connection_pool_saturation.js",
                     "tests/load/resource_headroom.js"]
    ast.parse(archive.read("tests/chaos/test_retry_storm.py"))
    plan = TestPlan.model_validate_json(archive.read("tests.json"))

    record = (await stack.bot.store.recent())[0]
    assert record.facts is not None and record.facts.tests == json.loads(plan.model_dump_json())["tests"]
    assert {"testplan", "tests-archive"} <= set(record.posted)

    # Delivered again from the record (what a resume does): nothing is posted or uploaded a second time.
    delivery = ThreadDelivery(SlackThread(stack.bot.client, stack.channel, root), record.run(), StoreSink(), DeliveryOptions("m"))
    replanned = plan_from_record(record.facts)
    assert replanned is not None
    await delivery.test_plan(replanned)
    await delivery.finish_uploads()
    assert len(stack.slack.thread(stack.channel, root)) == len(thread)
    assert len([f for f in stack.slack.uploaded_files if f["name"] == ARCHIVE_NAME]) == 1


@pytest.mark.parametrize("refusals", [1, 3])
async def test_a_checklist_slack_refuses_as_too_long_still_arrives_in_several_messages(stack: Stack, refusals: int) -> None:
    """msg_too_long on the checklist (and again on its halves): it is split by blocks, then a lone block by its text,
    and every test's line reaches the thread; the closing line reports no failure."""
    def is_checklist(args: dict[str, Any]) -> bool:
        return "testplan." in str(args.get("blocks") or "")

    stack.slack.fail_next("chat.postMessage", "msg_too_long", times=refusals, when=is_checklist)
    root, reply = incident_thread(stack)
    stack.slack.reaction_added(stack.bob, stack.channel, reply, "test_tube")
    await wait_done(stack, root)

    refused = [c for c in stack.slack.calls_to("chat.postMessage") if c.response.get("error") == "msg_too_long"]
    assert len(refused) == refusals
    thread = stack.slack.thread(stack.channel, root)
    posted = json.dumps([(m.get("text"), m.get("blocks")) for m in thread])
    for name in ("Connection-pool saturation", "Resource headroom", "Retry storm", "Test plan"):
        assert name in posted
    tagged = [m for m in thread if (m.get("metadata") or {}).get("event_payload", {}).get("item") == "testplan"]
    assert len(tagged) == 1  # the first part, which a resume looks for
    closing = next(m["text"] for m in thread if "Postmortem done" in m.get("text", ""))
    assert "checklist could not be posted" not in closing
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
