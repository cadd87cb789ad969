"""Metric families an incident shows, told apart from passing mentions ("CPU looked fine") by their clause."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Signal:
    """A metric family: how the incident names it, and the words that count as a test covering it."""

    name: str
    in_incident: re.Pattern[str]
    in_tests: re.Pattern[str]


def _signal(name: str, incident: str, tests: str | None = None) -> Signal:
    return Signal(name, re.compile(incident, re.IGNORECASE), re.compile(tests or incident, re.IGNORECASE))


# Metric families a test may cover. Extend the table, not the code.
SIGNALS: tuple[Signal, ...] = (
    _signal("latency", r"\bp(?:50|75|90|95|99|999)\b|\blatenc(?:y|ies)\b|\bresponse[ -]times?\b",
            r"\bp(?:50|75|90|95|99|999)\b|\blatenc(?:y|ies)\b|\bresponse[ -]times?\b|\bslow"),
    _signal("error rate", r"\berror[ -]?rates?\b|\bfailure[ -]?rates?\b",
            r"\berror[ -]?rates?\b|\bfailure[ -]?rates?\b|\berrors?\b"),
    _signal("5xx responses", r"\b5xx\b|\b(?:http|status|upstream|returns?|returned|got)\s+5\d\d\b|\b5\d\d\s+(?:errors?|responses?)\b",
            r"\b5xx\b|\b5\d\d\b|\bserver errors?\b|\berror[ -]?rates?\b"),
    _signal("cpu", r"\bcpu\b|\bthrottl(?:ed|ing)\b"),
    _signal("memory", r"\bmemory\b|\boom(?:killed)?\b|\bheap\b|\brss\b", r"\bmemory\b|\boom(?:killed)?\b|\bheap\b|\brss\b|\bleak"),
    _signal("connections", r"\bmax_connections\b|\bconnection[ -]?pool\b|\bconnections?\s+\d+\s*/\s*\d+|\bactive connections\b"
            r"|\b\d+\s+connections\b|\bconnection (?:limit|exhaustion)\b|\bpool (?:exhaust|saturat)\w*",
            r"\bconnections?\b|\bpool\b"),
    _signal("disk", r"\bdisk\b|\bno space left\b|\binodes?\b", r"\bdisk\b|\bspace\b|\binodes?\b"),
    _signal("queue lag", r"\bconsumer[ -]lag\b|\bqueue[ -](?:depth|lag|length)\b|\bbacklog\b", r"\blag\b|\bqueue\b|\bbacklog\b"),
    _signal("saturation", r"\bthroughput\b|\b[rq]ps\b|\brequests per second\b", r"\bthroughput\b|\b[rq]ps\b|\brequests per second\b|\bload\b"),
)

# A clause that calls its metric unremarkable: "CPU and memory looked fine", "p99 latency normal", "cpu flat",
# "memory was not the problem". Such a mention rules the metric out; it is not a signal of the incident.
_CALM = re.compile(
    r"\b(?:fine|normal|healthy|flat|stable|nominal|unaffected|unchanged|as expected|looked good"
    r"|within (?:limits|range|normal range|budget)|not (?:the |a )?(?:cause|problem|issue|culprit|factor)"
    r"|no (?:anomal\w*|issues?|problems?|change|spike))\b",
    re.IGNORECASE,
)
# Clauses end at sentence and list punctuation and at contrast words: "memory doubled, cpu flat" is two clauses.
_CLAUSE_END = re.compile(r"[.;!?\n,]\s|\n|\s(?:but|while|whereas|although)\s", re.IGNORECASE)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_END.split(text) if c.strip()]


@lru_cache(maxsize=16)
def signals_shown(text: str) -> tuple[Signal, ...]:
    """The families ``text`` names in at least one clause that does not call them unremarkable, in table order."""
    clauses = [c for c in _clauses(text) if not _CALM.search(c)]
    return tuple(s for s in SIGNALS if any(s.in_incident.search(c) for c in clauses))
