"""A channel made private after its incidents were remembered (issue 22): memory stored the flag it had then, so
recall asks the front end how the channel is now before showing its incidents in another channel. A channel found
private is flagged so in the store, and every later query (recall, recurrence counts) leaves it out from then on."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.core.memory import PastIncident, Signals
from bot.core.memory.rank import SHOWN
from bot.memory.index import MemoryIndex, Scope

# (incident, score, shared signals, text part): what MemoryIndex.similar gives
Similar = tuple[PastIncident, float, tuple[tuple[str, str], ...], float]
_ROUNDS = 3  # recall again after flagging, so the freed places go to incidents that may be shown


class PrivacyCheck(Protocol):
    async def private_now(self, channel: str) -> bool | None:
        """Whether ``channel`` is private now; None when that cannot be told (then it is shown to nobody else)."""


async def hide_now_private(index: MemoryIndex, check: PrivacyCheck, channels: set[str]) -> set[str]:
    """Of ``channels`` (remembered as public), those not to be shown outside themselves now. The ones that became
    private are flagged in the store; one that cannot be checked now is only hidden this time."""
    ordered = sorted(channels)
    states = await asyncio.gather(*(check.private_now(channel) for channel in ordered))
    hidden = {channel for channel, private in zip(ordered, states, strict=True) if private is not False}
    for channel, private in zip(ordered, states, strict=True):
        if private:
            await index.store.execute("UPDATE memory SET private = 1 WHERE channel = ? AND private = 0", (channel,))
    return hidden


async def similar_visible_now(index: MemoryIndex, check: PrivacyCheck, signals: Signals, scope: Scope) -> list[Similar]:
    """``index.similar`` without the incidents of other channels that are private now (or cannot be checked): asked
    again with room for those left out, so their places go to incidents that may be shown."""
    hidden: set[str] = set()
    limit = SHOWN
    for _ in range(_ROUNDS):
        found = await index.similar(signals, scope, limit=limit)
        others = {past.channel for past, *_ in found if past.channel and past.channel != scope.channel} - hidden
        newly = await hide_now_private(index, check, others) if others else set()
        hidden |= newly
        if not newly:
            break
        limit = SHOWN + sum(1 for past, *_ in found if past.channel in hidden)
    return [match for match in found if match[0].channel not in hidden][:SHOWN]
