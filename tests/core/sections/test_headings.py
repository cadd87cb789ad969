"""The heading synonym table (bot/core/sections/headings.toml): refused when it would misread, and no section's heading,
in any style models write, ever captures the text of another section."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from bot.core.sections import SECTION_TITLES, SectionId
from bot.core.sections.parse import HEADING_ALIASES, HEADINGS_FILE, classify_heading, parse_sections, phrase_table, read_headings

# The heading styles small models write (issue 21, part 6): hashes, bold, colons, numbers, emoji, case.
STYLES = (
    "## {}", "# {}", "### {}", "#### {}", "**{}**", "**{}:**", "**{}**:", "__{}__", "{}:", "{}", "1. {}", "### 2. {}",
    "**3. {}**", "Section 4: {}", "## 🔍 {}", "{} ✅", "## {} 📋",
)
CASES = (str, str.upper, str.lower, str.title)


def every_heading() -> list[tuple[SectionId, str]]:
    return [(sid, phrase) for sid in SECTION_TITLES for phrase in (SECTION_TITLES[sid], *HEADING_ALIASES[sid])]


def test_the_shipped_table_lists_every_section() -> None:
    assert set(HEADING_ALIASES) == set(SECTION_TITLES) and all(HEADING_ALIASES.values())
    assert read_headings(HEADINGS_FILE.read_text(encoding="utf-8")) == HEADING_ALIASES


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__)
def test_every_synonym_in_every_style_reads_as_its_section(style: str, case) -> None:  # type: ignore[no-untyped-def]
    # A CamelCase name ("AudioSummary") is read by its case: upper- or lower-cased it is one unknown word.
    wrong = [(sid.value, line) for sid, phrase in every_heading()
             if classify_heading(line := style.format(phrase if re.search("[a-z][A-Z]", phrase) else case(phrase))) is not sid]
    assert wrong == []


def test_no_heading_captures_the_next_sections_text() -> None:
    """Every pair of sections, each named by any of its synonyms in a few styles: two sections, each body its own."""
    lost = []
    for (a, name_a), (b, name_b) in itertools.permutations(every_heading(), 2):
        if a is b:
            continue
        for style in ("## {}", "**{}**", "{}:"):
            text = f"{style.format(name_a)}\nbody of {a.value}\n\n{style.format(name_b)}\nbody of {b.value}\n"
            got = [(s.id, s.body) for s in parse_sections(text)]
            if got != [(a, f"body of {a.value}"), (b, f"body of {b.value}")]:
                lost.append((name_a, name_b, style, got))
    assert lost == []


def toml(**sections: object) -> str:
    """The shipped table as TOML, with some sections' phrases replaced."""
    base: dict[str, object] = {sid.value: list(HEADING_ALIASES[sid]) for sid in SECTION_TITLES}
    base.update(sections)
    return "\n".join(f"[{k}]\nphrases = {json.dumps(v)}" for k, v in base.items())


def test_the_shipped_table_round_trips() -> None:
    assert phrase_table(read_headings(toml())) is not None


@pytest.mark.parametrize(("text", "message"), [
    ("[timeline\n", "not valid TOML"),
    ("[timeline]\nphrases = []\n", "should be exactly"),
    (toml(gaps="gap"), "needs phrases"),
])
def test_a_malformed_table_is_refused_at_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_headings(text)


@pytest.mark.parametrize(("text", "message"), [
    (toml(gaps=["gap", "!!"]), 'the phrase "!!" under [gaps] has no words'),
    (toml(gaps=["gap", "root cause"]), '"root cause" is listed under both [gaps] and [root_cause]'),
    # Decoration words alone ("the analysis") are no heading: the phrase could never be recognised.
    (toml(test_suite=["test suite", "the analysis"]), 'the heading "the analysis" under [test_suite] reads as [no section]'),
])
def test_a_table_that_would_misread_is_refused_at_load(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"headings\.toml") as err:
        phrase_table(read_headings(text))
    assert message in str(err.value)
