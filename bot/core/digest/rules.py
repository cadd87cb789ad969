"""The digest's rule data (rules.toml): event patterns, failure classes with their standard tests.

Validated with pydantic at load so that a broken entry stops with one line naming the entry and the
field, instead of a regex error deep inside a run.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError

RULES_PATH = Path(__file__).with_name("rules.toml")

EventKind = Literal["alert_fired", "alert_resolved", "deploy", "rollback", "mitigation", "resolution"]
_NonEmpty = Annotated[str, Field(min_length=1)]


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE)


class RulesError(ConfigError):
    """rules.toml (or a replacement file) is unreadable or has an invalid entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _HasPatterns(_Strict):
    patterns: Annotated[list[str], Field(min_length=1)]

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"patterns[{i}] {pattern!r} is not a valid regex: {err}") from None
        return patterns


class TestSpec(_Strict):
    """The standard test that would have caught a failure class."""

    type: _NonEmpty
    scope: _NonEmpty
    fault_injection: _NonEmpty
    success_criterion: _NonEmpty

    @field_validator("success_criterion")
    @classmethod
    def _measurable(cls, value: str) -> str:
        # A criterion without a number cannot fail; the issue asks for measurable tests.
        if not re.search(r"\d", value):
            raise ValueError("needs a number (e.g. 'p99 below 500 ms for 15 minutes')")
        return value


class FailureRule(_HasPatterns):
    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    title: _NonEmpty
    # Lines the patterns must match: the data file tests itself, so an edited pattern cannot stop matching unnoticed.
    examples: Annotated[list[_NonEmpty], Field(min_length=1)]
    test: TestSpec

    @model_validator(mode="after")
    def _examples_match(self) -> FailureRule:
        regex = _alternation(self.patterns)
        missed = next((example for example in self.examples if not regex.search(example)), None)
        if missed is not None:
            raise ValueError(f"example {missed!r} is matched by none of the patterns")
        return self


class EventRule(_HasPatterns):
    kind: EventKind


class _File(_Strict):
    components: list[_NonEmpty] = []
    event: list[EventRule] = []
    failure: Annotated[list[FailureRule], Field(min_length=1)]


@dataclass(frozen=True)
class CompiledFailure:
    rule: FailureRule
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    """Compiled rules: one alternation per event kind / failure class, first event match wins."""

    events: tuple[tuple[EventKind, re.Pattern[str]], ...]
    failures: tuple[CompiledFailure, ...]
    components: re.Pattern[str] | None

    def event_kind(self, text: str) -> EventKind | None:
        return next((kind for kind, regex in self.events if regex.search(text)), None)


def _where(path: Path, data: dict[str, object], loc: tuple[int | str, ...]) -> str:
    """'failure #3 (id "dns-failure"), field test.success_criterion' from a pydantic error location."""
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
    return Rules(
        events=tuple((e.kind, _alternation(e.patterns)) for e in parsed.event),
        failures=tuple(CompiledFailure(f, _alternation(f.patterns)) for f in parsed.failure),
        components=re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE) if names else None,
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The bundled rules, loaded once per process."""
    return load_rules(RULES_PATH)
