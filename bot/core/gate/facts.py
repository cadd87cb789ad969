"""Checks against the incident itself: alerts and metrics mapped to tests, no invented timestamps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.core.gate.text import contains_phrase, normalise

# Alert titles as alerting tools post them: "[FIRING] X", "[FIRING:2] X", "alertname=X", "Alert: X".
_ALERT_PATTERNS = (
    re.compile(r"\[FIRING(?::\d+)?\]\s*([^\n\[]{3,120})", re.IGNORECASE),
    re.compile(r"\balertname\s*[=:]\s*\"?([\w.:-]{3,80})", re.IGNORECASE),
)


@dataclass(frozen=True)
class Signal:
    """A metric family: how the incident names it, and the words that count as a test covering it."""

    name: str
    in_incident: re.Pattern[str]
    in_tests: re.Pattern[str]


def _signal(name: str, incident: str, tests: str | None = None) -> Signal:
    return Signal(name, re.compile(incident, re.IGNORECASE), re.compile(tests or incident, re.IGNORECASE))


# Metric families a test must cover when the incident names them. Extend the table, not the code.
SIGNALS: tuple[Signal, ...] = (
    _signal("latency", r"\bp(?:50|75|90|95|99|999)\b|\blatenc(?:y|ies)\b|\bresponse[ -]times?\b",
            r"\bp(?:50|75|90|95|99|999)\b|\blatenc(?:y|ies)\b|\bresponse[ -]times?\b|\bslow"),
    _signal("error rate", r"\berror[ -]?rates?\b|\bfailure[ -]?rates?\b",
            r"\berror[ -]?rates?\b|\bfailure[ -]?rates?\b|\berrors?\b"),
    _signal("5xx responses", r"\b5xx\b|\b(?:http|status|upstream|returns?|returned|got)\s+5\d\d\b|\b5\d\d\s+(?:errors?|responses?)\b",
            r"\b5xx\b|\b5\d\d\b|\bserver errors?\b|\berror[ -]?rates?\b"),
    _signal("cpu", r"\bcpu\b|\bthrottl(?:ed|ing)\b"),
    _signal("memory", r"\bmemory\b|\boom(?:killed)?\b|\bheap\b|\brss\b", r"\bmemory\b|\boom(?:killed)?\b|\bheap\b|\brss\b|\bleak"),
    _signal("connections", r"\bmax_connections\b|\bconnection[ -]?pool\b|\bconnections?\s+\d+\s*/\s*\d+|\bactive connections\b",
            r"\bconnections?\b|\bpool\b"),
    _signal("disk", r"\bdisk\b|\bno space left\b|\binodes?\b", r"\bdisk\b|\bspace\b|\binodes?\b"),
    _signal("queue lag", r"\bconsumer[ -]lag\b|\bqueue[ -](?:depth|lag|length)\b|\bbacklog\b", r"\blag\b|\bqueue\b|\bbacklog\b"),
    _signal("saturation", r"\bthroughput\b|\b[rq]ps\b|\brequests per second\b", r"\bthroughput\b|\b[rq]ps\b|\brequests per second\b|\bload\b"),
)

_STOP = frozenset({
    "a", "an", "the", "of", "on", "in", "for", "to", "is", "at", "by", "and",
    "or", "with", "from", "than", "over", "under", "per", "s", "m", "ms",
})


@lru_cache(maxsize=8)
def incident_alerts(incident_text: str) -> tuple[str, ...]:
    """Alert names fired in the incident, deduplicated, in order of first appearance."""
    seen: dict[str, None] = {}
    for pattern in _ALERT_PATTERNS:
        for m in pattern.finditer(incident_text):
            seen.setdefault(m.group(1).strip(" .:-"), None)
    return tuple(seen)


@lru_cache(maxsize=8)
def incident_signals(incident_text: str) -> tuple[Signal, ...]:
    return tuple(s for s in SIGNALS if s.in_incident.search(incident_text))


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


def signal_coverage(test_suite: str, incident_text: str) -> str | None:
    """Every alert and metric family the incident names is mentioned by the test suite."""
    missing = uncovered(test_suite, incident_text)
    if not missing:
        return None
    return "no test covers " + ", ".join(missing[:4]) + (f" (+{len(missing) - 4} more)" if len(missing) > 4 else "")


def uncovered(test_suite: str, incident_text: str) -> list[str]:
    """The alert names and metric families still unmapped (for the repair prompt)."""
    norm = normalise(test_suite)
    return [f'alert "{a}"' for a in incident_alerts(incident_text) if not _alert_covered(a, test_suite, norm)] + [
        f"metric {s.name}" for s in incident_signals(incident_text) if not s.in_tests.search(test_suite)
    ]


# --- Timestamps -----------------------------------------------------------------------------------------------

# HH:MM with optional :SS and am/pm; not inside a longer number, a version or a host:port.
_TIME = re.compile(r"(?<![\d:.])(\d{1,2}):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?![\d:])(?:\s*([ap])\.?m\b\.?)?", re.IGNORECASE)
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
