"""The answer as the pipeline holds it: garbage held back, a repair taken only when it is better, required sections."""

from __future__ import annotations

from bot.core.answer.model import Answer
from bot.core.gate import CheckId
from bot.core.sections import Section
from tests.core.gate.reports import GOOD, R, S, T, good_sections, incident_text, prompt_text, section

ECHO = "One sub-heading per test with Type, Scope, Fault injection and Success criteria; each criterion needs a number."
LOOP = " ".join(["The database pool was exhausted."] * 40)


def answer() -> Answer:
    return Answer(prompt_text=prompt_text(), incident_text=incident_text())


def test_a_passing_report_is_shown_whole_and_needs_no_repair() -> None:
    a = answer()
    for s in good_sections():
        assert a.admit(s) == []
    result = a.evaluate()
    assert a.usable and a.held == {} and a.shown == good_sections() and result.passed and result.repair_targets() == []


def test_garbage_is_held_back_and_never_shown() -> None:
    a = answer()
    for s in good_sections(root_cause=LOOP):
        a.admit(s)
    assert list(a.held) == ["root_cause"] and R not in {s.id for s in a.shown}
    assert not a.usable  # the root cause is garbage: the run has no analysis to offer
    assert a.withheld() == {"root_cause": LOOP}
    assert R in a.evaluate().repair_targets()


def test_a_missing_required_section_is_a_repair_target() -> None:
    a = answer()
    for s in good_sections():
        if s.id is not S:
            a.admit(s)
    result = a.evaluate()
    assert [f.check for f in result.failures] == [CheckId.PRESENT] and result.repair_targets() == [S]


def test_a_repair_replaces_held_text_and_fills_a_missing_section() -> None:
    a = answer()
    for s in good_sections(root_cause=LOOP):
        if s.id is not S:
            a.admit(s)
    changed = a.apply_repair([section(R), section(S), section(T, "rewritten timeline nobody asked for")], [R, S], "")
    assert [(s.id, shown) for s, shown in changed] == [(R, False), (S, False)]  # both new to readers: posted, not edited
    assert a.usable and a.held == {} and a.evaluate().passed
    assert next(s for s in a.shown if s.id is T).body == GOOD[T]  # not a target: untouched


def test_a_repair_that_is_garbage_or_no_better_is_ignored() -> None:
    a = answer()
    weak = "Primary: the pool, probably, or maybe the retries."
    for s in good_sections(root_cause=weak):
        a.admit(s)
    assert a.evaluate().repair_targets() == [R]
    assert a.apply_repair([section(R, ECHO + "\n" + LOOP)], [R], "") == []  # garbage: the weak original stays
    assert a.apply_repair([section(R, weak + " Or the deploy.")], [R], "") == []  # same failures: no edit
    [(fixed, was_shown)] = a.apply_repair([section(R)], [R], "")
    assert was_shown and fixed.body == GOOD[R] and a.evaluate().passed


def test_unplaced_text_is_held_when_garbage() -> None:
    a = answer()
    a.admit(Section(None, "Postmortem", LOOP))
    assert a.held_titles() == ["Postmortem"] and a.shown == [] and not a.usable
