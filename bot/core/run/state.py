"""A run's life as an explicit state machine: the one module that says what a run can become next. Only ``Run``'s
transition methods (run.py) move a run, so the Slack adapter, the CLI and the run store all agree."""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    QUEUED = "queued"
    COLLECTING = "collecting"
    ANALYSING = "analysing"
    POSTING = "posting"  # the report exists: posting, uploading, narrating
    DONE = "done"
    # Finished without a usable model answer: the rule-based digest, checklist and its narration stand in for it.
    DEGRADED = "degraded"
    EMPTY = "empty"  # nothing to analyse; a later trigger may run again
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # stopped by a signal or restart; resumable


TERMINAL = frozenset({RunState.DONE, RunState.DEGRADED, RunState.EMPTY})
# Runs a restart picks up again; FAILED waits for a person to trigger it again.
UNFINISHED = frozenset(set(RunState) - TERMINAL - {RunState.FAILED})

# Where each state may go. FAILED/INTERRUPTED are reachable from every state but the terminal ones; an interrupted run
# resumes from the start (re-collect) or, when its report was saved, straight into posting.
_NEXT: dict[RunState, frozenset[RunState]] = {
    RunState.QUEUED: frozenset({RunState.COLLECTING, RunState.ANALYSING, RunState.POSTING}),
    RunState.COLLECTING: frozenset({RunState.ANALYSING, RunState.EMPTY, RunState.POSTING}),
    RunState.ANALYSING: frozenset({RunState.POSTING}),
    RunState.POSTING: frozenset({RunState.DONE, RunState.DEGRADED}),
    RunState.INTERRUPTED: frozenset({RunState.QUEUED, RunState.COLLECTING, RunState.POSTING}),
    # A failed run whose report was saved is retried in place, so nothing it already posted appears twice.
    RunState.FAILED: frozenset({RunState.QUEUED}),
}


class InvalidTransition(RuntimeError):
    pass


def check_transition(current: RunState, new: RunState) -> None:
    if current in TERMINAL:
        raise InvalidTransition(f"run already {current.value}; cannot become {new.value}")
    if new in (RunState.FAILED, RunState.INTERRUPTED) and current is not RunState.FAILED:
        return
    if new is current:
        return
    if new not in _NEXT.get(current, frozenset()):
        raise InvalidTransition(f"a {current.value} run cannot become {new.value}")
