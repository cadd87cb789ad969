"""Realistic model output for tests: a six-section, testing-focused postmortem in Markdown.

It cites evidence ids like a model following the prompt: [m1]…[m4] (the messages of a small incident thread) and one
id that points at no message, [m99], which the bot removes and counts."""

from __future__ import annotations

from bot.core.sections import SECTION_TITLES, SectionId

_BODIES: dict[SectionId, str] = {
    SectionId.TIMELINE: """\
- **14:02 UTC** — deploy `checkout-api` v2.31.0 rolls out; it lowers the payment-gateway client timeout from 5 s to 500 ms [m2].
- **14:09 UTC** — p99 latency on `POST /orders` climbs to 4.8 s; the error rate reaches 18% [m1, m3].
- **14:17 UTC** — on-call pages the payments team after `PaymentGatewayTimeout` alerts fire in eu-west-1 [m1] [m99].
- **14:31 UTC** — rollback to v2.30.4 completes; error rate returns to baseline by 14:36 [m4].

**Blast radius:** about 3,400 failed checkouts over 34 minutes, EU customers only; no data loss, no double charges.""",
    SectionId.GAPS: """\
- No integration test exercises the gateway client against realistic latency (the sandbox answers in 40 ms).
- The config change shipped without a contract test pinning timeout values to the gateway's documented SLO.
- Canary analysis compared error rates over 2 minutes, too short to see tail-latency failures.""",
    SectionId.ROOT_CAUSE: """\
A refactor moved the gateway timeout from `payments.yaml` into code and mistyped `5_000` as `500` milliseconds [m2, m3]. \
The gateway's p95 in eu-west-1 is 620 ms, so roughly a fifth of calls timed out. Unit tests mocked the client and \
never saw the value; staging talks to a sandbox that answers far faster than production.""",
    SectionId.PREVENTION: """\
1. Add a latency-injecting fake gateway to the integration suite (p95 700 ms, p99 2 s) and run checkout flows against it.
2. Assert configured timeouts against the gateway SLO in a contract test that fails the build.
3. Extend canary analysis to 15 minutes and gate on p99 latency as well as error rate.
4. Validate: replay the 14:02 deploy in staging with the fake gateway and confirm the new tests fail on v2.31.0.""",
    SectionId.TEST_SUITE: """\
1. **Checkout survives a slow gateway** (integration)
   - Scope: `POST /orders` against a latency-injecting fake payment gateway
   - Fault injection: gateway p95 700 ms, p99 2 s
   - Success criteria: 99% of orders return 201; p99 latency under 2500 ms; error rate under 1%
2. **Gateway timeout meets the SLO** (contract)
   - Scope: the payment-gateway client configuration
   - Fault injection: none; reads the configured timeout and the gateway's published p95
   - Success criteria: timeout at least 3 × the gateway p95 (1,860 ms)
3. **Canary gates on p99** (canary)
   - Scope: checkout-api canary analysis
   - Fault injection: a synthetic deploy that adds 1 s to every gateway call
   - Success criteria: the rollout is halted within 15 minutes; p99 under 2000 ms on the stable version
   - Rationale: the p99 alert fired only after customers failed [m1]""",
}

_SUMMARY_SENTENCES = [
    "On Tuesday afternoon a routine deploy of the checkout service cut the payment gateway timeout from five seconds to half a second.",
    "Because the gateway often takes longer than that in Europe, about one checkout in five failed for thirty four minutes.",
    "Roughly three thousand four hundred orders did not go through, although nobody was charged twice and no data was lost.",
    "Our tests missed it because they replace the gateway with a mock that answers instantly,"
    " and staging uses a sandbox that is far faster than production.",
    "The canary check also looked at errors for only two minutes, which is too short to notice slow responses piling up.",
    "We are adding a fake gateway that behaves like the real one under load,"
    " a contract test that checks timeouts against the gateway's promised response times,"
    " and a longer canary that watches tail latency.",
    "Together these changes mean the same mistake would now fail the build long before it could reach customers.",
]


def summary_prose(words: int) -> str:
    """Plain spoken-style prose of exactly ``words`` words, ending with a full stop."""
    pool = " ".join(_SUMMARY_SENTENCES).split()
    chosen = [pool[i % len(pool)] for i in range(words)]
    return " ".join(chosen).rstrip(".,") + "."


def sample_report(words_in_summary: int = 170, *, heading: str = "## ") -> str:
    """The six sections in canonical order, each under ``{heading}{title}``."""
    bodies = {**_BODIES, SectionId.AUDIO_SUMMARY: summary_prose(words_in_summary)}
    return "\n\n".join(f"{heading}{SECTION_TITLES[sid]}\n\n{bodies[sid]}" for sid in SECTION_TITLES) + "\n"
