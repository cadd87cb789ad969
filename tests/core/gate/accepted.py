"""Reviewer-accepted answers (tests/fixtures/accepted_answers): ten incidents of the labelled corpus, each with a
short account of the incident in our own words and an answer a senior reviewer would accept as written.
SOURCES.md in that folder names the public postmortem each account retells."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.core.loading import load_incident
from bot.core.prepare import prepare_incident
from bot.core.prompt import SYSTEM_PROMPT, build_user_prompt

FOLDER = Path(__file__).parents[2] / "fixtures" / "accepted_answers"


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
