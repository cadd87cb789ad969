"""Slack JSON the loader accepts: conversations.replies bodies, export day files, and what Slack leaves out or
adds. Lenient where Slack is (unknown keys, nulls, numbers for strings); the live collector's path shares it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.incident.slack_json import incident_from_slack_json, message_from_slack
from bot.core.incident.slack_shape import parse_slack_ts
from bot.errors import InputError

ANA = {"type": "message", "user": "U1", "user_profile": {"display_name": "ana"}, "ts": "1700000100.000200",
       "text": "rolled back checkout v2.31 at 09:10"}
ALERT = {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "PagerDuty", "ts": "1700000000.000100",
         "text": "", "attachments": [{"title": "[FIRING] checkout p99 > 2s", "fields": [{"title": "error rate", "value": 12}]}]}


@pytest.mark.parametrize(
    "data",
    [
        {"ok": True, "messages": [ANA, ALERT], "has_more": False, "response_metadata": {"next_cursor": ""}},
        [ANA, ALERT],  # export day file
        [{"type": "message", "subtype": "channel_join", "user": "U2", "ts": "1699999999.0", "text": ""}, ANA, ALERT],
    ],
    ids=["conversations-replies", "export-day-file", "export-with-join"],
)
def test_accepted_shapes_give_the_same_sorted_messages(data: Any) -> None:
    incident = incident_from_slack_json(data, title="t")
    assert [m.author for m in incident.messages] == ["PagerDuty", "ana"]  # sorted by ts, empty join dropped
    assert "error rate: 12" in incident.messages[0].text  # a number where Slack sends a string is read as text
    assert incident.messages[1].ts == datetime(2023, 11, 14, 22, 15, 0, 200, tzinfo=UTC)
    assert incident.source == "slack-json"


def test_unknown_keys_nulls_and_missing_fields_are_fine() -> None:
    raw = {"text": "db failover at 09:12", "future_field": {"a": [1, 2]}, "files": None, "blocks": None,
           "attachments": None, "user_profile": None, "ts": None, "reactions": [{"name": "eyes", "count": 2}]}
    msg = message_from_slack(raw)
    assert (msg.author, msg.text, msg.ts, msg.attachments) == ("bot", "db failover at 09:12", None, ())


def test_files_are_read_from_preview_or_listed_by_name() -> None:
    raw = {**ANA, "files": [{"id": "F1", "name": "trace.txt", "preview": "Traceback ..."}, {"id": "F2", "title": "graph"},
                            {"id": "F3", "mode": "tombstone"}]}
    names = [(a.name, a.text) for a in message_from_slack(raw).attachments]
    assert names == [("trace.txt", "Traceback ..."), ("graph", None), ("F3", None)]


def test_deeply_nested_blocks_are_walked_to_a_bounded_depth() -> None:
    block: dict[str, Any] = {"type": "rich_text_section", "elements": [{"type": "text", "text": "deep"}]}
    for _ in range(2000):  # far past Python's recursion limit if walked naively
        block = {"type": "rich_text", "elements": [block]}
    msg = message_from_slack({"text": "checkout failed", "blocks": [block, {"type": "section", "fields": "x"}]})
    assert msg.text == "checkout failed"


def test_live_message_of_the_wrong_shape_names_the_field() -> None:
    with pytest.raises(InputError, match=r"message\.files: expected a list of file objects, got the string"):
        message_from_slack({"text": "x", "files": "trace.png"})


@pytest.mark.parametrize(
    ("ts", "expected"),
    [("1700000000.000100", datetime(2023, 11, 14, 22, 13, 20, 100, tzinfo=UTC)),
     (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)), ("", None), (None, None)],
)
def test_slack_ts_parses_or_is_missing(ts: Any, expected: datetime | None) -> None:
    assert parse_slack_ts(ts) == expected


@pytest.mark.parametrize("ts", ["1e400", "nan", "-1", "abc", True, "9" * 400, [1]])
def test_unusable_slack_ts_is_a_value_error(ts: Any) -> None:
    """ValueError, not TypeError or OverflowError: pydantic turns only ValueError into a field error."""
    with pytest.raises(ValueError, match="timestamp"):
        parse_slack_ts(ts)
