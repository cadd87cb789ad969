"""What a ticket backend takes and gives back, and the one error type it raises."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.core.plan import TestSpec
from bot.core.run import RunFacts
from bot.errors import PostmortemError

# Every ticket carries this label, so dedup searches only look at the bot's own tickets.
LABEL = "postmortem-bot"


@dataclass(frozen=True)
class Ticket:
    url: str
    key: str  # "#12" on GitHub, "OPS-7" on Jira


@dataclass(frozen=True)
class Skeleton:
    """A runnable skeleton of the test (rendered by bot/core/plan), attached to the ticket as code."""

    filename: str
    text: str
    language: str = ""  # fence language: python, javascript, yaml…


@dataclass(frozen=True)
class TicketContent:
    """Everything a ticket says. Redacted by ``bot.tickets.content.redacted`` before it reaches any backend."""

    spec: TestSpec
    run_id: str  # "12" for a Slack run, the input hash for a CLI run
    thread_link: str | None = None
    skeleton: Skeleton | None = None


class TicketErrorKind(Enum):
    REFUSED = "refused"  # 401/403: the credentials need fixing
    NOT_FOUND = "not_found"  # the repository or project does not exist for these credentials
    UNAVAILABLE = "unavailable"  # 5xx, 429, timeout, connection lost: trying again may work
    REJECTED = "rejected"  # the backend refused the content (422, 400): a setting or the bot needs fixing


class TicketError(PostmortemError):
    """A ticket could not be made. ``message`` and ``fix`` are shown to the person who clicked (or on stderr)."""

    exit_code = 5

    def __init__(self, kind: TicketErrorKind, message: str, fix: str | None = None) -> None:
        super().__init__(message, fix)
        self.kind = kind


class TicketBackend(Protocol):
    """A ticketing system. ``create`` makes at most one ticket per ``idempotency_key``, however often it is
    called: it first looks for a ticket carrying the key, and looks again when the answer to a creation is lost."""

    name: str

    async def create(self, content: TicketContent, idempotency_key: str) -> Ticket: ...

    async def find(self, idempotency_key: str) -> Ticket | None: ...

    def owns(self, url: str) -> bool:
        """Whether the ticket at ``url`` is one this backend can read."""

    async def state(self, key: str) -> str:
        """The ticket's state read now: "open", "done" or "not_planned" (closed without doing it)."""

    async def aclose(self) -> None: ...


def idempotency_key(*parts: object) -> str:
    """A short, label-safe key (Jira labels allow no spaces) that is the same for the same parts."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]
    return f"pmb-{digest}"


def tests_of(info: RunFacts) -> list[TestSpec]:
    """The run's test plan as stored in its RunFacts (``tests``: one TestSpec dict each)."""
    return [TestSpec.model_validate(test) for test in info.tests]
