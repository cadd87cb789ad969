"""`/postmortem history [words]`: past postmortems from memory, answered privately, only those of channels the
person is a member of (checked per channel on each request, as the Home tab does) and imported files."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.memory import PastIncident
from bot.memory.recall import Memory
from bot.runs.store import StoreError
from bot.slack.access import is_member
from bot.slack.errors import slack_error
from bot.slack.mentions import neutralise_mentions

log = logging.getLogger(__name__)

SCANNED, SHOWN = 50, 10
OFF = "Memory is off on this bot (MEMORY_RETENTION_DAYS=0), so there is no history to search."


def _text(text: str) -> str:
    """Text another thread wrote, in mrkdwn: it cannot open or close a link (``<https://…|label>``)."""
    return text.replace("<", "‹").replace(">", "›").replace("|", "¦")


def history_line(past: PastIncident) -> str:
    title = _text(past.title)
    where = f"<{past.link}|{title}>" if past.link else f"{title} (imported from `{_text(past.where)}`)"
    cause = f" — {_text(past.primary_cause)}" if past.primary_cause else ""
    return neutralise_mentions(f"• {past.day}: {where}{cause}")


class History:
    def __init__(self, client: AsyncWebClient, memory: Memory) -> None:
        self.client = client
        self.memory = memory

    async def answer(self, user: str, words: list[str]) -> str:
        """The private answer: matching postmortems the user may read, newest first."""
        if not self.memory.enabled:
            return OFF
        try:
            found = await self.memory.index.search(words, None, limit=SCANNED)
        except StoreError as exc:
            return f":x: I cannot read the team's memory right now: {exc.message}. Tell the bot's admin: {exc.fix}."
        member: dict[str, bool] = {}
        lines: list[str] = []
        for past, _ in found:
            if past.channel is not None:
                if past.channel not in member:
                    member[past.channel] = await self._member(past.channel, user)
                if not member[past.channel]:
                    continue
            lines.append(history_line(past))
            if len(lines) == SHOWN:
                break
        asked = f" matching “{neutralise_mentions(' '.join(words))}”" if words else ""
        if not lines:
            return f"No past postmortems{asked} in channels you are a member of."
        return f"*Past postmortems{asked}* (newest first, channels you are a member of):\n" + "\n".join(lines)

    async def _member(self, channel: str, user: str) -> bool:
        try:
            return await is_member(self.client, channel, user)
        except SlackApiError as exc:  # the bot left, or the channel is gone: its postmortems are not shown
            log.info("history: cannot check membership of %s (%s)", channel, slack_error(exc))
            return False
