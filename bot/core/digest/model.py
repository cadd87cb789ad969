"""The digest's data: what a thread shows, built without a model. Every string in it is redacted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from bot.core.digest.rules import RuleTest
from bot.core.incident.model import Section

Kind = Literal[
    "report", "alert_fired", "alert_resolved", "deploy", "rollback", "mitigation", "resolution", "error_burst", "error", "metric",
    "update",  # a timeline or transcript row that matched no other kind: the authors listed it, so it is shown
]


def parse_time(ts: str | None) -> datetime | None:
    """A timestamp as written → aware UTC datetime, when it carries a date (ISO, epoch ms); else None.

    Syslog times have no year and are not converted: a digest never invents a date.
    """
    if not ts:
        return None
    if ts.isdigit():
        return datetime.fromtimestamp(int(ts) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(ts.replace(",", "."))
    except ValueError:
        try:  # common log format, "01/May/2024:10:02:03 +0000"
            parsed = datetime.strptime(ts, "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            return None
    # Logs without an offset are taken as UTC, like the rest of the bot's timestamps.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


@dataclass(frozen=True)
class Event:
    """One timeline entry. ``time``/``last_time`` are as shown: ISO UTC for messages and log lines, the time as
    the source wrote it for timeline and transcript rows."""

    time: str | None
    kind: Kind
    text: str
    author: str
    count: int = 1  # >1 for folded repeats (an alert bot, an error template)
    last_time: str | None = None
    at: datetime | None = field(default=None, compare=False)  # parsed ``time``, for ordering and duration
    message: int | None = field(default=None, compare=False)  # index of the message it was read from (its evidence id)
    last_at: datetime | None = field(default=None, compare=False)  # parsed ``last_time``


@dataclass(frozen=True)
class MetricJump:
    """'p99 latency 300ms → 2.3s'; ``basis`` says where the before value came from."""

    name: str
    before: str
    after: str
    basis: Literal["change", "threshold", "baseline"]
    time: str | None
    author: str
    line: str
    message: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Gap:
    """A silence of at least the digest's threshold: no message (or no log line) in between."""

    start: str
    end: str
    minutes: float
    where: str  # "thread", or "log <name>"


@dataclass(frozen=True)
class FailureFinding:
    """A failure class, its weightiest evidence line, and the test that would have caught it."""

    id: str
    title: str
    evidence: str
    time: str | None
    author: str
    hits: int  # matching lines, folded repeats counted
    test: RuleTest
    message: int | None = field(default=None, compare=False)  # where the evidence line is
    score: float = 0.0  # the weighed evidence (bot.core.digest.evidence): what orders the checklist
    section: Section | None = None  # the document section of the evidence line


@dataclass
class Digest:
    title: str
    message_count: int
    timeline: list[Event]
    gaps: list[Gap]
    metrics: list[MetricJump]
    failures: list[FailureFinding]  # the checklist: classes with strong evidence, best-supported first
    participants: list[tuple[str, int]]  # people: (name, messages or rows), in order of first message
    services: list[str]
    files_read: list[str]
    files_unread: list[str]
    first_report: Event | None
    started: str | None  # first signal, as shown
    ended: str | None  # resolution, or the last time when none was recognised, as shown
    resolved: bool
    gap_minutes: float
    omitted_events: int = 0  # timeline entries over the cap, left out of the timeline
    bots: list[tuple[str, int]] = field(default_factory=list)  # alerting, deploy and CI tools, like participants
    duration_minutes: float | None = None  # started → ended, from the parsed times (rows without a date included)
    mentioned: list[FailureFinding] = field(default_factory=list)  # classes named without strong evidence: never a checklist item
