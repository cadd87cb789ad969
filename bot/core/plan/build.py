"""The plan of a run: parse the Recommended Test Suite, ask the model once only when fields are missing, and turn
drafts into validated TestSpecs. Never raises for a bad answer: what was parsed stands, and gaps are listed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.core.gate.text import normalise
from bot.core.plan.catches import caught_by
from bot.core.plan.complete import AnswerItem, JsonModel, ask
from bot.core.plan.model import TestPlan, TestSpec, TestType
from bot.core.plan.parse import Draft, clean_name, parse_suite
from bot.core.plan.vocab import kind_of, priority
from bot.core.redact import redact_text
from bot.core.sections import Section, SectionId

# What a test needs to be written; catches comes from the incident and priority has a default.
REQUIRED = ("type", "scope", "fault_injection", "success_criteria")
_FALLBACK_TYPE: TestType = "integration"


def suite_section(sections: Sequence[Section]) -> Section | None:
    return next((s for s in sections if s.id is SectionId.TEST_SUITE and s.body.strip()), None)


def _draft_type(draft: Draft) -> TestType | None:
    return kind_of(draft.fields.get("type", "")) or kind_of(draft.name) or kind_of(draft.default_type)


def gaps(drafts: Sequence[Draft]) -> list[str]:
    """"name: field" for every required field no draft gives (no drafts at all is one gap: the tests)."""
    if not drafts:
        return ["tests: none found in the section"]
    out = []
    for draft in drafts:
        for name in REQUIRED:
            known = _draft_type(draft) is not None if name == "type" else bool(draft.fields.get(name))
            if not known:
                out.append(f"{draft.name}: {name}")
    return out


def _match(drafts: list[Draft], items: list[AnswerItem]) -> list[AnswerItem | None]:
    """The model's record for each draft: same name first, else the one at the same position."""
    left = list(items)
    paired: list[AnswerItem | None] = []
    for index, draft in enumerate(drafts):
        key = normalise(draft.name)
        found = next((i for i in left if i.name and key and (normalise(i.name) in key or key in normalise(i.name))), None)
        if found is None and index < len(items) and items[index] in left:
            found = items[index]
        if found is not None:
            left.remove(found)
        paired.append(found)
    return paired


def merge(drafts: list[Draft], items: list[AnswerItem]) -> list[Draft]:
    """Fill the drafts' missing fields from the model's records; the markdown wins wherever it said something.
    With nothing parsed, the model's records are the tests."""
    if not drafts:
        items = [i for i in items if clean_name(i.name or "")]
        drafts = [Draft(clean_name(redact_text(i.name or ""))) for i in items]
    for draft, item in zip(drafts, _match(drafts, items), strict=True):
        if item is None:
            continue
        if _draft_type(draft) is None and item.type and kind_of(item.type):
            draft.fields["type"] = item.type
        # Redacted like the sections: the model may repeat a secret from the incident in its JSON too.
        draft.add({k: redact_text(str(v)) for k, v in item.model_dump(exclude={"name", "type"}).items() if v not in (None, "")})
    return drafts


def _spec(draft: Draft, incident_text: str, missing: list[str]) -> TestSpec:
    kind = _draft_type(draft)
    if kind is None:
        everything = " ".join(draft.fields.values())
        kind = kind_of(everything) or _FALLBACK_TYPE
        missing.append(f"{draft.name}: type (guessed {kind})")
    missing += [f"{draft.name}: {f}" for f in REQUIRED[1:] if not draft.fields.get(f)]
    text = " ".join([draft.name, *(draft.fields.get(f, "") for f in REQUIRED[1:])])
    return TestSpec(
        name=draft.name[:200],
        type=kind,
        scope=draft.fields.get("scope", ""),
        fault_injection=draft.fields.get("fault_injection", ""),
        success_criteria=draft.fields.get("success_criteria", ""),
        catches=draft.fields.get("catches") or caught_by(text, incident_text),
        priority=priority(draft.fields.get("priority", "")) or 2,
    )


async def build_plan(section_body: str, incident_text: str, model: JsonModel) -> tuple[TestPlan, list[str]]:
    """The plan of one test-suite section, and notes on what went wrong (for the run's fallbacks)."""
    drafts = parse_suite(section_body)
    notes: list[str] = []
    source: Any = "parsed"
    if missing := gaps(drafts):
        items, problem = await ask(model, section_body)
        source = "structured"
        notes.append(f"test plan: {len(missing)} field(s) missing from the markdown, asked the model once in JSON")
        if problem:
            notes.append(f"test plan: {problem}; kept what the markdown gave")
        drafts = merge(drafts, items)
    still: list[str] = []
    tests = [_spec(d, incident_text, still) for d in drafts]
    return TestPlan(tests=tests, source=source, missing_fields=still), notes


class PlanRecord(Protocol):
    """Where a run records its plan (the run's facts, bot/core/run): the plan sits below the run and names no type of it."""

    tests: list[dict[str, Any]]
    fallbacks: list[str]
    warnings: list[str]


async def make_test_plan(sections: Sequence[Section], incident_text: str, model: JsonModel, info: PlanRecord) -> TestPlan | None:
    """The pipeline's hook: the plan of this run's Recommended Test Suite, recorded in ``info`` (``tests``,
    fallbacks, a warning for fields still unknown). None when the answer has no test-suite section or no test."""
    section = suite_section(sections)
    if section is None:
        return None
    plan, notes = await build_plan(section.body, incident_text, model)
    info.tests = [t.model_dump() for t in plan.tests]
    info.fallbacks += notes
    if plan.missing_fields:
        shown = ", ".join(plan.missing_fields[:4]) + (f" (+{len(plan.missing_fields) - 4} more)" if len(plan.missing_fields) > 4 else "")
        info.warnings.append(f"the test plan still lacks {shown}")
    if not plan.tests:
        info.warnings.append("no test could be read from the Recommended Test Suite, so no test plan was made")
        return None
    return plan


def plan_from_record(info: PlanRecord) -> TestPlan | None:
    """The plan saved in a run's record, for a resumed run (None when the run had none)."""
    if not info.tests:
        return None
    return TestPlan(tests=[TestSpec.model_validate(t) for t in info.tests])

