"""The bot's Prometheus metrics (prometheus-client's default registry, served on /metrics by bot/ops/health.py).

Each fact is reported once, where the code already knows it: a run's outcome where its state moves
(RunFacts.advance), stage times where the pipeline times them, a generation's speed where the LLM client streams
it, Slack's answers where slack_sdk hands each response to its retry handlers (bot/ops/slack_calls.py). Recording costs a few microseconds
and never raises into the caller.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from bot.errors import PostmortemError

# The run states (bot.core.run) counted as outcomes, by value: this registry imports nothing of the bot's.
OUTCOMES = ("done", "degraded", "failed", "interrupted")

RUNS = Counter("postmortem_runs", "Runs that reached an outcome (a retried run counts each time it ends)", ["outcome"])
QUEUE_DEPTH = Gauge("postmortem_queue_depth", "Runs queued and not yet started, on every replica (read from the run store)")
QUEUE_WAIT = Histogram("postmortem_queue_wait_seconds", "From a trigger to a worker starting its run",
                       buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800))
STAGE = Histogram("postmortem_stage_seconds", "Time of each pipeline stage (digest, preflight, prepare, analyse, repair, narrate, …)",
                  ["stage"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))
LLM_SPEED = Histogram("postmortem_llm_tokens_per_second", "Generation speed of each answer streamed, per model server",
                      ["server"], buckets=(1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500))
LLM_ERRORS = Counter("postmortem_llm_errors", "Model server failures by kind (llm_unavailable, llm_timeout, llm_busy, …)",
                     ["server", "kind"])
SLACK_ERRORS = Counter("postmortem_slack_api_errors", "Slack Web API calls answered with an error (ok: false, HTTP error "
                       "or no answer), by method and Slack's error code", ["method", "error"])
SLACK_RATE_LIMITED = Counter("postmortem_slack_rate_limited", "Slack Web API calls answered 429 (each is waited out and retried)",
                             ["method"])
REPAIRS = Counter("postmortem_repairs", "Repair calls for sections that failed the quality check, by what the check said after",
                  ["result"])
TICKETS = Counter("postmortem_tickets", "Tickets filed from the test plan, by backend and result", ["backend", "result"])
VOTES = Counter("postmortem_feedback_votes", "👍/👎 votes on finished postmortems (a changed vote counts again)", ["vote"])
READY = Gauge("postmortem_ready", "1 when this replica is ready (Socket Mode connected and the run store reachable)")
SOCKET_CONNECTED = Gauge("postmortem_socket_mode_connected", "1 while the Socket Mode connection to Slack is up")
STORE_REACHABLE = Gauge("postmortem_store_reachable", "1 when the run store answered the last probe")


def run_ended(state: str) -> None:
    if state in OUTCOMES:
        RUNS.labels(str(state)).inc()


def stage_took(stage: str, seconds: float) -> None:
    STAGE.labels(stage).observe(seconds)


def queue_waited(created_at: float, *, first_claim: bool) -> None:
    """A worker took a run; only a run's first start is a wait in the queue (a resumed run was waiting on a crash)."""
    if first_claim:
        QUEUE_WAIT.observe(max(0.0, time.time() - created_at))


def repaired(passed: bool) -> None:
    REPAIRS.labels("passed" if passed else "still_failing").inc()


def ticket_filed(backend: str, ok: bool) -> None:
    TICKETS.labels(backend, "created" if ok else "failed").inc()


def voted(vote: str) -> None:
    VOTES.labels(vote).inc()


# -- model servers -----------------------------------------------------------------------------------------------

@dataclass
class LastRequest:
    """What the last request to a model server showed, for /readyz (reported, not part of readiness)."""

    ok: bool
    since: float  # time.time() of that request
    error: str | None = None  # its kind, when it failed


LLM_STATE: dict[str, LastRequest] = {}


def error_kind(exc: BaseException) -> str:
    """LLMTimeout → llm_timeout: a label that names the failure's class, so a new kind needs no table."""
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(exc).__name__).lower()


@contextmanager
def llm_call(server: str) -> Iterator[None]:
    """Around one request to ``server`` (its URL without a password): a failure is counted by kind, and the
    outcome becomes the server's state."""
    try:
        yield
    except PostmortemError as exc:
        LLM_ERRORS.labels(server, error_kind(exc)).inc()
        LLM_STATE[server] = LastRequest(False, time.time(), error_kind(exc))
        raise
    LLM_STATE[server] = LastRequest(True, time.time())


def llm_generated(server: str, tokens: int, seconds: float) -> None:
    if tokens > 0 and seconds > 0:
        LLM_SPEED.labels(server).observe(tokens / seconds)
