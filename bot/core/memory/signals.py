"""What makes two incidents alike, read off the rule-based digest: failure classes, services, alert names and log
templates. Deterministic (no model), so recall is explainable: a match names the signals it shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.digest import Digest, default_rules
from bot.core.digest.extract import is_error, one_line
from bot.core.digest.extract import services as named_services
from bot.core.redact import redact_text

KINDS = ("class", "service", "alert", "template")
MAX_PER_KIND = 12
TITLE_CHARS = 90

# "PaymentGatewayTimeout", "KubePodCrashLooping": how alerting rules are named.
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")
_ALERTNAME = re.compile(r"alertname\s*[=:]\s*\"?([\w.-]+)", re.IGNORECASE)
# "INC-4821", "SEV1-203", "PAY-77": the incident id a root message usually opens with.
_INCIDENT_ID = re.compile(r"\b(?:INC|INCIDENT|SEV\d?|PM|IR)-\d+\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NOISE = re.compile(r"[\[\]{}()\"'`]")


@dataclass(frozen=True)
class Signals:
    """One incident's signals, each kind a sorted tuple of normalised values; ``headline`` titles it in memory."""

    classes: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    headline: str = ""
    started: str | None = None  # ISO time of the first signal, when the data has one

    def pairs(self) -> list[tuple[str, str]]:
        """(kind, value) for every signal: the rows memory indexes and recall looks up."""
        return [(kind, value) for kind, values in zip(KINDS, (self.classes, self.services, self.alerts, self.templates), strict=True)
                for value in values]

    def words(self) -> list[str]:
        """Words for the full-text part of recall: the headline and every signal, split into plain words."""
        text = " ".join([self.headline, *(v.replace("-", " ") for _, v in self.pairs())])
        return re.findall(r"[a-z][a-z0-9]{2,}", text.lower())

    def with_classes(self, extra: list[str]) -> Signals:
        return Signals(tuple(sorted({*self.classes, *extra})), self.services, self.alerts, self.templates, self.headline, self.started)

    def to_dict(self) -> dict[str, Any]:
        return {"classes": list(self.classes), "services": list(self.services), "alerts": list(self.alerts),
                "templates": list(self.templates), "headline": self.headline, "started": self.started}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Signals:
        def values(key: str) -> tuple[str, ...]:
            raw = data.get(key)
            return tuple(str(v) for v in raw) if isinstance(raw, list) else ()

        started = data.get("started")
        return Signals(values("classes"), values("services"), values("alerts"), values("templates"),
                       str(data.get("headline") or ""), str(started) if started else None)


@dataclass
class _Collect:
    values: dict[str, None] = field(default_factory=dict)

    def add(self, value: str) -> None:
        value = " ".join(value.split()).strip(" .:;,-")
        if len(value) >= 3 and len(self.values) < MAX_PER_KIND:
            self.values.setdefault(value, None)

    def sorted(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))


def template_key(text: str) -> str:
    """A log line or template as a stable key: lower case, numbers and wildcards gone, 100 characters at most."""
    text = _NOISE.sub(" ", text.lower().replace("<*>", "#"))  # a folded wildcard stands where a number was
    return " ".join(_NUMBER.sub("#", text).split())[:100]


def classes_in(text: str) -> list[str]:
    """Failure classes whose rule patterns match ``text`` (the model's primary cause, an imported review)."""
    return [f.rule.id for f in default_rules().failures if f.regex.search(text)]


def incident_id(text: str) -> str | None:
    """The incident id a title opens with ("INC-4821 …" → "INC-4821"), None without one."""
    found = _INCIDENT_ID.match(text.strip())
    return found.group(0).upper() if found else None


def headline(digest: Digest, fallback: str) -> str:
    """The incident's title in memory: the root message's incident id when there is one, then its first line."""
    first = digest.first_report.text if digest.first_report else ""
    found = _INCIDENT_ID.search(first) or _INCIDENT_ID.search(digest.title)
    text = one_line(first, TITLE_CHARS) if first else fallback
    if found and found.group(0).upper() not in text.upper():
        text = f"{found.group(0).upper()} {text}"
    return redact_text(text or fallback)


def signals_of(digest: Digest, fallback_title: str) -> Signals:
    """The digest's signals. Every value comes from the digest, which is already redacted."""
    alerts, templates, services = _Collect(), _Collect(), _Collect()
    components = default_rules().components
    for event in digest.timeline:
        # A log line's service is often its source ("orders-api ERROR …"), which the digest keeps as the author.
        for name in named_services(f"{event.author} {event.text}", components):
            services.add(name.lower())
        if event.kind == "alert_fired":
            names = [*_ALERTNAME.findall(event.text), *_CAMEL.findall(event.text)]
            # An alert without a rule name ("[FIRING] checkout-api p99 > 2s") is known by its wording.
            for name in names or [template_key(event.text)[:60]]:
                alerts.add(name)
        elif event.kind in ("error_burst", "error") or (event.kind == "update" and is_error(event.text)):
            templates.add(template_key(event.text))
    for name in digest.services:
        services.add(name.lower())
    return Signals(tuple(sorted({f.id for f in digest.failures})), services.sorted(), alerts.sorted(), templates.sorted(),
                   headline(digest, fallback_title), digest.started)


def class_titles() -> dict[str, str]:
    """Failure class id → its title in the digest rules ("connection-pool-exhaustion" → "Connection-pool exhaustion")."""
    return {f.rule.id: f.rule.title for f in default_rules().failures}
