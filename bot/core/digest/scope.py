"""Whether a pattern match in prose is evidence: its clause, negation, speculation and causal wording.

NegEx-style scope rules (a cue counts only inside the match's own clause and within a few words), with cues
written for incident prose rather than clinical notes: "CPU looked fine", "DNS was not the cause", "to avoid
a retry storm", "we suspected the pool". The cue lists are data in rules.toml ([scope]); this module is the
small algorithm that applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Sentences end at . ! ? followed by a space, at a table cell border and at a line break.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s*\|\s*|\n+")
_WORD = re.compile(r"\S+")
# How far either side of a match a cue is looked for: `window` words never need more, and a line of 100 KB with
# thousands of matches stays linear.
_REACH = 400


@dataclass(frozen=True)
class ScopeCues:
    """Compiled cue lists; see the [scope] table of rules.toml for what each holds."""

    clause_breaks: re.Pattern[str]
    negation_before: re.Pattern[str]
    negation_after: re.Pattern[str]
    pseudo_negations: re.Pattern[str]
    cause_before: re.Pattern[str]
    cause_after: re.Pattern[str]
    incidental: re.Pattern[str]
    window: int  # words on either side of a match that a negation cue may sit in

    def blank_incidental(self, sentence: str) -> str:
        """The sentence with incidental phrases ("backlog item", "status page") blanked, same length."""
        return self.incidental.sub(lambda m: " " * len(m.group(0)), sentence)

    def judge(self, sentence: str, start: int, end: int) -> EvidenceVerdict:
        """What the match ``sentence[start:end]`` says: nothing (negated, speculative, a question) or a fact,
        perhaps named as a cause."""
        if sentence.rstrip().endswith("?"):
            return EvidenceVerdict(False, False)
        clause_start = self._clause_start(sentence, start)
        stop = min(len(sentence), end + _REACH)
        clause_end = brk.start() if (brk := self.clause_breaks.search(sentence, end, stop)) else stop
        before = _last_words(self.pseudo_negations.sub(" ", sentence[clause_start:start]), self.window)
        after = _first_words(sentence[end:clause_end], self.window)
        if self.negation_before.search(before) or self.negation_after.search(after):
            return EvidenceVerdict(False, False)
        cause = bool(self.cause_before.search(sentence, max(0, start - _REACH), start)
                     or self.cause_after.search(sentence, end, min(len(sentence), end + _REACH)))
        return EvidenceVerdict(True, cause)

    def _clause_start(self, sentence: str, start: int) -> int:
        clause_start = max(0, start - _REACH)
        for brk in self.clause_breaks.finditer(sentence, clause_start, start):
            clause_start = brk.end()
        return clause_start


@dataclass(frozen=True)
class EvidenceVerdict:
    evidence: bool  # the match states that the failure happened
    cause: bool  # ... and the sentence names it as a cause ("caused by", "due to", "led to")


def sentences(text: str) -> Iterator[str]:
    yield from (s for s in _SENTENCE.split(text) if s and not s.isspace())


def _last_words(text: str, n: int) -> str:
    words = _WORD.findall(text)
    return " ".join(words[-n:])


def _first_words(text: str, n: int) -> str:
    words = _WORD.findall(text)
    return " ".join(words[:n])
