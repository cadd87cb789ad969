"""The RE2 screen never hides a class the exact patterns would find (it matches a superset)."""

from __future__ import annotations

import re

import pytest

from bot.core.digest import default_rules
from bot.core.digest.screen import Screen, without_lookarounds


@pytest.mark.parametrize(("pattern", "stripped"), [
    (r"\b429\b(?! ?ms)", r"\b429\b"),
    (r"(?:\s+(?!(?:not|never|no)\b)\S+){0,6}?x", r"(?:\s+\S+){0,6}?x"),
    (r"(?<!product )backlog(?= grew)", "backlog"),
    (r"a[(?!]b\(?!c", r"a[(?!]b\(?!c"),  # a class and an escaped parenthesis are not groups
])
def test_lookarounds_are_dropped_and_nothing_else(pattern: str, stripped: str) -> None:
    assert without_lookarounds(pattern) == stripped


def test_every_bundled_pattern_compiles_for_the_screen_and_screens_in_its_examples() -> None:
    rules = default_rules()
    for index, failure in enumerate(rules.failures):
        for line in (*failure.rule.examples, *failure.rule.counter_examples):
            exact = bool(failure.regex.search(line) or (failure.symptoms and failure.symptoms.search(line)))
            assert not exact or index in rules.screen.owners(line), (failure.rule.id, line)


def test_the_screen_is_case_insensitive_and_names_only_matching_groups() -> None:
    screen = Screen([[r"pool exhaust(?:ed|ion)"], [r"OOM[- ]?kill"], [r"\b429\b(?! ?ms)"]])
    assert screen.owners("Connection POOL EXHAUSTED, then oomkilled") == {0, 1}
    assert screen.owners("p99 429 ms") == {2}  # a superset: the exact pattern then says no
    assert not re.search(r"\b429\b(?! ?ms)", "p99 429 ms")
    assert screen.owners("all quiet") == set()


def test_a_pattern_re2_cannot_read_leaves_its_class_to_the_exact_patterns() -> None:
    screen = Screen([[r"(ab)\1 loop"], [r"OOM[- ]?kill"]])
    assert screen.owners("nothing here") == {0}
    assert screen.owners("OOMKilled") == {0, 1}
