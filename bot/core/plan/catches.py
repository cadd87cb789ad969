"""What a test would have caught: the alerts and metric families of this incident its text covers, matched with
the quality gate's own tables (bot/core/gate/facts.py), so the gate and the plan agree on what "covers" means."""

from __future__ import annotations

from bot.core.gate.facts import incident_alerts, incident_signals, uncovered


def caught_by(test_text: str, incident_text: str) -> str:
    """The incident's alerts the test covers, else its metric families; "" when it covers none of them."""
    if not incident_text.strip() or not test_text.strip():
        return ""
    missed = set(uncovered(test_text, incident_text))
    alerts = [a for a in incident_alerts(incident_text) if f'alert "{a}"' not in missed]
    if alerts:
        return ", ".join(alerts[:3])
    metrics = [s.name for s in incident_signals(incident_text) if f"metric {s.name}" not in missed]
    return ", ".join(metrics[:3])
