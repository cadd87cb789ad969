"""How long the incident lasted: from its first signal to the recognised resolution, and how that reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.digest.model import Event
from bot.core.prepare.classify import is_key

# What opens an incident in a chat thread; a pasted timeline or transcript opens at its first row instead.
_SIGNALS = frozenset({"report", "alert_fired", "error_burst", "error", "metric"})
# How long before the thread's first signal a logged error may open the incident: errors that began just before
# anyone noticed are its start, a stamp from hours earlier in a pasted log is not.
_LOG_LEAD = timedelta(minutes=60)
# Rows or messages that set the scene before anything went wrong ("Regular maintenance node roll over", "Kubernetes
# upgrade commenced"): an incident opens at its first one that is not one of these.
_ROUTINE = re.compile(r"\b(?:maintenance|scheduled|routine|regular|planned|upgrade (?:commenced|started|began)|roll(?:ing|ed)?[ -]?over)\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Moment:
    at: datetime
    label: str  # as shown: ISO UTC, or the time as written when the source gave no date


@dataclass(frozen=True)
class Span:
    start: Moment | None
    end: Moment | None  # the resolution, or the last known time when none was recognised
    resolved: bool

    @property
    def minutes(self) -> float | None:
        if self.start is None or self.end is None or self.end.at < self.start.at:
            return None
        return round((self.end.at - self.start.at).total_seconds() / 60, 1)


def _moment(event: Event) -> Moment:
    return Moment(_at(event), event.time or "")


def incident_span(events: list[Event], rows: list[Event], logged: set[int], seen: list[Moment]) -> Span:
    """``events`` in time order; ``rows`` the events read from timeline or transcript rows; ``logged`` the ids
    of events read from log lines, which open the incident only when nothing else does (a stray stamp in a
    pasted log often predates it); ``seen`` the times of every message and row."""
    timed = [e for e in events if e.at is not None]
    opening = sorted([e for e in rows if e.at is not None], key=_at) or \
        sorted([e for e in timed if e.kind in _SIGNALS and id(e) not in logged], key=_at)
    scene = next((i for i, e in enumerate(opening) if not _ROUTINE.search(e.text) or is_key(e.text)), len(opening))
    candidates = opening[scene:] or opening
    from_logs = [e for e in timed if e.kind in _SIGNALS and id(e) in logged
                 and (not candidates or _at(e) >= _at(candidates[0]) - _LOG_LEAD)]
    first = min([*from_logs, *candidates[:1]], key=_at, default=None)
    # With no signal at all, the thread's own span is the only honest duration.
    start = _moment(first) if first is not None else min(seen, key=lambda m: m.at, default=None)
    if start is None:
        return Span(None, None, False)
    after = [e for e in timed if _at(e) >= start.at]
    end = _resolution(after)
    if end is not None:
        return Span(start, _moment(end), True)
    ends = [Moment(e.last_at or _at(e), (e.last_time if e.last_at else e.time) or "") for e in after]
    ends += [m for m in seen if m.at >= start.at]
    return Span(start, max(ends, key=lambda m: m.at, default=None), False)


def _resolution(events: list[Event]) -> Event | None:
    """The first resolution after the last alert that fired; else the alert clearing that nothing fires after;
    else the last rollback ("rolled back, errors dropping" is the mitigation that ended it)."""
    fired = [e.last_at or _at(e) for e in events if e.kind == "alert_fired"]
    last_fired = max(fired, default=None)
    for kinds in (("resolution",), ("alert_resolved",)):
        found = [e for e in events if e.kind in kinds and (last_fired is None or _at(e) >= last_fired)]
        if found:
            return found[0]
    rollbacks = [e for e in events if e.kind == "rollback"]
    return rollbacks[-1] if rollbacks and not fired else None


def _at(event: Event) -> datetime:
    assert event.at is not None
    return event.at


def human_minutes(minutes: float) -> str:
    """'18 min', '2 h 5 min', '1 day 23 h': days and hours for long incidents."""
    whole = round(minutes)
    if whole < 60:
        return f"{minutes:g} min" if minutes < 10 else f"{whole} min"
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    return f"{hours} h" + (f" {mins} min" if mins else "")
