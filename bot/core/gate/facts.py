"""Checks against the incident itself: the alerts that fired and the signals the root cause rests on mapped to
tests, no invented timestamps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.gate.signals import SIGNALS, Signal, signals_shown
from bot.core.gate.text import contains_phrase, normalise

# Alert titles as alerting tools post them: "[FIRING] X", "[FIRING:2] X", "alertname=X", "Alert: X".
_ALERT_PATTERNS = (
    re.compile(r"\[FIRING(?::\d+)?\]\s*([^\n\[]{3,120})", re.IGNORECASE),
    re.compile(r"\balertname\s*[=:]\s*\"?([\w.:-]{3,80})", re.IGNORECASE),
)


_STOP = frozenset({
    "a", "an", "the", "of", "on", "in", "for", "to", "is", "at", "by", "and",
    "or", "with", "from", "than", "over", "under", "per", "s", "m", "ms",
})


# "[FIRING] FluentdBufferLow: buffer below 0.2 on 3 nodes": an alert name (CamelCase or snake_case, as rule names
# are written) before ": " is the name, the rest its text. "checkout-api: p99 > 2s" names a service: the whole title.
_NAMED_ALERT = re.compile(r"((?=[\w.]*(?:[a-z][A-Z]|_))[A-Za-z][\w.]{2,79}):\s")


@lru_cache(maxsize=8)
def incident_alerts(incident_text: str) -> tuple[str, ...]:
    """Alert names fired in the incident, deduplicated, in order of first appearance."""
    seen: dict[str, None] = {}
    for pattern in _ALERT_PATTERNS:
        for m in pattern.finditer(incident_text):
            title = m.group(1).strip(" .:-")
            named = _NAMED_ALERT.match(title)
            seen.setdefault(named.group(1) if named else title, None)
    return tuple(seen)


def incident_signals(incident_text: str) -> tuple[Signal, ...]:
    """The metric families the incident shows (a metric that "looked fine" is not one of them)."""
    return signals_shown(incident_text)


def _alert_covered(alert: str, tests: str, tests_norm: str) -> bool:
    """Named outright; or its metric families all covered; or, with no known metric, half its words present."""
    if contains_phrase(tests_norm, normalise(alert)):
        return True
    families = [s for s in SIGNALS if s.in_incident.search(alert) or s.in_tests.search(alert)]
    if families:
        return all(s.in_tests.search(tests) for s in families)
    split = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", alert)  # PaymentGatewayTimeout -> Payment Gateway Timeout
    terms = [w for w in normalise(split).split() if w not in _STOP and not w.isdigit()]
    return bool(terms) and sum(contains_phrase(tests_norm, w) for w in terms) * 2 >= len(terms)


@dataclass(frozen=True)
class Coverage:
    """What the test suite leaves unmapped. ``required``: the alerts that fired and the metric families the primary
    root cause rests on; a reviewer sends such a suite back. ``other``: the incident's other signals; worth a note,
    not a rewrite (a symptom such as "db CPU 97%" need not have a test of its own)."""

    required: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


def coverage(test_suite: str, incident_text: str, root_cause: str = "") -> Coverage:
    """``root_cause``: the answer's primary root-cause statement (structure.primary_statement)."""
    norm = normalise(test_suite)
    alerts = [f'alert "{a}"' for a in incident_alerts(incident_text) if not _alert_covered(a, test_suite, norm)]
    cause = signals_shown(root_cause) if root_cause else ()
    missing = [s for s in SIGNALS if not s.in_tests.search(test_suite)]
    return Coverage(alerts + [f"metric {s.name}" for s in missing if s in cause],
                    [f"metric {s.name}" for s in missing if s not in cause and s in incident_signals(incident_text)])


def signal_coverage(test_suite: str, incident_text: str, root_cause: str = "") -> str | None:
    """Every alert that fired and every metric family the root cause rests on is mentioned by the test suite."""
    missing = coverage(test_suite, incident_text, root_cause).required
    if not missing:
        return None
    return "no test covers " + ", ".join(missing[:4]) + (f" (+{len(missing) - 4} more)" if len(missing) > 4 else "")


def uncovered(test_suite: str, incident_text: str, root_cause: str = "") -> list[str]:
    """Every alert name and metric family still unmapped, required first (for the repair prompt and the test plan)."""
    found = coverage(test_suite, incident_text, root_cause)
    return found.required + found.other


# --- Timestamps -----------------------------------------------------------------------------------------------

# HH:MM with optional :SS and am/pm; not inside a longer number, a version or a host:port.
_TIME = re.compile(r"(?<![\d:.])(\d{1,2}):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?!\d|:\d)(?:\s*([ap])\.?m\b\.?)?", re.IGNORECASE)
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def times_in(text: str) -> set[str]:
    found: set[str] = set()
    for m in _TIME.finditer(text):
        hour, minute, half = int(m.group(1)), m.group(2), (m.group(3) or "").lower()
        if half == "p" and hour < 12:
            hour += 12
        elif half == "a" and hour == 12:
            hour = 0
        if hour <= 23:
            found.add(f"{hour:02d}:{minute}")
    return found


@lru_cache(maxsize=8)
def _incident_stamps(incident_text: str) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(times_in(incident_text)), frozenset("-".join(m.groups()) for m in _DATE.finditer(incident_text))


def invented_timestamps(body: str, incident_text: str) -> list[str]:
    """Times (as HH:MM) and ISO dates in ``body`` that the incident never mentions."""
    times, dates = _incident_stamps(incident_text)
    invented = sorted(times_in(body) - times) + sorted({"-".join(m.groups()) for m in _DATE.finditer(body)} - dates)
    return invented


def timestamps(body: str, incident_text: str) -> str | None:
    invented = invented_timestamps(body, incident_text)
    if not invented:
        return None
    return f"{len(invented)} timestamp(s) not in the incident: {', '.join(invented[:5])}"
