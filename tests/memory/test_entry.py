"""A finished run as memory keeps it: the primary cause sentence (citations and markup out), the rule-based classes
for a degraded run, the classes named by the cause, the tests with the CLI's tickets, everything redacted."""

from __future__ import annotations

from bot.core.memory import Signals
from bot.core.run import Run, RunFacts
from bot.core.sections import Section, SectionId
from bot.memory.entry import entry_for_run, primary_cause

SIGNALS = Signals(("retry-storm",), ("billing-service",), (), (), "INC-7 billing down", "2026-11-02T09:00:00Z").to_dict()


def finished(**fields: object) -> Run:
    run = Run(RunFacts("v", "m", signals=SIGNALS, **fields))  # type: ignore[arg-type]
    run.collecting()
    run.analysing()
    run.posting()
    run.finish()
    return run


def test_primary_cause_sentence() -> None:
    body = ("**Primary root cause:** The pool was exhausted by a batch job [m2, m3]. It held 18 connections.\n"
            "**Secondary causes (ranked):**\n1. No alert [m4]")
    assert primary_cause(body) == "The pool was exhausted by a batch job."
    assert primary_cause("**Primary root cause:**\nA typo in the timeout [m1]. More.") == "A typo in the timeout."
    assert primary_cause("The cache was cold. Then it stampeded.") == "The cache was cold."
    assert len(primary_cause("word " * 200)) <= 300


def test_a_run_with_its_cause_tests_and_tickets() -> None:
    info = finished(tests=[{"name": "Pool saturation", "type": "load"}, {"name": "Alert on waits", "type": "canary"}],
                    tickets=[{"test": "Alert on waits", "url": "https://github.com/a/b/issues/3", "key": "#3"}])
    sections = [Section(SectionId.ROOT_CAUSE, "Root Cause Determination",
                        "**Primary root cause:** remaining connection slots were reserved; token=ghp_" + "a" * 36 + " [m2].")]
    entry = entry_for_run(info, sections, "report with password=hunter2hunter2", source="file:/x", link=None)
    assert entry.status == "done" and entry.title == "INC-7 billing down" and entry.started_at is not None
    assert "connection-pool-exhaustion" in entry.signals.classes and "retry-storm" in entry.signals.classes
    assert "ghp_" not in entry.primary_cause and "[m2]" not in entry.primary_cause
    assert "hunter2" not in entry.body
    assert entry.tests == [{"name": "Pool saturation", "type": "load", "ticket_url": "", "ticket_key": ""},
                           {"name": "Alert on waits", "type": "canary", "ticket_url": "https://github.com/a/b/issues/3", "ticket_key": "#3"}]


def test_a_degraded_run_is_remembered_by_its_rule_based_classes() -> None:
    run = Run(RunFacts("v", "m", signals=SIGNALS))
    run.collecting()
    run.analysing()
    run.degrade("no model")
    run.posting()
    run.finish()
    entry = entry_for_run(run, [], "digest only", source="slack:C1/1.1", channel="C1", thread_ts="1.1")
    assert entry.status == "degraded" and entry.primary_cause == "rule-based: Retry storm"
