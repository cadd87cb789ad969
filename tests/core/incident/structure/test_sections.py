"""Headings and labels → the normalised section of the text under them."""

from __future__ import annotations

import pytest

from bot.core.incident.structure.sections import heading, labelled, section_of

HEADINGS = [
    ("## Timeline", "timeline"), ("**Root Cause**", "root_cause"), ("### Contributing Factors", "contributing"),
    ("Lessons Learned", "lessons"), ("## What went wrong", "lessons"), ("## Action Items", "action_items"),
    ("Follow-up actions", "action_items"), ("## Customer impact", "impact"), ("## Detection", "detection"),
    ("## Resolution and recovery", "resolution"), ("# Summary", "summary"), ("Date/Time Stamps", "timeline"),
    ("Title\n=====", None), ("## Stats", None),
]


@pytest.mark.parametrize(("line", "section"), HEADINGS)
def test_headings_name_their_section(line: str, section: str | None) -> None:
    first, _, underline = line.partition("\n")
    title = heading(first, underline)
    assert title is not None and section_of(title) == section


@pytest.mark.parametrize("line", ["We fixed it", "from the war room:", "All times in CET.", "checkout is down", "Lessons: we learned a lot today"])
def test_sentences_and_chat_lines_are_no_headings(line: str) -> None:
    assert heading(line) is None


def test_a_known_label_opens_its_section_inline() -> None:
    assert labelled("Root cause: the certificate expired") == ("root_cause", "the certificate expired")
    assert labelled("Anna: the certificate expired") is None
