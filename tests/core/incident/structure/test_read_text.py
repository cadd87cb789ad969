"""Transcripts, timelines and postmortem sections → messages with times, authors and sections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.digest import render_markdown
from bot.core.incident.load import incident_from_text
from bot.core.incident.model import NOTES_AUTHOR, Incident, Message, render_message
from bot.core.incident.structure import expand, read_text

TRANSCRIPTS = {
    "hh:mm name": "08:55 Deploybot: v2 deployed\n09:02 Alertmanager: [FIRING] errors\n09:03 Anna: looking",
    "bracketed": "[08:55] Deploybot: v2 deployed\n[09:02] Alertmanager: [FIRING] errors\n[09:03] Anna: looking",
    "slack copy": "Deploybot  8:55 AM\nv2 deployed\n\nAlertmanager  9:02 AM\n[FIRING] errors\n\nAnna  9:03 AM\nlooking",
    "teams copy": "Deploybot — 08:55\nv2 deployed\nAlertmanager — 09:02\n[FIRING] errors\nAnna — 09:03\nlooking",
}


@pytest.mark.parametrize("text", TRANSCRIPTS.values(), ids=list(TRANSCRIPTS))
def test_transcripts_become_one_message_per_line_with_author_and_time(text: str) -> None:
    messages = read_text(text)
    assert messages is not None
    assert [(m.author, m.text, m.ts and m.ts.strftime("%H:%M")) for m in messages] == [
        ("Deploybot", "v2 deployed", "08:55"), ("Alertmanager", "[FIRING] errors", "09:02"), ("Anna", "looking", "09:03")]
    assert all(m.section is None and not m.dated and m.iso_ts is None for m in messages)


def test_a_time_without_a_date_is_shown_as_written_and_never_given_a_date() -> None:
    msg = (read_text("9:02 AM Anna: paged\n9:40 AM Ben: ok, on it") or [])[0]
    assert (msg.stamp, msg.time_label, msg.iso_ts) == ("9:02 AM", "9:02 AM", None)
    assert render_message(msg, 0) == "[m1] [9:02 AM] Anna: paged"


def test_runs_past_midnight_move_to_the_next_day_but_a_slip_within_the_hour_does_not() -> None:
    messages = read_text("23:50 Anna: paged\n23:58 Ben: on it\n00:10 Anna: restarted\n00:05 Ben: (earlier) saw errors")
    assert messages is not None
    days = [m.ts.day for m in messages if m.ts]
    assert days == [1, 1, 2, 2]


POSTMORTEM = """\
# Checkout outage

## Summary
Checkout failed for 40 minutes on 2024-03-04 after a config change.

## Timeline
All times in CET.

| Time | Event | Who |
| --- | --- | --- |
| 2024-03-04 10:00 | Config change applied to the pool | Anna |
| 2024-03-04 10:05 | Alert fired: pool exhausted | PagerDuty |
| 2024-03-04 10:40 | Service fully restored | Ben |

## Root cause
The pool size was overridden in the helm values.

```
2024-03-01T09:00:00Z ERROR pool: timeout acquiring connection
```

## Action items
- Validate pool settings in CI
- Alert on pool saturation

## Lessons learned
Config needs review like code.
"""


def test_a_postmortem_gives_timed_rows_and_tagged_prose() -> None:
    messages = read_text(POSTMORTEM)
    assert messages is not None
    rows = [m for m in messages if m.stamp]
    assert [(m.author, m.text, m.iso_ts, m.section) for m in rows] == [
        ("Anna", "Config change applied to the pool", "2024-03-04T09:00:00Z", "timeline"),  # CET → UTC
        ("PagerDuty", "Alert fired: pool exhausted", "2024-03-04T09:05:00Z", "timeline"),
        ("Ben", "Service fully restored", "2024-03-04T09:40:00Z", "timeline"),
    ]
    prose = [(m.section, m.text.splitlines()[0]) for m in messages if not m.stamp]
    assert ("summary", "Checkout failed for 40 minutes on 2024-03-04 after a config change.") in prose
    assert ("root_cause", "The pool size was overridden in the helm values.") in prose
    assert ("action_items", "- Validate pool settings in CI") in prose and ("action_items", "- Alert on pool saturation") in prose
    assert ("lessons", "Config needs review like code.") in prose
    # The quoted log is root-cause evidence, never a row of the timeline.
    fence = next(m for m in messages if "```" in m.text)
    assert fence.section == "root_cause" and fence.stamp is None and fence.author == NOTES_AUTHOR


def test_bullets_under_a_dated_heading_take_its_date_and_the_documents_zone() -> None:
    text = "## Timeline (all times PST)\n### Oct 30, 2021\n- **12:45 PM** – first wave begins\n- 13:55 – alarms fire\n"
    messages = read_text(text)
    assert messages is not None
    assert [(m.iso_ts, m.text, m.stamp) for m in messages] == [
        ("2021-10-30T20:45:00Z", "first wave begins", "12:45 PM"), ("2021-10-30T21:55:00Z", "alarms fire", "13:55")]


def test_rows_before_the_first_date_take_the_documents_first_date() -> None:
    messages = read_text("Timeline:\n09:00 alert fired\n09:30 restored\n\nDate: 2023-05-04\n")
    assert messages is not None and [m.iso_ts for m in messages if m.stamp] == ["2023-05-04T09:00:00Z", "2023-05-04T09:30:00Z"]


@pytest.mark.parametrize("text", [
    "2025-11-17T09:00:00Z ERROR checkout: pool timeout\n2025-11-17T09:00:01Z INFO api: GET /health 200\n"
    "2025-11-17T09:00:02Z WARN api: slow request",
    "May  1 10:02:03 web01 nginx[123]: upstream timed out\nMay  1 10:02:04 web01 nginx[123]: upstream timed out",
    "checkout is down, anyone around?\nI see 500s on /pay",
])
def test_logs_and_plain_notes_are_not_structured(text: str) -> None:
    assert read_text(text) is None
    assert len(incident_from_text(text).messages) == 1  # log folding reads them as today


def test_a_pasted_transcript_in_a_slack_message_takes_its_date_and_cites_it() -> None:
    posted = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    msg = Message("alice", "from the war room:\n09:02 Alertmanager: [FIRING] errors\n09:03 Anna: looking", posted, ref="1741089600.000100")
    rows = expand(msg)
    assert [(m.author, m.iso_ts, m.ref) for m in rows] == [
        ("alice", "2025-03-04T12:00:00Z", "1741089600.000100"),  # her own line keeps her name and time
        ("Alertmanager", "2025-03-04T09:02:00Z", "1741089600.000100"),
        ("Anna", "2025-03-04T09:03:00Z", "1741089600.000100"),
    ]


def test_a_paste_of_a_clock_later_than_the_message_is_from_the_day_before() -> None:
    msg = Message("alice", "23:50 Anna: paged\n23:55 Ben: on it", datetime(2025, 3, 4, 0, 30, tzinfo=UTC))
    assert [m.iso_ts for m in expand(msg)] == ["2025-03-03T23:50:00Z", "2025-03-03T23:55:00Z"]


def test_plain_chat_messages_and_rows_are_not_expanded_again() -> None:
    chat = Message("ana", "checkout is slow\nsince the deploy", datetime(2025, 3, 4, tzinfo=UTC))
    assert expand(chat) == [chat]
    row = (read_text("09:02 Anna: paged\n09:03 Ben: ack") or [])[0]
    assert expand(row) == [row]


@pytest.mark.parametrize("text", ["checkout is down since 10:32\nanyone around?", "Back at 10:30\nok", "deployed v2 at 10:32\nlooks fine"])
def test_a_sentence_ending_in_a_time_is_no_chat_header(text: str) -> None:
    assert read_text(text) is None


def test_a_transcript_pasted_inside_a_code_fence_is_read_but_a_fence_inside_a_document_is_not() -> None:
    rows = read_text("```\n09:02 Anna: paged\n09:03 Ben: ack\n```")
    assert rows is not None and [(m.author, m.stamp) for m in rows] == [("Anna", "09:02"), ("Ben", "09:03")]
    quoted = read_text("## Root cause\nthe chat said:\n```\n09:02 Anna: paged\n09:03 Ben: ack\n```\n")
    assert quoted is not None and not any(m.stamp for m in quoted)


def test_text_that_only_looks_like_dates_costs_little_and_gives_no_rows() -> None:
    assert read_text(("Jan 1 " * 3000 + "\n") * 20) is None


def test_a_text_is_redacted_whole_before_it_is_split_so_a_secret_keyed_on_another_row_never_survives() -> None:
    from bot.core.digest import build_digest
    from bot.core.prepare.pipeline import prepare_incident

    table = "| service | token |\n| :--- | :--- |\n| ci | plaintokenvalue |"
    text = f"## Timeline\n- 2025-03-04 09:00 alert fired\n- 2025-03-04 09:20 resolved\n\n## Root cause\n{table}\n"
    incident = incident_from_text(text)
    assert "plaintokenvalue" not in repr(incident.messages) and incident.redacted
    prepared = prepare_incident(incident, 4000)
    assert "plaintokenvalue" not in prepared.text and sum(prepared.redactions.values()) >= 1  # still counted
    pasted = Message("alice", f"09:00 Anna: paged\n09:01 Ben: the env has\n{table}", datetime(2025, 3, 4, 12, tzinfo=UTC))
    assert "plaintokenvalue" not in render_markdown(build_digest(Incident([pasted])))


def test_invisible_and_bidi_characters_split_no_time_or_name_and_never_reach_the_rows() -> None:
    text = "10:00 \u202eAnna\u202c: checkout\u200b down\n10:0\u200b5 Bob\u200d: fi\u2060xed\n\ufeff10:10 Anna: ok"
    messages = read_text(text)
    assert messages is not None
    assert [(m.author, m.text, m.stamp) for m in messages] == [
        ("Anna", "checkout down", "10:00"), ("Bob", "fixed", "10:05"), ("Anna", "ok", "10:10")]


def test_joiners_inside_a_script_that_needs_them_are_kept() -> None:
    messages = read_text("10:00 Anna: 👩\u200d💻 on it\n10:05 Bob: می\u200cخواهم")
    assert messages is not None and [m.text for m in messages] == ["👩\u200d💻 on it", "می\u200cخواهم"]


def test_a_twelve_hour_clock_without_am_or_pm_rolls_past_noon_not_to_the_next_day() -> None:
    messages = read_text("11:50 Anna: checkout down\n12:05 Bob: looking\n1:10 Anna: rolled back\n1:30 Bob: resolved")
    assert messages is not None
    assert [m.ts.strftime("%d %H:%M") for m in messages if m.ts] == ["01 11:50", "01 12:05", "01 13:10", "01 13:30"]


def test_a_twenty_four_hour_clock_still_rolls_past_midnight() -> None:
    messages = read_text("11:50 Anna: paged\n23:50 Ben: still on it\n1:10 Anna: restarted")
    assert messages is not None
    assert [m.ts.strftime("%d %H:%M") for m in messages if m.ts] == ["01 11:50", "01 23:50", "02 01:10"]


def test_names_in_any_script_are_speakers() -> None:
    messages = read_text("10:00 Émile: checkout down\n10:02 Дмитрий: looking\n10:05 דנה: fixed\n10:06 王伟: ok")
    assert messages is not None
    assert [m.author for m in messages] == ["Émile", "Дмитрий", "דנה", "王伟"]


MIXED = """\
09:00 Anna: checkout is throwing 500s, looking at the api logs
2026-12-06T09:00:01Z ERROR api.db: connection pool exhausted (50/50)
2026-12-06T09:00:02Z ERROR api.db: connection pool exhausted (50/50)
  at pool.acquire (pool.js:88)
2026-12-06T09:00:03Z WARN api.http: retrying upstream payment call
2026-12-06T09:00:04Z ERROR api.db: connection pool exhausted (50/50)
09:04 Ben: the pool was raised to 50 per pod in the 08:50 deploy
2026-12-06T09:05:00Z ERROR api.db: connection pool exhausted (50/50)
09:10 Anna: rolled back, errors gone
"""


def test_people_talking_in_a_mostly_log_file_are_its_messages_and_the_rest_one_log_block() -> None:
    messages = read_text(MIXED)
    assert messages is not None
    assert [(m.author, m.iso_ts) for m in messages] == [
        ("Anna", "2026-12-06T09:00:00Z"), (NOTES_AUTHOR, None), ("Ben", "2026-12-06T09:04:00Z"), ("Anna", "2026-12-06T09:10:00Z")]
    log = messages[1].text.splitlines()
    assert len(log) == 6 and log[2] == "  at pool.acquire (pool.js:88)" and all(line in MIXED for line in log)


def test_a_log_with_at_most_one_person_in_it_stays_one_block() -> None:
    log = "\n".join(MIXED.splitlines()[:6])
    assert read_text(log) is None
    assert read_text("\n".join(line for line in MIXED.splitlines() if "Anna" not in line)) is None
