"""Answers for the gate tests: the bundled sample incident, the exact prompt it produces, and a report that passes."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.core.incident.load import load_incident
from bot.core.prepare import prepare_incident
from bot.core.prompt import SYSTEM_PROMPT, build_user_prompt
from bot.core.sections import SECTION_TITLES, Section, SectionId

T, G, R, P, S, A = (
    SectionId.TIMELINE, SectionId.GAPS, SectionId.ROOT_CAUSE,
    SectionId.PREVENTION, SectionId.TEST_SUITE, SectionId.AUDIO_SUMMARY,
)
SAMPLE = Path(__file__).parents[3] / "bot" / "samples" / "checkout-incident.json"


@cache
def incident_text() -> str:
    """The bundled sample, prepared exactly as the pipeline prepares it."""
    return prepare_incident(load_incident(str(SAMPLE)), 6000).text


@cache
def prompt_text() -> str:
    return SYSTEM_PROMPT + "\n\n" + build_user_prompt(incident_text(), title="#inc-checkout", notes=["1 file not read"])


SUMMARY = (
    "On the seventeenth of November the checkout service slowed to a crawl for about eighteen minutes and roughly "
    "nine percent of orders failed. The cause was a configuration change shipped with version two point thirty one. "
    "It raised the database pool from twenty to fifty connections per pod, so twelve pods could ask for six hundred "
    "connections from a database that allows one hundred. Requests queued for a connection, timed out after thirty "
    "seconds, and the new retry policy sent each failure again three times with no pause, which made the queue worse. "
    "Nothing in our pipeline checked the total connection demand of a rollout against the database limit, and the "
    "load tests ran with one pod and no retries, so they could never see the problem. We are adding a saturation "
    "test that runs the full replica count against a database capped at its production limit, a contract test that "
    "fails the build when pool size times replicas exceeds the connection limit, and a chaos test that injects "
    "gateway errors to prove that retries back off. Rolling back fixed the incident within ten minutes of the first page."
)

GOOD: dict[SectionId, str] = {
    T: """\
- **08:52** — checkout-api v2.31.0 deploy finishes.
- **08:53** — pool timeouts start (`timeout acquiring connection after 30000ms`), 40 in two minutes.
- **09:00** — [FIRING] checkout-api p99 latency > 2s: p99 4.8 s, error rate 12%.
- **09:01** — [FIRING] db-primary connections 100/100.
- **09:05** — rollback to v2.30.4 starts; **09:09** the latency alert resolves (p99 310 ms).

**Blast radius:** about 18 minutes of degraded checkout, roughly 9% of orders failed.""",
    G: """\
**Senior Engineer A:** The load test runs one pod. Twelve pods times the new pool of 50 is 600 connections; nobody multiplied.
**Senior Engineer B:** And the retry change had no test at all: three attempts with no backoff doubled the pressure.
**Senior Engineer A:** The helm values override `pool_size`, so the unit tests that read the default config never saw 50.""",
    R: """\
**Primary root cause:** v2.31.0 raised the pool to 50 connections per pod, so 12 pods demanded 600 connections from a database capped at 100.

**Secondary causes (ranked):**
1. The new retry policy retried three times with no backoff, multiplying load on the exhausted pool.
2. The pool size was overridden in helm values, outside the config the tests read.
3. No alert fired on pool wait time before p99 latency crossed 2 s.""",
    P: """\
1. A deploy gate that computes replicas × pool size and fails when it exceeds `max_connections` (fires before db-primary connections 100/100).
2. A pool wait-time metric with an alert at 500 ms, ahead of the p99 latency alert.
3. Retry policy review: backoff with jitter and a retry budget, validated by the chaos test below.""",
    S: """\
### Test 1: Connection-pool saturation
- **Type:** load
- **Scope:** checkout-api at full replica count against db-primary
- **Fault injection:** cap the database at max_connections 100 and run 12 pods with the release's pool size
- **Success criteria:** zero pool timeouts and p99 latency under 300 ms at 2x peak traffic; db connections stay below 80/100

### Test 2: Pool budget contract
- **Type:** contract
- **Scope:** helm values of every release
- **Fault injection:** a values file with pool_size 50 and 12 replicas
- **Success criteria:** the build fails when replicas × pool exceeds 80% of max_connections

### Test 3: Retry storm
- **Type:** chaos
- **Scope:** payments client retries
- **Fault injection:** the payments gateway returns 503 for 60 s
- **Success criteria:** at most 1.2 attempts per request and the error rate stays under 5%""",
    A: SUMMARY,
}


def section(sid: SectionId, body: str | None = None) -> Section:
    return Section(sid, SECTION_TITLES[sid], GOOD[sid] if body is None else body)


def good_sections(**replaced: str) -> list[Section]:
    """The passing report, with some bodies replaced (keyword = SectionId value)."""
    return [section(sid, replaced.get(sid.value)) for sid in SECTION_TITLES]


def as_markdown(sections: list[Section]) -> str:
    return "\n\n".join(s.markdown for s in sections) + "\n"


# A loop written line by line, as a streaming preview sees it.
LOOP_LINES = "\n".join(["- The database connection pool was exhausted by the new release."] * 8)
