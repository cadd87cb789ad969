"""The gate's vocabulary: check ids, a CheckFailure, and the result of a whole answer (JSON for run.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.sections import SECTION_TITLES, SectionId


class CheckId(StrEnum):
    ECHO = "no_prompt_echo"
    TEMPLATE_TOKENS = "no_template_tokens"
    REPETITION = "no_repetition"
    SUBSTANCE = "not_hollow"
    SECTIONS_ONCE = "sections_once"
    ROOT_CAUSE = "one_primary_root_cause"
    TEST_FIELDS = "tests_complete"
    SIGNAL_COVERAGE = "signals_mapped_to_tests"
    TIMESTAMPS = "no_invented_timestamps"
    SUMMARY = "spoken_summary_prose"
    PRESENT = "analysis_sections_written"


@dataclass(frozen=True)
class CheckInfo:
    title: str
    # A "garbage" failure means the text is not analysis at all (an echo, a loop, template spam): it must never
    # be shown as a postmortem. The others are quality gaps in otherwise real analysis.
    garbage: bool
    fix: str  # the instruction a repair prompt gives for this check


# Table of every check, in the order results are reported. Extend here when adding a check.
CHECKS: dict[CheckId, CheckInfo] = {
    CheckId.ECHO: CheckInfo("no echo of the prompt", True,
                            "Write real analysis of this incident; do not copy the instructions or format hints you were given."),
    CheckId.TEMPLATE_TOKENS: CheckInfo("no chat-template tokens", True,
                                       "Write plain Markdown only: no chat-template tokens such as <|im_end|> or [INST]."),
    CheckId.REPETITION: CheckInfo("no degenerate repetition", True, "Say each thing once; do not repeat sentences or phrases."),
    CheckId.SUBSTANCE: CheckInfo("not a stub", True, "Write the section's analysis in full sentences about this incident."),
    CheckId.SECTIONS_ONCE: CheckInfo("each section once", False, "Write each section once."),
    CheckId.ROOT_CAUSE: CheckInfo("exactly one primary root cause, secondary causes ranked", False,
                                  "Start with '**Primary root cause:**' and exactly one sentence without hedging, then "
                                  "'**Secondary causes (ranked):**' as a numbered list (1., 2., 3.)."),
    CheckId.TEST_FIELDS: CheckInfo("every test has type, scope, fault injection and a numeric success criterion", False,
                                   "Give one sub-heading per test, each with '**Type:**', '**Scope:**', '**Fault injection:**' and "
                                   "'**Success criteria:**' containing a number (for example 'p99 < 300 ms')."),
    CheckId.SIGNAL_COVERAGE: CheckInfo("every alert that fired and every signal the root cause rests on maps to a test", False,
                                       "Make sure every alert and metric listed below is named by at least one test."),
    CheckId.TIMESTAMPS: CheckInfo("no timestamps absent from the incident", False,
                                  "Use only timestamps that appear in the incident data; write 'unknown' otherwise."),
    CheckId.SUMMARY: CheckInfo("spoken summary: 120–230 words of prose in the incident's language", False,
                               "Write 150 to 200 words of plain spoken prose in the language of the incident: no headings, "
                               "no lists, no markdown."),
    CheckId.PRESENT: CheckInfo("the root cause and the recommended tests are written", False,
                               "Write this section: it is the analysis the postmortem exists for."),
}


@dataclass(frozen=True)
class CheckFailure:
    check: CheckId
    section: SectionId | None  # None: the answer as a whole
    message: str  # one line, for people: what is wrong, concretely
    repairable: bool  # a targeted re-ask of ``section`` can fix it

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check.value, "section": self.section.value if self.section else None,
                "message": self.message, "repairable": self.repairable}

    def __str__(self) -> str:
        where = SECTION_TITLES[self.section] if self.section else "answer"
        return f"{where}: {self.message}"

    @property
    def shown(self) -> str:
        """For people: a garbage failure's message quotes the text held back, so only the check is named."""
        where = SECTION_TITLES[self.section] if self.section else "answer"
        return f"{where}: {CHECKS[self.check].title if CHECKS[self.check].garbage else self.message}"


def is_garbage(failures: list[CheckFailure]) -> bool:
    """Text with such a failure is not analysis: it is held back, never shown, reported or spoken."""
    return any(CHECKS[f.check].garbage for f in failures)


@dataclass
class GateResult:
    """Every check's verdict on one answer. ``dropped_sections``: sections cut off after a repeated heading.
    ``notes``: what a reviewer would remark on without sending the answer back (never a repair, never a warning)."""

    failures: list[CheckFailure] = field(default_factory=list)
    dropped_sections: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def usable(self) -> bool:
        """No garbage failure: what remains is real analysis, perhaps with quality gaps."""
        return not any(CHECKS[f.check].garbage for f in self.failures)

    def failed(self, check: CheckId) -> list[CheckFailure]:
        return [f for f in self.failures if f.check is check]

    def repair_targets(self) -> list[SectionId]:
        """Sections a targeted re-ask should rewrite, in report order."""
        wanted = {f.section for f in self.failures if f.repairable and f.section is not None}
        return [sid for sid in SECTION_TITLES if sid in wanted]

    def closing_line(self) -> str:
        """One line for Slack and the CLI: "" when everything passed."""
        if self.passed:
            return ""
        shown = "; ".join(f.shown for f in self.failures[:3])
        more = f" (+{len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        return f"Quality check: {shown}{more}"

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": {cid.value: not self.failed(cid) for cid in CHECKS},
            "failures": [f.to_json() for f in self.failures],
            "dropped_sections": self.dropped_sections,
            "notes": self.notes,
        }


def quality_record(before: GateResult, after: GateResult | None = None) -> dict[str, Any]:
    """run.json ``"quality"``: each check before and (when a repair ran) after the repair."""
    final = after or before
    return {
        "repaired": after is not None,
        "repaired_sections": [sid.value for sid in before.repair_targets()] if after is not None else [],
        "checks": {
            cid.value: {"title": info.title, "before": not before.failed(cid), "after": None if after is None else not after.failed(cid)}
            for cid, info in CHECKS.items()
        },
        "still_failing": [f.to_json() for f in final.failures],
        "dropped_sections": before.dropped_sections,
        "notes": final.notes,
        "passed": final.passed,
    }
