"""The Run: the only transitions, each saved through the sink; what the core emits saved as it arrives; run.json."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bot.core.events import PlanReady, Progress, ReportReady, SectionDone, SectionRevised, Stage, StageStarted
from bot.core.plan import TestPlan
from bot.core.run import InvalidTransition, Part, Run, RunFacts, RunState
from bot.core.sections import Section, SectionId


class Sink:
    """A sink that notes what was saved, as the run stood then, and what was posted."""

    def __init__(self) -> None:
        self.saved: list[tuple[RunState, tuple[Part, ...]]] = []
        self.items: list[tuple[str, str | None]] = []

    def save(self, run: Run, parts: Iterable[Part]) -> None:
        self.saved.append((run.status, tuple(parts)))

    def posted(self, run: Run, item: str, ts: str | None) -> None:
        self.items.append((item, ts))

    async def flush(self) -> None:
        return None


def new_run() -> tuple[Run, Sink]:
    sink = Sink()
    return Run(RunFacts(prompt_version="v", model="m"), sink=sink, id=7), sink


def test_each_transition_saves_the_run_as_it_then_stands() -> None:
    run, sink = new_run()
    run.collecting()
    run.analysing()
    run.posting()
    run.finish()
    assert [state for state, _ in sink.saved] == [RunState.COLLECTING, RunState.ANALYSING, RunState.POSTING, RunState.DONE]
    assert all(parts == ("state",) for _, parts in sink.saved)


def test_a_degraded_run_ends_degraded_with_its_cause_redacted() -> None:
    run, _ = new_run()
    run.collecting()
    run.analysing()
    run.degrade("the proxy said Bearer sk-proj-" + "a" * 40 + " — fix: check LLM_API_KEY")
    run.posting()
    run.finish()
    assert run.status is RunState.DEGRADED and run.mode == "degraded"
    assert run.cause is not None and "sk-proj-" not in run.cause and "fix: check LLM_API_KEY" in run.cause


def test_a_move_the_state_machine_forbids_raises_and_saves_nothing() -> None:
    run, sink = new_run()
    run.collecting()
    with pytest.raises(InvalidTransition):
        run.finish()  # a run that never posted cannot be done
    run.fail("boom password=hunter2hunter2")
    assert run.status is RunState.FAILED and "hunter2" not in (run.error or "")
    with pytest.raises(InvalidTransition):
        run.interrupt()  # a failed run waits for a person: only a new trigger requeues it
    run.requeue()
    assert [state for state, _ in sink.saved] == [RunState.COLLECTING, RunState.FAILED, RunState.QUEUED]


async def test_what_the_core_emits_is_saved_the_moment_it_arrives() -> None:
    run, sink = new_run()
    first = Section(SectionId.TIMELINE, "Timeline", "10:42 deploy")
    repaired = Section(SectionId.TIMELINE, "Timeline", "10:42 deploy of v2.31")
    await run(StageStarted(Stage.PREPARING, "12 messages"))
    await run(Progress(50, 1.0))  # measured, not saved: the next save carries it
    await run(SectionDone(first))
    await run(SectionRevised(repaired))
    await run(PlanReady(TestPlan(tests=[])))
    await run(ReportReady("# report", "spoken"))
    assert [parts for _, parts in sink.saved] == [("state",), ("sections", "state"), ("sections", "state"), ("state",),
                                                  ("report", "state")]
    assert run.sections == [repaired] and (run.report, run.summary) == ("# report", "spoken")


def test_the_ledger_skips_what_was_posted_and_takes_what_the_thread_shows() -> None:
    run, sink = new_run()
    run.mark_posted("digest/0", "1.1")
    run.found_in_thread({"digest/0": "9.9", "section:timeline#1/0": "2.2"})
    assert run.items() == {"digest/0": "1.1", "section:timeline#1/0": "2.2"}
    assert sink.items == [("digest/0", "1.1"), ("section:timeline#1/0", "2.2")]
    run.mark_posted("audio", None)
    assert run.was_posted("audio") and run.ts_of("audio") is None


def test_run_json_keeps_status_error_mode_and_cause_at_the_top() -> None:
    run, _ = new_run()
    run.collecting()
    run.fail("boom")
    data = run.to_dict()
    assert list(data)[:6] == ["prompt_version", "model", "status", "error", "mode", "cause"]
    assert (data["status"], data["error"], data["mode"]) == ("failed", "boom", "full")
    assert RunFacts.from_dict(data) == run.facts  # the run's own keys beside the facts are ignored on reading
