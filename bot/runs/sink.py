"""Where a Slack run saves itself (the Run's sink): the run store, written behind the run.

The Run saves at each transition and as the pipeline's output arrives (bot/core/run/run.py); here the writes are
queued and written in order by one task per run, consecutive updates merged into one statement: a slow database
delays the record, never the run or the event loop. ``flush`` waits until everything so far is written; whoever
posts what was produced waits for it first (a section is saved before it is posted, the test plan before its
buttons can be clicked), and the runner at the end.

A store that stops accepting writes (disk full, read-only, deleted, unreachable) must not strand the thread at 👀: the
run carries on in memory, the failure is logged once, and the closing line warns that a restart could not resume it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from bot.core.run import Part, Run
from bot.runs import RunStore
from bot.runs.store import StoreError

log = logging.getLogger(__name__)


class StoreSink:
    """Without a store or run id (unit use) it writes nothing."""

    def __init__(self, store: RunStore | None = None, run_id: int | None = None, status_ts: str | None = None) -> None:
        self.store = store if run_id is not None else None
        self.run_id = run_id
        self.status_ts = status_ts  # the thread's status line, edited as the run goes
        self.store_error: str | None = None
        # ("update", {column: value}) or ("posted", (item, ts)), in the order they happened.
        self._pending: list[tuple[str, Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self._run: Run | None = None  # whose warnings note a store that stopped accepting writes

    def save(self, run: Run, parts: Iterable[Part]) -> None:
        self._run = run
        values: dict[str, Any] = {}
        for part in parts:
            if part == "state":
                values["run"] = run  # written as it is then: the newest status and facts
            elif part == "sections":
                values["sections"] = list(run.sections)
            else:
                values.update(report=run.report, summary=run.summary)
        self._queue("update", values)

    def posted(self, run: Run, item: str, ts: str | None) -> None:
        self._run = run
        self._queue("posted", (item, ts))

    def status_posted(self, ts: str) -> None:
        self.status_ts = ts
        self._queue("update", {"status_ts": ts})

    def thread_posted(self, thread_ts: str) -> None:
        """A channel-history run posted its own root message: resume must find that thread."""
        self._queue("update", {"thread_ts": thread_ts})

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

    async def written(self) -> None:
        """``flush``, then raise the StoreError that a write met: for a caller that must not go on without it."""
        await self.flush()
        if self.store_error is not None:
            raise StoreError(self.store_error)

    def _lost(self, exc: StoreError) -> None:
        if self.store_error is None:
            log.error("run %s continues without its record: %s", self.run_id, exc)
            self.store_error = exc.message
            if self._run is not None:
                self._run.facts.warnings.append(
                    f"the run store could not be written ({exc.message}); a restart now would not resume this run")
