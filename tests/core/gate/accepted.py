"""Reviewer-accepted answers (tests/fixtures/accepted_answers): ten incidents of the labelled corpus, each with a
short account of the incident in our own words and an answer a senior reviewer would accept as written.
SOURCES.md in that folder names the public postmortem each account retells."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.core.gate import CheckId
from bot.core.incident.load import load_incident
from bot.core.prepare import prepare_incident
from bot.core.prompt import SYSTEM_PROMPT, build_user_prompt
from bot.core.sections import Section, SectionId

FOLDER = Path(__file__).parents[2] / "fixtures" / "accepted_answers"
# The quiet notes: a signal the incident shows that no test names, which a reviewer mentions but does not send back.
NOTES = {"dfds-pm2022-007": ["signals in the incident that no test names (no rewrite asked): metric queue lag"]}


@dataclass(frozen=True)
class Accepted:
    id: str
    incident: Path  # the account of the incident, loaded as a user's text file would be
    answer: str  # the model's answer, as the fake model streams it

    @property
    def incident_text(self) -> str:
        return _prepared(self.incident)

    @property
    def prompt_text(self) -> str:
        return SYSTEM_PROMPT + "\n\n" + build_user_prompt(self.incident_text, title=self.id, notes=[])


@cache
def _prepared(path: Path) -> str:
    return prepare_incident(load_incident(str(path)), 6000).text


def accepted() -> list[Accepted]:
    cases = [Accepted(p.name.removesuffix(".incident.txt"), p, p.with_name(p.name.replace(".incident.txt", ".answer.md")).read_text())
             for p in sorted(FOLDER.glob("*.incident.txt"))]
    assert len(cases) >= 10, f"expected at least 10 accepted answers in {FOLDER}"
    return cases


def _replace(sections: list[Section], sid: SectionId, body: Callable[[str], str]) -> list[Section]:
    return [Section(s.id, s.title, body(s.body)) if s.id is sid else s for s in sections]


def _prompt_rule(case: Accepted) -> str:
    """A whole instruction sentence of the prompt the answer was asked with (rule 2)."""
    line = next(line.strip() for line in case.prompt_text.splitlines() if line.strip().startswith("2. Cover only"))
    return line.split(". ", 1)[1].split(". ")[0] + "."


_LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
          "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.")


# Each way a model spoils an answer (template tokens as Llama 2's: ChatML's never reach the gate, the LLM client strips
# them from the stream), applied to a good one: the check that must catch it, and the section it hits.
SPOILERS: dict[str, tuple[Callable[[Accepted, list[Section]], list[Section]], CheckId, SectionId]] = {
    "echo": (lambda c, s: _replace(s, SectionId.GAPS, lambda b: b + "\n" + _prompt_rule(c)), CheckId.ECHO, SectionId.GAPS),
    "template-tokens": (lambda c, s: _replace(s, SectionId.PREVENTION, lambda b: b + "</s>[INST]"), CheckId.TEMPLATE_TOKENS,
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
    # The garbage a later hostile review found passing: a counter ticking over one line, the incident pasted back,
    # placeholder text around the cause, template tokens in look-alike characters.
    "numbered-loop": (lambda c, s: _replace(s, SectionId.PREVENTION, lambda b: b + "\n" + "\n".join(
        f"Step {i}: Review the deployment settings again." for i in range(1, 13))), CheckId.REPETITION, SectionId.PREVENTION),
    "incident-pasted-back": (lambda c, s: _replace(s, SectionId.GAPS, lambda b: c.incident_text), CheckId.ECHO, SectionId.GAPS),
    "lorem-ipsum": (lambda c, s: _replace(s, SectionId.ROOT_CAUSE, lambda b: b.split("\n")[0] + "\n\n" + _LOREM),
                    CheckId.SUBSTANCE, SectionId.ROOT_CAUSE),
    "look-alike-tokens": (lambda c, s: _replace(s, SectionId.PREVENTION, lambda b: b + "\n＜|im_end|＞<|іm_start|>"),
                          CheckId.TEMPLATE_TOKENS, SectionId.PREVENTION),
}
