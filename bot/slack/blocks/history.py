"""One past postmortem as a line of mrkdwn, for `/postmortem history` and the Home tab's search."""

from __future__ import annotations

from bot.core.memory import PastIncident
from bot.core.mentions import neutralise_mentions


def inert(text: str) -> str:
    """Text another thread wrote, in mrkdwn: it cannot open or close a link (``<https://…|label>``)."""
    return text.replace("<", "‹").replace(">", "›").replace("|", "¦")


def history_line(past: PastIncident) -> str:
    title = inert(past.title)
    where = f"<{past.link}|{title}>" if past.link else f"{title} (imported from `{inert(past.where)}`)"
    cause = f" — {inert(past.primary_cause)}" if past.primary_cause else ""
    return neutralise_mentions(f"• {past.day}: {where}{cause}")
