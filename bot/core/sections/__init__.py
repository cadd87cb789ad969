"""The six postmortem sections: their ids, canonical titles, and the parsed Section type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SectionId(StrEnum):
    TIMELINE = "timeline"
    GAPS = "gaps"
    ROOT_CAUSE = "root_cause"
    PREVENTION = "prevention"
    TEST_SUITE = "test_suite"
    AUDIO_SUMMARY = "audio_summary"


# Order is the order the prompt asks for and the order reports are written in.
SECTION_TITLES: dict[SectionId, str] = {
    SectionId.TIMELINE: "Incident Timeline & Blast Radius",
    SectionId.GAPS: "Testing Gap Analysis",
    SectionId.ROOT_CAUSE: "Root Cause Determination",
    SectionId.PREVENTION: "Prevention & Validation Strategy",
    SectionId.TEST_SUITE: "Recommended Test Suite",
    SectionId.AUDIO_SUMMARY: "Audio Summary",
}

# Appended to the section the model was writing when it ran out of LLM_MAX_TOKENS.
CUT_NOTE = "\n\n_(Cut here: the answer reached LLM_MAX_TOKENS.)_"


@dataclass(frozen=True)
class Section:
    """One parsed section. ``id`` is None for text the parser could not place (raw fallback)."""

    id: SectionId | None
    title: str
    body: str

    @property
    def markdown(self) -> str:
        return f"## {self.title}\n\n{self.body}".rstrip()

    @property
    def cut(self) -> bool:
        """The model stopped mid-section at LLM_MAX_TOKENS: its last sentence is unfinished."""
        return self.body.endswith(CUT_NOTE)
