"""`/postmortem history [words]`: past postmortems from memory, answered privately, only those of channels the
person is a member of (checked per channel on each request, as the Home tab does) and imported files. The Home
tab's search is the same search."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.memory import PastIncident
from bot.core.mentions import neutralise_mentions
from bot.memory.recall import Memory
from bot.runs.store import StoreError
from bot.slack.access import Membership
from bot.slack.blocks.history import history_line

SCANNED, SHOWN = 50, 10
OFF = "Memory is off on this bot (MEMORY_RETENTION_DAYS=0), so there is no history to search."


def unreadable(exc: StoreError) -> str:
    return f":x: I cannot read the team's memory right now: {exc.message}. Tell the bot's admin: {exc.fix}."


class History:
    def __init__(self, client: AsyncWebClient, memory: Memory) -> None:
        self.client = client
        self.memory = memory

    async def answer(self, user: str, words: list[str]) -> str:
        """The private answer: matching postmortems the user may read, newest first."""
        if not self.memory.enabled:
            return OFF
        try:
            found = await self.matches(Membership(self.client, user, "history"), words)
        except StoreError as exc:
            return unreadable(exc)
        asked = f" matching “{neutralise_mentions(' '.join(words))}”" if words else ""
        if not found:
            return f"No past postmortems{asked} in channels you are a member of."
        lines = "\n".join(history_line(past) for past in found)
        return f"*Past postmortems{asked}* (newest first, channels you are a member of):\n" + lines

    async def matches(self, member: Membership, words: list[str]) -> list[PastIncident]:
        """Postmortems matching every word (none: the latest) in channels ``member`` belongs to, and imported
        files, newest first. Raises StoreError."""
        found: list[PastIncident] = []
        for past, _ in await self.memory.index.search(words, None, limit=SCANNED):
            if past.channel is None or await member.of(past.channel):
                found.append(past)
                if len(found) == SHOWN:
                    break
        return found
