"""Runs counted by outcome where their state moves (each outcome once, however often it is re-recorded), and LLM
failures labelled by their class."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from bot import metrics
from bot.core.run import Run, RunFacts, RunState
from bot.errors import LLMBusy, ModelNotFound


def runs(outcome: str) -> float:
    return REGISTRY.get_sample_value("postmortem_runs_total", {"outcome": outcome}) or 0.0


@pytest.mark.parametrize("path", [
    [RunState.COLLECTING, RunState.ANALYSING, RunState.POSTING, RunState.DONE],
    [RunState.COLLECTING, RunState.FAILED],
    [RunState.ANALYSING, RunState.INTERRUPTED, RunState.INTERRUPTED],  # the second record of it is not a second run
])
def test_each_run_outcome_is_counted_once_where_the_state_moves(path: list[RunState]) -> None:
    before = {state: runs(state) for state in metrics.OUTCOMES}
    run = Run(RunFacts(prompt_version="v", model="m"))
    moves = {RunState.COLLECTING: run.collecting, RunState.ANALYSING: run.analysing, RunState.POSTING: run.posting,
             RunState.DONE: run.finish, RunState.FAILED: lambda: run.fail("boom"), RunState.INTERRUPTED: run.interrupt}
    for state in path:
        moves[state]()
    moved = {state: runs(state) - before[state] for state in metrics.OUTCOMES}
    assert moved == {state: float(state == path[-1]) for state in metrics.OUTCOMES}


def test_a_degraded_run_counts_as_degraded_not_done() -> None:
    before = runs("degraded"), runs("done")
    run = Run(RunFacts(prompt_version="v", model="m"))
    run.analysing()
    run.degrade("the model is down — fix: start it")
    run.posting()
    run.finish()
    assert (runs("degraded") - before[0], runs("done") - before[1]) == (1.0, 0.0)


def test_llm_failures_are_labelled_by_their_class_and_counted_per_server() -> None:
    server = "http://gpu7:8000/v1"
    assert metrics.error_kind(ModelNotFound("m", "f")) == "model_not_found"
    for exc in (LLMBusy("busy", "wait"), LLMBusy("busy", "wait")):
        with pytest.raises(LLMBusy), metrics.llm_call(server):
            raise exc
    assert REGISTRY.get_sample_value("postmortem_llm_errors_total", {"server": server, "kind": "llm_busy"}) == 2.0
    assert metrics.LLM_STATE[server].error == "llm_busy" and not metrics.LLM_STATE[server].ok
    with metrics.llm_call(server):
        pass
    assert metrics.LLM_STATE[server].ok and metrics.LLM_STATE[server].error is None


def test_the_outcomes_counted_are_run_states() -> None:
    """The registry names the outcomes by value (it imports nothing of the bot's): a renamed state must show here."""
    assert set(metrics.OUTCOMES) == {s.value for s in (RunState.DONE, RunState.DEGRADED, RunState.FAILED, RunState.INTERRUPTED)}
