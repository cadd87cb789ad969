"""Leading time expressions as people write them, read with dateutil; text that is no time is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.incident.structure.times import leading_stamp, zone_named

# line → (as written, hour:minute, date as written or None, has year, rest of the line)
STAMPS = [
    ("08:55 Deploybot: deployed", ("08:55", "08:55", None, False, " Deploybot: deployed")),
    ("16:58 UTC – alert", ("16:58 UTC", "16:58", None, False, " – alert")),
    ("10:32 AM Anna", ("10:32 AM", "10:32", None, False, " Anna")),
    ("1:31 PM: Course of action", ("1:31 PM", "13:31", None, False, ": Course of action")),
    ("13:55 PM PST Saturday Oct 30th: storm", ("13:55 PM PST Saturday Oct 30th", "13:55", "10-30", False, ": storm")),
    ("Jan 14, 10:18 AM something", ("Jan 14, 10:18 AM", "10:18", "01-14", False, " something")),
    ("June 14th, 2022, 1:00 PM:** Richard", ("June 14th, 2022, 1:00 PM", "13:00", "2022-06-14", True, ":** Richard")),
    ("2021-01-05 11:25 | A", ("2021-01-05 11:25", "11:25", "2021-01-05", True, " | A")),
    ("2021-12-10   15:40", ("2021-12-10   15:40", "15:40", "2021-12-10", True, "")),
    ("2024-03-04T09:00:00+02:00 x", ("2024-03-04T09:00:00+02:00", "09:00", "2024-03-04", True, " x")),
    ("10/20/2022 - 15:38 CST - a user", ("10/20/2022 - 15:38 CST", "15:38", "2022-10-20", True, " - a user")),
    ("07-27-2023 2:14 pm - Attacker", ("07-27-2023 2:14 pm", "14:14", "2023-07-27", True, " - Attacker")),
    ("February 15, 2024: 7:56am UTC", ("February 15, 2024: 7:56am UTC", "07:56", "2024-02-15", True, "")),
    ("12:48 (6:48 PDT): The last block", ("12:48 (6:48 PDT)", "12:48", None, False, ": The last block")),
    ("Thur Jan 20 22:40", ("Thur Jan 20 22:40", "22:40", "01-20", False, "")),
    ("09:00 - 11:00 investigation", ("09:00", "09:00", None, False, " - 11:00 investigation")),
    ("20.10.2022 10:32 paged", ("20.10.2022 10:32", "10:32", "2022-10-20", True, " paged")),
    ("4/21 10:32 paged", ("4/21 10:32", "10:32", "04-21", False, " paged")),
    ("11/03/202 - Version 1.6.1", ("11/03/202", "00:00", "11-03", False, " - Version 1.6.1")),
    # Dots: day first, in every locale that writes them (Germany, Norway, Russia, Poland...), even where the day
    # could be a month.
    ("06.12.2026 09:15 failover", ("06.12.2026 09:15", "09:15", "2026-12-06", True, " failover")),
    ("1.2.2024 rollback", ("1.2.2024", "00:00", "2024-02-01", True, " rollback")),
    ("Tuesday 03.04.2023 14:00 started", ("Tuesday 03.04.2023 14:00", "14:00", "2023-04-03", True, " started")),
]
NOT_STAMPS = ["3 pods restarted", "1.2.10 rolled out to prod", "3/4 pods ready", "10.0.3.17 returned 503",
              "May be related to the deploy", "v2.31.0 rolled back", "2022-02-?? ??:?? TBA", "404s everywhere",
              "12 pods x 50 = 600", "Anna: looking",
              # A year written in full outside 1970–2100: a placeholder or a version, not when anything happened.
              "01.01.0001 00:00 default value", "2999-12-31 23:59 expiry sentinel", "1066-10-14 battle", "12/31/9999 never",
              "June 3, 1900 10:00 old"]


@pytest.mark.parametrize(("line", "expected"), STAMPS)
def test_leading_stamp_reads_what_people_write(line: str, expected: tuple[str, str, str | None, bool, str]) -> None:
    written, clock, day, has_year, rest = expected
    stamp = leading_stamp(line)
    assert stamp is not None
    assert (stamp.text, stamp.at.strftime("%H:%M"), stamp.has_year, line[stamp.end :]) == (written, clock, has_year, rest)
    assert stamp.has_date == (day is not None)
    if day is not None:
        assert stamp.at.strftime("%Y-%m-%d" if has_year else "%m-%d") == day


@pytest.mark.parametrize("line", NOT_STAMPS)
def test_text_that_is_no_time_is_left_alone(line: str) -> None:
    assert leading_stamp(line) is None


def test_zones_written_and_named() -> None:
    stamp = leading_stamp("16:58 PST x")
    assert stamp is not None and stamp.at.utcoffset() == timedelta(hours=-8)
    assert zone_named("All times in CET.") == timezone(timedelta(hours=1))
    assert zone_named("| Time (UTC) |") is UTC
    pacific = zone_named("Time (PT)")
    assert pacific is not None and datetime(2021, 7, 1, tzinfo=pacific).utcoffset() == timedelta(hours=-7)  # daylight saving
    assert zone_named("no zone here") is None
