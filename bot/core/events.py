"""What the core tells a front end while it runs: typed events through one hook.

The pipeline emits each event once, in order, and awaits its subscribers before it goes on (a section is saved
before it is posted because the recorder is subscribed first). ``Subscribers`` is the ordered fan-out a front end
builds: Slack's is the recorder, the live preview (SLACK_STREAM_SECTIONS) and the thread's delivery; the CLI's is
run.json and report.md. SectionPreview/PreviewRetracted matter only to a live view of the section being typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.citations import Source
from bot.core.plan import TestPlan
from bot.core.sections import Section, SectionId

# The messages cited so far (evidence id → its time and Slack ts): all a front end needs to render ``[m12]`` as a
# time or a link. Carried by every event with text, so no front end reads the run's facts on the side.
Sources = Mapping[str, Source]


class Stage(StrEnum):
    """What the pipeline is doing, for progress lines; the run's persisted state is RunState."""

    PREPARING = "preparing"
    ANALYSING = "analysing"
    NARRATING = "narrating"


@dataclass(frozen=True)
class StageStarted:
    stage: Stage
    detail: str  # a short human-readable status


@dataclass(frozen=True)
class Progress:
    """Streaming progress: every ~50 tokens, and on a clock (``tick``) even when no token came."""

    tokens: int  # completion tokens so far (estimated from characters)
    elapsed_s: float  # since the request was sent
    tick: bool = False  # reported by the clock rather than by a token count

    @property
    def rate(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def describe(self) -> str:
        return f"{self.tokens} tokens so far, {self.rate:.1f} tokens/s, {self.elapsed_s:.0f} s"


@dataclass(frozen=True)
class DigestReady:
    """The rule-based digest ("What the thread shows"), before the model is asked anything."""

    markdown: str
    sources: Sources = field(default_factory=dict)


@dataclass(frozen=True)
class SectionDone:
    """A section is complete and passed the gate; in stream order, while the model is still writing the rest.
    A resumed run emits its saved sections again: subscribers skip what they already delivered."""

    section: Section
    sources: Sources = field(default_factory=dict)


@dataclass(frozen=True)
class SectionPreview:
    """Part of the section the model is still writing, safe to show now (bot/core/answer/preview.py). Each ``body``
    extends the last; SectionDone then brings the section whole."""

    section_id: SectionId
    body: str
    sources: Sources = field(default_factory=dict)


@dataclass(frozen=True)
class PreviewRetracted:
    """Take back what SectionPreview showed: the gate holds the section back, later text changed a line already
    shown, or the answer ended (or failed) before the section did."""

    section_id: SectionId


@dataclass(frozen=True)
class SectionRevised:
    """The one repair rewrote a section already delivered by SectionDone: replace it where it is."""

    section: Section
    sources: Sources = field(default_factory=dict)


@dataclass(frozen=True)
class PlanReady:
    """The Recommended Test Suite as records, once the sections are final and before ReportReady."""

    plan: TestPlan


@dataclass(frozen=True)
class ReportReady:
    """The written report is final, with the text to be narrated (None without narration); narration may still run."""

    report: str
    summary: str | None
    sources: Sources = field(default_factory=dict)


Event = (StageStarted | Progress | DigestReady | SectionDone | SectionPreview | PreviewRetracted | SectionRevised
         | PlanReady | ReportReady)
Emit = Callable[[Event], Awaitable[None]]


async def ignore(event: Event) -> None:
    """The hook of a caller that only wants the result."""


class Subscribers:
    """One hook that hands each event to every subscriber in order; None entries (a part switched off) are skipped."""

    def __init__(self, *subscribers: Emit | None) -> None:
        self._subscribers = [s for s in subscribers if s is not None]

    async def __call__(self, event: Event) -> None:
        for subscriber in self._subscribers:
            await subscriber(event)
