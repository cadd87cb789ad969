"""What the metrics and the JSON logs cost a run, against the run's own bot overhead (bench_overhead.py's measure).

Run: .venv/bin/python bench/bench_ops.py   → bench/results/ops.json
How: the 200-message run of bench_overhead.py, with HEALTH_PORT set and a JSON log handler at INFO on the root
logger, counts what a run asks of the instrumentation: metric calls (every function of bot.metrics, wrapped
to count), Slack answers shown to the call counter, JSON log lines. Each kind is then timed alone in the same
process (median of repeats), and the run's cost is Σ count × time. A /metrics scrape does not depend on runs (one
every 15 s at Prometheus's default, busy or idle): it is timed on the server side (the readiness probe and the
rendering) and reported on its own, as a share of one core. Measured this way because a run's whole cost is well
under a millisecond: comparing two end-to-end runs would be noise. Goal: ≤ 1 % of the bot's overhead per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench_overhead import MESSAGES, USERS, big_thread, one_run  # a sibling script, on sys.path like harness
from prometheus_client import REGISTRY, generate_latest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from harness import median, ms, run_main, running_stack, write_result

from bot import metrics
from bot.core.run import Run, RunFacts, Target
from bot.ops import logs
from bot.ops.slack_calls import SlackCallCounter
from tests.fakes.fake_llm import gate_passing_report
from tests.fakes.ops_client import scrape

GOAL_SHARE_OF_OVERHEAD = 0.01
REPEATS = 3
COUNTED = ("run_ended", "stage_took", "queue_waited", "repaired", "ticket_filed", "voted", "llm_generated")


def count_calls(counts: Counter[str]) -> None:
    """Wrap the metric functions the bot calls through the module, so a run's calls are counted."""
    for name in COUNTED:
        inner = getattr(metrics, name)

        def counting(*args: Any, _inner: Callable[..., Any] = inner, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += 1
            return _inner(*args, **kwargs)

        setattr(metrics, name, functools.update_wrapper(counting, inner))
    inner_call = metrics.llm_call

    def counting_call(server: str) -> Any:
        counts["llm_call"] += 1
        return inner_call(server)

    metrics.llm_call = counting_call  # type: ignore[assignment]


def per_call_s(fn: Callable[[], object], n: int = 20000) -> float:
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t) / n)
    return median(times)


def unit_costs() -> dict[str, float]:
    """Seconds per call of each instrumentation step, measured alone."""
    sink = io.StringIO()
    handler = logs.make_handler("json", sink)
    text_handler = logs.make_handler("text", sink)
    current = Run(RunFacts("v1", "m"), id=12, target=Target("reaction", "C0123ABCD", "1733471234.000100", "U1"))
    logs.bind_run(current)
    record_args = ("bot.slack.runner", logging.INFO, __file__, 1, "run %s ended %s", (12, "done"), None)

    def json_line() -> None:
        sink.seek(0)
        handler.handle(logging.LogRecord(*record_args))

    def text_line() -> None:
        sink.seek(0)
        text_handler.handle(logging.LogRecord(*record_args))

    counter = SlackCallCounter("http://127.0.0.1:1/api/")
    request = HttpRequest(method="POST", url="http://127.0.0.1:1/api/chat.postMessage", headers={}, body_params={})
    response = HttpResponse(status_code=200, headers={}, body={"ok": True})
    state = RetryState()
    loop = asyncio.new_event_loop()

    def slack_answer() -> None:
        coro = counter.can_retry_async(state=state, request=request, response=response)
        with contextlib.suppress(StopIteration):  # it never awaits: one send runs it to the end
            coro.send(None)

    def llm_call() -> None:
        with metrics.llm_call("http://127.0.0.1:11434/v1"):
            pass

    costs = {
        "metric_call_s": per_call_s(lambda: metrics.stage_took("analyse", 1.5)),
        "run_ended_s": per_call_s(lambda: metrics.run_ended(metrics.RunState.DONE)),
        "llm_call_s": per_call_s(llm_call),
        "slack_answer_s": per_call_s(slack_answer),
        "json_log_line_s": per_call_s(json_line, 5000),
        "text_log_line_s": per_call_s(text_line, 5000),
    }
    loop.close()
    return costs


async def main() -> None:
    counts: Counter[str] = Counter()
    count_calls(counts)
    sink = io.StringIO()
    root = logging.getLogger()
    handler = logs.make_handler("json", sink)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    reply = gate_passing_report()
    runs, per_run, scrape_s = [], [], []
    for r in range(REPEATS):
        async with running_stack(default_reply=reply, users=USERS, health_port=0) as stack:
            assert stack.bot.health is not None
            await one_run(stack, 100 + 2 * r, reply)  # cold: the first run in a process pays one-off set-up
            counts.clear()
            lines_before, calls_before = sink.getvalue().count("\n"), len(stack.slack.calls)
            runs.append(await one_run(stack, 101 + 2 * r, reply))
            per_run.append({**counts, "log_lines": sink.getvalue().count("\n") - lines_before,
                            "slack_answers": len(stack.slack.calls) - calls_before})
            await scrape(stack.bot.health.port)  # once over HTTP, as Prometheus does; timed below on the server side
            for _ in range(5):
                t = time.perf_counter()
                await stack.bot.health.readiness.check()  # what /metrics does before it renders
                generate_latest(REGISTRY)
                scrape_s.append(time.perf_counter() - t)
    root.removeHandler(handler)
    assert big_thread  # the thread shape is bench_overhead's, shared on purpose
    costs = unit_costs()
    run_counts = {k: median([float(c.get(k, 0)) for c in per_run]) for k in {k for c in per_run for k in c}}
    metric_calls = sum(run_counts.get(k, 0.0) for k in COUNTED if k != "run_ended")
    cost = {
        "metric calls": metric_calls * costs["metric_call_s"],
        "run outcomes (every state move)": run_counts.get("run_ended", 0.0) * costs["run_ended_s"],
        "LLM request hooks": run_counts.get("llm_call", 0.0) * costs["llm_call_s"],
        "Slack answers counted": run_counts.get("slack_answers", 0.0) * costs["slack_answer_s"],
        "JSON log lines": run_counts.get("log_lines", 0.0) * costs["json_log_line_s"],
    }
    total = sum(cost.values())
    overhead = median([x["overhead_excl_drain_s"] for x in runs])
    result: dict[str, Any] = {
        "messages": MESSAGES, "repeats": REPEATS, "per_run_counts": run_counts,
        "unit_costs_us": {k: round(v * 1e6, 2) for k, v in costs.items()},
        "scrape_ms_median": ms(median(scrape_s)),
        "scrape_share_of_one_core_at_15s": round(median(scrape_s) / 15.0, 6),
        "cost_per_run_us": {k: round(v * 1e6, 1) for k, v in cost.items()},
        "total_cost_per_run_ms": ms(total),
        "bot_overhead_per_run_ms": ms(overhead),
        "share_of_bot_overhead": round(total / overhead, 4),
        "goal_share": GOAL_SHARE_OF_OVERHEAD,
    }
    result["meets_goal"] = result["share_of_bot_overhead"] <= GOAL_SHARE_OF_OVERHEAD
    path = write_result("ops", result)
    print(f"per run: {run_counts}")
    print("unit costs (µs): " + ", ".join(f"{k} {v}" for k, v in result["unit_costs_us"].items()))
    for k, v in result["cost_per_run_us"].items():
        print(f"  {v:9.1f} µs  {k}")
    print(f"a /metrics scrape: {result['scrape_ms_median']} ms (server side) = {result['scrape_share_of_one_core_at_15s']:.4%} "
          "of one core at a 15 s interval")
    print(f"total {result['total_cost_per_run_ms']} ms per run = {result['share_of_bot_overhead']:.2%} of the bot's overhead "
          f"({result['bot_overhead_per_run_ms']} ms); {'meets' if result['meets_goal'] else 'MISSES'} the ≤ 1 % goal; wrote {path}")


if __name__ == "__main__":
    run_main(main)
