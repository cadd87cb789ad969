"""Checks on what the Root Cause and Recommended Test Suite sections must contain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.gate.text import normalise, without_code

# The primary cause as a label ("**Primary root cause:**", "Primary cause —", "The primary root cause was"), not a
# passing mention ("2. Retries amplified the primary cause"), so only labels are counted.
_PRIMARY = re.compile(
    r"\bprimary\s+(?:root\s+)?cause(?:\s*\([^)\n]*\))?\s*(?:\*\*|__)?\s*(?:[:—–]|\bis\b|\bwas\b)", re.IGNORECASE
)
_SECONDARY = re.compile(r"\b(?:secondary|contributing)\s+(?:root\s+)?(?:causes?|factors?)\b", re.IGNORECASE)
# Hedges the prompt forbids for the primary cause; "either … or" names two causes as one.
_HEDGES = re.compile(r"\b(?:possibly|perhaps|maybe|might|may have|could have|probably|likely|either|unclear)\b", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(?:\(?(\d{1,2})[.):]|#(\d{1,2})\b)")
_BULLET = re.compile(r"^\s*[-*+•]\s+")
_RANKED_BULLET = re.compile(r"^\s*[-*+•]\s+(?:\**\s*)?(?:\(?\d{1,2}[.):]|#\d|rank\s*\d|first|second|third)", re.IGNORECASE)


def root_cause(body: str) -> str | None:
    """Exactly one primary root cause, stated without hedging; secondary causes, when listed, ranked."""
    text = without_code(body)
    labels = _PRIMARY.findall(text)
    if not labels:
        return 'no "Primary root cause:" is named'
    if len(labels) > 1:
        return f"{len(labels)} primary root causes are named; exactly one is required"
    sentence = _sentence_after(text, _PRIMARY)
    if not sentence:
        return "the primary root cause label has no sentence after it"
    if hedge := _HEDGES.search(sentence):
        return f'the primary root cause is hedged ("{hedge.group(0)}"); state one cause plainly'
    if m := _SECONDARY.search(text):
        items = [line for line in text[m.end():].splitlines() if _NUMBERED.match(line) or _BULLET.match(line)]
        unranked = [line for line in items if _BULLET.match(line) and not _RANKED_BULLET.match(line)]
        if len(items) >= 2 and unranked:
            return "the secondary causes are an unordered list; rank them as a numbered list (1., 2., 3.)"
        numbers = [int(n.group(1) or n.group(2)) for line in items if (n := _NUMBERED.match(line))]
        if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            return f"the secondary causes are numbered {numbers}; rank them 1, 2, 3 …"
    return None


def primary_statement(body: str) -> str:
    """The sentence the "Primary root cause" label introduces, "" without one (the root-cause check says so)."""
    text = without_code(body)
    return _sentence_after(text, _PRIMARY) if _PRIMARY.search(text) else ""


def _sentence_after(text: str, label: re.Pattern[str]) -> str:
    """The text following ``label`` up to the end of its sentence or line (markdown markers skipped)."""
    m = label.search(text)
    assert m is not None
    rest = re.sub(r"^[\s*_:)\-–—]+", "", text[m.end():])
    if not rest.strip() or _SECONDARY.match(rest):
        return ""
    return re.split(r"(?<=[.!?])\s|\n", rest, maxsplit=1)[0].strip()


# --- Recommended Test Suite -----------------------------------------------------------------------------------

TEST_TYPES = ("unit", "integration", "load", "chaos", "contract", "canary", "e2e", "end to end", "soak", "stress",
              "performance", "smoke", "regression", "property", "fuzz", "synthetic", "failover", "game day")

# Each required field: the labels that introduce it (normalised, at the start of a line or table header).
FIELDS: dict[str, tuple[str, ...]] = {
    "type": ("type", "test type", "kind"),
    "scope": ("scope", "target", "component", "components", "under test", "covers", "system under test"),
    "fault injection": ("fault injection", "fault injection method", "fault", "injection", "inject", "failure injection",
                        "chaos", "simulate", "simulated fault"),
    "success criterion": ("success criteria", "success criterion", "success", "pass criteria", "pass criterion",
                          "passes when", "pass when", "acceptance criteria", "acceptance", "expected", "assert", "criteria"),
}
_PLACEHOLDERS = frozenset({"", "tbd", "todo", "n a", "na", "none", "unknown", "x", "etc"})
_HEADING = re.compile(r"^\s*(?:#{2,6}\s+.+|\*\*[^*]+\*\*:?\s*|\d{1,2}[.)]\s+\*\*[^*]+\*\*.*|test\s+\d+\s*[:.].*)$", re.IGNORECASE)
_ITEM = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])\s+")  # a top-level list item (no indentation)


def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(lbl).replace(r"\ ", r"[\s_-]+") for lbl in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:\*\*|__)?(?:{alternatives})(?:\*\*|__)?\s*[:=]\s*(?:\*\*|__)?\s*([^;|\n]*)", re.IGNORECASE)


_FIELD_PATTERNS = {name: _label_pattern(labels) for name, labels in FIELDS.items()}


@dataclass
class ParsedTest:
    name: str
    fields: dict[str, str]  # field -> value ("" when labelled but empty)


def _field_of(label: str) -> str | None:
    norm = normalise(label)
    return next((name for name, labels in FIELDS.items() if norm in labels), None)


def _fields_in(line: str, following: str) -> dict[str, str]:
    """Labelled fields on one line ("Type: load; Scope: api"); an empty value is taken from the next line."""
    found: dict[str, str] = {}
    for name, pattern in _FIELD_PATTERNS.items():
        if m := pattern.search(line):
            value = m.group(1).strip(" *_")
            if normalise(value) in _PLACEHOLDERS and (reason := _reason_after(line[m.end():])):
                value = f"{value}; {reason}"  # "Fault injection: none; the leak is the fault" is a decision, not a gap
            found[name] = value if normalise(value) else following.strip()
    return found


def _reason_after(rest: str) -> str:
    """A clause after ";" that explains a placeholder value: at least three words, and not the next field."""
    if not rest.startswith(";"):
        return ""
    clause = rest[1:].split("|", 1)[0].strip()
    return clause if len(normalise(clause).split()) >= 3 and not _starts_with_label(clause) else ""


def _starts_with_label(line: str) -> bool:
    """"- Type: load" is a field of the current test; "- `test_pool` — Type: load" is a new test."""
    item = _ITEM.sub("", line, count=1)
    return any(m.start() == 0 for p in _FIELD_PATTERNS.values() if (m := p.search(item)))


def parse_tests(body: str) -> list[ParsedTest]:
    """Tests from a markdown table, or from sub-headings (else top-level list items) with labelled fields."""
    text = without_code(body)
    if table := _table_tests(text):
        return table
    lines = [line for line in text.splitlines() if line.strip()]
    labelled = [_fields_in(line, lines[i + 1] if i + 1 < len(lines) else "") for i, line in enumerate(lines)]
    headings = [not f and bool(_HEADING.match(line)) for line, f in zip(lines, labelled, strict=True)]
    starts = headings if any(headings) else [bool(_ITEM.match(line)) and not _starts_with_label(line) for line in lines]
    tests: list[ParsedTest] = []
    for line, fields, start in zip(lines, labelled, starts, strict=True):
        if start or not tests:
            tests.append(ParsedTest(line.strip(" #*-") if start else "test", {}))
        for name, value in fields.items():
            tests[-1].fields.setdefault(name, value)
    return [t for t in tests if t.fields or _typed_name(t.name)]


def _table_tests(text: str) -> list[ParsedTest]:
    rows = [line.strip().strip("|").split("|") for line in text.splitlines() if line.strip().startswith("|")]
    if len(rows) < 3:
        return []
    header = [_field_of(cell) for cell in rows[0]]
    if not any(header):
        return []
    tests = []
    for row in rows[2:]:  # rows[1] is the |---| separator
        fields = {f: cell.strip() for f, cell in zip(header, row, strict=False) if f}
        tests.append(ParsedTest(row[0].strip(), fields))
    return tests


def _typed_name(name: str) -> str | None:
    norm = f" {normalise(name)} "
    return next((t for t in TEST_TYPES if f" {t} " in norm), None)


def test_fields(body: str) -> str | None:
    """Every test has a type, a scope, a fault injection and a success criterion with a number."""
    tests = parse_tests(body)
    if not tests:
        return "no tests found (expected one sub-heading per test with Type, Scope, Fault injection, Success criteria)"
    problems: list[str] = []
    for n, test in enumerate(tests, 1):
        lacking = [f for f in FIELDS if normalise(test.fields.get(f, "")) in _PLACEHOLDERS]
        if "type" in lacking and _typed_name(test.name):
            lacking.remove("type")  # "### Load test: pool saturation" names its type
        criterion = test.fields.get("success criterion", "")
        if "success criterion" not in lacking and not re.search(r"\d", criterion):
            lacking.append("a number in the success criterion")
        if lacking:
            problems.append(f'test {n} ("{test.name[:40]}") lacks {", ".join(lacking)}')
    return "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "") if problems else None
