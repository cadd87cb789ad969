"""Times as people write them at the start of a timeline row or a chat line, read with python-dateutil.

One pattern finds where a line's leading time expression ends (the tokens a time is written with: clocks, dates,
month and weekday names, AM/PM, zones); dateutil reads what those tokens mean. What the expression did not say
(the date, the zone) is left for the caller to fill from the document's context, never invented here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

_MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_WEEKDAYS = r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs?(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"


def _fixed(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# Abbreviations name fixed offsets; the two-letter US names follow daylight saving, so they are real zones.
ZONES: dict[str, tzinfo] = {
    "UTC": UTC, "GMT": UTC, "Z": UTC, "WET": UTC, "BST": _fixed(1), "CET": _fixed(1), "CEST": _fixed(2), "EET": _fixed(2),
    "EEST": _fixed(3), "MSK": _fixed(3), "IST": _fixed(5.5), "SGT": _fixed(8), "JST": _fixed(9), "AEST": _fixed(10),
    "AEDT": _fixed(11), "EST": _fixed(-5), "EDT": _fixed(-4), "CST": _fixed(-6), "CDT": _fixed(-5), "MST": _fixed(-7),
    "MDT": _fixed(-6), "PST": _fixed(-8), "PDT": _fixed(-7), "ET": ZoneInfo("America/New_York"),
    "CT": ZoneInfo("America/Chicago"), "MT": ZoneInfo("America/Denver"), "PT": ZoneInfo("America/Los_Angeles"),
}
_ZONE = "|".join(sorted((z for z in ZONES if z != "Z"), key=len, reverse=True))
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[ap]\.?m\b\.?)?|\d{1,2}\s?[ap]\.?m\b\.?"
_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_TOKEN = re.compile(
    r"[\s,]*(?:(?:[-–@:]|at|on)\s+)?(?:"
    rf"(?P<iso>{_ISO})(?!\w|:\d)"
    rf"|(?P<clock>{_CLOCK})(?!\w|:\d)"
    # 10/20/2022, 4/21/23, 07-27-2023, 20.10.2022, 4/21; never a year and month alone ("2022-02-?? ??:??" is no
    # time), never a version ("1.2.10")
    r"|(?P<numdate>\d{1,4}[/-]\d{1,2}[/-]\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{1,2})(?![A-Za-z0-9:/.-])"
    rf"|(?P<month>(?:{_MONTHS})\.?)(?![a-z])"
    rf"|(?P<weekday>(?:{_WEEKDAYS})\.?)(?![a-z])"
    rf"|(?P<zone>(?:{_ZONE})(?:[+-]\d{{1,2}}(?::?\d{{2}})?)?|[+-]\d{{2}}:?\d{{2}})(?![\w])"
    r"|(?P<number>\d{1,4})(?:st|nd|rd|th)?(?!\w|:\d)"
    r"|(?P<paren>\((?:[^()]{1,20})\))"
    r")",
    re.IGNORECASE,
)
_MAX_TOKENS = 10  # "Saturday, June 14th, 2022, 10:00:00 AM PDT" is nine: more is text that happens to look like dates
_DOTTED = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")  # a year written in full
_AMPM = re.compile(r"\s?[ap]\.?m\b\.?", re.IGNORECASE)
_DEFAULT = datetime(2000, 1, 1)  # a leap year: "Feb 29" without a year still parses


@dataclass(frozen=True)
class Stamp:
    """A time expression at the start of a line. ``at`` is naive unless a zone was written; its year, month and day
    are meaningful only when ``has_date`` (``has_year`` for the year)."""

    text: str  # as written, e.g. "Jan 14, 10:18 AM"
    end: int  # where it ends in the line
    at: datetime
    has_date: bool
    has_year: bool
    has_clock: bool
    has_zone: bool


def leading_stamp(line: str, start: int = 0) -> Stamp | None:
    """The time expression that opens ``line`` at ``start``, or None when the line does not open with one."""
    pos, kinds, pieces, end, clocked = start, set[str](), list[str](), start, False
    while len(pieces) < _MAX_TOKENS:
        match = _TOKEN.match(line, pos)
        if match is None or match.end() == pos:
            break
        kind = match.lastgroup or ""
        if kind == "paren":
            # "12:48 (6:48 PDT)": the same time in another zone, skipped; anything else ends the expression.
            if "clock" not in kinds or not re.search(r"\d:\d", match.group(kind)):
                break
        elif kind == "number" and "month" not in kinds and not _month_follows(line, match.end()):
            break  # a bare number is a day or a year only beside a month name: "3 pods restarted" is no time
        elif kind in ("clock", "iso") and clocked:
            break  # a second time is the row's text ("09:00 - 11:00" ranges keep their first time)
        elif kind != "weekday":  # a weekday adds nothing to a date, and dateutil knows no "Thur" or "Tues"
            pieces.append(match.group(kind))
        kinds.add(kind)
        clocked = clocked or kind == "clock" or (kind == "iso" and ":" in match.group(kind))
        pos = end = match.end()
    if not ({"clock", "iso", "numdate"} & kinds or ("month" in kinds and "number" in kinds)):
        return None
    if kinds <= {"numdate", "weekday"} and all(p.count("/") == 1 for p in pieces):
        return None  # "3/4 pods ready": a month and day alone, with no clock and no year, is a fraction

    # Every locale that writes dates with dots writes the day first: "06.12.2026" is the 6th of December.
    parsed = _parse(" ".join(pieces), dayfirst=any(_DOTTED.fullmatch(p) for p in pieces))
    if parsed is None:
        return None
    if not 1970 <= parsed.year <= 2100 and any(_YEAR.search(p) for p in pieces):
        return None  # "01.01.0001 00:00", "2999-12-31": a placeholder or a version, not when anything happened
    iso_clock = any(":" in p for p in pieces if re.match(r"\d{4}-", p))
    has_date = bool({"iso", "numdate"} & kinds or "month" in kinds)
    # A year cut short ("11/03/202") is a typo: the date is kept, the year comes from the context.
    has_year = 1970 <= parsed.year <= 2100 and ("iso" in kinds or any(re.search(r"\d{4}|[/.-]\d{1,4}[/.-]\d{2,4}", p) for p in pieces))
    if not has_year:
        parsed = parsed.replace(year=_DEFAULT.year)
    return Stamp(line[start:end].strip(" ,-–@"), end, parsed, has_date, has_year, "clock" in kinds or iso_clock,
                 parsed.tzinfo is not None)


def _month_follows(line: str, pos: int) -> bool:
    return bool(re.match(rf"[\s,]*(?:{_MONTHS})\b", line[pos:], re.IGNORECASE))


def _parse(text: str, *, dayfirst: bool = False) -> datetime | None:
    # ISO forms and bare clocks, most of what timelines hold, are read by the standard library ten times faster.
    try:
        return datetime.fromisoformat(text) if text[:4].isdigit() else datetime.combine(_DEFAULT, time.fromisoformat(text))
    except ValueError:
        pass
    for candidate in (text, _AMPM.sub("", text)):  # "13:55 PM" (seen in real timelines) is 13:55
        try:
            return dateutil_parser.parse(candidate, default=_DEFAULT, tzinfos=ZONES, dayfirst=dayfirst)
        except (ValueError, OverflowError):
            continue
    return None


def zone_named(text: str) -> tzinfo | None:
    """The zone a phrase names ("All times in CET", "Time (PT)", "UTC+2"), if any."""
    match = re.search(rf"\b(?:{_ZONE})(?:[+-]\d{{1,2}}(?::?\d{{2}})?)?\b|[+-]\d{{2}}:\d{{2}}", text)
    if match is None:
        return None
    try:
        return dateutil_parser.parse(f"2000-01-01 00:00 {match.group(0)}", tzinfos=ZONES).tzinfo
    except (ValueError, OverflowError):
        return None


def year_named(text: str) -> int | None:
    """The year a phrase names ("Date (2021)"), if any."""
    match = re.search(r"\b(19|20)\d{2}\b", text)
    return int(match.group(0)) if match else None
