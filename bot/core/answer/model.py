"""The model's answer as the quality gate sees it: sections in stream order, each shown or held back, and the
one targeted repair. Held-back text (an echo of the prompt, a loop, template spam) is never posted, written to the
report or spoken; it is kept for run.json only."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.gate import CHECKS, CheckFailure, CheckId, GateResult, RepeatGuard, check_section, evaluate, is_garbage
from bot.core.gate.checks import root_cause_of
from bot.core.sections import SECTION_TITLES, Section, SectionId

# The analysis the postmortem exists for: asked for again when missing, and garbage here means a degraded run.
REQUIRED = (SectionId.ROOT_CAUSE, SectionId.TEST_SUITE)
# Held-back text kept in run.json for debugging; a looping model can write megabytes.
WITHHELD_CHARS = 20_000


def key(section: Section) -> str:
    return section.id.value if section.id else "raw"


@dataclass
class Answer:
    prompt_text: str  # the system and user prompts exactly as sent, joined
    incident_text: str  # the prepared incident: what facts and timestamps are checked against
    sections: list[Section] = field(default_factory=list)  # every section admitted, in stream order
    held: dict[str, str] = field(default_factory=dict)  # section key → why it is held back

    def admit(self, section: Section) -> list[CheckFailure]:
        """Check a completed section. With a garbage failure it is held back; the caller shows the others."""
        self.sections.append(section)
        failures = self.check(section)
        if is_garbage(failures):
            self.held[key(section)] = str(next(f for f in failures if CHECKS[f.check].garbage))
        return failures

    @property
    def shown(self) -> list[Section]:
        return [s for s in self.sections if key(s) not in self.held]

    @property
    def usable(self) -> bool:
        """An analysis section (root cause or tests) was shown and none was refused as garbage; otherwise the digest
        stands in. One of them missing (the answer was cut at LLM_MAX_TOKENS) is reported, not a reason to degrade;
        both missing leaves no postmortem, however fluent the rest (a one-line preamble, a timeline alone)."""
        shown = {s.id for s in self.shown}
        return any(sid in shown for sid in REQUIRED) and not any(sid.value in self.held for sid in REQUIRED)

    def evaluate(self, guard: RepeatGuard | None = None) -> GateResult:
        """Every check on the whole answer, plus a repairable failure per required section the model did not write
        (a held-back one already fails its garbage check)."""
        result = evaluate(self.sections, incident_text=self.incident_text, prompt_text=self.prompt_text, guard=guard)
        present = {s.id for s in self.sections}
        for sid in REQUIRED:
            if sid not in present:
                result.failures.append(CheckFailure(CheckId.PRESENT, sid, "the model did not write this section", True))
        return result

    def apply_repair(self, repaired: list[Section], targets: list[SectionId], repair_prompt: str) -> list[tuple[Section, bool]]:
        """Take each target's rewrite when it is better: no garbage (an echo of the repair prompt included), and
        fewer failures than a shown original. Returns (section, was_shown) per replacement: a shown one is updated
        in place, a held one posted."""
        changed: list[tuple[Section, bool]] = []
        rewrites: dict[SectionId, Section] = {}
        unplaced = len(targets) == 1 and bool(repaired) and all(s.id is None for s in repaired)
        if unplaced:
            # One section asked for, answered without its heading (small models often do): it can only be that
            # one, but it is taken only when it passes every check (a refusal has no heading either).
            repaired = [Section(targets[0], SECTION_TITLES[targets[0]], "\n\n".join(s.body for s in repaired))]
        for s in repaired:  # each section once, as in the answer: a second copy never overrides the first
            if s.id in targets:
                rewrites.setdefault(s.id, s)
        # The repair prompt quotes the sections' current text: keeping a line that was right is not an echo.
        quoted = {line.strip() for s in self.sections for line in s.body.splitlines() if line.strip()}
        instructions = "\n".join(line for line in repair_prompt.splitlines() if line.strip() not in quoted)
        both = f"{self.prompt_text}\n{instructions}"
        for sid, new in rewrites.items():
            if is_garbage(check_section(new, prompt_text=both, incident_text=self.incident_text)):
                continue
            failures = self.check(new)
            if is_garbage(failures) or (unplaced and failures):
                continue
            index = next((i for i, s in enumerate(self.sections) if s.id is sid), None)
            old = self.sections[index] if index is not None else None
            was_shown = old is not None and key(old) not in self.held
            if old is not None and was_shown and len(failures) >= len(self.check(old)):
                continue  # no better: keep what readers already have
            if index is None:
                self.sections.append(new)
            else:
                self.sections[index] = new
            self.held.pop(sid.value, None)
            changed.append((new, was_shown))
        return changed

    def withheld(self) -> dict[str, str]:
        """Held-back text by section, for run.json only."""
        return {key(s): s.body[:WITHHELD_CHARS] for s in self.sections if key(s) in self.held}

    def held_titles(self) -> list[str]:
        return [SECTION_TITLES[s.id] if s.id else s.title for s in self.sections if key(s) in self.held]

    def check(self, section: Section) -> list[CheckFailure]:
        """The section's checks; the test suite's against the root cause written so far."""
        return check_section(section, prompt_text=self.prompt_text, incident_text=self.incident_text,
                             root_cause=root_cause_of(self.sections))
