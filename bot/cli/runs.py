"""`python -m bot runs` and `python -m bot runs show ID`: what the run store holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.errors import InputError
from bot.runs import RunRecord, open_store
from bot.runs.feedback import FeedbackVotes
from bot.settings import load_settings


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _line(r: RunRecord, votes: dict[str, int]) -> str:
    total = sum(r.facts.timings.values()) if r.facts else 0.0
    where = f"{r.channel}/{r.thread_ts or '-'}"
    tail = f"  error: {r.error}" if r.error else ""
    feedback = f"+{votes['up']}/-{votes['down']}"
    return f"{r.id:>5}  {_when(r.created_at)}  {r.status.value:<11} {r.trigger:<12} {where:<32} {total:6.1f}s {feedback:>8}{tail}"


async def list_runs(limit: int) -> int:
    store = await open_store(load_settings())
    try:
        records = await store.recent(limit)
        votes = await FeedbackVotes(store).tallies([r.id for r in records])  # one query for the whole list
    finally:
        await store.close()
    if not records:
        print("no runs recorded yet")
    else:
        print(f"{'id':>5}  {'created':<20}  {'status':<11} {'trigger':<12} {'channel/thread':<32} {'time':>7} {'👍/👎':>8}")
        for record in records:
            print(_line(record, votes[record.id]))
    return 0


async def show_run(run_id: int) -> int:
    store = await open_store(load_settings())
    try:
        record = await store.get(run_id)
        feedback = await FeedbackVotes(store).tally(run_id)
    finally:
        await store.close()
    if record is None:
        raise InputError(f"no run with id {run_id}", "list the runs with `python -m bot runs`")
    fields = {
        "id": record.id, "created": _when(record.created_at), "status": record.status.value, "trigger": record.trigger,
        "channel": record.channel, "thread_ts": record.thread_ts, "invoker": record.invoker, "error": record.error,
        "posted": sorted(record.posted), "feedback": feedback, "info": record.run().to_dict() if record.facts else None,
    }
    print(json.dumps(fields, indent=2))
    print("\n" + (record.report or "(no report saved)"))
    return 0
