"""`analyze` and memory: the run is shown what the team's memory holds ("Seen before", public incidents and imported
files only) and is remembered once finished, in the run store DATA_DIR or DATABASE_URL names. A store that cannot
be opened costs the run its memory, never the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.core.pipeline import PostmortemResult
from bot.core.report import RunInfo
from bot.errors import ConfigError
from bot.memory.entry import entry_for_run
from bot.memory.open import open_memory
from bot.memory.recall import Memory, RunRecall
from bot.runs import open_store
from bot.runs.store import StoreError
from bot.settings import Settings
from bot.tickets import make_backend


def cli_source(input_path: str) -> str | None:
    """A file is remembered under its path (analysing it again replaces it); stdin (None) under its content's hash."""
    return None if input_path == "-" else f"file:{Path(input_path).resolve()}"


class CliMemory:
    def __init__(self, memory: Memory | None, source: str | None) -> None:
        self.memory = memory
        self.source = source
        self.result: PostmortemResult | None = None

    @staticmethod
    def open(settings: Settings, input_path: str, say: Callable[[str], None]) -> CliMemory:
        source = cli_source(input_path)
        if settings.memory_retention_days == 0:
            return CliMemory(None, source)
        try:
            backend = make_backend(settings)
        except ConfigError:
            backend = None  # past tickets show without their state; `analyze --tickets` names the missing setting
        try:
            return CliMemory(open_memory(settings, open_store(settings), backend), source)
        except StoreError as exc:
            say(f"[memory] not used: {exc}")
            return CliMemory(None, source)

    @property
    def recall(self) -> RunRecall | None:
        return self.memory.for_run(self.source or "stdin", None) if self.memory else None

    def remember(self, info: RunInfo) -> None:
        """Remember the finished run, then let the store go."""
        if self.memory is None:
            return
        try:
            if self.result is not None:
                source = self.source or f"stdin:{info.input_hash}"
                self.memory.remember(entry_for_run(info, self.result.sections, self.result.report_markdown, source=source))
        finally:
            self.close()

    def close(self) -> None:
        if self.memory is not None:
            self.memory.index.store.close()
            self.memory = None

    async def aclose_backend(self) -> None:
        """The ticket backend's HTTP session belongs to the run's event loop: closed before that loop ends."""
        if self.memory is not None and self.memory.tickets.backend is not None:
            await self.memory.tickets.backend.aclose()
