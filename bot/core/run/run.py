"""One run, owned in one place: what it is for, where it stands, what it produced and posted.

Only the transition methods below change a run's status, and each saves the run through its sink (Slack: the run
store, written behind; the CLI: run.json). The run is also the first subscriber to the core's events: what the
pipeline produces (sections, the test plan in the facts, the report) is saved the moment it arrives, and whoever
posts it waits for ``flush`` first, so a restart re-posts it instead of asking the model again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot import metrics
from bot.core.events import Event, PlanReady, ReportReady, SectionDone, SectionRevised, StageStarted
from bot.core.redact import redact_text
from bot.core.run.facts import RunFacts
from bot.core.run.state import RunState, check_transition
from bot.core.sections import Section

# What a save covers: the state (status, error, mode, cause and the facts), the sections, the report and summary.
Part = Literal["state", "sections", "report"]


class RunSink(Protocol):
    """Where a run saves itself. ``save`` and ``posted`` return at once (a sink may write behind); ``flush`` waits
    until everything so far is written, or has failed and been noted in the run's warnings."""

    def save(self, run: Run, parts: Iterable[Part]) -> None: ...

    def posted(self, run: Run, item: str, ts: str | None) -> None: ...

    async def flush(self) -> None: ...


class Unsaved:
    """The sink of a run nobody keeps (unit use, a read-only view)."""

    def save(self, run: Run, parts: Iterable[Part]) -> None:
        return None

    def posted(self, run: Run, item: str, ts: str | None) -> None:
        return None

    async def flush(self) -> None:
        return None


@dataclass(frozen=True)
class Target:
    """What a run analyses: a Slack thread (or, without ``thread_ts``, a channel's recent history), or for the CLI
    an input file (``path``)."""

    trigger: str = "cli"  # "command" | "command-link" | "reaction" | "shortcut" | "mention" | "regenerate" | "cli"
    channel: str = ""
    thread_ts: str | None = None
    invoker: str = ""
    response_url: str | None = None
    path: str | None = None


class Run:
    def __init__(self, facts: RunFacts, *, target: Target | None = None, sink: RunSink | None = None, id: int | None = None,
                 status: RunState = RunState.QUEUED, error: str | None = None, mode: str = "full", cause: str | None = None,
                 posted: dict[str, str] | None = None, sections: list[Section] | None = None, report: str | None = None,
                 summary: str | None = None) -> None:
        self.facts = facts
        self.target = target or Target()
        self.sink: RunSink = sink or Unsaved()
        self.id = id
        self.status = status
        self.error = error
        # "degraded": no usable model answer (unreachable, stalled, garbage after the repair); ``cause`` says why.
        self.mode, self.cause = mode, cause
        self._posted = dict(posted or {})  # item → Slack ts ("" for uploads): what is in the thread already
        self.sections = list(sections or [])
        self.report, self.summary = report, summary

    # -- transitions: the only way a run changes status -------------------------------------------
    def collecting(self) -> None:
        self._move(RunState.COLLECTING)

    def analysing(self) -> None:
        self._move(RunState.ANALYSING)

    def posting(self) -> None:
        """The report exists: posting, uploading, narrating."""
        self._move(RunState.POSTING)

    def degrade(self, cause: str) -> None:
        """No usable model answer: the run ends DEGRADED with the digest standing in. ``cause`` is cause and fix."""
        self.mode, self.cause = "degraded", redact_text(cause)
        self.sink.save(self, ("state",))

    def finish(self) -> None:
        """The run's last move: DONE, or DEGRADED when the digest stood in for the model."""
        self._move(RunState.DEGRADED if self.mode == "degraded" else RunState.DONE)

    def empty(self, why: str) -> None:
        """Nothing to analyse: not done, so a later trigger (once people wrote in the thread) runs again."""
        self._move(RunState.EMPTY, why)

    def fail(self, error: str) -> None:
        self._move(RunState.FAILED, error)

    def interrupt(self, error: str | None = None) -> None:
        """Stopped by a signal, a restart or a dead replica; resumable."""
        self._move(RunState.INTERRUPTED, error)

    def requeue(self) -> None:
        """An interrupted or failed run is tried again under its own id: nothing it posted is posted twice."""
        self._move(RunState.QUEUED)

    def restart(self, facts: RunFacts) -> None:
        """A new attempt under the same id, analysed afresh (no saved report to carry on from): nothing produced yet,
        no old error, but what an earlier attempt posted is still skipped. The status moves on ``requeue``."""
        self.facts, self.error, self.mode, self.cause = facts, None, "full", None
        self.sections, self.report, self.summary = [], None, None

    def _move(self, new: RunState, error: str | None = None) -> None:
        """Raises InvalidTransition on a move the state machine (state.py) does not allow."""
        check_transition(self.status, new)
        if new is not self.status:
            metrics.run_ended(new)
        self.status = new
        if error is not None:
            # Errors quote servers and the thread (an LLM proxy may echo the request's key): never store a secret.
            self.error = redact_text(error)
        self.sink.save(self, ("state",))

    # -- what the core produced: the first subscriber to its events -------------------------------
    async def __call__(self, event: Event) -> None:
        match event:
            case StageStarted() | PlanReady():  # the plan is in the facts: stored before its buttons can be clicked
                self.sink.save(self, ("state",))
            case SectionDone(section):
                self.sections.append(section)
                self.sink.save(self, ("sections", "state"))
            case SectionRevised(section):  # a resumed run must post the new text, not the old
                self.sections = [section if s.id is section.id else s for s in self.sections]
                self.sink.save(self, ("sections", "state"))
            case ReportReady(report, summary):
                self.report, self.summary = report, summary
                self.sink.save(self, ("report", "state"))

    def save(self) -> None:
        """Save the state now (facts measured since the last save), e.g. before the run is given back."""
        self.sink.save(self, ("state",))

    async def flush(self) -> None:
        await self.sink.flush()

    # -- the posted ledger ------------------------------------------------------------------------
    def was_posted(self, item: str) -> bool:
        return item in self._posted

    def mark_posted(self, item: str, ts: str | None) -> None:
        self._posted[item] = ts or ""
        self.sink.posted(self, item, ts)

    def ts_of(self, item: str) -> str | None:
        return self._posted.get(item) or None

    def items(self) -> dict[str, str]:
        """Every item posted so far (item → ts; "" for uploads)."""
        return dict(self._posted)

    def found_in_thread(self, items: dict[str, str]) -> None:
        """Items the thread shows as posted though the ledger missed them (killed between post and record)."""
        for item, ts in items.items():
            if not self.was_posted(item):
                self.mark_posted(item, ts)

    # -- run.json and the store's JSON column ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """run.json: the facts with the status, error, mode and cause beside them."""
        facts = self.facts.to_dict()
        return {"prompt_version": facts["prompt_version"], "model": facts["model"], "status": self.status.value,
                "error": self.error, "mode": self.mode, "cause": self.cause, **facts}
