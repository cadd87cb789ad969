"""Memory as the pipeline sees it for one run (bot.core.memory.Recall): the past incidents this run's channel may
see, ranked, with their tickets' live states and recurrence counts; and remembering the run once it has finished."""

from __future__ import annotations

import logging

from bot.core.digest import Digest
from bot.core.incident.model import Incident
from bot.core.memory import Match, SeenBefore, Signals
from bot.memory.index import Entry, MemoryIndex, Scope, both
from bot.memory.privacy import PrivacyCheck, similar_visible_now
from bot.memory.tickets import TicketStates
from bot.runs.store import StoreError

log = logging.getLogger(__name__)
DAY_S = 86400.0


class Memory:
    """The team's memory, one per process: the index in the run store and the ticket states' cache."""

    def __init__(self, index: MemoryIndex, tickets: TicketStates, retention_days: int, privacy: PrivacyCheck | None = None) -> None:
        self.index = index
        self.tickets = tickets
        self.retention_days = retention_days
        self.privacy = privacy  # how channels are now (Slack); None: the flag stored at remember time decides

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    def for_run(self, source: str, channel: str | None, *, private: bool = False) -> RunRecall | None:
        return RunRecall(self, source, channel, private) if self.enabled else None

    async def seen_before(self, signals: Signals, scope: Scope) -> SeenBefore:
        # The recurrence counts are asked at once (PostgreSQL answers on two connections), and dropped without a match.
        similar = (similar_visible_now(self.index, self.privacy, signals, scope) if self.privacy is not None
                   else self.index.similar(signals, scope))
        found, recurrences = await both(similar, self.index.recurrences(signals, scope))
        pasts = await self.tickets.read([past for past, *_ in found])
        matches = [Match(past, score, shared, text) for past, (_, score, shared, text) in zip(pasts, found, strict=True)]
        return SeenBefore(matches, recurrences if matches else [])

    async def remember(self, entry: Entry) -> bool:
        """Remember a finished postmortem, then forget what is past retention. Memory never fails a run: a store
        that refuses is logged, and False returned."""
        if not self.enabled:
            return False
        try:
            await self.index.remember(entry)
        except StoreError as exc:
            log.error("could not remember the postmortem %s: %s", entry.source, exc)
            return False
        await self.prune()
        return True

    async def prune(self) -> int:
        """Forget what is past retention (after each remember, and at start-up); how many were forgotten."""
        if not self.enabled:
            return 0
        try:
            return await self.index.prune(self.retention_days * DAY_S)
        except StoreError as exc:
            log.error("could not apply MEMORY_RETENTION_DAYS: %s", exc)
            return 0


class RunRecall:
    """One run's view: its channel decides what it may be shown; ``source`` is its own entry, never recalled."""

    def __init__(self, memory: Memory, source: str, channel: str | None, private: bool) -> None:
        self.memory = memory
        self.source = source
        self.channel = channel
        self.private = private

    async def seen_before(self, digest: Digest, incident: Incident, signals: Signals) -> SeenBefore:
        return await self.memory.seen_before(signals, Scope(self.channel, exclude=self.source))
