"""Timestamps inside log lines. They are only ever taken from the text, never invented."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TS = re.compile(
    r"\[?(?P<ts>"
    # ISO 8601, and the common "YYYY-MM-DD HH:MM:SS" variant
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    # syslog "May  1 10:02:03"
    r"|" + _MONTH + r" [ \d]\d \d{2}:\d{2}:\d{2}"
    # common log format "01/May/2024:10:02:03 +0000"
    r"|\d{2}/" + _MONTH + r"/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?"
    r")\]?"
)
# Epoch milliseconds only at the start of a line: elsewhere a 13-digit number is more likely an id.
_EPOCH_MS = re.compile(r"\[?(?P<ts>1[5-9]\d{11})\]?(?!\d)")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")
_HHMM = re.compile(r"\d{2}:\d{2}")


def split_ts(line: str) -> tuple[str | None, str]:
    """The first timestamp in ``line`` (as written) and the line without it (for template mining)."""
    match = _TS.search(line) or _EPOCH_MS.match(line)
    if not match:
        return None, line.strip()
    return match.group("ts"), (line[: match.start()] + line[match.end() :]).strip()


def ts_span(first: str | None, last: str | None) -> str | None:
    """'2024-05-01T10:02:03Z … 10:09:55Z': the last time loses its date when it is the same day."""
    if not first:
        return last
    if not last or last == first:
        return first
    if _ISO_DAY.match(first) and first[:10] == last[:10]:
        last = last[11:]
    return f"{first} … {last}"


def clock(ts: str | None) -> str | None:
    """HH:MM of a timestamp as written, for short human-readable ranges."""
    if not ts:
        return None
    if ts.isdigit():
        return datetime.fromtimestamp(int(ts) / 1000, tz=UTC).strftime("%H:%M")
    match = _HHMM.search(ts[10:] if _ISO_DAY.match(ts) else ts)
    return match.group(0) if match else None


def clock_range(first: str | None, last: str | None) -> str:
    """' from 10:03–10:40' (or '' when there is no time), to append to an omission note."""
    start, end = clock(first), clock(last)
    if not start and not end:
        return ""
    if not start or not end or start == end:
        return f" at {start or end}"
    return f" from {start}–{end}"
