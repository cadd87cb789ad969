"""Scoring one digest against its label, and the corpus figures (definitions in bench_real_incidents.py's docstring).

Reads the digest only through what issue 21 keeps stable: ``failures`` (ordered: the checklist) with ``id``,
``timeline`` events with ``time``, ``duration_minutes``, ``resolved`` and its rendered markdown; anything else
missing counts as not shown rather than crashing, so the bench survives small changes to the data model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from real_corpus import NONE, Label, clock_candidates

from bot.core.digest import render_markdown

DURATION_TOLERANCE_MIN = 5


@dataclass
class Score:
    """One incident (a document or a thread) against its label."""

    id: str
    checklist: list[str]
    label: Label
    times_found: list[str] = field(default_factory=list)  # label clocks found in the digest text
    times_missed: list[str] = field(default_factory=list)
    timeline_events: int = 0
    timed_events: int = 0
    duration: float | None = None
    resolved: bool = False
    digest_s: float = 0.0

    @property
    def right(self) -> list[str]:
        return [c for c in self.checklist if c in self.label.classes]

    @property
    def wrong(self) -> list[str]:
        return [c for c in self.checklist if c not in self.label.classes]

    @property
    def missed(self) -> list[str]:
        return [c for c in self.label.classes if c not in self.checklist]

    @property
    def duration_right(self) -> bool:
        stated = self.label.duration_minutes
        return stated is not None and self.duration is not None and abs(self.duration - stated) <= DURATION_TOLERANCE_MIN

    @property
    def covers_actions(self) -> bool:
        return bool(set(self.checklist) & self.label.action_classes)


def _clock_in(text: str, clock: str) -> bool:
    return re.search(rf"(?<![\d:]){re.escape(clock)}(?![\d])", text, flags=re.IGNORECASE) is not None


def score(incident_id: str, label: Label, digest: Any, digest_s: float, text: str | None = None) -> Score:
    """``text``: the digest as shown (rendered from ``digest`` when not given)."""
    text = render_markdown(digest) if text is None else text
    checklist = [str(getattr(f, "id", "")) for f in getattr(digest, "failures", [])]
    timeline = list(getattr(digest, "timeline", []) or [])
    s = Score(incident_id, checklist, label, digest_s=digest_s, timeline_events=len(timeline),
              timed_events=sum(1 for e in timeline if getattr(e, "time", None)),
              duration=getattr(digest, "duration_minutes", None), resolved=bool(getattr(digest, "resolved", False)))
    for t in label.times:
        if t.clock is None:
            continue  # a date alone: not a time a digest can show on a timeline row
        found = any(_clock_in(text, c) for c in clock_candidates(label, t))
        (s.times_found if found else s.times_missed).append(t.at)
    return s


def _pct(part: int, whole: int) -> dict[str, Any]:
    return {"n": part, "of": whole, "pct": round(100 * part / whole, 1) if whole else None}


def figures(scores: list[Score]) -> dict[str, Any]:
    """The issue's table over a set of scored incidents."""
    with_primary = [s for s in scores if s.label.primary != NONE]
    listed = sum(len(s.checklist) for s in scores)
    labelled = sum(len(s.label.classes) for s in scores)
    stated = [s for s in scores if s.label.duration_minutes is not None]
    resolution = [s for s in scores if s.label.resolution_stated]
    with_actions = [s for s in scores if s.label.action_classes]
    times = [len(s.times_found) for s in scores], [len(s.times_found) + len(s.times_missed) for s in scores]
    digest_ms = sorted(s.digest_s * 1000 for s in scores)
    return {
        "incidents": len(scores),
        "root_cause_in_checklist": _pct(sum(s.label.primary in s.checklist for s in with_primary), len(with_primary)),
        "root_cause_first": _pct(sum(s.checklist[:1] == [s.label.primary] for s in with_primary), len(with_primary)),
        "checklist_precision": _pct(sum(len(s.right) for s in scores), listed),
        "labelled_classes_found": _pct(sum(len(s.right) for s in scores), labelled),
        "labelled_times_found": _pct(sum(times[0]), sum(times[1])),
        "timed_timeline_events": _pct(sum(s.timed_events for s in scores), sum(s.timeline_events for s in scores)),
        "durations_shown": _pct(sum(s.duration is not None for s in stated), len(stated)),
        "durations_right": _pct(sum(s.duration_right for s in stated), len(stated)),
        "resolutions_recognised": _pct(sum(s.resolved for s in resolution), len(resolution)),
        "resolved_without_stated_resolution": _pct(sum(s.resolved for s in scores if not s.label.resolution_stated),
                                                   sum(not s.label.resolution_stated for s in scores)),
        "checklists_covering_action_items": _pct(sum(s.covers_actions for s in with_actions), len(with_actions)),
        "empty_checklists": _pct(sum(not s.checklist for s in scores), len(scores)),
        "empty_checklists_where_a_class_applies": _pct(sum(not s.checklist for s in with_primary), len(with_primary)),
        "digest_ms": {"median": digest_ms[len(digest_ms) // 2] if digest_ms else None, "max": digest_ms[-1] if digest_ms else None},
    }


def row(s: Score) -> dict[str, Any]:
    """One incident's details for --verbose and the result file."""
    return {
        "id": s.id, "primary": s.label.primary, "checklist": s.checklist, "wrong": s.wrong, "missed": s.missed,
        "times_found": f"{len(s.times_found)}/{len(s.times_found) + len(s.times_missed)}", "times_missed": s.times_missed,
        "timed_events": f"{s.timed_events}/{s.timeline_events}",
        "duration": s.duration, "duration_stated": s.label.duration_minutes,
        "resolved": s.resolved, "resolution_stated": s.label.resolution_stated,
        "action_classes": sorted(s.label.action_classes), "covers_actions": s.covers_actions,
        "digest_ms": round(s.digest_s * 1000, 1),
    }
