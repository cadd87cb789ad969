"""Answers a reviewer accepts pass every check; the same answers spoiled in each garbage way are still caught."""

from __future__ import annotations

import pytest

from bot.core.answer.model import Answer
from bot.core.gate import CHECKS, CheckId, evaluate
from bot.core.sections import SECTION_TITLES
from bot.core.sections.parse import parse_sections
from tests.core.gate.accepted import NOTES, SPOILERS, Accepted, accepted

CASES = accepted()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_an_accepted_answer_passes_every_check(case: Accepted) -> None:
    sections = parse_sections(case.answer)
    assert [s.id for s in sections] == list(SECTION_TITLES)
    result = evaluate(sections, incident_text=case.incident_text, prompt_text=case.prompt_text)
    assert [str(f) for f in result.failures] == [] and result.repair_targets() == []
    assert result.notes == NOTES.get(case.id, [])


@pytest.mark.parametrize("spoiler", list(SPOILERS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_spoiled_accepted_answer_is_caught(case: Accepted, spoiler: str) -> None:
    spoil, check, section = SPOILERS[spoiler]
    answer = Answer(case.prompt_text, case.incident_text, spoil(case, parse_sections(case.answer)))
    result = answer.evaluate()
    assert (check, section) in {(f.check, f.section) for f in result.failures}, [str(f) for f in result.failures]
    if CHECKS[check].garbage:
        assert not result.usable  # held back, never shown
    else:
        assert section in result.repair_targets() or check is CheckId.PRESENT
