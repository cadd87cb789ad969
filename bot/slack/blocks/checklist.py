"""The test plan in the thread: a compact checklist message (one line a test: type, name, what it catches) and the
skeletons as one zip archive. Everything in a TestSpec came from the model, so each value is made inert for Slack
(mentions, ``<…>`` syntax) before it is posted.

``checklist_blocks`` is the one place the message is built: each test is its own ``section`` block (block id
``line_block_id(i)``) so a later feature can give it an accessory (the "Create ticket" button) without reflowing it.
"""

from __future__ import annotations

from typing import Any

from bot.core.mentions import neutralise_mentions
from bot.core.plan import TestPlan, TestSpec
from bot.slack.blocks.sections import OutboundMessage
from bot.slack.blocks.tickets import add_ticket_buttons

ARCHIVE_NAME = "postmortem-tests.zip"
# Slack allows 50 blocks a message: a header, the tests, a footer.
MAX_LINES = 45
_CATCHES_CHARS = 150
_NAME_CHARS = 200


def line_block_id(index: int) -> str:
    """The block id of test ``index`` (0-based, plan order) in the checklist message."""
    return f"testplan.{index}"


def inert(text: str) -> str:
    """Model text as plain mrkdwn: no mention pings, no ``<link|…>`` or ``<!…>`` syntax (Slack's own escaping)."""
    text = neutralise_mentions(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # a newline in a value must not break the one-line-a-test layout
    return text if len(text) <= limit else text[: limit - 1] + "…"


def checklist_line(test: TestSpec) -> str:
    catches = f" — catches {inert(_clip(test.catches, _CATCHES_CHARS))}" if test.catches else ""
    priority = " (add first)" if test.priority == 1 else ""
    return f":white_square: `{test.type}` *{inert(_clip(test.name, _NAME_CHARS))}*{priority}{catches}"


def checklist_blocks(plan: TestPlan, run_id: int | None) -> list[dict[str, Any]]:
    """The checklist message's blocks. ``run_id`` is carried in the header's block id so an action on this
    message can find its run."""
    count = len(plan.tests)
    origin = {"parsed": "from the Recommended Test Suite", "structured": "from the Recommended Test Suite, completed by the model",
              "rule-based": "rule-based"}[plan.source]
    header = f"*Test plan*: {count} test{'s' if count != 1 else ''} {origin}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": f"testplan.run.{run_id if run_id is not None else 'none'}",
         "text": {"type": "mrkdwn", "text": header}},
    ]
    for index, test in enumerate(plan.tests[:MAX_LINES]):
        blocks.append({"type": "section", "block_id": line_block_id(index), "text": {"type": "mrkdwn", "text": checklist_line(test)}})
    notes = [f"Skeletons for each test are in `{ARCHIVE_NAME}` below."]
    if count > MAX_LINES:
        notes.insert(0, f"{count - MAX_LINES} more test(s) are in the archive's tests.json.")
    if plan.missing_fields:
        notes.append("Still unknown: " + inert(_clip(", ".join(plan.missing_fields), 400)) + ".")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(notes)}]})
    return blocks


def checklist_message(plan: TestPlan, run_id: int | None, *, ticket_buttons: bool = False) -> OutboundMessage:
    """``ticket_buttons`` (TICKETS is set): each test's line gets a Create ticket button (bot/slack/actions)."""
    lines = [f"{t.type}: {_clip(t.name, 80)}" for t in plan.tests[:10]]
    fallback = inert(f"Test plan ({len(plan.tests)} tests): " + "; ".join(lines))
    blocks = checklist_blocks(plan, run_id)
    if ticket_buttons and run_id is not None:
        blocks = add_ticket_buttons(blocks, run_id, {line_block_id(i): i for i in range(len(plan.tests))})
    return OutboundMessage(text=fallback[:300], blocks=blocks)
