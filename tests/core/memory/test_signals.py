"""Signals read off the digest: failure classes, services, alert names (rule names, or the alert's wording), log
templates as stable keys, and the headline with the root message's incident id."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.digest import build_digest
from bot.core.incident.model import Incident, Message
from bot.core.memory import Signals, classes_in, signals_of
from bot.core.memory.signals import incident_id, template_key


def incident(*lines: str) -> Incident:
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return Incident([Message("alice" if n == 0 else "pagerduty", line, at.replace(minute=n)) for n, line in enumerate(lines)])


def test_signals_of_a_pool_exhaustion_thread() -> None:
    signals = signals_of(build_digest(incident(
        "INC-4821 payments-api checkout failing: ERROR pool: timeout acquiring connection after 30000ms",
        "[FIRING] PaymentsPoolExhausted payments-api connections 100/100",
        "[FIRING] payments-api p99 latency > 2s",
    )), "#inc thread")
    assert signals.classes == ("connection-pool-exhaustion",)
    assert "payments-api" in signals.services
    assert "PaymentsPoolExhausted" in signals.alerts
    assert any(a.startswith("firing payments-api p#") for a in signals.alerts)  # an alert without a rule name, by its wording
    assert signals.headline.startswith("INC-4821 payments-api checkout failing")
    assert signals.started == "2026-11-02T09:00:00Z"


def test_headline_adds_the_incident_id_once_and_never_a_secret() -> None:
    digest = build_digest(incident("checkout down, password=hunter2hunter2 in the logs", "inc-12 is the ticket"))
    headline = signals_of(digest, "fallback").headline
    assert "hunter2" not in headline
    assert incident_id("INC-4821 checkout") == "INC-4821" and incident_id("checkout INC-4821") is None


def test_template_keys_ignore_numbers_and_wildcards() -> None:
    assert template_key("ERROR pool: timeout after <*> ms (attempt 3)") == template_key("ERROR pool: timeout after 30000 ms (attempt 7)")


def test_classes_in_prose_and_round_trip() -> None:
    assert classes_in("The pool was exhausted; remaining connection slots are reserved") == ["connection-pool-exhaustion"]
    assert classes_in("a shared generic word") == []
    signals = Signals(("a",), ("b",), ("c",), ("d",), "h", None).with_classes(["z", "a"])
    assert Signals.from_dict(signals.to_dict()) == signals and signals.classes == ("a", "z")
    assert Signals.from_dict({"classes": "not a list"}) == Signals()
