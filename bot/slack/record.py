"""Bridges one Slack run to the run store: what was produced and what was posted, as it happens."""

from __future__ import annotations

from bot.core.sections import Section
from bot.runs import RunStore


class Recorder:
    """Records a run's progress. Without a store (unit use) it only remembers in memory."""

    def __init__(self, store: RunStore | None = None, run_id: int | None = None, posted: dict[str, str] | None = None,
                 status_ts: str | None = None) -> None:
        # Without a run id there is nothing to write to, so the store is dropped rather than checked everywhere.
        self.store = store if run_id is not None else None
        self.run_id = run_id
        self._posted = dict(posted or {})
        self.status_ts = status_ts
        self._sections: list[Section] = []

    def _write(self, **fields: object) -> None:
        if self.store is not None:
            self.store.update(self.run_id, **fields)

    def was_posted(self, item: str) -> bool:
        return item in self._posted

    def posted(self, item: str, ts: str | None) -> None:
        self._posted[item] = ts or ""
        if self.store is not None:
            self.store.mark_posted(self.run_id, item, ts)

    def status(self, status: str, **fields: object) -> None:
        self._write(status=status, **fields)

    def status_posted(self, ts: str) -> None:
        self.status_ts = ts
        self._write(status_ts=ts)

    def section_ready(self, section: Section) -> None:
        """Saved before it is posted, so a restart can re-post it instead of asking the model again."""
        self._sections.append(section)
        self._write(sections=self._sections)

    def report_ready(self, report: str, summary: str | None) -> None:
        self._write(report=report, summary=summary)
