"""Deterministic synthetic incidents for tests and benchmarks (seeded random; no network).

``log_dump`` is one message holding an N-line service log; ``chat_thread`` is an N-message Slack thread.
The module-level constants are the ground truth the checks look for in the prepared text.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.core.incident.model import Incident, Message

START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)

# (weight, template). Each error template's text up to its first field is its marker.
ERRORS: tuple[tuple[int, str], ...] = (
    (400, "ERROR pool: connection {n} timeout after {s}s (pool size 20, waiting {w})"),
    (150, "ERROR api: upstream payments returned 503 for order {uuid}"),
    (50, "ERROR cache: redis GET session:{hex} failed: connection reset by peer"),
    (30, "ERROR worker: job {n} failed after {w} retries: payment declined"),
    (20, "ERROR db: deadlock detected on table orders (tx {n})"),
    (3, "ERROR tls: handshake with fraud-check.internal failed: certificate expired"),
    (2, "CRITICAL kubelet: container checkout-api OOMKilled (limit 512Mi, rss {w}Mi)"),
    (1, "FATAL db: could not extend file base/16384/2619: No space left on device"),
)
ERROR_MARKERS: tuple[str, ...] = tuple(t.split("{")[0].strip() for _, t in ERRORS)

INFO: tuple[str, ...] = (
    "INFO api: GET /api/cart/{n} 200 {s}ms",
    "INFO api: POST /api/checkout 201 {s}ms order={uuid}",
    "INFO api: GET /health 200 {w}ms",
    "INFO cache: hit ratio {w}% over last 60s",
    "INFO worker: processed job {n} in {s}ms",
    "INFO scheduler: tick {n}, {w} jobs queued",
    "DEBUG db: query took {s}ms rows={w}",
    "DEBUG http: keepalive conn {n} reused",
    "WARN api: slow request GET /api/cart/{n} took {s}ms",
    "INFO auth: session {hex} refreshed for user {n}",
)
METRIC = "WARN monitor: p99 latency {s}ms on /checkout (threshold 500ms), cpu {w}%"
DEPLOY_LINES: tuple[str, ...] = (
    "INFO deployer: deploy checkout-api v2.14.0 started by ci (sha 9f2c1ab)",
    "INFO deployer: deploy checkout-api v2.14.0 finished, 6/6 pods ready",
    "WARN deployer: rollback checkout-api to v2.13.2 started by alice",
    "INFO deployer: rollback checkout-api to v2.13.2 finished, 6/6 pods ready",
)
SECRET_LINES: tuple[tuple[str, str], ...] = (
    ("DEBUG db: connecting to postgres://orders:Pa55w0rd-prod@db.internal:5432/orders", "Pa55w0rd-prod"),
    ("DEBUG slack: notifier configured with token xoxb-2024-1111-AbCdEfGhIjKl", "xoxb-2024-1111-AbCdEfGhIjKl"),
    ("INFO aws: using key AKIAIOSFODNN7EXAMPLE for s3 uploads", "AKIAIOSFODNN7EXAMPLE"),
    ("WARN auth: rejected login for jane.doe@example.com password=hunter2!", "hunter2!"),
)
SECRETS: tuple[str, ...] = (*(s for _, s in SECRET_LINES), "jane.doe@example.com")

PY_TRACE = """Traceback (most recent call last):
  File "/app/worker/main.py", line 88, in run
    self.handle(job)
  File "/app/worker/main.py", line 120, in handle
    result = self.charge(job.order)
  File "/app/worker/billing.py", line 41, in charge
    customer = self.customers[order.customer_id]
  File "/app/worker/cache.py", line 17, in __getitem__
    return self._data[key]
KeyError: 'cust_{n}'"""
JAVA_TRACE = """java.lang.IllegalStateException: Connection pool exhausted
\tat com.shop.db.Pool.acquire(Pool.java:142)
\tat com.shop.db.OrderRepo.save(OrderRepo.java:57)
\tat com.shop.api.CheckoutController.checkout(CheckoutController.java:91)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)
\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:197)
\tat java.base/java.lang.Thread.run(Thread.java:833)"""
TRACE_MARKERS = ("KeyError: 'cust_", "java.lang.IllegalStateException: Connection pool exhausted")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        n=rng.randint(1, 99999),
        s=rng.randint(3, 4000),
        w=rng.randint(1, 99),
        uuid=f"{rng.getrandbits(128):032x}"[:8] + "-4b1e-8c2d-9e3f-" + f"{rng.getrandbits(48):012x}",
        hex=f"{rng.getrandbits(64):016x}",
    )


def log_lines(count: int = 10_000, seed: int = 7) -> list[str]:
    """``count`` timestamped lines (traces count as one line each): mostly routine, with errors,
    deploys at fixed fractions of the run, metric warnings, traces and a few planted secrets."""
    rng = random.Random(seed)
    error_weights = [w for w, _ in ERRORS]
    specials = {int(count * f): line for f, line in zip((0.2, 0.25, 0.6, 0.65), DEPLOY_LINES, strict=True)}
    specials |= {int(count * f): line for f, (line, _) in zip((0.1, 0.3, 0.5, 0.7), SECRET_LINES, strict=True)}
    # Rare errors appear at least once whatever the size, placed mid-run.
    rare = {int(count * (0.4 + 0.01 * i)): t for i, (w, t) in enumerate(ERRORS) if w <= 3}
    out: list[str] = []
    for i in range(count):
        ts = _iso(START + timedelta(milliseconds=250 * i))
        roll = rng.random()
        if i in specials:
            out.append(f"{ts} {specials[i]}")
        elif i in rare:
            out.append(f"{ts} {_fill(rng, rare[i])}")
        elif roll < 0.06:
            out.append(f"{ts} {_fill(rng, rng.choices(ERRORS, error_weights)[0][1])}")
        elif roll < 0.065:
            out.append(f"{ts} ERROR worker: job {rng.randint(1, 99999)} crashed\n{_fill(rng, PY_TRACE)}")
        elif roll < 0.068:
            out.append(f"{ts} ERROR [http-nio-8080-exec-{rng.randint(1, 200)}] CheckoutController - request failed\n{JAVA_TRACE}")
        elif roll < 0.075:
            out.append(f"{ts} {_fill(rng, METRIC)}")
        else:
            out.append(f"{ts} {_fill(rng, rng.choice(INFO))}")
    return out


def log_dump(lines: int = 10_000, seed: int = 7) -> Incident:
    """A pasted log file as one message (what incident_from_text produces for a log file)."""
    return Incident(messages=[Message(author="incident-notes", text="\n".join(log_lines(lines, seed)))], title="log-dump")


PEOPLE = ("alice", "bob", "carol", "dmitri", "erin", "farah")
CHATTER = ("+1", "looking", "👀", "thanks!", ":eyes:", "on it", "same here", "ack", "ty @bob", ":+1:")
COMPONENTS = ("the payments client", "pgbouncer", "the redis cluster", "checkout-api pods", "the fraud-check service",
              "the order queue", "the CDN", "the new retry middleware")
FINDINGS = ("looks healthy to me", "shows a lot of waiting clients", "was changed in yesterday's config push",
            "has no dashboards, so hard to tell", "seems to hold connections much longer than before",
            "is fine, ruling it out", "has a suspicious GC pause pattern")
THREAD_DEPLOYS: tuple[str, ...] = (
    "Deploy started: checkout-api v2.14.0 by ci",
    "Deploy finished: checkout-api v2.14.0 (6/6 pods ready)",
    "Rollback started: checkout-api v2.14.0 → v2.13.2 by alice",
    "Rollback finished: checkout-api v2.13.2 (6/6 pods ready)",
)
THREAD_FIRST = "checkout is throwing 500s for ~20% of requests, p99 latency 4.2s. Paging on-call."
THREAD_LAST = "Resolved: rolled back checkout-api to v2.13.2, error rate back to 0.2%. Closing; postmortem to follow."


def chat_thread(messages: int = 10_000, seed: int = 7) -> Incident:
    """An incident thread: a repeating alert bot, latency bot, chatter, discussion, deploy bot."""
    rng = random.Random(seed)
    deploys = {int(messages * f): text for f, text in zip((0.05, 0.08, 0.5, 0.55), THREAD_DEPLOYS, strict=True)}
    out: list[Message] = []
    for i in range(messages):
        ts = START + timedelta(seconds=2 * i)
        roll = rng.random()
        if i == 0:
            msg = Message("alice", THREAD_FIRST, ts)
        elif i == messages - 1:
            msg = Message("bob", THREAD_LAST, ts)
        elif i in deploys:
            msg = Message("deploybot", deploys[i], ts)
        elif roll < 0.25:
            msg = Message("alertmanager", f"[FIRING:1] HighErrorRate checkout-api: error rate {rng.uniform(5, 30):.1f}% (threshold 5%)", ts)
        elif roll < 0.35:
            msg = Message("grafana", f"p99 latency on checkout-api is {rng.randint(900, 6000)}ms (baseline 180ms)", ts)
        elif roll < 0.70:
            msg = Message(rng.choice(PEOPLE), rng.choice(CHATTER), ts)
        else:
            text = f"I checked {rng.choice(COMPONENTS)}, it {rng.choice(FINDINGS)} (ticket OPS-{rng.randint(100, 9999)})"
            msg = Message(rng.choice(PEOPLE), text, ts)
        out.append(msg)
    return Incident(messages=out, title="chat-thread", source="slack")


TIMELINE_EVENTS = ("alert fired: checkout-api error rate > 5%", "Anna: looking, errors started after the deploy",
                   "p99 latency 300ms -> 2.3s on checkout-api", "rolling back checkout-api to v2.13.2",
                   "Ben: pool exhausted on db-primary, raising max_connections", "deploy checkout-api v2.14.1 started",
                   "status page updated", "error rate back to normal")


def postmortem_document(target_bytes: int, seed: int = 7) -> str:
    """A postmortem of about ``target_bytes``: summary, a long dated timeline (a table, then bullets under dated
    headings crossing midnight), root cause prose with a quoted log, impact, action items and lessons."""
    rng = random.Random(seed)
    head = ["# Checkout outage", "", "## Summary", "Checkout failed for part of the day after a pool change.", "",
            "## Timeline", "All times in CET.", "", "| Time | Event | Who |", "| --- | --- | --- |"]
    body: list[str] = []
    at = START
    while sum(len(line) + 1 for line in head + body) < target_bytes * 0.6:
        at += timedelta(minutes=rng.randint(1, 9))
        if len(body) % 200 == 199:
            body += ["", f"### {at:%b %d, %Y}", ""]
        if len(body) % 2:
            body.append(f"- **{at:%H:%M}** – {rng.choice(TIMELINE_EVENTS)} (ticket OPS-{rng.randint(100, 9999)})")
        else:
            body.append(f"| {at:%Y-%m-%d %H:%M} | {rng.choice(TIMELINE_EVENTS)} | {rng.choice(PEOPLE)} |")
    tail = ["", "## Root cause"]
    while sum(len(line) + 1 for line in head + body + tail) < target_bytes * 0.9:
        tail += [f"The {rng.choice(COMPONENTS)} {rng.choice(FINDINGS)}; pool timeouts followed.", "", "```",
                 *(f"{_iso(at - timedelta(days=1, seconds=i))} ERROR pool: timeout acquiring connection" for i in range(5)), "```", ""]
    tail += ["## Impact", "20% of checkouts failed.", "", "## Action items"]
    while sum(len(line) + 1 for line in head + body + tail) < target_bytes:
        tail.append(f"- Add a load test for {rng.choice(COMPONENTS)} (OPS-{rng.randint(100, 9999)})")
    return "\n".join([*head, *body, *tail, "", "## Lessons learned", "Config needs review like code.", ""])


def pasted_thread(messages: int = 200, every: int = 10, seed: int = 7) -> Incident:
    """``chat_thread`` where every ``every``-th message is a 12-line transcript pasted from another chat."""
    rng = random.Random(seed)
    thread = chat_thread(messages, seed)
    out: list[Message] = []
    for i, msg in enumerate(thread.messages):
        if i % every == every - 1:
            start = msg.ts - timedelta(minutes=30) if msg.ts else START
            lines = [f"{start + timedelta(minutes=2 * n):%H:%M} {rng.choice(PEOPLE).title()}: {rng.choice(TIMELINE_EVENTS)}"
                     for n in range(12)]
            msg = Message(msg.author, "\n".join(lines), msg.ts)
        out.append(msg)
    return Incident(messages=out, title="pasted-thread", source="slack")
