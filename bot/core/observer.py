"""How a front end (CLI, Slack, tests) watches a run: stages, sections as they complete, the report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.sections import Section, SectionId
from bot.core.testplan import TestPlan


class Stage(StrEnum):
    """What the pipeline is doing, for progress lines; the run's persisted state is RunState (run.py)."""

    PREPARING = "preparing"
    ANALYSING = "analysing"
    NARRATING = "narrating"


@dataclass(frozen=True)
class Progress:
    tokens: int  # completion tokens so far (estimated from characters)
    elapsed_s: float  # since the request was sent
    tick: bool = False  # reported by the clock rather than by a token count

    @property
    def rate(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def describe(self) -> str:
        return f"{self.tokens} tokens so far, {self.rate:.1f} tokens/s, {self.elapsed_s:.0f} s"


class RunObserver(Protocol):
    async def on_stage(self, stage: Stage, detail: str) -> None:
        """A stage started; ``detail`` is a short human-readable status."""

    async def on_progress(self, progress: Progress) -> None:
        """Streaming progress: every ~50 tokens, and on a clock (``tick``) even when no token came."""

    async def on_digest(self, markdown: str) -> None:
        """The rule-based digest ("What the thread shows"), before the model is asked anything."""

    async def on_section(self, section: Section) -> None:
        """A section is complete. Called in stream order, while the model is still writing the rest."""

    async def on_section_preview(self, section_id: SectionId, body: str) -> None:
        """Part of the section the model is still writing, safe to show now (bot/core/preview.py: complete lines,
        redacted, screened by the gate). Each call's ``body`` extends the last; ``on_section`` then brings it whole."""

    async def on_preview_retracted(self, section_id: SectionId) -> None:
        """Take back what ``on_section_preview`` showed: the gate holds the section back, later text changed a line
        already shown, or the answer ended before the section did."""

    async def on_section_revised(self, section: Section) -> None:
        """The one repair rewrote a section already delivered by ``on_section``: replace it where it is."""

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        """The written report is final, with the text to be narrated (None without narration).
        Narration may still be running."""

    async def on_test_plan(self, plan: TestPlan) -> None:
        """The Recommended Test Suite as records, once the sections are final and before ``on_report``."""


class NullObserver:
    """Observer that ignores everything; the default for callers that only want the result."""

    async def on_stage(self, stage: Stage, detail: str) -> None:
        return None

    async def on_progress(self, progress: Progress) -> None:
        return None

    async def on_digest(self, markdown: str) -> None:
        return None

    async def on_section(self, section: Section) -> None:
        return None

    async def on_section_preview(self, section_id: SectionId, body: str) -> None:
        return None

    async def on_preview_retracted(self, section_id: SectionId) -> None:
        return None

    async def on_section_revised(self, section: Section) -> None:
        return None

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        return None

    async def on_test_plan(self, plan: TestPlan) -> None:
        return None
