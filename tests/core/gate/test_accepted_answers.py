"""Answers a reviewer accepts pass every check; the same answers spoiled in each garbage way are still caught."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.core.answer import Answer
from bot.core.gate import CHECKS, CheckId, evaluate
from bot.core.parser import parse_sections
from bot.core.sections import SECTION_TITLES, Section, SectionId
from tests.core.gate.accepted import Accepted, accepted

CASES = accepted()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_an_accepted_answer_passes_every_check(case: Accepted) -> None:
    sections = parse_sections(case.answer)
    assert [s.id for s in sections] == list(SECTION_TITLES)
    result = evaluate(sections, incident_text=case.incident_text, prompt_text=case.prompt_text)
    assert [str(f) for f in result.failures] == [] and result.repair_targets() == []


def _replace(sections: list[Section], sid: SectionId, body: Callable[[str], str]) -> list[Section]:
    return [Section(s.id, s.title, body(s.body)) if s.id is sid else s for s in sections]


def _prompt_rule(case: Accepted) -> str:
    """A whole instruction sentence of the prompt the answer was asked with (rule 2)."""
    line = next(line.strip() for line in case.prompt_text.splitlines() if line.strip().startswith("2. Cover only"))
    return line.split(". ", 1)[1].split(". ")[0] + "."


# Each way a model spoils an answer, applied to a good one: the check that must catch it, and the section it hits.
SPOILERS: dict[str, tuple[Callable[[Accepted, list[Section]], list[Section]], CheckId, SectionId]] = {
    "echo": (lambda c, s: _replace(s, SectionId.GAPS, lambda b: b + "\n" + _prompt_rule(c)), CheckId.ECHO, SectionId.GAPS),
    "template-tokens": (lambda c, s: _replace(s, SectionId.PREVENTION, lambda b: b + "<|im_end|>"), CheckId.TEMPLATE_TOKENS,
                        SectionId.PREVENTION),
    "loop": (lambda c, s: _replace(s, SectionId.TIMELINE, lambda b: b + "\n" + "The alert fired and nobody looked at it. " * 4),
             CheckId.REPETITION, SectionId.TIMELINE),
    "stub": (lambda c, s: _replace(s, SectionId.GAPS, lambda b: "TBD"), CheckId.SUBSTANCE, SectionId.GAPS),
    "no-primary-cause": (lambda c, s: _replace(s, SectionId.ROOT_CAUSE, lambda b: re.sub(r"(?i)primary root cause", "Main issue", b)),
                         CheckId.ROOT_CAUSE, SectionId.ROOT_CAUSE),
    "hedged-cause": (lambda c, s: _replace(s, SectionId.ROOT_CAUSE, lambda b: re.sub(r"(?i)(primary root cause\W+(?:was )?)",
                                                                                     r"\1possibly ", b, count=1)),
                     CheckId.ROOT_CAUSE, SectionId.ROOT_CAUSE),
    "no-root-cause-section": (lambda c, s: [x for x in s if x.id is not SectionId.ROOT_CAUSE], CheckId.PRESENT, SectionId.ROOT_CAUSE),
    "no-test-suite": (lambda c, s: [x for x in s if x.id is not SectionId.TEST_SUITE], CheckId.PRESENT, SectionId.TEST_SUITE),
    "tests-without-criteria": (lambda c, s: _replace(s, SectionId.TEST_SUITE, lambda b: re.sub(r"(?im)success criteria", "Notes", b)),
                               CheckId.TEST_FIELDS, SectionId.TEST_SUITE),
    "summary-as-bullets": (lambda c, s: _replace(s, SectionId.AUDIO_SUMMARY, lambda b: "- " + b.replace(". ", ".\n- ")),
                           CheckId.SUMMARY, SectionId.AUDIO_SUMMARY),
    "invented-time": (lambda c, s: _replace(s, SectionId.TIMELINE, lambda b: b + "\n- 23:47 — the on-call engineer paged."),
                      CheckId.TIMESTAMPS, SectionId.TIMELINE),
}


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
