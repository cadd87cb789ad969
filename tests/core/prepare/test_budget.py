from __future__ import annotations

import pytest

from bot.core.prepare.budget import MessageBlock, Rank, Unit, chars_for, estimate_tokens, fit_to_budget


def test_estimate_is_chars_over_3_6_rounded_up() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("x" * 36) == 10
    assert estimate_tokens("x" * 37) == 11


@pytest.mark.parametrize("budget", [0, 1, 7, 100, 1500, 2472, 4096])
def test_chars_for_is_the_largest_length_within_budget(budget: int) -> None:
    assert estimate_tokens("x" * chars_for(budget)) <= budget
    assert estimate_tokens("x" * (chars_for(budget) + 1)) > budget


def _ts(minute: int) -> str:
    return f"2024-05-01T10:{minute:02d}:00Z"


def _thread() -> list[MessageBlock]:
    blocks = [MessageBlock(f"[{_ts(0)}] alice:", [Unit("checkout is down, p99 latency 4.2s", Rank.PINNED, ts=_ts(0))])]
    for m in range(1, 41):
        blocks.append(MessageBlock(f"[{_ts(m)}] bob:", [Unit("+1", Rank.CHATTER, ts=_ts(m))]))
    logs = [
        Unit(f"{_ts(m)} INFO api: served request number {m} for some customer in region eu-west-1", Rank.ROUTINE, True, _ts(m))
        for m in range(3, 43)
    ]
    logs.insert(20, Unit(f"{_ts(22)} ERROR pool: connection timeout after 30s", Rank.KEY, True, _ts(22)))
    logs.insert(25, Unit(f"{_ts(27)} INFO deployer: deploy checkout v2.14.0 started", Rank.KEY, True, _ts(27)))
    logs.insert(30, Unit(f"{_ts(32)} WARN monitor: cpu 97% on checkout-api", Rank.KEY, True, _ts(32)))
    blocks.append(MessageBlock(f"[{_ts(41)}] carol:", logs))
    said = "I think the pool size was halved in yesterday's config push"
    blocks.append(MessageBlock(f"[{_ts(44)}] dmitri:", [Unit(said, Rank.DISCUSSION, ts=_ts(44))]))
    blocks.append(MessageBlock(f"[{_ts(50)}] bob:", [Unit("Resolved by rolling back to v2.13.2", Rank.PINNED, ts=_ts(50))]))
    return blocks


def test_within_budget_nothing_is_dropped() -> None:
    fitted = fit_to_budget(_thread(), 10_000)
    assert fitted.omitted == []
    assert fitted.text.count("+1") == 40


def test_over_budget_drops_chatter_then_routine_lines_and_keeps_key_content() -> None:
    fitted = fit_to_budget(_thread(), 200)
    assert estimate_tokens(fitted.text) <= 200
    lines = fitted.text.splitlines()
    assert lines[0] == f"[{_ts(0)}] alice: checkout is down, p99 latency 4.2s"
    assert lines[-1] == f"[{_ts(50)}] bob: Resolved by rolling back to v2.13.2"
    for kept in ("ERROR pool: connection timeout", "deploy checkout v2.14.0 started", "cpu 97%", "pool size was halved"):
        assert kept in fitted.text
    assert "+1" not in fitted.text
    assert fitted.omitted[0] == "40 chat messages (acknowledgements) from 10:01–10:40"
    assert fitted.omitted[1].startswith("3") and "routine log lines from 10:" in fitted.omitted[1]
    # Routine lines go from the middle outwards: the first and last log lines are the last to go.
    assert "served request number 3 " in fitted.text or "served request number 42 " in fitted.text


def test_every_kept_line_keeps_its_timestamp() -> None:
    fitted = fit_to_budget(_thread(), 200)
    for line in fitted.text.splitlines():
        assert "2024-05-01T10:" in line


def test_long_lines_are_shortened_with_their_timestamp_kept() -> None:
    long = f"ERROR api: {'x' * 2000} {_ts(5)}"
    blocks = [MessageBlock("carol:", [Unit(long, Rank.KEY, True, _ts(5)), Unit("ERROR db: down", Rank.KEY, True)])]
    fitted = fit_to_budget(blocks, 150)
    first = fitted.text.splitlines()[1]
    assert first.startswith(_ts(5)) and first.endswith("…") and len(first) < 330
    assert "ERROR db: down" in fitted.text
    assert fitted.omitted == ["1 long entry shortened to 300 characters per line"]


def test_key_lines_go_from_the_middle_when_nothing_else_is_left() -> None:
    units = [Unit(f"{_ts(m)} ERROR svc{m}: failed", Rank.KEY, True, _ts(m)) for m in range(30)]
    fitted = fit_to_budget([MessageBlock("logs:", units)], 60)
    assert estimate_tokens(fitted.text) <= 60
    assert "svc0:" in fitted.text and "svc29:" in fitted.text
    assert fitted.omitted and "error/alert/deploy log lines (over budget)" in fitted.omitted[0]


def test_hard_cut_when_pinned_content_alone_is_over_budget() -> None:
    fitted = fit_to_budget([MessageBlock("alice:", [Unit("word " * 500, Rank.PINNED)])], 10)
    assert estimate_tokens(fitted.text) <= 10
    assert fitted.text.endswith("…")
    assert fitted.omitted[-1].startswith("the end of the remaining text")


def test_block_head_goes_when_all_its_units_go() -> None:
    blocks = [
        MessageBlock("alice:", [Unit("first", Rank.PINNED)]),
        MessageBlock("bot:", [Unit("INFO " + "y" * 200, Rank.ROUTINE, True)]),
        MessageBlock("bob:", [Unit("last", Rank.PINNED)]),
    ]
    fitted = fit_to_budget(blocks, 10)
    assert fitted.text == "alice: first\nbob: last"
    assert fitted.omitted == ["1 routine log line"]
