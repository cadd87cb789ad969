"""Timeline, silence gaps, metric jumps, duration and the minimal honest digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.digest import build_digest, render_markdown, speech_text
from bot.core.digest.build import MAX_EVENTS
from bot.core.digest.extract import metric_jumps
from bot.core.digest.render import NOTHING_RECOGNISED
from bot.core.incident.model import Attachment, Incident, Message

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


JUMPS = [
    ("error rate 5% → 68% after the deploy", ("error rate", "5%", "68%")),
    ("p99 300ms → 2.3s", ("p99", "300ms", "2.3s")),
    ("p99 300ms -> 2.3s", ("p99", "300ms", "2.3s")),
    ("v2.31.0 raised the retries and the pool size went from 20 to 50 per pod", ("pool size", "20", "50")),
    ("[FIRING] latency\np99 latency 4.8s (threshold 2s) for 5m", ("p99 latency", "2s", "4.8s")),
    ("p99 latency on checkout-api is 900–5999ms (baseline 180ms)", ("p99 latency checkout-api", "180ms", "900–5999ms")),
    ("queue depth jumped from 1.2k to 48k", ("queue depth", "1.2k", "48k")),
]
NOT_JUMPS = ["rolled back v2.31.0 -> v2.30.4", "ticket OPS-1234 opened at 10:05", "moved from db01 to db02", "12 pods x 50 = 600"]


@pytest.mark.parametrize(("text", "jump"), JUMPS)
def test_metric_jump_found(text: str, jump: tuple[str, str, str]) -> None:
    assert [j[:3] for j in metric_jumps(text)] == [jump]
    digest = build_digest(Incident([Message("grafana", text, T0)]))
    assert [(m.name, m.before, m.after) for m in digest.metrics] == [jump]
    assert f"{jump[1]} → {jump[2]}" in render_markdown(digest)


@pytest.mark.parametrize("text", NOT_JUMPS)
def test_versions_ids_and_arithmetic_are_not_metric_jumps(text: str) -> None:
    assert list(metric_jumps(text)) == []


@pytest.mark.parametrize(("threshold", "expected"), [(15, [35.0]), (5, [35.0, 5.0]), (36, [])])
def test_thread_silence_gaps(threshold: float, expected: list[float]) -> None:
    minutes = [0, 1, 6, 41, 42]  # 5 min then 35 min of silence
    incident = Incident([Message(f"p{i}", f"update {i}", _at(m)) for i, m in enumerate(minutes)])
    digest = build_digest(incident, gap_minutes=threshold)
    assert sorted((g.minutes for g in digest.gaps), reverse=True) == expected
    markdown = render_markdown(digest)
    assert f"Silence gaps (≥ {threshold:g} min)" in markdown
    if expected:
        assert "2025-03-04T09:06:00Z → 2025-03-04T09:41:00Z: 35 min with no messages" in markdown
    else:
        assert "- none" in markdown


def test_silence_inside_a_pasted_log() -> None:
    lines = [f"2025-03-04T09:{m:02d}:00Z INFO api: ok {m}" for m in (0, 1, 2, 30, 31, 32, 33, 34)]
    incident = Incident([Message("raj", "log", _at(40), (Attachment("api.log", "\n".join(lines)),))])
    gaps = build_digest(incident).gaps
    assert [(g.start, g.end, g.minutes, g.where) for g in gaps] == [("2025-03-04T09:02:00Z", "2025-03-04T09:30:00Z", 28.0, "log api.log")]


def test_minimal_honest_digest_when_nothing_is_recognised() -> None:
    incident = Incident([Message("ana", "anyone around?", _at(0)), Message("raj", "here, what's up", _at(3)),
                         Message("ana", "never mind", _at(12))])
    d = build_digest(incident)
    markdown = render_markdown(d)
    assert not d.failures and not d.metrics
    assert NOTHING_RECOGNISED in markdown and "No known failure class matched" in markdown
    assert "ana (2), raj (1)" in markdown and "12 min" in markdown and d.duration_minutes == 12.0
    assert "no resolution recognised" in markdown
    speech = speech_text(d)
    assert 80 <= len(speech.split()) <= 200 and "No alerts or deploys were recognised" in speech


def test_no_timestamps_at_all() -> None:
    d = build_digest(Incident([Message("incident-notes", "checkout broke, we restarted it")]))
    assert d.duration_minutes is None and "unknown (the thread carries no usable timestamps)" in render_markdown(d)
    assert [e.kind for e in d.timeline] == ["mitigation"]
    assert "time unknown" in render_markdown(d)


def test_duration_runs_from_first_signal_to_resolution() -> None:
    incident = Incident([
        Message("ana", "checkout is slow", _at(0)),
        Message("alertmanager", "[FIRING:1] HighLatency checkout-api", _at(2)),
        Message("ana", "scaled up checkout-api to 12 replicas", _at(10)),
        Message("alertmanager", "[RESOLVED] HighLatency checkout-api", _at(20)),
        Message("ana", "all clear, resolved", _at(25)),
        Message("raj", "writing the postmortem", _at(90)),
    ])
    d = build_digest(incident)
    # A short thread lists every message that says something: the last one as an update.
    assert [e.kind for e in d.timeline] == ["report", "alert_fired", "mitigation", "alert_resolved", "resolution", "update"]
    assert (d.started, d.ended, d.resolved, d.duration_minutes) == ("2025-03-04T09:00:00Z", "2025-03-04T09:25:00Z", True, 25.0)


def test_alert_resolved_counts_only_when_nothing_fires_after_it() -> None:
    incident = Incident([
        Message("alertmanager", "[FIRING:1] HighLatency", _at(0)),
        Message("alertmanager", "[RESOLVED] HighLatency", _at(5)),
        Message("alertmanager", "[FIRING:1] HighLatency", _at(9)),
        Message("ana", "still on it", _at(30)),
    ])
    d = build_digest(incident)
    assert not d.resolved and d.ended == "2025-03-04T09:30:00Z"


def test_events_without_time_stay_after_their_predecessor() -> None:
    incident = Incident([
        Message("ana", "[FIRING] checkout 5xx", _at(10)),
        Message("deploybot", "deploy checkout-api v3 started"),  # no timestamp
        Message("raj", "log", _at(11), (Attachment("x.log", "2025-03-04T08:55:00Z ERROR db: deadlock detected"),)),
    ])
    d = build_digest(incident)
    assert [(e.kind, e.time) for e in d.timeline] == [
        ("error", "2025-03-04T08:55:00Z"), ("alert_fired", "2025-03-04T09:10:00Z"), ("deploy", None), ("update", "2025-03-04T09:11:00Z"),
    ]


def _word(n: int) -> str:
    return "".join(chr(97 + (n // 26**k) % 26) for k in range(3))


def test_timeline_cap_keeps_every_deploy_and_alert() -> None:
    # Letters, not digits, tell the lines apart: numbers are masked, and lines that differ only in them fold.
    errors = "\n".join(f"2025-03-04T09:{i % 60:02d}:00Z ERROR {_word(i)}: {_word(i * 7)} {_word(i * 13)} broke" for i in range(200))
    messages = [Message("raj", "log", _at(0), (Attachment("big.log", errors),))]
    messages += [Message("deploybot", f"deploy svc-{i}-api v1.{i} finished", _at(i)) for i in range(5)]
    messages += [Message("alertmanager", f"[FIRING] {_word(i + 500)} is down", _at(i)) for i in range(5)]
    d = build_digest(Incident(messages))
    assert len(d.timeline) == MAX_EVENTS and d.omitted_events > 100
    kinds = [e.kind for e in d.timeline]
    assert kinds.count("deploy") == 5 and kinds.count("alert_fired") == 5
    assert f"_{d.omitted_events} smaller events" in render_markdown(d)


def test_files_read_and_not_read() -> None:
    incident = Incident(
        [Message("raj", "files", _at(0), (Attachment("app.log", "ok"), Attachment("heap.hprof", None)))],
        unread_files=["dump.pdf (download failed)"],
    )
    d = build_digest(incident)
    assert d.files_read == ["app.log"] and d.files_unread == ["heap.hprof (binary, not read)", "dump.pdf (download failed)"]
