"""A model answer that passes every quality-gate check against most incidents (and cites evidence ids like a model
following the prompt: [m1]…[m4], the messages of a small thread, and [m99], which names none and is dropped): no clock times (nothing to
invent), a labelled primary cause, ranked secondary causes, complete tests that name the common metric families.

``sample_report()`` predates the gate (unlabelled root cause, tests without fields, times of its own), so a run
answered with it is repaired; use ``gate_passing_report()`` where a test needs an answer the gate lets through.
"""

from __future__ import annotations

from bot.core.sections import SECTION_TITLES, SectionId
from tests.fakes.sample_reports import summary_prose

_BODIES: dict[SectionId, str] = {
    SectionId.TIMELINE: """\
- **T+0** — a release raises the database pool size per pod; the rollout completes [m2].
- **T+1 min** — connection-pool timeouts start; p99 latency and the error rate climb [m3].
- **T+8 min** — the latency alert fires; on-call acknowledges and finds pool exhaustion [m1] [m99].
- **T+13 min** — rollback to the previous release; the alert resolves [m4].

**Blast radius:** checkout degraded for about a quarter of an hour; a share of orders failed, no data was lost.""",
    SectionId.GAPS: """\
**Senior Engineer A:** Our load test runs a single pod, so pool size times replicas was never exercised.
**Senior Engineer B:** And retries had no test: three attempts without backoff multiplied the pressure on the pool.
**Senior Engineer A:** The override lived in deployment values that no test reads.""",
    SectionId.ROOT_CAUSE: """\
**Primary root cause:** the release multiplied database connection demand past the server's limit, exhausting the pool [m2, m3].

**Secondary causes (ranked):**
1. Retries without backoff amplified the exhausted pool.
2. Deployment values overrode the pool size outside the tested configuration.
3. No alert watched pool wait time before latency degraded.""",
    SectionId.PREVENTION: """\
1. A deploy gate that fails when replicas × pool size exceeds the database connection limit.
2. A pool wait-time alert that fires before the p99 latency alert.
3. Retry budgets with exponential backoff and jitter, validated by the chaos test below.""",
    SectionId.TEST_SUITE: """\
### Test 1: Connection-pool saturation
- **Type:** load
- **Scope:** the service at full replica count against the primary database
- **Fault injection:** cap the database connections at the production limit and replay 2x peak traffic
- **Success criteria:** zero pool timeouts, p99 latency under 300 ms, error rate under 1%, no 5xx responses
- **Rationale:** the pool timed out at full replica count [m3]

### Test 2: Resource headroom
- **Type:** load
- **Scope:** every pod of the service
- **Fault injection:** 2x peak throughput for 30 minutes
- **Success criteria:** cpu below 70%, memory below 80% of the limit, disk below 85%, queue lag under 5 s

### Test 3: Retry storm
- **Type:** chaos
- **Scope:** outbound client retries
- **Fault injection:** the upstream returns 503 for 60 s
- **Success criteria:** at most 1.2 attempts per request and the error rate stays under 5%""",
}


def gate_passing_report(words_in_summary: int = 170) -> str:
    """The six sections under ``## {title}``, the spoken summary ``words_in_summary`` words of prose."""
    bodies = {**_BODIES, SectionId.AUDIO_SUMMARY: summary_prose(words_in_summary)}
    return "\n\n".join(f"## {SECTION_TITLES[sid]}\n\n{bodies[sid]}" for sid in SECTION_TITLES) + "\n"
