"""The bench's figures from a digest and a label: each definition of bench_real_incidents.py's docstring."""

from __future__ import annotations

from dataclasses import dataclass, field

from real_corpus import ActionItem, Label, LabelTime
from real_scoring import figures, score


@dataclass
class FakeFailure:
    id: str


@dataclass
class FakeEvent:
    time: str | None


@dataclass
class FakeDigest:
    """Only what the bench reads from a Digest."""

    failures: list[FakeFailure]
    text: str
    timeline: list[FakeEvent] = field(default_factory=list)
    duration_minutes: float | None = None
    resolved: bool = False


def label(primary: str = "config-drift", classes: tuple[str, ...] = ("config-drift", "bad-rollout"), **kw: object) -> Label:
    base: dict[str, object] = dict(
        id="x", classes=classes, primary=primary, timezone="CET", start="2021-01-05 11:25", resolved="2021-01-05 12:25",
        duration_minutes=60, resolution_stated=True,
        times=(LabelTime("2021-01-05 11:25", "deploy"), LabelTime("2021-01-05 12:25", "fixed"), LabelTime("2021-01-06", "a date")),
        action_items=(ActionItem("alert", ("config-drift",)),))
    base.update(kw)
    return Label(**base)  # type: ignore[arg-type]


def test_a_right_digest_scores_full_marks() -> None:
    d = FakeDigest([FakeFailure("config-drift"), FakeFailure("bad-rollout")], "10:25 deploy … 12:25 fixed",
                   [FakeEvent("10:25"), FakeEvent(None)], duration_minutes=62, resolved=True)
    f = figures([score("x", label(), d, 0.01, d.text)])
    assert f["root_cause_first"]["pct"] == f["checklist_precision"]["pct"] == f["labelled_classes_found"]["pct"] == 100
    # 11:25 CET found as 10:25 UTC, 12:25 as written; the date alone is not a time to find
    assert f["labelled_times_found"] == {"n": 2, "of": 2, "pct": 100.0}
    assert f["timed_timeline_events"]["n"] == 1 and f["durations_right"]["n"] == 1 and f["resolutions_recognised"]["n"] == 1
    assert f["checklists_covering_action_items"]["n"] == 1 and f["empty_checklists"]["n"] == 0


def test_wrong_order_extra_classes_and_misses_are_counted() -> None:
    d = FakeDigest([FakeFailure("schema-migration"), FakeFailure("config-drift")], "at 1:25 PM", duration_minutes=70)
    f = figures([score("x", label(), d, 0.01, d.text)])
    assert f["root_cause_in_checklist"]["pct"] == 100 and f["root_cause_first"]["pct"] == 0
    assert f["checklist_precision"] == {"n": 1, "of": 2, "pct": 50.0}
    assert f["labelled_classes_found"] == {"n": 1, "of": 2, "pct": 50.0}
    assert f["labelled_times_found"]["n"] == 0  # 1:25 PM is neither 11:25 nor 10:25; "11:250" would not count either
    assert f["durations_shown"]["n"] == 1 and f["durations_right"]["n"] == 0  # 70 vs 60: beyond ±5 min
    assert f["resolutions_recognised"]["n"] == 0


def test_none_incidents_count_only_against_precision_and_empty_checklists() -> None:
    none = label(primary="none", classes=(), action_items=(), duration_minutes=None, resolution_stated=False, resolved="")
    f = figures([score("a", none, FakeDigest([FakeFailure("dependency-outage")], ""), 0.0, ""),
                 score("b", label(), FakeDigest([], ""), 0.0, "")])
    assert f["root_cause_in_checklist"]["of"] == 1 and f["checklist_precision"] == {"n": 0, "of": 1, "pct": 0.0}
    assert f["empty_checklists"]["n"] == 1 and f["empty_checklists_where_a_class_applies"] == {"n": 1, "of": 1, "pct": 100.0}
    assert f["checklists_covering_action_items"]["of"] == 1 and f["durations_shown"]["of"] == 1
