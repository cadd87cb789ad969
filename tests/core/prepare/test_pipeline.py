from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bench.gen_incident import (
    DEPLOY_LINES,
    ERROR_MARKERS,
    SECRETS,
    THREAD_DEPLOYS,
    THREAD_FIRST,
    THREAD_LAST,
    TRACE_MARKERS,
    chat_thread,
    log_dump,
)
from bot.core.incident.model import Attachment, Incident, Message, render_incident
from bot.core.prepare import prepare_incident
from tests.core.redact.secret_cases import POSITIVE

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
_LEVEL = re.compile(r"\b(?:DEBUG|INFO|WARN|ERROR|CRITICAL|FATAL)\b")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_small_clean_incident_renders_like_render_message() -> None:
    incident = Incident(
        messages=[
            Message("alice", "checkout is down", _at(0)),
            Message("bob", "two lines\nof text", _at(60)),
            Message("carol", "rolled back", None),
        ]
    )
    prepared = prepare_incident(incident, 1000)
    assert prepared.text == render_incident(incident)
    assert prepared.omitted == [] and prepared.redactions == {} and prepared.folded_templates == 0
    assert prepared.message_count == 3
    assert prepared.original_chars == len(render_incident(incident))


def _alert_storm() -> Incident:
    msgs = [Message("alice", "checkout 500s, paging on-call", _at(0))]
    for i in range(500):
        msgs.append(Message("alertmanager", f"[FIRING:1] HighErrorRate checkout: error rate {5 + i % 20}.{i % 10}%", _at(10 + 4 * i)))
        if i % 5 == 0:
            msgs.append(Message("bob", "+1", _at(11 + 4 * i)))
    log = "\n".join(f"2024-05-01T10:{i // 60:02d}:{i % 60:02d}Z INFO api: GET /cart/{i} 200" for i in range(300))
    log += "\n2024-05-01T10:05:00Z DEBUG db: dsn postgres://app:Sup3rS3cret@db:5432/x password=hunter2"
    msgs.append(Message("carol", "logs from the pod", _at(2100), (Attachment("pod.log", log), Attachment("core.bin"))))
    msgs.append(Message("deploybot", "Rollback started: checkout v2.14.0 → v2.13.2", _at(2200)))
    msgs.append(Message("dave", "email me at dave@example.com, token xoxb-1234567890-abcdefghij", _at(2300)))
    msgs.append(Message("alice", "Resolved: error rate back to 0.1%", _at(2400)))
    return Incident(messages=msgs)


def test_alert_storm_folds_to_one_line_with_count_and_times() -> None:
    prepared = prepare_incident(_alert_storm(), 2000)
    assert (
        "[×500, 2024-05-01T10:00:10Z … 10:33:26Z] alertmanager: [FIRING:1] HighErrorRate checkout: error rate 5.0–24.9%"
        in prepared.text
    )
    assert "[×100, 2024-05-01T10:00:11Z … 10:33:11Z] bob: +1" in prepared.text
    assert "[×301, 2024-05-01T10:00:00Z … 10:05:00Z] INFO api: GET /cart/<*> 200" not in prepared.text  # DEBUG line differs
    assert "[×300, 2024-05-01T10:00:00Z … 10:04:59Z] INFO api: GET /cart/<*> 200" in prepared.text
    assert "[file: pod.log]" in prepared.text and "[file: core.bin (binary, not read)]" in prepared.text
    assert prepared.folded_templates == 3
    assert prepared.omitted == []


def test_redaction_reaches_messages_and_attachments_and_ordinary_names_stay() -> None:
    prepared = prepare_incident(_alert_storm(), 2000)
    for secret in ("Sup3rS3cret", "hunter2", "dave@example.com", "xoxb-1234567890"):
        assert secret not in prepared.text
    assert prepared.redactions == {"email": 1, "password": 1, "slack-token": 1, "url-credentials": 1}
    assert "] dave: email me at [REDACTED:email]" in prepared.text


_KEY_ID = "AKIA" + "Z7Q4RM2XW5KJ3NPL"  # assembled so scanners of this repository do not flag it


def _leaky_names() -> Incident:
    """Secrets and personal data in every string that is not message text."""
    return Incident(
        messages=[
            Message("ops@acme.io", "checkout is down", _at(0)),
            Message(f"bot {_KEY_ID}", "+1", _at(30)),
            Message("+44 20 7946 0958", "+1", _at(40)),
            Message("carol", "creds file attached", _at(60), (Attachment(f"{_KEY_ID}.csv", "id,key\n1,2"), Attachment("token=hunter2.bin"))),
            Message("ops@acme.io", "rolled back", _at(120)),
        ],
        title=f"#inc-203.0.113.42 {_KEY_ID} thread",
    )


def test_titles_file_names_display_names_and_channel_names_are_redacted() -> None:
    prepared = prepare_incident(_leaky_names(), 1000)
    everything = prepared.title + "\n" + prepared.text
    for leak in (_KEY_ID, "ops@acme.io", "7946 0958", "203.0.113.42", "hunter2"):
        assert leak not in everything, leak
    assert prepared.title == "#inc-[REDACTED:ipv4] [REDACTED:aws-key] thread"
    assert "[file: [REDACTED:aws-key].csv]" in prepared.text
    assert "[file: token=[REDACTED:token] (binary, not read)]" in prepared.text
    assert prepared.text.splitlines()[0] == "[m1] [2024-05-01T10:00:00Z] [REDACTED:email]: checkout is down"
    assert "] bot [REDACTED:aws-key]: +1" in prepared.text and "] [REDACTED:phone]: +1" in prepared.text
    # Each occurrence counts, the title and names included; a repeated author is counted once.
    assert prepared.redactions == {"aws-key": 3, "email": 1, "ipv4": 1, "phone": 1, "token": 1}


def _slot(slot: str, text: str, i: int) -> Incident:
    """One incident with ``text`` in the named slot and harmless text elsewhere."""
    att = Attachment(text if slot == "file-name" else "notes.txt", text if slot == "file-text" else "ok")
    msg = Message(text if slot == "author" else "alice", text if slot == "message" else "see file", _at(i), (att,))
    return Incident(messages=[Message("bob", "start", _at(0)), msg], title=text if slot == "title" else "#inc")


@pytest.mark.parametrize("slot", ["message", "file-text", "file-name", "author", "title"])
def test_no_secret_form_survives_in_any_slot(slot: str) -> None:
    leaks = []
    for i, case in enumerate(POSITIVE, start=1):
        prepared = prepare_incident(_slot(slot, case.text, i), 4000)
        if case.secret in prepared.title + "\n" + prepared.text or not prepared.redactions:
            leaks.append(case.id)
    assert leaks == []


def test_clean_title_is_kept() -> None:
    assert prepare_incident(Incident(messages=[Message("a", "b")], title="#inc-checkout thread"), 100).title == "#inc-checkout thread"


def test_tight_budget_keeps_first_last_deploy_and_alert_and_says_what_went() -> None:
    prepared = prepare_incident(_alert_storm(), 150)
    assert prepared.token_estimate <= 150
    lines = prepared.text.splitlines()
    assert lines[0] == "[m1] [2024-05-01T10:00:00Z] alice: checkout 500s, paging on-call"
    assert lines[-1] == "[m605] [2024-05-01T10:40:00Z] alice: Resolved: error rate back to 0.1%"
    assert "Rollback started: checkout v2.14.0 → v2.13.2" in prepared.text
    assert "HighErrorRate" in prepared.text
    assert "100 chat messages (acknowledgements) from 10:00–10:33" in prepared.omitted
    assert any("routine log line" in note for note in prepared.omitted)


@pytest.mark.parametrize("budget", [1500, 2472, 3000])
def test_10k_line_log_dump_compresses_and_keeps_what_matters(budget: int) -> None:
    incident = log_dump(10_000)
    prepared = prepare_incident(incident, budget)
    assert prepared.token_estimate <= budget
    assert prepared.original_chars / len(prepared.text) >= 20
    for marker in (*ERROR_MARKERS, *TRACE_MARKERS, *DEPLOY_LINES):
        assert marker in prepared.text, marker
    for secret in SECRETS:
        assert secret not in prepared.text
    for line in prepared.text.splitlines():
        if _LEVEL.search(line):
            assert _ISO.search(line), line
    assert prepared.folded_templates >= 10


def test_10k_message_thread_fits_and_keeps_first_last_and_deploys() -> None:
    prepared = prepare_incident(chat_thread(10_000), 2472)
    assert prepared.token_estimate <= 2472
    assert prepared.message_count == 10_000
    lines = prepared.text.splitlines()
    assert lines[0].endswith(THREAD_FIRST) and lines[-1].endswith(THREAD_LAST)
    for deploy in THREAD_DEPLOYS:
        assert deploy in prepared.text
    assert re.search(r"\[×\d{4}, 2024-05-01T10:00:\d\dZ … 1\d:\d\d:\d\dZ\] alertmanager: \[FIRING:1\]", prepared.text)
    assert any(note.startswith("3") and "acknowledgements" in note for note in prepared.omitted)


def test_empty_incident() -> None:
    prepared = prepare_incident(Incident(messages=[]), 100)
    assert prepared.text == "" and prepared.token_estimate == 0 and prepared.message_count == 0
