"""Duration: from the first signal to the recognised resolution, shown in days and hours when long; FIRING is
never a resolution; a stray stamp in a pasted log does not open the incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.digest import build_digest, render_markdown
from bot.core.digest.span import human_minutes
from bot.core.incident.load import incident_from_text
from bot.core.incident.model import Attachment, Incident, Message

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("minutes", "shown"), [(18, "18 min"), (4.5, "4.5 min"), (60, "1 h"), (125, "2 h 5 min"),
                                                (1435, "23 h 55 min"), (1440, "1 day"), (1461, "1 day"), (2115, "1 day 11 h"),
                                                (60615, "42 days 2 h")])
def test_long_durations_read_as_days_and_hours(minutes: float, shown: str) -> None:
    assert human_minutes(minutes) == shown


@pytest.mark.parametrize("resolution", ["service fully restored", "mitigated by failing over", "rolled back and recovered",
                                        "All healthy and issue resolved", "queue is back to a functional state",
                                        "Manual fix applied", "nodes started shipping logs again",
                                        "Confirmed, all our metrics are back", "DaemonSets run with the correct ARN again",
                                        "All ingress traffic works as intended again",
                                        # A release that carries the fix, however it is worded.
                                        "released v1.2.3 which fixes it", "shipped 1.2.3 containing the fix",
                                        "v1.2.3 released, it fixes the bug", "v2.0.1 is out with the patch",
                                        "Deployed hotfix 2.0.1 that patches the leak"])
def test_duration_ends_at_the_recognised_resolution_not_at_later_rows(resolution: str) -> None:
    text = f"## Timeline\n- 2025-03-04 09:00 checkout errors reported\n- 2025-03-04 09:40 {resolution}\n" \
           "- 2025-03-04 15:00 long-term follow-up merged\n"
    d = build_digest(incident_from_text(text))
    assert (d.resolved, d.duration_minutes, d.started, d.ended) == (True, 40.0, "2025-03-04 09:00", "2025-03-04 09:40")
    assert "**Duration:** 40 min, first signal 2025-03-04 09:00 → resolution 2025-03-04 09:40" in render_markdown(d)


@pytest.mark.parametrize("plan", ["the fix will be released tomorrow in v1.2.3", "deployed the fix to staging",
                                  "released v1.2.3 to production", "we need to decide what fixes to ship"])
def test_a_planned_staged_or_fixless_release_is_no_resolution(plan: str) -> None:
    d = build_digest(incident_from_text(f"## Timeline\n- 2025-03-04 09:00 checkout errors reported\n- 2025-03-04 09:40 {plan}\n"))
    assert not d.resolved


def test_without_a_resolution_the_duration_says_so_far() -> None:
    d = build_digest(incident_from_text("## Timeline\n- 2025-03-04 09:00 errors reported\n- 2025-03-06 11:00 still investigating\n"))
    assert not d.resolved and d.duration_minutes == 3000.0
    assert "**Duration:** 2 days 2 h so far, 2025-03-04 09:00 → 2025-03-06 11:00 (no resolution recognised)" in render_markdown(d)


def test_a_timeline_opens_at_its_first_row_past_routine_ones() -> None:
    text = "## Timeline\n| Time | Event |\n| --- | --- |\n| 2020-10-06 07:00 | Regular maintenance node roll over |\n" \
           "| 2020-10-06 08:00 | Pods started crashlooping |\n| 2020-10-06 12:00 | All healthy and issue resolved |\n"
    d = build_digest(incident_from_text(text))
    assert (d.started, d.duration_minutes) == ("2020-10-06 08:00", 240.0)


def test_firing_and_resolved_in_one_paste_are_told_apart() -> None:
    text = "09:02 Alertmanager: [FIRING] checkout-api error rate > 5%\n09:13 Alertmanager: [RESOLVED] checkout-api error rate > 5%"
    d = build_digest(incident_from_text(text))
    assert [(e.time, e.kind) for e in d.timeline] == [("09:02", "alert_fired"), ("09:13", "alert_resolved")]
    assert d.resolved and d.duration_minutes == 11.0


def test_a_stray_stamp_in_a_pasted_log_does_not_open_the_incident() -> None:
    old_log = "\n".join(f"2025-03-03T{h:02d}:00:00Z ERROR db: deadlock detected" for h in range(8))  # the day before
    incident = Incident([
        Message("ana", "checkout is throwing 500s", T0),
        Message("raj", "found this in an old log", T0 + timedelta(minutes=3), (Attachment("db.log", old_log),)),
        Message("ana", "restarted the pool, resolved", T0 + timedelta(minutes=30)),
    ])
    d = build_digest(incident)
    assert (d.started, d.ended, d.duration_minutes) == ("2025-03-04T09:00:00Z", "2025-03-04T09:30:00Z", 30.0)


def test_errors_logged_just_before_the_first_report_open_the_incident() -> None:
    log = "\n".join(f"2025-03-04T08:5{m}:00Z ERROR pool: timeout acquiring connection" for m in range(3, 10))
    incident = Incident([
        Message("ana", "checkout is throwing 500s", T0, (Attachment("api.log", log),)),
        Message("ana", "resolved", T0 + timedelta(minutes=20)),
    ])
    assert build_digest(incident).started == "2025-03-04T08:53:00Z"


def test_action_items_and_lessons_are_never_events() -> None:
    text = "## Timeline\n- 2025-03-04 09:00 alert fired\n- 2025-03-04 09:20 resolved\n\n## Action items\n" \
           "- 2025-04-01 deploy the pool limit check\n- roll back faster next time\n\n## Lessons learned\nWe resolved it late.\n"
    d = build_digest(incident_from_text(text))
    assert [e.time for e in d.timeline] == ["2025-03-04 09:00", "2025-03-04 09:20"]
    assert d.duration_minutes == 20.0


def test_grafana_alerting_and_ok_are_told_apart_and_a_scheduled_maintenance_message_does_not_open_the_thread() -> None:
    incident = Incident([
        Message("node-roller", "Scheduled maintenance: rolling over the worker nodes", T0),
        Message("grafana", "[Alerting] Ingress availability: every service returns 404", T0 + timedelta(minutes=60)),
        Message("emil", "rolled back the ingress controller", T0 + timedelta(minutes=100)),
        Message("grafana", "[OK] Ingress availability", T0 + timedelta(minutes=108)),
    ])
    d = build_digest(incident)
    assert [e.kind for e in d.timeline] == ["report", "alert_fired", "rollback", "alert_resolved"]
    assert (d.started, d.ended, d.duration_minutes) == ("2025-03-04T10:00:00Z", "2025-03-04T10:48:00Z", 48.0)


def test_a_short_thread_lists_every_message_that_says_something_a_long_one_only_what_is_recognised() -> None:
    from bot.core.digest.build import MAX_EVENTS

    def thread(n: int) -> Incident:
        words = [f"{a} {b}" for a in ("alb", "dns", "pool", "cache", "queue", "proxy", "disk", "cpu") for b in
                 ("looks odd", "was changed", "shows waits", "is slow", "lost a node", "needs a look", "seems fine", "restarted late")]
        return Incident([Message("ana", f"the {words[i]}", T0 + timedelta(minutes=i)) for i in range(n)]
                        + [Message("raj", "+1", T0 + timedelta(minutes=n))])

    short = build_digest(thread(5))
    assert [e.kind for e in short.timeline] == ["report"] + ["update"] * 4  # "+1" is chatter, never an event
    assert "update" not in {e.kind for e in build_digest(thread(MAX_EVENTS + 1)).timeline}


@pytest.mark.parametrize(("line", "kind"), [("[FIRING:1] HighLatency; the earlier alert resolved", "alert_fired"),
                                            ("[RESOLVED] HighLatency, was firing for 10 min", "alert_resolved"),
                                            ("[Alerting] buffer below 20%", "alert_fired"), ("[OK] buffer", "alert_resolved")])
def test_an_alerts_status_as_its_tool_writes_it_decides(line: str, kind: str) -> None:
    from bot.core.digest import default_rules

    assert default_rules().event_kind(line) == kind


@pytest.mark.parametrize("line", ["not resolved yet", "is it resolved? no", "this won't be resolved until the fix lands",
                                  "the issue was never fixed", "it is not fully recovered", "still not mitigated",
                                  "hasn't recovered", "fixed?", "no, it isn't back to normal"])
def test_a_negated_or_asked_outcome_is_no_resolution(line: str) -> None:
    from bot.core.digest import default_rules

    assert default_rules().event_kind(line) != "resolution"


@pytest.mark.parametrize("line", ["not the cache: resolved by restarting the db", "wasn't fixed by the restart; resolved after failover",
                                  "no further action required", "fixed, nothing else is failing"])
def test_an_outcome_beside_a_negation_elsewhere_is_still_a_resolution(line: str) -> None:
    from bot.core.digest import default_rules

    assert default_rules().event_kind(line) == "resolution"


def test_a_thread_saying_it_is_not_resolved_yet_has_no_resolution() -> None:
    text = "10:00 Anna: alert fired: checkout down\n10:10 Bob: not resolved yet\n10:40 Anna: resolved now\n"
    d = build_digest(incident_from_text(text))
    assert (d.resolved, d.duration_minutes) == (True, 40.0)
