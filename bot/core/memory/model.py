"""What memory holds about a past postmortem, what recall gives back, and what a front end hands the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol

from bot.core.digest import Digest
from bot.core.incident.model import Incident
from bot.core.memory.signals import Signals


class TicketState(Enum):
    OPEN = "open"
    DONE = "closed as done"
    NOT_PLANNED = "closed as not planned"
    UNKNOWN = "status unknown"


@dataclass(frozen=True)
class PastTest:
    """A test recommended by a past postmortem, with its ticket (``key`` as the backend shows it) and its live state."""

    name: str
    type: str = ""
    ticket_url: str | None = None
    ticket_key: str | None = None
    state: TicketState | None = None
    state_note: str = ""  # why the state is unknown (the backend's answer), shown next to it


@dataclass(frozen=True)
class PastIncident:
    id: int
    title: str
    where: str  # a Slack thread permalink, or the file it was imported from
    link: str | None  # the thread's permalink (or canvas); None for a file
    when: datetime
    channel: str | None
    primary_cause: str
    signals: Signals
    tests: tuple[PastTest, ...] = ()
    votes: tuple[int, int] = (0, 0)  # 👍, 👎

    @property
    def day(self) -> str:
        return self.when.astimezone(UTC).strftime("%d %b %Y")


@dataclass(frozen=True)
class Match:
    past: PastIncident
    score: float
    shared: tuple[tuple[str, str], ...]  # (kind, value): why it matched
    text_score: float = 0.0


@dataclass(frozen=True)
class Recurrence:
    """"3rd connection-pool exhaustion on payments-api in 90 days": this incident counted in."""

    failure_class: str
    service: str | None
    count: int
    days: int


@dataclass
class SeenBefore:
    matches: list[Match] = field(default_factory=list)
    recurrences: list[Recurrence] = field(default_factory=list)
    note: str | None = None  # why memory could not help this time (store down, too slow): shown in run.json only


class Recall(Protocol):
    """Memory as one run sees it (its channel decides what it may be shown). Given by the front end to the pipeline."""

    async def seen_before(self, digest: Digest, incident: Incident, signals: Signals) -> SeenBefore: ...
