"""How a front end (CLI, Slack, tests) watches a run: stages, sections as they complete, the report."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from bot.core.sections import Section


class Stage(str, Enum):
    """What the pipeline is doing, for progress lines; the run's persisted state is RunState (run.py)."""

    PREPARING = "preparing"
    ANALYSING = "analysing"
    NARRATING = "narrating"


class RunObserver(Protocol):
    async def on_stage(self, stage: Stage, detail: str) -> None:
        """A stage started; ``detail`` is a short human-readable status."""

    async def on_tokens(self, tokens: int) -> None:
        """Streaming progress: completion tokens so far (called at most every ~50 tokens)."""

    async def on_section(self, section: Section) -> None:
        """A section is complete. Called in stream order, while the model is still writing the rest."""

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        """The written report is final, with the text to be narrated (None without narration).
        Narration may still be running."""


class NullObserver:
    """Observer that ignores everything; the default for callers that only want the result."""

    async def on_stage(self, stage: Stage, detail: str) -> None:
        return None

    async def on_tokens(self, tokens: int) -> None:
        return None

    async def on_section(self, section: Section) -> None:
        return None

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        return None
