"""The single checks on their edges: what counts as an echo, a time, an alert, a language."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.core.gate import CheckId, evaluate, garbage, quality_record
from bot.core.gate.facts import coverage, incident_alerts, invented_timestamps, signal_coverage
from bot.core.gate.summary import language_mismatch
from tests.core.gate.cases import GERMAN_SUMMARY
from tests.core.gate.reports import GOOD, SUMMARY, G, R, S, good_sections, incident_text, prompt_text


@pytest.mark.parametrize("body", [
    GOOD[R], GOOD[S],  # "**Primary root cause:**", "**Type:** load", "**Success criteria:**"
    "Primary root cause: retries. Secondary causes (ranked): 1. pool",
    "Type: load\nScope: checkout-api\nFault injection: kill db\nSuccess criteria: p99 < 300 ms",
    "Senior Engineer A: why? Senior Engineer B: because.",
    "unknown",
    "There is no evidence about the incident before the deploy.",  # a fragment of a wrapped prompt line
    "See Incident Timeline & Blast Radius above; the Recommended Test Suite covers it.",  # headings are meant to be reused
])
def test_labels_the_prompt_asks_for_are_not_an_echo(body: str) -> None:
    assert garbage.echo(body, prompt_text()) is None


def test_an_echoed_hint_inside_real_analysis_is_still_caught() -> None:
    body = GOOD[G] + "\nthe two-engineer review described in rule 1."
    assert "instruction line" in (garbage.echo(body, prompt_text()) or "")


def test_quoting_the_incident_data_or_title_is_not_an_echo() -> None:
    # Fence content and the "Incident:" / notes lines are data: a report may repeat them word for word.
    body = ("p99 latency 4.8s (threshold 2s) for 5m on checkout-api, error rate 12%\n"
            "postgres active connections at max_connections for 3m\n#inc-checkout\n1 file not read")
    assert garbage.echo(body, prompt_text()) is None


def test_echo_units_come_from_the_prompt_given_not_a_fixed_list() -> None:
    prompt = "Describe every mitigation with its owner and the date it shipped."
    assert garbage.echo("Describe every mitigation with its owner and the date it shipped.", prompt)
    assert garbage.echo("the two-engineer review described in rule 1.", prompt) is None


@pytest.mark.parametrize(("body", "invented"), [
    ("at 09:00 UTC", []),
    ("at 9:00 am", []),
    ("at 09:00:40", []),
    ("2025-11-17T09:05:00Z", []),
    ("rollback 09:05–09:10", []),
    ("at 14:02 UTC", ["14:02"]),
    ("at 2:02 PM", ["14:02"]),
    ("on 2025-11-18", ["2025-11-18"]),
    ("db-primary:5432, v2.31.0, 100/100, 30000ms, ratio 3:1", []),
    ("- 09:05: rollback starts", []),  # a time followed by ": text", as timelines write it
    ("- 14:02: rollback starts", ["14:02"]),
])
def test_timestamps_are_normalised_before_comparing(body: str, invented: list[str]) -> None:
    assert invented_timestamps(body, incident_text()) == invented


def test_alert_names_are_read_from_the_common_formats() -> None:
    text = ("[FIRING] checkout-api p99 latency > 2s\n[FIRING:2] HighErrorRate\n"
            'labels: alertname="PaymentGatewayTimeout" severity=page\n[RESOLVED] checkout-api p99 latency > 2s')
    assert incident_alerts(text) == ("checkout-api p99 latency > 2s", "HighErrorRate", "PaymentGatewayTimeout")
    assert incident_alerts(incident_text()) == ("checkout-api p99 latency > 2s", "db-primary connections 100/100")


def test_an_alert_without_a_known_metric_is_covered_by_its_words() -> None:
    incident = 'alertname="PaymentGatewayTimeout" fired'
    assert signal_coverage("### Gateway timeout test\nType: chaos; payment calls time out", incident) is None
    assert signal_coverage("### Pool test\nType: load", incident) == 'no test covers alert "PaymentGatewayTimeout"'


@pytest.mark.parametrize(("incident", "root_cause", "suite", "required", "other"), [
    # A metric the primary root cause rests on needs a test; one the incident only shows is a note.
    ("ana: memory on the workers doubled, cpu at 97%", "the workers ran out of memory", "p99 under 300 ms",
     ["metric memory"], ["metric cpu"]),
    ("ana: memory on the workers doubled, cpu at 97%", "the workers ran out of memory", "heap below 1 GiB", [], ["metric cpu"]),
    # A metric called unremarkable is no signal of the incident at all: neither required nor noted.
    ("ana: memory on the workers doubled, cpu flat", "", "p99 under 300 ms", [], ["metric memory"]),
    ("CPU and memory looked fine on both nodes. Pod CPU and p99 latency look normal", "", "Type: chaos", [], []),
    ("12:16 describe says nothing; CPU was not the problem", "", "Type: chaos", [], []),
    # The fired alert is always required, whatever the root cause says.
    ('[FIRING] HighErrorRate: error rate 12% on checkout', "", "Type: load", ['alert "HighErrorRate"'], ["metric error rate"]),
    ('[FIRING] HighErrorRate: error rate 12% on checkout', "", "the error rate stays under 1%", [], []),
    # A root cause that calls its metric unremarkable does not make it required.
    ("disk 91% full", "CPU was normal; the disk filled with logs", "Type: load", ["metric disk"], []),
])
def test_fired_alerts_and_root_cause_signals_are_required_the_rest_is_a_note(
        incident: str, root_cause: str, suite: str, required: list[str], other: list[str]) -> None:
    found = coverage(suite, incident, root_cause)
    assert (found.required, found.other) == (required, other)
    assert (signal_coverage(suite, incident, root_cause) is None) == (not required)


def test_the_answers_own_root_cause_decides_which_signals_need_a_test() -> None:
    """Through evaluate(): the Root Cause section's primary statement is what the test suite is held to."""
    oom = "**Primary root cause:** the checkout pods were OOMKilled after v2.31.0 doubled the heap of every worker."
    sections = good_sections(root_cause=oom)
    result = evaluate(sections, incident_text=incident_text(), prompt_text=prompt_text())
    assert [(f.check, f.message) for f in result.failures] == [(CheckId.SIGNAL_COVERAGE, "no test covers metric memory")]
    assert result.repair_targets() == [S]
    # The good answer: its root cause rests on connections, which the suite covers; nothing is noted either.
    good = evaluate(good_sections(), incident_text=incident_text(), prompt_text=prompt_text())
    assert good.passed and good.notes == []


def test_signals_no_test_names_are_a_note_not_a_failure() -> None:
    incident = incident_text() + "\n[2025-11-17T09:02:00Z] kim: db-primary CPU 97% while the pool was full"
    result = evaluate(good_sections(), incident_text=incident, prompt_text=prompt_text())
    assert result.passed and result.closing_line() == ""
    assert result.notes == ["signals in the incident that no test names (no rewrite asked): metric cpu"]
    assert quality_record(result)["notes"] == result.notes and quality_record(result)["passed"]


def test_an_alert_name_before_its_description_is_the_name() -> None:
    text = ("[FIRING] FluentdBufferLow: buffer below 0.2 on 3 nodes\n[FIRING] checkout-api p99 latency > 2s\n"
            "[FIRING:1] pool_exhausted: 100/100 in use\n[FIRING] payments-api: error rate 12%\n[FIRING] Disk: 91% full")
    # A service name before the colon is not the alert's name: the whole title stays.
    assert incident_alerts(text) == ("FluentdBufferLow", "checkout-api p99 latency > 2s", "pool_exhausted",
                                     "payments-api: error rate 12%", "Disk: 91% full")


GERMAN_INCIDENT = (
    "[2025-11-17T09:00:40Z] ana: Ich schaue es mir an, das Deployment von checkout-api ist um 08:52 fertig geworden\n"
    "[2025-11-17T09:03:20Z] kim: Die neue Version hat die Größe des Pools auf fünfzig erhöht und die Wiederholungen "
    "haben keine Pause, das ist nicht gut für die Datenbank\n"
    "[2025-11-17T09:05:00Z] ana: Wir machen den Rollback auf die alte Version, das war es\n"
    "2025-11-17T08:53:00Z ERROR pool: timeout acquiring connection after 30000ms and the pool is at the limit for the db"
)


@pytest.mark.parametrize(("summary", "incident", "mismatch"), [
    (SUMMARY, incident_text(), None),
    (GERMAN_SUMMARY, GERMAN_INCIDENT, None),  # English log lines do not make a German thread English
    (SUMMARY, GERMAN_INCIDENT, "it is written in English, the incident in German"),
    (GERMAN_SUMMARY, incident_text(), "it is written in German, the incident in English"),
    (SUMMARY, "[2025-11-17T09:00:00Z] ana: 502 502 502", None),  # too little text to tell: no verdict
])
def test_language_heuristic(summary: str, incident: str, mismatch: str | None) -> None:
    assert language_mismatch(summary, incident) == mismatch


@pytest.mark.parametrize("body", [
    "```python\n" + "assert pool.size <= 100  # the same assertion in every test of the suite\n" * 4 + "```",
    "| Test | Type |\n|---|---|\n| a | load |\n| b | load |\n| c | load |",
    "- **Type:** load\n- **Type:** load\n- **Type:** load",
])
def test_legitimate_sameness_is_not_a_loop(body: str) -> None:
    assert garbage.repetition(body) is None


def test_the_gate_is_pure() -> None:
    """No network client, Slack or TTS module is loaded by importing the gate: it runs anywhere, offline."""
    code = ("import sys, bot.core.gate; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'slack_sdk', 'slack_bolt', 'openai', 'aiohttp', 'httpx', 'edge_tts', 'piper', 'requests'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
