"""`analyze` and memory: the run is shown what the team's memory holds ("Seen before", public incidents and imported
files only) and is remembered once finished, in the run store DATA_DIR or DATABASE_URL names. A store that cannot
be opened costs the run its memory, never the run.

The run store is async and belongs to the event loop that opened it, while `analyze` runs the analysis and the
remembering in separate ``asyncio.run`` calls: so each of them opens the store on its own loop and closes it there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.run import Run
from bot.errors import ConfigError
from bot.memory.entry import entry_for_run
from bot.memory.open import open_memory
from bot.memory.recall import Memory, RunRecall
from bot.runs import open_store
from bot.runs.store import StoreError
from bot.settings import Settings
from bot.tickets import make_backend

if TYPE_CHECKING:  # the pipeline imports the LLM client (~1 s): a bad input must fail before it loads
    from bot.core.pipeline import PostmortemResult


def cli_source(input_path: str) -> str | None:
    """A file is remembered under its path (analysing it again replaces it); stdin (None) under its content's hash."""
    return None if input_path == "-" else f"file:{Path(input_path).resolve()}"


class CliMemory:
    def __init__(self, settings: Settings, source: str | None, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.source = source
        self.say = say
        self.enabled = settings.memory_retention_days > 0
        self.memory: Memory | None = None  # open only while the analysis's event loop runs
        self.result: PostmortemResult | None = None

    @staticmethod
    def open(settings: Settings, input_path: str, say: Callable[[str], None]) -> CliMemory:
        return CliMemory(settings, cli_source(input_path), say)

    async def _open(self, *, with_backend: bool) -> Memory | None:
        backend = None
        if with_backend:
            try:
                backend = make_backend(self.settings)
            except ConfigError:
                backend = None  # past tickets show without their state; `analyze --tickets` names the missing setting
        try:
            return open_memory(self.settings, await open_store(self.settings), backend)
        except StoreError as exc:
            self.say(f"[memory] not used: {exc}")
            self.enabled = False
            if backend is not None:
                await backend.aclose()
            return None

    async def start(self) -> None:
        """On the analysis's event loop, before the pipeline runs: the store (and ticket backend) for "Seen before"."""
        if self.enabled:
            self.memory = await self._open(with_backend=True)

    @property
    def recall(self) -> RunRecall | None:
        return self.memory.for_run(self.source or "stdin", None) if self.memory else None

    async def stop(self) -> None:
        """The store and the ticket backend's HTTP session belong to the run's event loop: closed before it ends."""
        memory, self.memory = self.memory, None
        if memory is not None:
            try:
                if memory.tickets.backend is not None:
                    await memory.tickets.backend.aclose()
            finally:
                await memory.index.store.close()

    def remember(self, run: Run) -> None:
        """Remember the finished run (on an event loop of its own, after the analysis's has ended)."""
        if self.enabled and self.result is not None:
            asyncio.run(self._remember(run, self.result))
        self.close()

    async def _remember(self, run: Run, result: PostmortemResult) -> None:
        memory = await self._open(with_backend=False)
        if memory is None:
            return
        try:
            source = self.source or f"stdin:{run.facts.input_hash}"
            await memory.remember(entry_for_run(run, result.sections, result.report_markdown, source=source))
        finally:
            await memory.index.store.close()

    def close(self) -> None:
        """Nothing is remembered after this (the run failed or was interrupted)."""
        self.enabled = False
        self.result = None
