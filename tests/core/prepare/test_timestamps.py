from __future__ import annotations

import pytest

from bot.core.prepare.timestamps import clock_range, split_ts, ts_span


@pytest.mark.parametrize(
    ("line", "ts", "rest"),
    [
        ("2024-05-01T10:02:03.123Z ERROR x", "2024-05-01T10:02:03.123Z", "ERROR x"),
        ("[2024-05-01 10:02:03,123] WARN y", "2024-05-01 10:02:03,123", "WARN y"),
        ("web-1 | 2024-05-01T10:02:03+02:00 INFO z", "2024-05-01T10:02:03+02:00", "web-1 |  INFO z"),
        ("May  1 10:02:03 host sshd[1]: x", "May  1 10:02:03", "host sshd[1]: x"),
        ('1.2.3.4 - - [01/May/2024:10:02:03 +0000] "GET /"', "01/May/2024:10:02:03 +0000", '1.2.3.4 - -  "GET /"'),
        ("1714557723000 INFO z", "1714557723000", "INFO z"),
        ("no time here, id 1714557723000", None, "no time here, id 1714557723000"),
    ],
)
def test_split_ts_takes_the_timestamp_as_written(line: str, ts: str | None, rest: str) -> None:
    assert split_ts(line) == (ts, rest)


def test_span_drops_the_repeated_date() -> None:
    assert ts_span("2024-05-01T10:02:03Z", "2024-05-01T10:09:55Z") == "2024-05-01T10:02:03Z … 10:09:55Z"
    assert ts_span("2024-05-01T23:59:00Z", "2024-05-02T00:01:00Z") == "2024-05-01T23:59:00Z … 2024-05-02T00:01:00Z"
    assert ts_span("May  1 10:02:03", "May  1 10:02:03") == "May  1 10:02:03"
    assert ts_span(None, None) is None


def test_clock_range_for_notes() -> None:
    assert clock_range("2024-05-01T10:03:00Z", "2024-05-01T10:40:59Z") == " from 10:03–10:40"
    assert clock_range("1714557723000", None) == " at 10:02"
    assert clock_range(None, None) == ""
