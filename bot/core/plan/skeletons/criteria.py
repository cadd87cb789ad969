"""Numbers out of free text: a success criterion's latency, error-rate and throughput limits (k6 thresholds,
assertions, canary conditions), and a fault injection's Toxiproxy toxic."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NUM = r"(\d+(?:\.\d+)?)"
_BELOW = r"(?:<=?|≤|under|below|less than|lower than|at most|within|no more than|max(?:imum)?|stays? under|stays? below|of|is|:|=)"
_ABOVE = r"(?:>=?|≥|at least|above|over|more than|min(?:imum)?)"
_UNIT_MS = r"(ms|milliseconds?|s|sec(?:onds?)?)\b"
# "p99 < 300 ms", "p99 latency under 300 ms", "99th percentile below 2 s"
_PERCENTILE = re.compile(
    r"\bp\s?(\d{2}(?:\.\d+)?)\b|(\d{2}(?:\.\d+)?)(?:th|st|nd|rd)?[ -]percentile", re.IGNORECASE)
_LIMIT_MS = re.compile(rf"[^.;,]{{0,30}}?{_BELOW}\s*{_NUM}\s*{_UNIT_MS}", re.IGNORECASE)
# "latency under 300 ms" with no percentile
_PLAIN_LATENCY = re.compile(rf"\b(?:latency|response time|duration)\b[^.;,]{{0,20}}?{_BELOW}\s*{_NUM}\s*{_UNIT_MS}", re.IGNORECASE)
_ERROR_RATE = re.compile(rf"\b(?:error|failure|5xx)[ -]?rates?\b[^.;,]{{0,20}}?{_BELOW}\s*{_NUM}\s*%", re.IGNORECASE)
_NO_ERRORS = re.compile(r"\b(?:zero|no|0)\s+(?:\w+\s+)?(?:errors?|failures?|5xx|timeouts?|failed requests)\b", re.IGNORECASE)
_RPS = re.compile(rf"{_ABOVE}\s*{_NUM}\s*(?:rps|req(?:uests)?/s|requests per second)\b", re.IGNORECASE)


@dataclass
class Limits:
    """What a success criterion measures. Latencies in ms keyed by percentile (``"99"``; ``"95"`` when unnamed)."""

    latency_ms: dict[str, float] = field(default_factory=dict)
    error_rate: float | None = None  # a fraction: 0.01 for "under 1%"
    min_rps: float | None = None

    @property
    def empty(self) -> bool:
        return not self.latency_ms and self.error_rate is None and self.min_rps is None


def _ms(value: str, unit: str) -> float:
    number = float(value)
    return number if unit.lower().startswith("m") else number * 1000


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 4)


def limits(criterion: str) -> Limits:
    out = Limits()
    for m in _PERCENTILE.finditer(criterion):
        pct = m.group(1) or m.group(2)
        if (limit := _LIMIT_MS.match(criterion, m.end())) and pct not in out.latency_ms:
            out.latency_ms[pct] = _ms(limit.group(1), limit.group(2))
    if not out.latency_ms and (plain := _PLAIN_LATENCY.search(criterion)):
        out.latency_ms["95"] = _ms(plain.group(1), plain.group(2))
    if rate := _ERROR_RATE.search(criterion):
        out.error_rate = float(rate.group(1)) / 100
    elif _NO_ERRORS.search(criterion):
        out.error_rate = 0.0
    if rps := _RPS.search(criterion):
        out.min_rps = float(rps.group(1))
    return out


def k6_thresholds(found: Limits) -> dict[str, list[str]]:
    """k6 ``thresholds`` for the limits; a criterion without numbers gets conservative defaults (see the file's
    comment) so the script still fails on errors."""
    thresholds: dict[str, list[str]] = {}
    if found.latency_ms:
        thresholds["http_req_duration"] = [f"p({p})<{_num(ms)}" for p, ms in found.latency_ms.items()]
    if found.error_rate is not None:
        thresholds["http_req_failed"] = ["rate==0" if found.error_rate == 0 else f"rate<{_num(found.error_rate)}"]
    if found.min_rps is not None:
        thresholds["http_reqs"] = [f"rate>={_num(found.min_rps)}"]
    return thresholds or {"http_req_failed": ["rate<0.01"], "http_req_duration": ["p(95)<1000"]}


def assertions(found: Limits) -> list[tuple[str, str, int | float]]:
    """(measured key, operator, limit) for pytest: ``measured["p99_ms"] < 300``."""
    checks: list[tuple[str, str, int | float]] = [(f"p{p}_ms", "<", _num(ms)) for p, ms in found.latency_ms.items()]
    if found.error_rate is not None:
        checks.append(("error_rate", "<=" if found.error_rate == 0 else "<", _num(found.error_rate)))
    if found.min_rps is not None:
        checks.append(("rps", ">=", _num(found.min_rps)))
    return checks


def prometheus_conditions(found: Limits) -> list[dict[str, Any]]:
    """Canary metrics: (name, PromQL, Argo successCondition) for each limit; latency in seconds as histograms are."""
    metrics = []
    for p, ms in found.latency_ms.items():
        quantile = _num(float(p) / 100)
        buckets = 'http_request_duration_seconds_bucket{service="{{args.service-name}}"}'
        metrics.append({
            "name": f"p{p.replace('.', '-')}-latency",
            "query": f"histogram_quantile({quantile}, sum(rate({buckets}[2m])) by (le))",
            "condition": f"result[0] < {_num(ms / 1000)}",
        })
    rate = found.error_rate if found.error_rate is not None else (0.01 if not metrics else None)
    if rate is not None:
        metrics.append({
            "name": "error-rate",
            "query": ('sum(rate(http_requests_total{service="{{args.service-name}}",code=~"5.."}[2m])) / '
                      'sum(rate(http_requests_total{service="{{args.service-name}}"}[2m]))'),
            "condition": f"result[0] <= {_num(rate)}" if rate == 0 else f"result[0] < {_num(rate)}",
        })
    return metrics


# --- Toxiproxy ----------------------------------------------------------------------------------------------

_LATENCY = re.compile(rf"{_NUM}\s*{_UNIT_MS}", re.IGNORECASE)
_OUTAGE = re.compile(r"\b(?:down|unavailable|outage|refus\w*|partition\w*|blackhole\w*|drop\w*|timeouts?|hang\w*|5\d\d|kill\w*)\b", re.IGNORECASE)
_SLOW = re.compile(r"\b(?:latenc\w*|slow\w*|delay\w*|respond\w*|lag\w*|jitter|wait\w*)\b", re.IGNORECASE)
_BANDWIDTH = re.compile(r"\b(?:bandwidth|throttl\w*|slow network)\b", re.IGNORECASE)
_RESET = re.compile(r"\b(?:reset|connection (?:closed|dropped)|rst)\b", re.IGNORECASE)


def toxic(fault: str) -> dict[str, Any]:
    """The Toxiproxy toxic closest to the fault: a reset, a bandwidth cap, latency (a delay word and a number), a
    timeout (an outage), or any number of ms/s as latency; latency of 1 s when the text names none of them."""
    base: dict[str, Any] = {"name": "injected_fault", "stream": "downstream", "toxicity": 1.0}
    if _RESET.search(fault):
        return {**base, "type": "reset_peer", "attributes": {"timeout": 0}}
    if _BANDWIDTH.search(fault):
        return {**base, "type": "bandwidth", "attributes": {"rate": 64}}
    delay = _LATENCY.search(fault)
    if delay and _SLOW.search(fault):
        return {**base, "type": "latency", "attributes": {"latency": int(_ms(delay.group(1), delay.group(2))), "jitter": 0}}
    if _OUTAGE.search(fault):  # "returns 503 for 60 s" is an outage, not 60 s of latency
        return {**base, "type": "timeout", "attributes": {"timeout": 0}}
    if delay:
        return {**base, "type": "latency", "attributes": {"latency": int(_ms(delay.group(1), delay.group(2))), "jitter": 0}}
    return {**base, "type": "latency", "attributes": {"latency": 1000, "jitter": 0}}
