""""Seen before" as shown and as given to the model: the past thread linked, the shared signals, the primary cause,
the tests with their tickets and states in words, the follow-up verdicts, recurrences, mentions made inert, and the
model's part bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.memory import Match, PastIncident, PastTest, Recurrence, SeenBefore, Signals, TicketState
from bot.core.memory.render import GROUNDING_CHARS, grounding, render_markdown, without_seen_before

TITLES = {"connection-pool-exhaustion": "Connection-pool exhaustion"}


def seen(*tests: PastTest, title: str = "INC-4711 payments-api pool exhausted", cause: str = "The pool was too small.") -> SeenBefore:
    past = PastIncident(1, title, "https://acme.slack.com/archives/C1/p1", "https://acme.slack.com/archives/C1/p1",
                        datetime(2026, 10, 12, tzinfo=UTC), "C1", cause, Signals(), tests)
    shared = (("class", "connection-pool-exhaustion"), ("service", "payments-api"))
    return SeenBefore([Match(past, 5.0, shared, 1.0)], [Recurrence("connection-pool-exhaustion", "payments-api", 3, 90)])


def test_each_ticket_state_in_words() -> None:
    url = "https://github.com/acme/shop/issues/"
    text = render_markdown(seen(
        PastTest("Cold-cache burst", "load", f"{url}1", "#1", TicketState.OPEN),
        PastTest("Pool saturation", "load", f"{url}2", "#2", TicketState.DONE),
        PastTest("Retry budget", "chaos", f"{url}3", "#3", TicketState.NOT_PLANNED),
        PastTest("Canary on p99", "canary", f"{url}4", "#4", TicketState.UNKNOWN, "GitHub answered HTTP 502"),
        PastTest("No ticket", "unit"),
    ), TITLES)
    assert "### Seen before" in text and "_3rd connection-pool exhaustion on payments-api in 90 days._" in text
    assert "[thread](https://acme.slack.com/archives/C1/p1)" in text and "12 Oct 2026" in text
    assert "failure class `connection-pool-exhaustion`, service `payments-api`, similar wording" in text
    assert "Primary cause then: The pool was too small." in text
    assert f"[#1]({url}1) (open)" in text and "(closed as done)" in text and "(closed as not planned)" in text
    assert "(status unknown, GitHub answered HTTP 502)" in text and "No ticket (unit): no ticket" in text
    assert "The test 'Cold-cache burst' recommended on 12 Oct 2026 for INC-4711 is still open (#1)." in text
    assert ("The test 'Pool saturation' recommended on 12 Oct 2026 for INC-4711 was marked done (#2), yet the same failure "
            "recurred: check the test really covers it.") in text
    assert "was closed as not planned (#3), and the failure recurred" in text


def test_nothing_matched_shows_nothing() -> None:
    assert render_markdown(SeenBefore(), TITLES) == "" and grounding(SeenBefore(), TITLES) == ""


def test_past_text_cannot_ping_anyone() -> None:
    text = render_markdown(seen(PastTest("<!channel> test"), title="<!here> INC-9", cause="@everyone look"), TITLES)
    assert "<!" not in text and "@everyone" not in text


def test_grounding_carries_link_title_cause_and_tickets_within_bounds() -> None:
    tests = [PastTest(f"Test {n} " + "x" * 80, "load", f"https://t/{n}", f"#{n}", TicketState.OPEN) for n in range(40)]
    text = grounding(seen(*tests), TITLES)
    assert len(text) <= GROUNDING_CHARS
    assert "https://acme.slack.com/archives/C1/p1" in text and "INC-4711" in text and "The pool was too small." in text
    assert "ticket #0: open" in text and "3rd connection-pool exhaustion on payments-api in 90 days" in text


def test_a_report_is_remembered_without_its_own_seen_before() -> None:
    block = render_markdown(seen(PastTest("Old test")), TITLES)
    report = f"# Testing postmortem\n\n## What the thread shows (rule-based)\nlines\n{block}## Root Cause Determination\nnew cause\n"
    kept = without_seen_before(report)
    assert "INC-4711" not in kept and "Old test" not in kept and "## Root Cause Determination\nnew cause" in kept
    assert "lines" in kept and without_seen_before(report.replace(block, "")) == report.replace(block, "")


def test_past_text_cannot_dress_a_link_or_cite_this_thread() -> None:
    text = render_markdown(seen(PastTest("[Run this](https://evil.test) now [m2]"), title="INC-9 [login](https://evil.test)",
                                cause="see [m3, m4] and [here](https://evil.test)"), TITLES)
    assert "](https://evil.test)" not in text and "[m2]" not in text and "[m3, m4]" not in text


def test_a_long_plan_is_cut_in_the_digest() -> None:
    text = render_markdown(seen(*(PastTest(f"Test {n}") for n in range(20))), TITLES)
    assert "Test 5" in text and "Test 6" not in text and "and 14 more" in text
