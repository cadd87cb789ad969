"""Evidence ids through preparation (folding, trimming, redaction), citation checks, and the CLI's rendering."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.citations import CitationAudit, ids_in, recorded_sources, render_times, strip_citations
from bot.core.digest import build_digest, render_context, render_markdown
from bot.core.gate import evaluate
from bot.core.incident.model import Attachment, Incident, Message
from bot.core.plan.parse import parse_suite
from bot.core.prepare import prepare_incident
from bot.core.prompt import SYSTEM_PROMPT, build_user_prompt
from bot.core.sections import Section, SectionId
from bot.core.sections.parse import StreamingSectionParser
from bot.core.speech.text import clean_for_speech
from tests.fakes.fake_llm.gated_report import gate_passing_report

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
HEAD = re.compile(r"^\[(m\d+)\](?: \[[^\]]+\])? ([^:\n]+):", re.MULTILINE)


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _incident() -> Incident:
    """Chat, an alert bot firing 40 times (folded), a pasted log (folded inside), secrets, chatter to trim."""
    msgs = [Message("alice", "checkout 500s since the deploy", _at(0), ref="1714557600.000100")]
    for i in range(40):
        msgs.append(Message("alertmanager", f"[FIRING:1] HighErrorRate checkout: error rate {5 + i}.0%", _at(10 + i)))
        msgs.append(Message(f"user{i % 7}", f"looking at shard {i}, nothing odd yet on my side, still digging", _at(11 + i)))
    log = "\n".join(f"2024-05-01T10:01:{i:02d}Z ERROR pool: connection {i} timeout after 30s" for i in range(30))
    msgs.append(Message("carol", "pod logs", _at(100), (Attachment("pod.log", log),)))
    msgs.append(Message("dave", "token xoxb-1234567890-abcdefghijkl leaked in the config", _at(110)))
    msgs.append(Message("alice", "Resolved: rolled back to v2.30", _at(200), ref="1714557800.000200"))
    return Incident(messages=msgs)


def _heads(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in HEAD.finditer(text)}


@pytest.mark.parametrize("budget", [120, 400, 4000])
def test_every_shown_id_names_its_own_message_whatever_is_folded_or_trimmed(budget: int) -> None:
    incident = _incident()
    prepared = prepare_incident(incident, budget)
    heads = _heads(prepared.text)
    assert "m1" in heads and f"m{len(incident.messages)}" in heads  # first and last survive any budget
    for cid, author in heads.items():
        message = incident.messages[int(cid[1:]) - 1]
        assert author == message.author, (cid, author)  # the id is the message's own
    # The 40 alerts fold into one entry, cited by the first alert's id; the pasted log's lines stay under its id.
    assert [line[:9] for line in prepared.text.splitlines() if "[×40" in line] == ["[m2] [×40"]
    assert re.search(rf"^\[m{len(incident.messages) - 2}\] \[[^\]]+\] carol:\n(?:.*\n){{1,3}}\[×30", prepared.text, re.MULTILINE)
    if budget < 4000:
        assert len(heads) < len(incident.messages)  # chatter was trimmed; the ids left did not move


def test_ids_do_not_move_when_the_budget_changes_or_a_secret_is_redacted() -> None:
    incident = _incident()
    small, large = (_heads(prepare_incident(incident, b).text) for b in (150, 4000))
    assert set(small) < set(large)
    assert all(small[cid] == large[cid] for cid in small)
    text = prepare_incident(incident, 4000).text
    assert "xoxb-1234567890" not in text and "[REDACTED:slack-token]" in text
    # Ids are positions, never content: nothing of a message can reach the id or the record.
    assert {m for m in re.findall(r"\[(m[^\]\s]*)\]", text)} <= {f"m{i}" for i in range(1, len(incident.messages) + 1)}


def _audit(incident: Incident, prompt: str, body: str, sid: SectionId = SectionId.TIMELINE) -> tuple[str, dict[str, Any]]:
    record: dict[str, Any] = {}
    section = CitationAudit(incident, record).audit(Section(sid, "T", body), prompt)
    return section.body, record


CASES = [
    # (body, kept body, cited, dangling)
    ("pool timeouts began [m2].", "pool timeouts began [m2].", 1, 0),
    ("invented [m9].", "invented.", 0, 1),
    ("mixed [m2, m9; m3].", "mixed [m2, m3].", 2, 1),
    ("not shown [m4] then [m1]", "not shown then [m1]", 1, 1),  # m4 exists but the prompt never showed it
    ("two groups [m1][m3]", "two groups [m1][m3]", 2, 0),
    ("no citation, [m] nor [x1] nor m2", "no citation, [m] nor [x1] nor m2", 0, 0),
]


@pytest.mark.parametrize(("body", "kept", "cited", "dangling"), CASES, ids=[c[0] for c in CASES])
def test_citations_pointing_at_no_shown_message_are_removed_and_counted(body: str, kept: str, cited: int, dangling: int) -> None:
    incident = Incident([Message(f"p{i}", f"line {i}", _at(i)) for i in range(4)])
    out, record = _audit(incident, "[m1] p0: line 0\n[m2] p1: line 1\n[m3] p2: line 2 on arm64 (m4)", body)
    assert (out, record["cited"], record["dangling_removed"]) == (kept, cited, dangling)
    assert len(record["dangling"]) == len(set(record["dangling"])) <= dangling


def test_the_record_keeps_where_each_cited_message_lives_and_the_report_names_the_dangling() -> None:
    incident = _incident()
    prepared = prepare_incident(incident, 4000)
    last = f"m{len(incident.messages)}"
    _, record = _audit(incident, prepared.text, f"began [m1], ended [{last}], invented [m999]")
    assert record["sources"] == {"m1": {"time": "2024-05-01T10:00:00Z", "ref": "1714557600.000100"},
                                 last: {"time": "2024-05-01T10:03:20Z", "ref": "1714557800.000200"}}
    assert record["dangling"] == ["m999"]


def test_the_spoken_summary_loses_its_citations_uncounted_and_speech_never_says_them() -> None:
    incident = _incident()
    out, record = _audit(incident, "[m1]", "The pool ran dry [m1] and [m999].", SectionId.AUDIO_SUMMARY)
    assert out == "The pool ran dry and." and record["dangling_removed"] == 0
    assert clean_for_speech("- pool timeouts began [m2, m3].") == "pool timeouts began."


def test_the_cli_shows_message_times_instead_of_ids() -> None:
    record = {"sources": {"m1": {"time": "2024-05-01T10:42:05Z", "ref": None}, "m2": {"time": None, "ref": None}}}
    assert render_times("began [m1], noted [m2], both [m1, m2]", recorded_sources(record)) == \
        "began [10:42:05], noted [message 2], both [10:42:05] [message 2]"
    assert strip_citations("claim [m1] [m2, m3].") == "claim."


def test_the_digest_cites_its_evidence_lines_like_the_model() -> None:
    incident = _incident()
    digest = build_digest(incident)
    markdown, context = render_markdown(digest), render_context(digest)
    assert "[m1]" in markdown  # the first report
    n = len(incident.messages)
    assert f"[m{n}]" in markdown  # the resolution
    assert "[m2]" in context  # the folded alert: the model can cite what the digest cites
    record: dict[str, Any] = {}
    CitationAudit(incident, record, markdown)
    assert set(record["sources"]) == set(ids_in(markdown))


def test_citations_trip_neither_the_echo_nor_the_timestamp_check() -> None:
    incident = Incident([Message(f"p{i}", f"pool timeout {i}, p99 latency, error rate", _at(60 * i)) for i in range(4)])
    prepared = prepare_incident(incident, 4000)
    prompt = build_user_prompt(prepared.text, title="t")
    parser = StreamingSectionParser()
    sections = parser.feed(gate_passing_report()) + parser.close()
    audit = CitationAudit(incident, {})
    sections = [audit.audit(s, prompt) for s in sections]
    assert sum(len(ids_in(s.body)) for s in sections) >= 4
    failures = evaluate(sections, incident_text=prepared.text, prompt_text=f"{SYSTEM_PROMPT}\n{prompt}").failures
    assert not [f for f in failures if f.check.value in ("no_prompt_echo", "no_invented_timestamps")], failures


def test_a_tests_rationale_is_one_of_its_fields_and_plan_fields_drop_evidence_ids() -> None:
    suite = ("### Pool saturation\n- **Type:** load\n- **Scope:** db [m2]\n- **Fault injection:** cap\n"
             "- **Success criteria:** p99 < 300 ms\n- **Rationale:** the pool timed out [m3, m4]\n")
    drafts = parse_suite(suite)
    assert [(d.name, d.fields.get("scope"), d.fields.get("rationale")) for d in drafts] == \
        [("Pool saturation", "db", "the pool timed out")]


def test_a_row_without_a_date_is_cited_by_its_time_as_written() -> None:
    from bot.core.citations import render, sources_of, times_label
    from bot.core.incident.load import incident_from_text

    incident = incident_from_text("09:02 Alertmanager: [FIRING] errors\n09:13 Alertmanager: [RESOLVED] errors")
    assert render("fired [m1], cleared [m2].", times_label(sources_of(incident))) == "fired [09:02], cleared [09:13]."
