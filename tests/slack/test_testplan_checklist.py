"""The checklist message: one line a test (type, name, what it catches), model text inert, within Slack's limits."""

from __future__ import annotations

from bot.core.mentions import INERT_AT
from bot.core.plan import TestPlan, TestSpec
from bot.slack.blocks.checklist import ARCHIVE_NAME, MAX_LINES, checklist_blocks, checklist_message, line_block_id


def spec(name: str, kind: str = "load", catches: str = "CheckoutLatencyHigh", priority: int = 2) -> TestSpec:
    return TestSpec(name=name, type=kind, scope="s", fault_injection="f", success_criteria="c", catches=catches,  # type: ignore[arg-type]
                    priority=priority)


def test_one_line_a_test_with_type_name_and_what_it_catches() -> None:
    plan = TestPlan(tests=[spec("Pool saturation", priority=1), spec("Retry storm", "chaos", catches="")], source="structured",
                    missing_fields=["Retry storm: scope"])
    blocks = checklist_blocks(plan, 42)
    assert blocks[0]["block_id"] == "testplan.run.42"
    assert "2 tests" in blocks[0]["text"]["text"] and "completed by the model" in blocks[0]["text"]["text"]
    lines = [b["text"]["text"] for b in blocks[1:-1]]
    assert [b["block_id"] for b in blocks[1:-1]] == [line_block_id(0), line_block_id(1)]
    assert lines == [":white_square: `load` *Pool saturation* (add first) — catches CheckoutLatencyHigh",
                     ":white_square: `chaos` *Retry storm*"]
    footer = blocks[-1]["elements"][0]["text"]
    assert ARCHIVE_NAME in footer and "Still unknown: Retry storm: scope" in footer


def test_model_text_cannot_ping_link_or_break_the_line() -> None:
    hostile = "<!channel> @here <@U123|boss> <https://evil.example|click> & \n second line"
    blocks = checklist_blocks(TestPlan(tests=[spec(hostile, catches=hostile)]), None)
    line = blocks[1]["text"]["text"]
    assert "<" not in line and ">" not in line and "\n" not in line
    assert f"{INERT_AT}channel" in line and f"{INERT_AT}here" in line and "&amp;" in line
    assert "<" not in checklist_message(TestPlan(tests=[spec(hostile)]), None).text


def test_a_long_plan_stays_under_slacks_50_blocks() -> None:
    plan = TestPlan(tests=[spec(f"Test {i}") for i in range(60)])
    blocks = checklist_blocks(plan, 1)
    assert len(blocks) == MAX_LINES + 2 <= 50
    assert "15 more test(s)" in blocks[-1]["elements"][0]["text"]
