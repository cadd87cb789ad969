"""Memory across incidents (issue 22): the signals that make incidents alike, how past ones are ranked, and the
"Seen before" part of the digest. The store behind it is bot/memory; the front end hands the pipeline a Recall."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.core.digest import Digest
from bot.core.incident.model import Incident
from bot.core.memory.model import Match, PastIncident, PastTest, Recall, Recurrence, SeenBefore, TicketState
from bot.core.memory.render import grounding, render_markdown
from bot.core.memory.signals import Signals, class_titles, classes_in, signals_of
from bot.errors import PostmortemError

log = logging.getLogger(__name__)

# The digest is the first reply and must stay within 2 s: memory gets this long, then the digest goes without it.
RECALL_BUDGET_S = 1.5

__all__ = [
    "Match", "PastIncident", "PastTest", "Recall", "Recurrence", "SeenBefore", "Signals", "TicketState", "classes_in",
    "recall_within", "signals_of",
]


@dataclass(frozen=True)
class Recalled:
    seen: SeenBefore
    markdown: str  # the "Seen before" block for the digest ("" when nothing matched)
    grounding: str  # the same, bounded, for the model ("" when nothing matched)


async def recall_within(recall: Recall | None, digest: Digest, incident: Incident, signals: Signals,
                        budget_s: float = RECALL_BUDGET_S) -> Recalled:
    """Ask memory, within ``budget_s``. Memory never fails a run: a store that is down or slow leaves the digest
    as it was, and ``seen.note`` says why."""
    if recall is None:
        return Recalled(SeenBefore(), "", "")
    try:
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that arrives as the call ends,
        # and a worker that misses its cancellation never stops.
        async with asyncio.timeout(budget_s):
            seen = await recall.seen_before(digest, incident, signals)
    except TimeoutError:
        seen = SeenBefore(note=f"memory did not answer within {budget_s:g} s; the digest went without 'Seen before'")
    except PostmortemError as exc:
        seen = SeenBefore(note=f"memory could not be searched ({exc.message})")
    if seen.note:
        log.warning("%s", seen.note)
    titles = class_titles()
    return Recalled(seen, render_markdown(seen, titles), grounding(seen, titles))
