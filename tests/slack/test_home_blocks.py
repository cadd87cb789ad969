"""The Home tab's memory blocks: past text cannot open a link or ping anyone in a follow-up line or the search
results; a ticket shows its key, linked, and its state in words; the box keeps what was searched."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.memory import PastIncident, PastTest, Signals, TicketState
from bot.memory.followups import DAY_S, FollowUp
from bot.slack.blocks.home import FOLLOWUPS_SHOWN, SEARCH_ACTION, followup_blocks, followup_line, search_blocks
from tests.fakes.slack_emulator.mentions import live_mentions

WHEN = datetime(2026, 10, 12, tzinfo=UTC)
PAST = PastIncident(1, "INC-1 <https://evil.test|Reset password> <!channel>", "w", "https://acme.slack.com/archives/C1/p1",
                    WHEN, "C1", "cause", Signals())


def test_a_followup_line_is_inert_and_says_the_ticket_state_and_age() -> None:
    hostile = PastTest("<https://evil.test|Click> @here", "load", "https://github.com/acme/shop/issues/3", "#3", TicketState.OPEN)
    line = followup_line(FollowUp(PAST, hostile, False), WHEN.timestamp() + 23 * DAY_S)
    assert "<https://github.com/acme/shop/issues/3|#3> open" in line and "23 days old" in line and "(12 Oct 2026)" in line
    assert "<https://evil" not in line and live_mentions(line) == []
    assert line.count("<https://acme.slack.com/archives/C1/p1|") == 1
    unknown = PastTest("Pool", "load", "https://x.test/OPS-1", "OPS-1", TicketState.UNKNOWN, "Jira answered 502")
    assert "status unknown: Jira answered 502" in followup_line(FollowUp(PAST, unknown, False), WHEN.timestamp())
    assert "no ticket" in followup_line(FollowUp(PAST, PastTest("Pool"), False), WHEN.timestamp() + DAY_S)
    assert len(followup_line(FollowUp(PAST, PastTest("Pool " * 2000), False), WHEN.timestamp())) < 3000  # one section


def test_search_box_results_and_followups_blocks() -> None:
    [box] = search_blocks("", None)
    assert box["type"] == "input" and box["dispatch_action"] and box["element"]["action_id"] == SEARCH_ACTION
    box, *results = search_blocks("<!here> pool", [PAST])
    assert box["element"]["initial_value"] == "<!here> pool"  # plain text in the box: never rendered as a mention
    assert live_mentions(str(results)) == [] and len(results) == 2
    many = followup_blocks([f"line {n}" for n in range(FOLLOWUPS_SHOWN + 4)])
    assert sum(b.get("block_id", "").startswith("followups.") for b in many) == FOLLOWUPS_SHOWN and "and 4 more" in str(many[-1])
