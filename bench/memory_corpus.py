"""Synthetic remembered postmortems for the memory benchmarks: realistic mixes of failure classes, services, alerts
and log templates, with a report-sized body (~4 KB) drawn from a vocabulary of incident words. Seeded: every run
stores the same incidents."""

from __future__ import annotations

import random

from bot.core.digest import default_rules
from bot.core.memory import Signals
from bot.memory.index import Entry

_WORDS = (
    "latency", "error", "timeout", "pool", "connection", "database", "cache", "retry", "deploy", "rollback",
    "canary", "alert", "page", "queue", "backlog", "consumer", "producer", "disk", "memory", "heap", "cpu",
    "throttling", "certificate", "dns", "resolver", "gateway", "upstream", "downstream", "load", "spike",
    "saturation", "exhausted", "leak", "restart", "pod", "node", "kubernetes", "config", "flag", "migration",
    "schema", "index", "lock", "deadlock", "replica", "primary", "failover", "region", "zone", "traffic",
    "customers", "checkout", "payments", "orders", "search", "login", "session", "token", "report", "test",
    "integration", "contract", "chaos", "unit", "coverage", "assertion", "threshold", "budget", "backoff",
    "jitter", "circuit", "breaker"
)
SERVICES = [f"{name}-{kind}" for name in ("payments", "orders", "search", "auth", "ledger", "billing", "inventory", "cart",
                                          "catalog", "shipping", "fraud", "pricing", "profile", "notify", "media")
            for kind in ("api", "worker", "db", "gateway", "cache")]


def _body(rng: random.Random, chars: int = 4000) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def signals(rng: random.Random) -> Signals:
    classes = [f.rule.id for f in default_rules().failures]
    service = rng.choice(SERVICES)
    alert = "".join(w.capitalize() for w in service.split("-")) + rng.choice(("HighLatency", "ErrorRate", "PoolExhausted", "Down"))
    template = f"error {rng.choice(_WORDS)} {rng.choice(_WORDS)} after # ms on {service}"
    chosen = rng.sample(classes, rng.choice((1, 1, 1, 2)))
    return Signals(tuple(sorted(chosen)), (service,) + ((rng.choice(SERVICES),) if rng.random() < 0.3 else ()), (alert,),
                   (template,), f"INC-{rng.randint(1000, 99999)} {service} {rng.choice(_WORDS)} {rng.choice(_WORDS)}")


def entries(count: int, seed: int = 22) -> list[Entry]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        s = signals(rng)
        tests = [{"name": f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} test", "type": "load", "ticket_url": "", "ticket_key": ""}
                 for _ in range(3)]
        private = rng.random() < 0.1
        channel = f"{'G' if private else 'C'}{rng.randint(1, 40):04d}"
        out.append(Entry(source=f"slack:{channel}/{1700000000 + n}.000100", title=s.headline, signals=s, status="done",
                         primary_cause=" ".join(rng.choice(_WORDS) for _ in range(20)) + ".", tests=tests, body=_body(rng),
                         run_id=n + 1, channel=channel, thread_ts=f"{1700000000 + n}.000100", private=private,
                         link=f"https://acme.slack.com/archives/{channel}/p{1700000000 + n}000100",
                         started_at=1_760_000_000 + n * 600.0))
    return out
