"""StreamingSectionParser: heading drift, chunking independence, and when sections are emitted."""

from __future__ import annotations

import random

import pytest

from bot.core.sections import SECTION_TITLES, Section, SectionId
from bot.core.sections.parse import (
    RAW_TITLE,
    StreamingSectionParser,
    classify_heading,
    parse_sections,
)
from tests.core.sections.cases import BODIES, CANON, CASES, Case

T, G, R, P, S, A = (
    SectionId.TIMELINE, SectionId.GAPS, SectionId.ROOT_CAUSE,
    SectionId.PREVENTION, SectionId.TEST_SUITE, SectionId.AUDIO_SUMMARY,
)


def chunks(text: str, seed: int, lo: int = 1, hi: int = 20) -> list[str]:
    rng, out, i = random.Random(seed), [], 0
    while i < len(text):
        n = rng.randint(lo, hi)
        out.append(text[i : i + n])
        i += n
    return out


def run(pieces: list[str]) -> tuple[StreamingSectionParser, list[Section]]:
    """Feed pieces, returning the parser and every section in the order feed/close returned them."""
    parser = StreamingSectionParser()
    returned = [s for piece in pieces for s in parser.feed(piece)]
    returned += parser.close()
    return parser, returned


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("split", ["whole", "chars", "seed0", "seed1", "seed2"])
def test_drifting_outputs(case: Case, split: str) -> None:
    if split == "whole":
        pieces = [case.text]
    elif split == "chars":
        pieces = list(case.text)
    else:
        pieces = chunks(case.text, seed=int(split[-1]))
    parser, returned = run(pieces)

    assert [(s.id, s.body) for s in returned] == case.expected
    assert parser.sections == returned
    for section in returned:
        assert section.title == (SECTION_TITLES[section.id] if section.id else RAW_TITLE)
    assert parser.preamble == case.preamble
    assert parser.missing() == case.missing


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_parse_sections_matches_streaming(case: Case) -> None:
    assert [(s.id, s.body) for s in parse_sections(case.text)] == case.expected


def test_each_section_is_emitted_when_the_next_heading_line_completes() -> None:
    text = "Preamble line\n" + "".join(f"## {t}\n{BODIES[sid]}\n\n" for t, sid in zip(CANON, SECTION_TITLES, strict=True))
    parser = StreamingSectionParser()
    emitted_at: list[tuple[str, list[SectionId | None]]] = []
    for line in text.splitlines(keepends=True):
        emitted_at.append((line, [s.id for s in parser.feed(line)]))

    headings = [(i, line) for i, (line, _) in enumerate(emitted_at) if line.startswith("## ")]
    assert len(headings) == 6
    ids = list(SECTION_TITLES)
    expected = {i: [ids[k - 1]] for k, (i, _) in enumerate(headings) if k > 0}
    for i, (line, got) in enumerate(emitted_at):
        assert got == expected.get(i, []), f"line {i}: {line!r}"
    assert [s.id for s in parser.close()] == [A]
    assert parser.close() == []


def test_heading_split_mid_word_waits_for_end_of_line() -> None:
    parser = StreamingSectionParser()
    assert parser.feed("## Timeline\nAlert at 14:02.\n## Ro") == []
    assert parser.feed("ot Cau") == []
    assert parser.feed("se") == []  # the line is not complete yet: could still become "Root Causes of ..."
    assert parser.feed("\nPool.") == [Section(T, SECTION_TITLES[T], "Alert at 14:02.")]
    assert parser.close() == [Section(R, SECTION_TITLES[R], "Pool.")]


def test_think_tags_split_across_chunks() -> None:
    pieces = ["<thi", "nk>## Timeline\nreasoning\n</th", "ink>", "## Root Cause\nPool.<", "think>x\n## Gaps\n</think", ">\n"]
    parser, returned = run(pieces)
    assert [(s.id, s.body) for s in returned] == [(R, "Pool.")]
    assert parser.preamble == ""


def test_text_that_only_looks_like_a_think_tag_is_kept() -> None:
    assert [(s.id, s.body) for s in parse_sections("## Timeline\nuse <thin> wires\na < b\n")] == [(T, "use <thin> wires\na < b")]


def test_unclosed_code_fence_keeps_later_hash_lines_in_body() -> None:
    # A fence the model never closes swallows the rest: safer than splitting on code comments.
    sections = parse_sections("## Test Suite\n```python\n# Audio Summary\nx = 1\n")
    assert [(s.id, s.body) for s in sections] == [(S, "```python\n# Audio Summary\nx = 1")]


def test_feed_after_close_is_an_error() -> None:
    parser = StreamingSectionParser()
    parser.close()
    with pytest.raises(RuntimeError):
        parser.feed("## Timeline\n")


def test_empty_stream_emits_nothing() -> None:
    parser, returned = run(["", "  \n\n"])
    assert returned == [] and parser.missing() == list(SECTION_TITLES)


def test_missing_counts_the_open_section_while_streaming() -> None:
    parser = StreamingSectionParser()
    parser.feed("## Root Cause\nPool.\n")
    assert R not in parser.missing() and parser.sections == []


@pytest.mark.parametrize(
    "line, expected",
    [
        ("## Root Cause", R),
        ("**Root Cause:**", R),
        ("Root Cause:", R),
        ("2) Testing Gaps", G),
        ("Section 6 – Audio Summary (150–200 words)", A),
        ("### 🔍 Gap Analysis ✅", G),
        ("**Root cause**: the pool was exhausted", None),
        ("Root Cause Analysis", R),
        ("**Primary root cause:** a retry storm", None),
        ("**Root cause**: the pool was **full**", None),
        ("Root cause: the pool was exhausted:", None),
        ("### Test 1: Pool saturation", None),
        ("### Test 3: timeline replay under load", None),
        ("**Type:**", None),
        ("**Secondary causes (ranked):**", None),
        ("Senior Engineer A:", None),
        ("1. Add a pool saturation test", None),
        ("2. Improve the gap analysis", None),
        ("- Timeline", None),
        ("Timeline.", None),
        ("| Timeline |", None),
        ("#Timeline", None),
        ("## Postmortem: checkout outage", None),
    ],
)
def test_classify_heading(line: str, expected: SectionId | None) -> None:
    assert classify_heading(line) is expected
