"""The gate: run every check that applies to a section as it completes, and to the whole answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.gate import facts, garbage, structure, summary
from bot.core.gate.guard import RepeatGuard
from bot.core.gate.model import CheckFailure, CheckId, GateResult
from bot.core.sections import Section, SectionId


@dataclass(frozen=True)
class Context:
    prompt_text: str  # the system and user prompts exactly as sent, joined
    incident_text: str  # the prepared incident (what went inside the data fence)
    root_cause: str = ""  # the answer's primary root-cause statement: the signals it names need a test


# A check reads a section body in context and returns a one-line problem, or None when it passes.
Check = Callable[[str, Context], str | None]


@dataclass(frozen=True)
class SectionCheck:
    id: CheckId
    run: Check
    sections: frozenset[SectionId] | None  # None: every section, the raw fallback included
    repairable: bool = True


_ALL = None
# The table the gate runs, in order. A section gets every row whose ``sections`` include it.
SECTION_CHECKS: tuple[SectionCheck, ...] = (
    SectionCheck(CheckId.ECHO, lambda body, ctx: garbage.echo(body, ctx.prompt_text, ctx.incident_text), _ALL),
    SectionCheck(CheckId.TEMPLATE_TOKENS, lambda body, ctx: garbage.template_tokens(body), _ALL),
    SectionCheck(CheckId.REPETITION, lambda body, ctx: garbage.repetition(body), _ALL),
    SectionCheck(CheckId.SUBSTANCE, lambda body, ctx: garbage.hollow(body), _ALL),
    SectionCheck(CheckId.TIMESTAMPS, lambda body, ctx: facts.timestamps(body, ctx.incident_text), _ALL),
    SectionCheck(CheckId.ROOT_CAUSE, lambda body, ctx: structure.root_cause(body), frozenset({SectionId.ROOT_CAUSE})),
    SectionCheck(CheckId.TEST_FIELDS, lambda body, ctx: structure.test_fields(body), frozenset({SectionId.TEST_SUITE})),
    SectionCheck(CheckId.SIGNAL_COVERAGE, lambda body, ctx: facts.signal_coverage(body, ctx.incident_text, ctx.root_cause),
                 frozenset({SectionId.TEST_SUITE})),
    SectionCheck(CheckId.SUMMARY, lambda body, ctx: summary.spoken_summary(body, ctx.incident_text),
                 frozenset({SectionId.AUDIO_SUMMARY})),
)


def check_section(section: Section, *, prompt_text: str, incident_text: str, root_cause: str = "") -> list[CheckFailure]:
    """Every check that applies to ``section``; an empty list means it passed. Cheap: run it as sections stream.
    ``root_cause``: the Root Cause section's body, when the answer has one (see ``root_cause_of``)."""
    ctx = Context(prompt_text, incident_text, structure.primary_statement(root_cause) if root_cause else "")
    failures = []
    for check in SECTION_CHECKS:
        if check.sections is not None and section.id not in check.sections:
            continue
        if (problem := check.run(section.body, ctx)) is not None:
            failures.append(CheckFailure(check.id, section.id, problem, check.repairable and section.id is not None))
    return failures


def root_cause_of(sections: Sequence[Section]) -> str:
    """The first Root Cause section's body ("" without one): the test suite is checked against what it names."""
    return next((s.body for s in sections if s.id is SectionId.ROOT_CAUSE), "")


def notes(sections: Sequence[Section], incident_text: str) -> list[str]:
    """What a reviewer would mention but not send back: the incident's signals that no test names."""
    suite = next((s.body for s in sections if s.id is SectionId.TEST_SUITE), None)
    if suite is None:
        return []
    statement = structure.primary_statement(root_cause_of(sections))
    other = facts.coverage(suite, incident_text, statement).other
    return [f"signals in the incident that no test names (no rewrite asked): {', '.join(other)}"] if other else []


def _gate(sections: Sequence[Section], incident_text: str, prompt_text: str) -> tuple[list[CheckFailure], RepeatGuard]:
    guard = RepeatGuard()
    failures: list[CheckFailure] = []
    kept = []
    for section in sections:
        if guard.feed(section.id):
            kept.append(section)
    root_cause = root_cause_of(kept)
    for section in kept:
        failures += check_section(section, prompt_text=prompt_text, incident_text=incident_text, root_cause=root_cause)
    if (repeat := guard.failure()) is not None:
        failures.append(repeat)
    return failures, guard


def check_report(sections: Sequence[Section], *, incident_text: str, prompt_text: str) -> list[CheckFailure]:
    """The whole answer: each section's checks, and each section once (a repeat and what follows it are dropped
    and reported, not checked). Sections must be in stream order."""
    return _gate(sections, incident_text, prompt_text)[0]


def evaluate(sections: Sequence[Section], *, incident_text: str, prompt_text: str, guard: RepeatGuard | None = None) -> GateResult:
    """check_report as a GateResult. Pass the streaming ``guard`` when the caller already cut the answer at a
    repeated heading, so the cut is recorded."""
    failures, own = _gate(sections, incident_text, prompt_text)
    if guard is not None and (repeat := guard.failure()) is not None:
        failures.append(repeat)
    return GateResult(failures, own.dropped + (guard.dropped if guard is not None else 0), notes(sections, incident_text))
