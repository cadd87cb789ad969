"""The Create ticket button on each line of the test-plan checklist, and the line once its ticket exists.

The checklist (bot/slack/blocks/checklist.py) gives each test its own ``section`` block; the button is that section's
accessory, so the line never reflows. The button's value is ``"<run id>:<test index>"``.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.tickets import Ticket

ACTION_ID = "create_ticket"


def ticket_button(run_id: int, index: int) -> dict[str, Any]:
    return {"type": "button", "action_id": ACTION_ID, "text": {"type": "plain_text", "text": "Create ticket"},
            "value": f"{run_id}:{index}"}


def parse_value(value: str) -> tuple[int, int] | None:
    """(run id, test index) from a button's value; None when it is not one of ours."""
    run, sep, index = value.partition(":")
    return (int(run), int(index)) if sep and run.isdigit() and index.isdigit() else None


def add_ticket_buttons(blocks: list[dict[str, Any]], run_id: int, block_ids: dict[str, int]) -> list[dict[str, Any]]:
    """A copy of ``blocks`` with a Create ticket button on each section whose block id maps to a test index."""
    out = copy.deepcopy(blocks)
    for block in out:
        index = block_ids.get(str(block.get("block_id")))
        if index is not None and block.get("type") == "section":
            block["accessory"] = ticket_button(run_id, index)
    return out


def link_text(ticket: Ticket) -> str:
    # URLs and keys come from the backend: escape Slack's control characters so neither can break the link.
    url = ticket.url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    key = ticket.key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "¦")
    return f"<{url}|{key}>"


def with_ticket_links(blocks: list[dict[str, Any]], tickets: dict[int, Ticket]) -> list[dict[str, Any]]:
    """A copy of ``blocks`` in which each test that has a ticket shows its link instead of the button."""
    out = copy.deepcopy(blocks)
    for block in out:
        button = block.get("accessory") or {}
        where = parse_value(str(button.get("value", ""))) if button.get("action_id") == ACTION_ID else None
        if where is None or where[1] not in tickets:
            continue
        del block["accessory"]
        block["text"]["text"] += f"  :ticket: {link_text(tickets[where[1]])}"
    return out
