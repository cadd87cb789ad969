"""The digest's rule data (rules.toml): event patterns, failure classes with their standard tests, and the
scope cues (negation, speculation, cause) that decide whether a class's match in prose is evidence.

Validated with pydantic at load so that a broken entry stops with one line naming the entry and the
field, instead of a regex error deep inside a run. Each class's examples must be evidence for it and its
counter-examples must not be, judged by the same code a run uses: an edit cannot lose recall or precision unnoticed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.digest.scope import ScopeCues, sentences
from bot.core.digest.screen import Screen
from bot.errors import ConfigError

RULES_PATH = Path(__file__).with_name("rules.toml")
_JUDGED = 16  # matches of one class judged per sentence

EventKind = Literal["alert_fired", "alert_resolved", "deploy", "rollback", "mitigation", "resolution"]
_NonEmpty = Annotated[str, Field(min_length=1)]
_Cues = Annotated[list[str], Field(min_length=1)]

# Outcomes people can deny or ask about: "not resolved yet", "won't be fixed until…", "is it resolved?" are no
# resolution. A match counts unless a negation is among the three words before it in its clause, or its clause
# ends in a question mark.
_OUTCOMES = frozenset({"resolution", "alert_resolved"})
_NEGATION = re.compile(r"\b(?:not|never|no|cannot|nor)\b|n['’]t\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;:!?,\n]")
_ASKED = re.compile(r"[^.;:!,\n]{0,40}\?")


def _affirmed(text: str, match: re.Match[str]) -> bool:
    clause = _CLAUSE_END.split(text[max(0, match.start() - 200): match.start()])[-1]
    return not _NEGATION.search(" ".join(clause.split()[-3:])) and not _ASKED.match(text, match.end())


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE)


class RulesError(ConfigError):
    """rules.toml (or a replacement file) is unreadable or has an invalid entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(name: str, patterns: list[str]) -> list[str]:
    for i, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError(f"{name}[{i}] {pattern!r} is not a valid regex: {err}") from None
    return patterns


class _HasPatterns(_Strict):
    patterns: Annotated[list[str], Field(min_length=1)]

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return _compiles("patterns", patterns)


class RuleTest(_Strict):
    """The standard test that would have caught a failure class."""

    type: _NonEmpty
    scope: _NonEmpty
    fault_injection: _NonEmpty
    success_criteria: _NonEmpty

    @field_validator("success_criteria")
    @classmethod
    def _measurable(cls, value: str) -> str:
        # A criterion without a number cannot fail; the issue asks for measurable tests.
        if not re.search(r"\d", value):
            raise ValueError("needs a number (e.g. 'p99 below 500 ms for 15 minutes')")
        return value


class FailureRule(_HasPatterns):
    """``patterns`` name the failure ("the pool was exhausted"): one such statement is strong evidence.
    ``symptoms`` go with it ("timed out") and only add weight: they never put a class in the checklist alone.
    ``refuted_by``: statements that the suspected failure did not happen ("closed as a false positive"); one
    keeps the class out of the checklist whatever else names it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    title: _NonEmpty
    symptoms: list[str] = []
    refuted_by: list[str] = []
    consequence: bool = False  # usually the effect of another failure: ranks after a cause with as much evidence
    # Lines that must be strong evidence for the class, and lines that must be no evidence at all (negated,
    # "normal" mentions, incidental words): checked at load against the scope rules a run uses.
    examples: Annotated[list[_NonEmpty], Field(min_length=1)]
    counter_examples: list[_NonEmpty] = []
    test: RuleTest

    @field_validator("symptoms", "refuted_by")
    @classmethod
    def _optional_compile(cls, patterns: list[str]) -> list[str]:
        return _compiles("pattern", patterns)


class EventRule(_HasPatterns):
    kind: EventKind


class ScopeRules(_Strict):
    """Cue lists (regexes) that decide whether a match in prose is evidence; see the comment in rules.toml."""

    window: Annotated[int, Field(ge=1, le=20)]
    clause_breaks: _Cues
    negation_before: _Cues
    negation_after: _Cues
    pseudo_negations: _Cues
    cause_before: _Cues
    cause_after: _Cues
    incidental: _Cues

    @field_validator("clause_breaks", "negation_before", "negation_after", "pseudo_negations", "cause_before",
                     "cause_after", "incidental")
    @classmethod
    def _cues_compile(cls, patterns: list[str]) -> list[str]:
        return _compiles("cue", patterns)

    def compile(self) -> ScopeCues:
        return ScopeCues(
            clause_breaks=_alternation(self.clause_breaks),
            negation_before=_alternation(self.negation_before),
            negation_after=_alternation(self.negation_after),
            pseudo_negations=_alternation(self.pseudo_negations),
            cause_before=_alternation(self.cause_before),
            cause_after=_alternation(self.cause_after),
            incidental=_alternation(self.incidental),
            window=self.window,
        )


class _File(_Strict):
    components: list[_NonEmpty] = []
    scope: ScopeRules
    event: list[EventRule] = []
    failure: Annotated[list[FailureRule], Field(min_length=1)]


@dataclass(frozen=True)
class CompiledFailure:
    rule: FailureRule
    regex: re.Pattern[str]  # the patterns that name the failure
    symptoms: re.Pattern[str] | None
    refutations: re.Pattern[str] | None


@dataclass(frozen=True)
class Hit:
    """One statement in a text that a class's pattern matched and the scope rules accepted."""

    failure: CompiledFailure
    strong: bool  # a pattern naming the failure, not a symptom
    refutes: bool  # a statement that the failure did not happen (then ``strong`` is False)
    cause: bool  # the sentence names it as a cause
    line: str  # the sentence, for the evidence shown


@dataclass(frozen=True)
class Rules:
    """Compiled rules: one alternation per event kind / failure class, first event match wins."""

    events: tuple[tuple[EventKind, re.Pattern[str]], ...]
    failures: tuple[CompiledFailure, ...]
    components: re.Pattern[str] | None
    scope: ScopeCues
    screen: Screen  # which classes a sentence may name, in one pass: most sentences name none


    def event_kind(self, text: str) -> EventKind | None:
        return next((kind for kind, regex in self.events
                     if any(kind not in _OUTCOMES or _affirmed(text, m) for m in regex.finditer(text))), None)

    def hits(self, text: str) -> Iterator[Hit]:
        """Each class's evidence in ``text``: per sentence and class at most one hit, a strong one if any."""
        if not self.screen.owners(text):
            return
        for sentence in sentences(text):
            if not (owners := self.screen.owners(sentence)):
                continue
            judged = self.scope.blank_incidental(sentence)
            for failure in (self.failures[i] for i in sorted(owners)):
                hit = self._hit(failure, sentence, judged, failure.regex, strong=True)
                if hit is None and failure.symptoms is not None:
                    hit = self._hit(failure, sentence, judged, failure.symptoms, strong=False)
                if hit is not None:
                    yield hit
                if failure.refutations is not None and (refuted := self._hit(failure, sentence, judged, failure.refutations,
                                                                             strong=False, refutes=True)):
                    yield refuted

    def _hit(self, failure: CompiledFailure, sentence: str, judged: str, regex: re.Pattern[str], *, strong: bool,
             refutes: bool = False) -> Hit | None:
        # The first match that is evidence decides, among the first few: a sentence repeating a phrase (negated or
        # not) thousands of times costs no more than a short one.
        matches = islice(regex.finditer(judged), _JUDGED)
        verdict = next((v for m in matches if (v := self.scope.judge(judged, m.start(), m.end())).evidence), None)
        return Hit(failure, strong, refutes, verdict.cause, sentence.strip()) if verdict else None


def _where(path: Path, data: dict[str, object], loc: tuple[int | str, ...]) -> str:
    """'failure #3 (id "dns-failure"), field test.success_criteria' from a pydantic error location."""
    if len(loc) >= 2 and loc[0] in ("failure", "event") and isinstance(loc[1], int):
        section, index = str(loc[0]), loc[1]
        entries = data.get(section)
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
        name = entry.get("id") or entry.get("kind") if isinstance(entry, dict) else None
        label = f'[[{section}]] #{index + 1}' + (f' ("{name}")' if name else "")
        field = ".".join(str(part) for part in loc[2:])
        return f"{label}, field {field}" if field else label
    return ".".join(str(part) for part in loc) or "top level"


def load_rules(path: Path | str = RULES_PATH) -> Rules:
    """Read, validate and compile a rules file; raises :class:`RulesError` naming the bad entry."""
    path = Path(path)
    fix = f"correct {path} (see the comment at its top for the format)"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RulesError(f"cannot read the digest rules {path}: {err.strerror or err}", fix) from None
    except tomllib.TOMLDecodeError as err:
        raise RulesError(f"the digest rules {path} are not valid TOML: {err}", fix) from None
    if "scope" not in data and path != RULES_PATH:
        # A replacement file may leave the scope cues to the bundled ones: they are about English, not its classes.
        data["scope"] = tomllib.loads(RULES_PATH.read_text(encoding="utf-8"))["scope"]
    try:
        parsed = _File.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RulesError(f"digest rules {path.name}: {_where(path, data, tuple(first['loc']))}: {message}", fix) from None
    ids = [rule.id for rule in parsed.failure]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise RulesError(f'digest rules {path.name}: failure id "{duplicate}" appears twice', fix)
    names = sorted(parsed.components, key=len, reverse=True)
    rules = Rules(
        events=tuple((e.kind, _alternation(e.patterns)) for e in parsed.event),
        failures=tuple(CompiledFailure(f, _alternation(f.patterns), _alternation(f.symptoms) if f.symptoms else None,
                                       _alternation(f.refuted_by) if f.refuted_by else None) for f in parsed.failure),
        components=re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE) if names else None,
        scope=parsed.scope.compile(),
        screen=Screen([[*f.patterns, *f.symptoms, *f.refuted_by] for f in parsed.failure]),
    )
    for index, failure in enumerate(rules.failures):
        if (problem := _misjudged(rules, failure)) is not None:
            raise RulesError(f'digest rules {path.name}: [[failure]] #{index + 1} ("{failure.rule.id}"): {problem}', fix)
    return rules


def _misjudged(rules: Rules, failure: CompiledFailure) -> str | None:
    """The first example that is not strong evidence for its class, or counter-example that is any evidence."""
    for example in failure.rule.examples:
        if not any(hit.failure is failure and hit.strong for hit in rules.hits(example)):
            why = "matched by none of the patterns" if not failure.regex.search(example) else "judged not evidence (negated?)"
            return f"example {example!r} is {why}"
    for counter in failure.rule.counter_examples:
        if any(hit.failure is failure and not hit.refutes for hit in rules.hits(counter)):
            return f"counter-example {counter!r} is taken as evidence"
    return None


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The bundled rules, loaded once per process."""
    return load_rules(RULES_PATH)
