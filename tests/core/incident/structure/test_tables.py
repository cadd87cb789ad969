"""Markdown tables with a time column: the time cells, the widest other cell as text, the "who" column as author."""

from __future__ import annotations

from bot.core.incident.structure import read_text
from bot.core.incident.structure.tables import table_rows

TABLE = [
    "| Day | Date (2021) | Time (PT) | Event | Who |",
    "|-----|-------------|-----------|-------|-----|",
    "| Sun | Oct 31 | 21:33 | User reports a lost mojo | Kim |",
    "| | | | a note without a time | |",
]


def test_a_day_date_and_time_split_over_columns_with_the_year_and_zone_in_the_header() -> None:
    rows, prose = table_rows(TABLE)
    [row] = rows
    assert (row.text, row.name, row.year, row.stamp.text) == ("User reports a lost mojo", "Kim", 2021, "Sun Oct 31 21:33")
    assert row.stamp.has_zone and prose == ["a note without a time"]
    # The zone's rules apply on the row's real date: Oct 31, 2021 was still daylight saving time in California.
    [msg] = [m for m in read_text("\n".join(TABLE)) or [] if m.stamp]
    assert msg.iso_ts == "2021-11-01T04:33:00Z"


def test_a_table_without_a_header_takes_its_opening_time_cells() -> None:
    rows, _ = table_rows(["| 2021-02-15 06:05 | Pipeline failed |", "| 2021-02-15 07:00 | Back to normal |"])
    assert [(r.stamp.text, r.text, r.name) for r in rows] == [("2021-02-15 06:05", "Pipeline failed", None),
                                                              ("2021-02-15 07:00", "Back to normal", None)]


def test_rows_that_do_not_match_the_header_keep_their_words_as_notes() -> None:
    """Cells missing or extra, a time and nothing else: no guess at the fields, and no word dropped."""
    rows, prose = table_rows([
        "| Time | Event | Who |",
        "|------|-------|-----|",
        "| 10:00 | deploy started | Kim |",
        "| 10:11 | pool drained | replica two | Ann | extra words |",
        "| 10:13 |",
        "| 10:15 | restarted |",
    ])
    assert [(r.stamp.text, r.text, r.name) for r in rows] == [("10:00", "deploy started", "Kim")]
    assert prose == ["10:11 | pool drained | replica two | Ann | extra words", "10:13", "10:15 | restarted"]


def test_words_after_the_time_in_its_own_cell_are_the_rows_text() -> None:
    rows, prose = table_rows(["| 10:05 deploy finished |", "| 2021-02-15 07:00 – back to normal | Kim |"])
    assert [(r.stamp.text, r.text) for r in rows] == [("10:05", "deploy finished"), ("2021-02-15 07:00", "back to normal | Kim")]
    assert prose == []
