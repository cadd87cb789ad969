"""Bridges one Slack run to the run store: its RunInfo, what was produced and what was posted, as it happens.

A store that stops accepting writes (disk full, read-only, deleted) must not strand the thread at 👀: the run
carries on in memory, the failure is logged once, and the closing line warns that a restart could not resume it.
"""

from __future__ import annotations

import logging

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

    def _write(self, **values: object) -> None:
        if self.store is None or self.run_id is None:
            return
        try:
            self.store.update(self.run_id, **values)
        except StoreError as exc:
            self._lost(exc)

    def _lost(self, exc: StoreError) -> None:
        if self.store_error is None:
            log.error("run %s continues without its record: %s", self.run_id, exc)
            self.store_error = exc.message
            self.info.warnings.append(f"the run store could not be written ({exc.message}); a restart now would not resume this run")

    def save(self) -> None:
        """Persist the RunInfo whole (status, error, counts, notes, timings)."""
        self._write(info=self.info)

    def was_posted(self, item: str) -> bool:
        return item in self._posted

    def posted(self, item: str, ts: str | None) -> None:
        self._posted[item] = ts or ""
        if self.store is not None and self.run_id is not None:
            try:
                self.store.mark_posted(self.run_id, item, ts)
            except StoreError as exc:
                self._lost(exc)

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
        self._write(status_ts=ts)

    def thread_posted(self, thread_ts: str) -> None:
        """A channel-history run posted its own root message: resume must find that thread."""
        self._write(thread_ts=thread_ts)

    def section_ready(self, section: Section) -> None:
        """Saved before it is posted, so a restart can re-post it instead of asking the model again."""
        self._sections.append(section)
        self._write(sections=self._sections, info=self.info)

    def section_revised(self, section: Section) -> None:
        """The repair replaced a section: a resumed run must post the new text, not the old."""
        self._sections = [section if s.id is section.id else s for s in self._sections]
        self._write(sections=self._sections, info=self.info)

    def report_ready(self, report: str, summary: str | None) -> None:
        self._write(report=report, summary=summary, info=self.info)
