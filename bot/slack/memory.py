"""Slack's side of memory: a finished thread is remembered with its permalink and whether its channel is private."""

from __future__ import annotations

import logging

from bot.core.pipeline import PostmortemResult
from bot.memory.entry import entry_for_run
from bot.memory.recall import Memory

log = logging.getLogger(__name__)


def thread_source(channel: str, thread_ts: str) -> str:
    """A thread's one name in memory: a later run of the same thread replaces it, `forget <link>` finds it."""
    return f"slack:{channel}/{thread_ts}"


async def remember_run(memory: Memory, result: PostmortemResult, *, run_id: int | None, channel: str, thread_ts: str,
                       private: bool, link: str | None) -> None:
    """Called once the run is finished, before ✅ or ⚠️ is shown (whoever sees it finds the run in `/postmortem
    history`): nothing here may turn it into a failure, so any error is logged. ``link``: the thread's permalink
    (None: remembered without it; "Seen before" then names it by title and date)."""
    if not memory.enabled:
        return
    try:
        entry = entry_for_run(result.run, result.sections, result.report_markdown, source=thread_source(channel, thread_ts),
                              run_id=run_id, channel=channel, thread_ts=thread_ts, private=private,
                              link=link)
    except Exception:
        log.exception("could not remember the postmortem of %s/%s", channel, thread_ts)
        return
    await memory.remember(entry)
