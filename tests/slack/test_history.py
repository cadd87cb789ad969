"""History lines: past text cannot open or close a Slack link, nor ping anyone."""

from datetime import UTC, datetime

from bot.core.memory import PastIncident, Signals
from bot.slack.blocks.history import history_line


def test_past_text_is_inert_in_a_history_line() -> None:
    past = PastIncident(1, "INC-1 <https://evil.test|Reset password> <!channel>", "w", "https://acme.slack.com/archives/C1/p1",
                        datetime(2026, 10, 12, tzinfo=UTC), "C1", "see <https://evil.test|here> @here", Signals())
    line = history_line(past)
    assert line.startswith("• 12 Oct 2026: <https://acme.slack.com/archives/C1/p1|INC-1 ")
    assert "<https://evil" not in line and "<!channel>" not in line and "|Reset" not in line
