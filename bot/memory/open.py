"""The process's Memory, from the settings and the run store it shares."""

from __future__ import annotations

from bot.memory.index import MemoryIndex
from bot.memory.privacy import PrivacyCheck
from bot.memory.recall import Memory
from bot.memory.tickets import TicketStates
from bot.runs.store import RunStore
from bot.settings import Settings
from bot.tickets.model import TicketBackend


def open_memory(settings: Settings, store: RunStore, backend: TicketBackend | None, privacy: PrivacyCheck | None = None) -> Memory:
    """``backend``: the configured ticket backend (None with TICKETS=none), which reads past tickets' states;
    ``privacy``: how channels are now (the Slack app's), so a channel made private since stops being recalled elsewhere."""
    return Memory(MemoryIndex(store), TicketStates(backend), settings.memory_retention_days, privacy)
