"""Markdown tables with a time column: each row a timed entry (its text the widest other cell, its author the
"who" column), rows without a time, and rows whose cells do not match the header, kept as prose."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.incident.structure.times import Stamp, leading_stamp, year_named, zone_named

_SEPARATOR = re.compile(r"\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TIME_HEAD = re.compile(r"\b(?:time|date|day|when|timestamp|hour|utc|clock)\b", re.IGNORECASE)
_WHO_HEAD = re.compile(r"\b(?:who|author|person|owner|by|actor|reporter|from|user|name)\b", re.IGNORECASE)


@dataclass(frozen=True)
class TableRow:
    stamp: Stamp
    text: str
    name: str | None
    year: int | None  # the year a header gave ("Date (2021)")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in inner.split("|")]


def table_rows(lines: list[str]) -> tuple[list[TableRow], list[str]]:
    """(timed rows, other rows as prose lines). A header row (followed by a ---- row) names the columns."""
    header: list[str] = []
    body = lines
    if len(lines) >= 2 and _SEPARATOR.match(lines[1]):
        header, body = _cells(lines[0]), lines[2:]
    time_cols = [i for i, h in enumerate(header) if _TIME_HEAD.search(h)]
    who_cols = [i for i, h in enumerate(header) if _WHO_HEAD.search(h) and i not in time_cols]
    year = next((y for i in time_cols if (y := year_named(header[i]))), None)
    zone_text = " ".join(header[i] for i in time_cols)
    rows: list[TableRow] = []
    prose: list[str] = []
    for line in body:
        if _SEPARATOR.match(line):
            continue
        cells = _cells(line)
        whole = " | ".join(c for c in cells if c)
        if header and len(cells) != len(header):
            # Cells missing or extra: which is the time, the text or the author is a guess. The row's words are kept
            # as a plain note instead of being read into the wrong fields or dropped.
            prose.append(whole)
            continue
        cols = [i for i in time_cols if i < len(cells)] or _leading_time_cells(cells)
        when = " ".join(cells[i] for i in cols)
        stamp = _stamp(when, zone_text) if cols else None
        if stamp is None:
            prose.append(whole)
            continue
        who = next((cells[i] for i in who_cols if i < len(cells) and cells[i]), None)
        others = [c for i, c in enumerate(cells) if i not in cols and i not in who_cols and c]
        # "| 10:05 deploy finished |": words after the time in its own cell are the row's text too.
        said = when[stamp.end :].strip(" -–—:|")
        text = " | ".join(t for t in (said, max(others, key=len, default="")) if t)
        if not text and not who and whole != stamp.text:
            prose.append(whole)  # a time and nothing readable as text: keep what the row says
            continue
        rows.append(TableRow(stamp, text, who, year))
    return rows, prose


def _leading_time_cells(cells: list[str]) -> list[int]:
    """Without a header: the opening cells that hold a time."""
    cols: list[int] = []
    for i, cell in enumerate(cells[:3]):
        if cell and leading_stamp(cell) is not None:
            cols.append(i)
        elif cols:
            break
    return cols


def _stamp(text: str, header: str) -> Stamp | None:
    """The time of a row's time cells, with the zone its column header names ("Time (PT)")."""
    stamp = leading_stamp(text)
    if stamp is None or stamp.has_zone:
        return stamp
    zone = zone_named(header)
    if zone is None:
        return stamp
    return Stamp(stamp.text, stamp.end, stamp.at.replace(tzinfo=zone), stamp.has_date, stamp.has_year, stamp.has_clock, True)
