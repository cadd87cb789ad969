"""Free words → the plan's vocabulary: test types, field labels, priorities. Tables, so a new synonym is one line."""

from __future__ import annotations

import re

from bot.core.citations import strip_citations
from bot.core.gate.structure import FIELDS as GATE_FIELDS
from bot.core.gate.text import normalise
from bot.core.plan.model import TestType

# Type words as people and models write them. The earliest match in the text wins, so "integration test of the
# load balancer" is integration and "load (performance)" is load.
_TYPE_WORDS: tuple[tuple[TestType, str], ...] = (
    ("canary", r"canary|canaries|progressive (?:delivery|rollout)|rollout analysis|analysis template|blue green"),
    ("chaos", r"chaos|fault[ -]injection|resilience|failover|fail over|game ?day|toxiproxy|network partition"),
    ("load", r"load|performance|perf|stress|soak|capacity|spike|k6|benchmark|throughput|scalability"),
    ("contract", r"contract|pact|schema|api compatibility|config(?:uration)? (?:validation|check)"),
    ("e2e", r"e2e|end[ -]to[ -]end|synthetic|smoke|browser|ui|journey|playwright|acceptance"),
    ("integration", r"integration|component|system"),
    ("unit", r"unit|property[ -]based|fuzz"),
)
_TYPE_PATTERN = re.compile("|".join(rf"(?P<{t}>\b(?:{words})\b)" for t, words in _TYPE_WORDS), re.IGNORECASE)


def kind_of(text: str) -> TestType | None:
    """The test type ``text`` names first (a Type field's value, a name such as "Load test: pool"), or None."""
    m = _TYPE_PATTERN.search(text)
    if m is None or m.lastgroup is None:
        return None
    return next(t for t, _ in _TYPE_WORDS if t == m.lastgroup)


# Field labels: the gate's table (what the prompt asks for and the quality check accepts) plus the plan's own.
LABELS: dict[str, tuple[str, ...]] = {
    "name": ("name", "test name"),
    "type": GATE_FIELDS["type"],
    "scope": GATE_FIELDS["scope"],
    "fault_injection": GATE_FIELDS["fault injection"] + ("setup", "scenario", "fault injected", "injected fault"),
    "success_criteria": GATE_FIELDS["success criterion"] + ("threshold", "thresholds", "pass condition", "slo"),
    "catches": ("catches", "would have caught", "would catch", "caught", "detects", "alert", "signal", "metric", "metrics"),
    "priority": ("priority", "prio", "rank", "severity"),
    # The prompt asks for each test's rationale with its evidence ids: read as a field of its test (not a test of
    # its own), and not part of the plan's records.
    "rationale": ("rationale", "why", "evidence"),
}
_BY_LABEL = {label: field for field, labels in LABELS.items() for label in labels}
# A table's first header may be a bare "Test": as an inline label it would split "Load test: pool" in two.
_HEADERS = {**_BY_LABEL, "test": "name", "tests": "name", "title": "name"}
# Longest first, so "fault injection method" wins over "fault"; spaces match any run of spaces, _ or -.
_ALTERNATIVES = "|".join(re.escape(lbl).replace(r"\ ", r"[\s_-]+") for lbl in sorted(_BY_LABEL, key=len, reverse=True))
# A label starts the text or follows a separator, and ends with ":" or "=" ("Type: load; Scope: api").
_LABEL = re.compile(rf"(?:^|(?<=[\s;|,(—–]))(?P<label>{_ALTERNATIVES})\s*[:=]", re.IGNORECASE)


def field_of(label: str, *, header: bool = False) -> str | None:
    """The plan field a label (or with ``header``, a table column) names ("Success criteria" → success_criteria)."""
    return (_HEADERS if header else _BY_LABEL).get(normalise(label))


def labelled(text: str) -> tuple[str, dict[str, str]]:
    """Split ``text`` at its field labels: (the text before the first label, {field: value}). A field given twice
    keeps its first value."""
    matches = list(_LABEL.finditer(text))
    fields: dict[str, str] = {}
    ends = [m.start() for m in matches[1:]] + [len(text)] if matches else []
    for m, end in zip(matches, ends, strict=True):
        field = field_of(m.group("label"))
        value = text[m.end(): end]
        if field is not None:
            fields.setdefault(field, clean_value(value))
    lead = text[: matches[0].start()] if matches else text
    return clean_value(lead), fields


def clean_value(value: str) -> str:
    """A value without the separators around it ("— load;" → "load") or evidence ids ("[m4]": they link only in the
    thread's own sections, and mean nothing in a checklist, a skeleton or a ticket)."""
    return strip_citations(value).strip().strip(";,|—–-:").strip()


_PRIORITY_WORDS = {"p0": 1, "p1": 1, "critical": 1, "highest": 1, "high": 1, "urgent": 1, "first": 1, "must": 1,
                   "p2": 2, "medium": 2, "normal": 2, "should": 2, "p3": 3, "p4": 3, "low": 3, "nice to have": 3, "later": 3}


def priority(text: str) -> int | None:
    """1 (add first) to 3 from "P1", "high", "2", "low"…; None when the text names no priority."""
    norm = normalise(text)
    if m := re.match(r"(\d)\b", norm):
        return min(3, max(1, int(m.group(1))))
    return next((p for word, p in _PRIORITY_WORDS.items() if re.search(rf"\b{word}\b", norm)), None)
