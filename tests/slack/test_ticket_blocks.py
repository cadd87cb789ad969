"""The Create ticket button and the line that replaces it: values round-trip, links cannot break Slack's syntax,
and only the tests that have a ticket change."""

from __future__ import annotations

import pytest

from bot.core.plan import TestPlan, TestSpec
from bot.slack.blocks.checklist import checklist_message
from bot.slack.blocks.tickets import ACTION_ID, add_ticket_buttons, parse_value, with_ticket_links
from bot.tickets import Ticket

LINES = [{"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": "*Test plan*"}}] + [
    {"type": "section", "block_id": f"testplan.{i}", "text": {"type": "mrkdwn", "text": f"test {i}"}} for i in range(3)]


@pytest.mark.parametrize("value, parsed", [("12:0", (12, 0)), ("3:14", (3, 14)), ("12", None), ("a:1", None),
                                           ("1:-1", None), ("", None), ("1:2:3", None)])
def test_button_values(value: str, parsed: tuple[int, int] | None) -> None:
    assert parse_value(value) == parsed


def test_buttons_then_links() -> None:
    blocks = add_ticket_buttons(LINES, 12, {f"testplan.{i}": i for i in range(3)})
    assert "accessory" not in blocks[0] and "accessory" not in LINES[1]  # the input is not modified
    assert [b["accessory"]["value"] for b in blocks[1:]] == ["12:0", "12:1", "12:2"]
    assert all(b["accessory"]["action_id"] == ACTION_ID for b in blocks[1:])
    hostile = Ticket("https://x.test/issues/1?a=1&b=<2>|3", "<!here>|#1")
    linked = with_ticket_links(blocks, {1: hostile})
    assert "accessory" in linked[1] and "accessory" in linked[3]
    text = linked[2]["text"]["text"]
    assert "accessory" not in linked[2]
    assert text == "test 1  :ticket: <https://x.test/issues/1?a=1&amp;b=%3C2%3E%7C3|&lt;!here&gt;¦#1>"
    assert with_ticket_links(linked, {1: hostile}) == linked  # applying again changes nothing


def test_the_checklist_has_buttons_only_when_tickets_are_set_up() -> None:
    plan = TestPlan(tests=[TestSpec(name=f"t{i}", type="unit", scope="s", fault_injection="f", success_criteria="c")
                           for i in range(2)])
    plain = checklist_message(plan, 5).blocks
    assert not any("accessory" in b for b in plain)
    buttons = [b["accessory"]["value"] for b in checklist_message(plan, 5, ticket_buttons=True).blocks if "accessory" in b]
    assert buttons == ["5:0", "5:1"]
    assert not any("accessory" in b for b in checklist_message(plan, None, ticket_buttons=True).blocks)
