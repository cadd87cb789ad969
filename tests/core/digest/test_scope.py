"""Which statements are evidence for which class: prose as engineers write it, negation, speculation, incidental
words, causes. Judged by the bundled rules (rules.toml [scope] and [[failure]])."""

from __future__ import annotations

import pytest

from bot.core.digest import default_rules
from bot.core.digest.scope import EvidenceVerdict, ScopeCues

# One line per pattern family, in the words postmortems and chat use (not the classes' own load-time examples).
PROSE: list[tuple[str, str]] = [
    ("connection-pool-exhaustion", "The new workers ended up exhausting the connection pool within minutes"),
    ("connection-pool-exhaustion", "the service ran out of database connections"),
    ("connection-pool-exhaustion", "requests timed out waiting to acquire a connection from the pool"),
    ("retry-storm", "When the gateway came back, all clients retried at once"),
    ("retry-storm", "the SDK retried immediately, without backoff, and amplified the load"),
    ("cache-stampede", "the cache was cold after the failover and every request went to the database"),
    ("oomkilled", "kernel: java invoked oom-killer: gfp_mask=0x100cca, order=0"),
    ("oomkilled", "the pods were OOM killed after the release"),
    ("crashloopbackoff", "Pods, including KIAM, started crashlooping and became pending"),
    ("probe-failure", "Liveness/readiness probes failed with context deadline exceeded"),
    ("config-drift", "Misconfiguration of fluentd resulted in logs not being shipped"),
    ("config-drift", "Terraform changes applied to the kube-system namespace overwrote the annotations"),
    ("config-drift", "the proxy configuration still pointed at the IP of a decommissioned instance"),
    ("bad-rollout", "Buggy release has been fully reverted back to the previous release"),
    ("timeout-chain", "the /metrics load time got greater than the Prometheus scrape timeout (10s)"),
    ("certificate-expiry", "The certificate for api.example.com expired on Saturday night"),
    ("certificate-expiry", "Issue with certificate chain expiry in a third party application"),
    ("expired-credentials", "The API key used by the exporter belonged to a personal account that was deleted"),
    ("expired-credentials", "the service account token had expired"),
    ("disk-full", "the log volume filled up overnight"),
    ("dns-failure", "Temporary failure in name resolution for db.internal"),
    ("rate-limiting", "we hit the GitHub API rate limit and builds stalled"),
    ("rate-limiting", "Discord flagged the bot as spam and revoked its API access"),
    ("lock-contention", "inefficient locks were being held while validating transactions"),
    ("queue-backlog", "the job queue backed up for two hours"),
    ("dependency-outage", "the payment provider had an outage for 40 minutes"),
    ("schema-migration", "the database migration added a NOT NULL column without a default"),
    ("capacity-exhaustion", "Nodes were entering NotReady state due to system resource starvation"),
    ("capacity-exhaustion", "CPU on db-primary pegged at 100% for 20 minutes"),
    ("capacity-exhaustion", "an unknown actor began sending a large volume of transactions"),
    ("destructive-command", "bulk-apply-limitrange.sh was manually run without excluding the traefik namespace, a bulk change"),
    ("destructive-command", "someone accidentally deleted the production database"),
    ("third-party-regression", "On June 15 we upgraded the AWS Terraform provider to 3.45"),
    ("third-party-regression", "Malformed IngressRoute manifest triggered a bug in Traefik v2"),
    ("logic-bug", "The code that creates outputs failed to check against negative values"),
    ("logic-bug", "Due to a bug in the Mempool code the mempool was not updated"),
    ("security-breach", "The user reported clicking a link that turned out to be phishing"),
    ("vulnerable-dependency", "Scanning all images for the Log4Shell vulnerability (CVE-2021-44228)"),
    ("oomkilled", "the plugin server kept OOMing after the release"),
    ("queue-backlog", "ingestion lag reached 40 minutes"),
    ("schema-migration", "the ClickHouse migration rewrote the events table"),
    ("config-drift", "the SENTRY_DSN environment variable was missing in prod"),
    ("bad-rollout", "the deploy at 14:02 broke signups"),
    ("logic-bug", "the PR introduced a regression in the billing code"),
    ("dependency-outage", "Bad weather caused power failures throughout the region"),
    ("security-breach", "An entity gained access to the GitHub organization"),
]

# Lines that are no evidence for the class: negated, "normal", speculative, planned, asked, incidental.
NOT_EVIDENCE: list[tuple[str, str]] = [
    ("capacity-exhaustion", "CPU and Memory looked fine."),
    ("capacity-exhaustion", "High CPU usage was normal for the nightly batch"),
    ("connection-pool-exhaustion", "No errors in the pool, connections were plentiful"),
    ("connection-pool-exhaustion", "pool exhaustion was ruled out early"),
    ("dns-failure", "DNS was not the cause"),
    ("dns-failure", "we could not resolve the issue until Monday"),
    ("retry-storm", "we suspected a retry storm at first"),
    ("retry-storm", "add jitter to avoid a retry storm"),
    ("oomkilled", "is the pod OOMKilled?"),
    ("oomkilled", "there were no OOM kills during the incident"),
    ("certificate-expiry", "we will alert 21 days before a certificate expires"),
    ("queue-backlog", "filed as a backlog item for the platform team"),
    ("queue-backlog", "it sits in our team backlog"),
    ("dependency-outage", "we posted updates on our status page every 30 minutes"),
    ("schema-migration", "the team migration to the new office went fine"),
    ("security-breach", "the suspected account compromise was a false positive"),
]


@pytest.mark.parametrize(("class_id", "line"), PROSE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(PROSE)])
def test_prose_names_the_failure(class_id: str, line: str) -> None:
    strong = {h.failure.rule.id for h in default_rules().hits(line) if h.strong}
    assert class_id in strong, strong


@pytest.mark.parametrize(("class_id", "line"), NOT_EVIDENCE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NOT_EVIDENCE)])
def test_negated_normal_speculative_and_incidental_lines_are_no_evidence(class_id: str, line: str) -> None:
    assert class_id not in {h.failure.rule.id for h in default_rules().hits(line) if not h.refutes}


@pytest.mark.parametrize("line", [
    "we did not notice that the disk was full until 10:40",  # the noticing is negated, not the disk
    "the schema did not prevent malformed manifests from being applied",
    "CPU looked fine but the pool was exhausted",  # the negation stays in its own clause
])
def test_negation_stays_in_its_scope(line: str) -> None:
    assert any(h.strong for h in default_rules().hits(line)), line


def test_a_refutation_is_reported_as_such() -> None:
    hits = list(default_rules().hits("The security team closed the case as a false positive"))
    assert [(h.failure.rule.id, h.refutes) for h in hits] == [("security-breach", True)]


@pytest.mark.parametrize(("line", "cause"), [
    ("The outage was caused by an expired certificate on the gateway", True),
    ("Root cause: the connection pool was exhausted by the new workers", True),
    ("The expired certificate led to failed handshakes everywhere", True),
    ("The certificate had expired, we renewed it at 10:05", False),
])
def test_a_statement_named_as_cause_is_marked(line: str, cause: bool) -> None:
    hits = [h for h in default_rules().hits(line) if h.strong]
    assert hits and hits[0].cause is cause


def test_one_hit_per_class_and_sentence_strong_before_symptom() -> None:
    hits = list(default_rules().hits("Requests timed out. The 30 s client timeout was longer than the gateway timeout."))
    assert [(h.failure.rule.id, h.strong) for h in hits] == [("timeout-chain", False), ("timeout-chain", True)]


def test_a_line_repeating_a_negated_phrase_is_judged_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    judge = ScopeCues.judge

    def counting(self: ScopeCues, sentence: str, start: int, end: int) -> EvidenceVerdict:
        calls.append(end - start)
        return judge(self, sentence, start, end)

    monkeypatch.setattr(ScopeCues, "judge", counting)
    assert list(default_rules().hits("no pool exhaustion, " * 5000)) == []
    assert 0 < len(calls) <= 16 * 2  # the class's patterns, then its symptoms: the first 16 matches each
