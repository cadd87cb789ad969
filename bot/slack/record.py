"""Bridges one Slack run to the run store: its RunInfo, what was produced and what was posted, as it happens.

It is the first subscriber to the core's events: what the pipeline produced (sections, the test plan, the report) is
queued for the store as it arrives, and whoever posts it waits for ``flush`` first, so a restart re-posts it instead
of asking the model again, and the test plan's buttons cannot be clicked before the plan is stored. Writes are
written in order by one task per run, consecutive updates merged into one statement: a slow database delays the
record, never the run or the event loop. ``flush`` waits until everything so far is written (or has failed).

A store that stops accepting writes (disk full, read-only, deleted, unreachable) must not strand the thread at 👀: the
run carries on in memory, the failure is logged once, and the closing line warns that a restart could not resume it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.core.events import Event, PlanReady, ReportReady, SectionDone, SectionRevised, StageStarted
from bot.core.report import RunInfo
from bot.core.sections import Section
from bot.runs import RunStore
from bot.runs.store import StoreError

log = logging.getLogger(__name__)


class Recorder:
    """Without a store or run id (unit use) it only remembers in memory."""

    def __init__(self, info: RunInfo, store: RunStore | None = None, run_id: int | None = None,
                 posted: dict[str, str] | None = None, status_ts: str | None = None) -> None:
        self.info = info
        self.store = store if run_id is not None else None
        self.run_id = run_id
        self._posted = dict(posted or {})
        self.status_ts = status_ts
        self._sections: list[Section] = []
        self.store_error: str | None = None
        # ("update", {column: value}) or ("posted", (item, ts)), in the order they happened.
        self._pending: list[tuple[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None

    def _queue(self, kind: str, value: Any) -> None:
        if self.store is None:
            return
        if kind == "update" and self._pending and self._pending[-1][0] == "update":
            self._pending[-1][1].update(value)  # the later values win, as two statements in a row would
        else:
            self._pending.append((kind, dict(value) if kind == "update" else value))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all(), name=f"recorder-{self.run_id}")

    async def _write_all(self) -> None:
        assert self.store is not None and self.run_id is not None
        while self._pending:
            kind, value = self._pending.pop(0)
            try:
                if kind == "update":
                    await self.store.update(self.run_id, **value)
                else:
                    await self.store.mark_posted(self.run_id, *value)
            except StoreError as exc:
                self._lost(exc)

    async def flush(self) -> None:
        """Wait until every write queued so far is in the store (or has failed and been noted)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _lost(self, exc: StoreError) -> None:
        if self.store_error is None:
            log.error("run %s continues without its record: %s", self.run_id, exc)
            self.store_error = exc.message
            self.info.warnings.append(f"the run store could not be written ({exc.message}); a restart now would not resume this run")

    async def __call__(self, event: Event) -> None:
        """Saves what the core produced the moment it arrives; a subscriber that posts it waits for ``flush`` first."""
        match event:
            case StageStarted() | PlanReady():
                self.save()  # the plan is in the RunInfo: stored before its buttons can be clicked
            case SectionDone(section):
                self.section_ready(section)
            case SectionRevised(section):
                self.section_revised(section)
            case ReportReady(report, summary):
                self.report_ready(report, summary)

    def save(self) -> None:
        """Persist the RunInfo whole (status, error, counts, notes, timings)."""
        self._queue("update", {"info": self.info})

    def was_posted(self, item: str) -> bool:
        return item in self._posted

    def posted(self, item: str, ts: str | None) -> None:
        self._posted[item] = ts or ""
        self._queue("posted", (item, ts))

    def items(self) -> dict[str, str]:
        """Every item posted so far (item → ts; "" for uploads)."""
        return dict(self._posted)

    def ts_of(self, item: str) -> str | None:
        return self._posted.get(item) or None

    def found_in_thread(self, items: dict[str, str]) -> None:
        """Items the thread shows as posted though the store missed them (killed between post and record)."""
        for item, ts in items.items():
            if not self.was_posted(item):
                self.posted(item, ts)

    def status_posted(self, ts: str) -> None:
        self.status_ts = ts
        self._queue("update", {"status_ts": ts})

    def thread_posted(self, thread_ts: str) -> None:
        """A channel-history run posted its own root message: resume must find that thread."""
        self._queue("update", {"thread_ts": thread_ts})

    def section_ready(self, section: Section) -> None:
        self._sections.append(section)
        self._queue("update", {"sections": list(self._sections), "info": self.info})

    def section_revised(self, section: Section) -> None:
        """The repair replaced a section: a resumed run must post the new text, not the old."""
        self._sections = [section if s.id is section.id else s for s in self._sections]
        self._queue("update", {"sections": list(self._sections), "info": self.info})

    def report_ready(self, report: str, summary: str | None) -> None:
        self._queue("update", {"report": report, "summary": summary, "info": self.info})
