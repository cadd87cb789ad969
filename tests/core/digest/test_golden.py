"""Golden tests of the digest on the bundled sample and on the synthetic 10k-line log and 10k-message thread."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.gen_incident import DEPLOY_LINES, SECRETS, THREAD_DEPLOYS, chat_thread, log_dump, log_lines
from bot.core.digest import Digest, build_digest, default_rules, render_markdown, speech_text
from bot.core.incident.load import load_incident
from bot.core.incident.model import Incident
from bot.core.prepare.classify import is_change
from bot.core.redact import redact_text

SAMPLE = Path(__file__).parents[3] / "bot" / "samples" / "checkout-incident.json"
# Independent of rules.toml: what a reader would call an alert line.
_ALERT = re.compile(r"\[(?:FIRING|RESOLVED)")


def _everything(d: Digest) -> str:
    """Every string the digest holds or shows: a leak anywhere fails."""
    return f"{asdict(d)!r}\n{render_markdown(d)}\n{speech_text(d)}"


@pytest.fixture(scope="module")
def sample() -> tuple[Incident, Digest]:
    incident = load_incident(str(SAMPLE))
    return incident, build_digest(incident)


@pytest.fixture(scope="module")
def big_log() -> Digest:
    return build_digest(log_dump(10_000))


def test_sample_every_deploy_alert_and_rollback_time_appears(sample: tuple[Incident, Digest]) -> None:
    incident, digest = sample
    markdown = render_markdown(digest)
    wanted = [m for m in incident.messages if _ALERT.search(m.text) or is_change(m.text)]
    assert len(wanted) >= 5  # PagerDuty fired/resolved, Grafana, the deploy note, the rollback and its completion
    for msg in wanted:
        assert msg.iso_ts and msg.iso_ts in markdown, msg.text


def test_sample_golden_facts(sample: tuple[Incident, Digest]) -> None:
    _, d = sample
    # Best-supported first: 40 pool timeouts in the pasted log, then the retry policy and pool size the new helm values
    # overrode. The rollback is a mitigation and no longer makes "bad rollout" a class of its own.
    assert [f.id for f in d.failures] == ["connection-pool-exhaustion", "config-drift", "retry-storm", "dependency-outage"]
    assert (d.started, d.ended, d.resolved, d.duration_minutes) == ("2025-11-17T08:53:00Z", "2025-11-17T09:09:00Z", True, 16.0)
    assert [name for name, _ in d.participants] == ["ana", "raj", "kim"]
    assert [name for name, _ in d.bots] == ["PagerDuty", "Grafana"]
    assert {"checkout-api", "db-primary", "postgres"} <= set(d.services)
    assert d.files_read == ["checkout-api.log"]
    assert {(m.name, m.before, m.after) for m in d.metrics} >= {("p99 latency", "2s", "4.8s"), ("pool size", "20", "50")}
    assert d.first_report is not None and d.first_report.author == "PagerDuty"
    burst = next(e for e in d.timeline if e.kind == "error_burst")
    assert (burst.count, burst.time) == (40, "2025-11-17T08:53:00Z") and "timeout acquiring connection" in burst.text
    # The pasted log predates the first report, so the burst opens the timeline.
    assert d.timeline[0] is burst


def test_sample_leaks_no_secret(sample: tuple[Incident, Digest]) -> None:
    text = _everything(sample[1])
    for secret in ("hunter2", "support@example.com", "postgres://checkout:"):
        assert secret not in text


def _redacted_lines(incident: Incident) -> set[str]:
    out: set[str] = set()
    for msg in incident.messages:
        for block in (msg.text, *(a.text or "" for a in msg.attachments)):
            out.update(line.strip() for line in redact_text(block).splitlines())
    return out


@pytest.mark.parametrize("which", ["sample", "log"])
def test_each_detected_class_has_its_evidence_line(which: str, sample: tuple[Incident, Digest], big_log: Digest) -> None:
    incident, d = (sample if which == "sample" else (log_dump(10_000), big_log))
    lines = _redacted_lines(incident)
    rules = {f.rule.id: f.regex for f in default_rules().failures}
    assert d.failures
    for failure in d.failures:
        evidence = failure.evidence.removesuffix(" …")
        assert rules[failure.id].search(failure.evidence), failure
        assert any(line.startswith(evidence) for line in lines), failure
        assert failure.evidence in render_markdown(d)


def test_log_every_deploy_and_rollback_time_appears(big_log: Digest) -> None:
    markdown = render_markdown(big_log)
    lines = log_lines(10_000)
    for deploy in DEPLOY_LINES:
        line = next(ln for ln in lines if deploy in ln)
        assert line.split()[0] in markdown, deploy
    kinds = [e.kind for e in big_log.timeline]
    assert kinds.count("deploy") == 2 and kinds.count("rollback") == 2


def test_log_classes_and_bursts(big_log: Digest) -> None:
    assert {f.id for f in big_log.failures} >= {
        "connection-pool-exhaustion", "oomkilled", "certificate-expiry", "disk-full", "lock-contention", "dependency-outage"
    }
    bursts = {e.text for e in big_log.timeline if e.kind == "error_burst"}
    assert any("ERROR pool: connection <*> timeout" in b for b in bursts)
    assert "java.lang.IllegalStateException: Connection pool exhausted" in bursts  # a JVM trace shows its exception line
    assert "KeyError: 'cust_<*>'" in bursts  # a Python trace shows its last line
    assert all(e.count > 1 and e.last_time for e in big_log.timeline if e.kind == "error_burst")


def test_log_leaks_no_secret(big_log: Digest) -> None:
    text = _everything(big_log)
    for secret in SECRETS:
        assert secret not in text


def test_thread_folds_the_alert_bot_and_keeps_every_deploy() -> None:
    d = build_digest(chat_thread(10_000))
    fired = [e for e in d.timeline if e.kind == "alert_fired" and e.author == "alertmanager"]
    assert len(fired) == 1 and fired[0].count > 2000
    texts = [e.text for e in d.timeline]
    for deploy in THREAD_DEPLOYS:
        assert deploy in texts
    assert d.resolved and d.timeline[-1].kind == "resolution"
